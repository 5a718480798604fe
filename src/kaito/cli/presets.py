"""``kaito presets list`` and ``kaito presets show NAME``: the model catalog."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from kaito.presets.catalog import DTYPE_BYTES, ModelPreset, all_presets, closest_preset_names, get_preset
from kaito.presets.estimator import MIN_CONTEXT, minimum_gpu_memory_gib
from kaito.presets.memory import format_gib, kv_cache_bytes

_COLUMNS = ("NAME", "RUNTIMES", "TUNING", "MIN GPU MEMORY")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="list the model presets or show one",
        description="The models kaito can run by preset name.",
    )
    actions = parser.add_subparsers(dest="presets_action", metavar="ACTION")
    actions.required = True
    actions.add_parser(
        "list",
        help="a table of every preset",
        description=(
            f"MIN GPU MEMORY is what one GPU needs for the weights, the runtime and a "
            f"{MIN_CONTEXT}-token context, before the runtime's utilization margin."
        ),
    )
    show = actions.add_parser("show", help="one preset's facts as YAML")
    show.add_argument("name", metavar="NAME", help="preset name, e.g. phi-3.5-mini-instruct")
    parser.set_defaults(func=run)


def _row(preset: ModelPreset) -> tuple[str, str, str, str]:
    return (
        preset.name,
        ",".join(preset.supported_runtimes),
        ",".join(preset.tuning) or "-",
        format_gib(minimum_gpu_memory_gib(preset)),
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _document(preset: ModelPreset) -> dict[str, Any]:
    """The preset as stored, plus the figures kaito derives from it."""
    document: dict[str, Any] = preset.model_dump(mode="json", exclude_none=True)
    document["derived"] = {
        "kvCacheBytesPerToken": kv_cache_bytes(preset.architecture, 1, dtype_bytes=DTYPE_BYTES[preset.dtype]),
        "minimumGpuMemory": format_gib(minimum_gpu_memory_gib(preset)),
        "diskRequirement": f"{preset.disk_gib}Gi",
        "readinessTimeoutSeconds": preset.readiness_timeout_seconds,
    }
    return document


def unknown_preset_message(name: str) -> str:
    closest = closest_preset_names(name)
    hint = f"; closest known presets: {', '.join(closest)}" if closest else "; see `kaito presets list`"
    return f"unknown preset {name!r}{hint}"


def run(args: argparse.Namespace) -> int:
    if args.presets_action == "list":
        print(_table([_COLUMNS, *(_row(preset) for preset in all_presets())]))
        return 0
    preset = get_preset(args.name)
    if preset is None:
        print(f"error: {unknown_preset_message(args.name)}", file=sys.stderr)
        return 1
    print(yaml.safe_dump(_document(preset), sort_keys=False), end="")
    return 0
