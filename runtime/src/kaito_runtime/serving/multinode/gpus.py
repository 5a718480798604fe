"""How many GPUs this pod can use, as the Ray node should advertise them (pure but for ``/dev``).

Ray's placement groups schedule vLLM's workers by the ``GPU`` resource, so every node must announce
exactly the GPUs its container was given: the ones CUDA is restricted to, else those the NVIDIA
container runtime exposed (by id, or as device files).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_DEVICE_FILE = re.compile(r"^nvidia[0-9]+$")


def _listed(text: str) -> int:
    """Entries of a comma-separated device list; CUDA ignores everything from an invalid ``-1`` on."""
    count = 0
    for entry in text.split(","):
        entry = entry.strip()
        if not entry or entry.startswith("-"):
            break
        count += 1
    return count


def visible_gpu_count(environ: Mapping[str, str], dev_dir: Path = Path("/dev")) -> int:
    if "CUDA_VISIBLE_DEVICES" in environ:
        return _listed(environ["CUDA_VISIBLE_DEVICES"])
    exposed = environ.get("NVIDIA_VISIBLE_DEVICES", "").strip().lower()
    if exposed in ("none", "void"):
        return 0
    if exposed and exposed != "all":
        return _listed(exposed)
    try:
        return sum(1 for entry in dev_dir.iterdir() if _DEVICE_FILE.match(entry.name))
    except OSError:
        return 0
