#!/usr/bin/env bash
# Create .venv and install everything kaito needs to run and be tested:
# the controller package, the runtime package with CPU vLLM, kubectl and helm.
# Idempotent: a second run only checks that everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e '.[dev]' -e sim
hack/install-runtime-deps.sh
hack/install-kube-tools.sh
