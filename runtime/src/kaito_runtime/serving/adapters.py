"""LoRA adapters mounted for a workspace: every sub-folder of the adapters dir with an adapter_config.json."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kaito_runtime.errors import UsageError

ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class Adapter:
    """An adapter folder; ``rank`` is the largest LoRA rank it uses (engines size buffers by it)."""

    name: str
    path: Path
    rank: int


def _rank(config_path: Path, name: str) -> int:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"adapter '{name}': {config_path} cannot be read as JSON: {error}") from None
    if not isinstance(config, dict):
        raise UsageError(f"adapter '{name}': {config_path} must hold a JSON object")
    pattern = config.get("rank_pattern")
    if pattern is None:
        pattern = {}
    if not isinstance(pattern, dict):
        raise UsageError(f"adapter '{name}': {config_path}: rank_pattern must be an object")
    ranks = [config.get("r"), *pattern.values()]
    valid = [rank for rank in ranks if isinstance(rank, int) and not isinstance(rank, bool) and rank > 0]
    if len(valid) != len(ranks):
        raise UsageError(
            f"adapter '{name}': {config_path}: 'r' and rank_pattern values must be positive integers"
        )
    return max(valid)


def discover_adapters(directory: Path) -> list[Adapter]:
    """Adapters sorted by name; a missing directory means none (no adapters were configured)."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise UsageError(f"--adapters-dir {directory}: not a directory")
    adapters = []
    for child in sorted(directory.iterdir()):
        config_path = child / ADAPTER_CONFIG
        if child.is_dir() and config_path.is_file():
            adapters.append(Adapter(child.name, child, _rank(config_path, child.name)))
    return adapters


def adapter_strengths(adapters: list[Adapter], environ: Mapping[str, str]) -> dict[str, float]:
    """Strength per adapter from the env var named like it (the controller sets ``<name>=<strength>``)."""
    strengths = {}
    for adapter in adapters:
        text = environ.get(adapter.name)
        if text is None:
            strengths[adapter.name] = 1.0
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:
            raise UsageError(
                f"environment variable {adapter.name}={text!r}: the strength of adapter '{adapter.name}' "
                "must be a number between 0 and 1"
            )
        strengths[adapter.name] = value
    return strengths
