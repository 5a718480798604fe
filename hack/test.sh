#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, lint, type-check, tests, benchmark smoke runs.
set -euo pipefail
cd "$(dirname "$0")/.."

hack/setup.sh
. .venv/bin/activate
export PATH="$PWD/.tools/bin:$PATH"

ruff check src runtime/src tests runtime/tests benchmarks
mypy
(cd runtime && mypy)

# pytest exits 5 when it collects nothing, which fails this script like any other failure.
python -m pytest -q "$@"

python benchmarks/controller_scale.py --objects 20 --idle-seconds 2 --json > /dev/null
python benchmarks/runtime_throughput.py --smoke --json > /dev/null
