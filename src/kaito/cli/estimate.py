"""``kaito estimate``: GPUs, nodes, parallelism and context for a preset on an instance type."""

from __future__ import annotations

import argparse
import json
import sys

from kaito.api.wellknown import Runtime
from kaito.cli.presets import unknown_preset_message
from kaito.presets.catalog import get_preset
from kaito.presets.compat import default_runtime, runtime_unsupported_reason
from kaito.presets.estimator import Estimate, estimate
from kaito.presets.memory import format_gib
from kaito.presets.skus import CLOUDS, GPUConfig, closest_sku_names, lookup_sku


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="how a preset fits an instance type",
        description=(
            "Estimate the GPUs, nodes, tensor/pipeline parallelism, gpu-memory-utilization and "
            "max-model-len a preset needs on an instance type. Exits 0 when it fits, 1 when it "
            "does not or the input is wrong."
        ),
    )
    parser.add_argument("--preset", required=True, metavar="NAME", help="model preset, e.g. phi-4")
    parser.add_argument("--instance-type", required=True, metavar="SKU", help="e.g. Standard_NC24ads_A100_v4")
    parser.add_argument(
        "--cloud", choices=CLOUDS, default="azure", help="SKU catalog to look in (default azure)"
    )
    parser.add_argument(
        "--runtime",
        choices=[runtime.value for runtime in Runtime],
        help="default: vllm on compute capability 8.0 and newer, transformers below",
    )
    parser.add_argument(
        "--max-model-len", type=_positive_int, metavar="N", help="context to serve, in tokens"
    )
    parser.add_argument(
        "--node-count",
        type=_positive_int,
        metavar="N",
        help="most nodes one instance may span (default: no limit)",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _json(result: Estimate) -> str:
    return json.dumps(
        {
            "gpusPerNode": result.gpus_per_node,
            "nodes": result.nodes,
            "tensorParallelSize": result.tensor_parallel_size,
            "pipelineParallelSize": result.pipeline_parallel_size,
            "maxModelLen": result.max_model_len,
            "gpuMemoryUtilization": result.gpu_memory_utilization,
            "fits": result.fits,
            "reason": result.reason,
        },
        indent=2,
    )


def _text(preset_name: str, gpu: GPUConfig, runtime: Runtime, result: Estimate) -> str:
    header = (
        f"{preset_name} on {gpu.sku} ({gpu.gpu_count} x {gpu.gpu_model}, {format_gib(gpu.gpu_memory_gib)} "
        f"per GPU, compute capability {gpu.compute_capability_text}) with {runtime}"
    )
    rows = [
        ("fits", "yes" if result.fits else "no"),
        ("GPUs per node", str(result.gpus_per_node)),
        ("nodes", str(result.nodes)),
        ("tensor parallel size", str(result.tensor_parallel_size)),
        ("pipeline parallel size", str(result.pipeline_parallel_size)),
        ("gpu-memory-utilization", f"{result.gpu_memory_utilization:g}"),
        ("max-model-len", str(result.max_model_len)),
        ("memory per GPU", format_gib(result.memory_per_gpu_gib)),
    ]
    if result.reason:
        rows.append(("reason", result.reason))
    width = max(len(label) for label, _ in rows) + 1
    return "\n".join([header, *(f"  {label + ':':<{width}} {value}" for label, value in rows)])


def run(args: argparse.Namespace) -> int:
    preset = get_preset(args.preset)
    if preset is None:
        print(f"error: {unknown_preset_message(args.preset)}", file=sys.stderr)
        return 1
    gpu = lookup_sku(args.instance_type, args.cloud)
    if gpu is None:
        closest = closest_sku_names(args.instance_type, args.cloud)
        hint = f"; closest known instance types: {', '.join(closest)}" if closest else ""
        print(
            f"error: unknown instance type {args.instance_type!r} for cloud {args.cloud}{hint}",
            file=sys.stderr,
        )
        return 1
    runtime = Runtime(args.runtime) if args.runtime else default_runtime(gpu)
    reason = runtime_unsupported_reason(preset, runtime, gpu)
    if reason is not None:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    result = estimate(preset, gpu, runtime, args.max_model_len, args.node_count)
    print(_json(result) if args.output == "json" else _text(preset.name, gpu, runtime, result))
    return 0 if result.fits else 1
