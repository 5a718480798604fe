"""How many GPUs and nodes a preset needs on a GPU type, and the context that fits.

Memory model, per GPU (GiB unless noted):

    utilization = min(0.95, floor((1 - 1.5 / gpu_memory) x 100) / 100)
    usable      = gpu_memory x utilization
    weights     = weights_gib x 1.02 / shards
    budget      = usable - 2.3 (runtime overhead) - weights
    kv(L)       = per_layer_token x (full_layers x L + window_layers x min(L, window + 8192))
    per_layer_token = 2 x ceil(kv_heads / tp) x head_dim x dtype_bytes   (MHA / GQA / MQA)
                    = (kv_lora_rank + qk_rope_head_dim) x dtype_bytes      (MLA)

where the layers counted are those of the GPU's pipeline stage,
``ceil(layers / stages)``. The largest ``max-model-len`` that fits is the largest
L with ``kv(L) <= budget``, capped at the model's context and rounded down to a
multiple of 256. A layout fits when that is at least the required context: the
requested ``max-model-len``, else ``min(2048, model context)``.

Layouts are tried in order of GPUs used and the first that fits wins:

- vLLM: tensor-parallel size tp = 1, 2, ... up to the node's GPUs, keeping only
  sizes that divide the attention heads and divide (or are a multiple of) the
  KV heads; shards = tp. Then, only for presets that support distributed
  inference, 2, 3, ... nodes (up to ``node_count`` when given) at the largest
  valid tp, pipeline parallel = nodes, stages = nodes, shards = tp x nodes.
- transformers: one node, g = 1, 2, ... GPUs with the layers split across them
  (accelerate's ``device_map="auto"``): stages = shards = g, tp = pp = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaito.api.wellknown import Runtime
from kaito.presets.catalog import DTYPE_BYTES, GIB, Architecture, ModelPreset
from kaito.presets.compat import runtime_unsupported_reason
from kaito.presets.memory import (
    RESERVED_GIB,
    RUNTIME_OVERHEAD_GIB,
    WEIGHT_EXPANSION,
    format_gib,
    gib,
    gpu_memory_utilization,
    kv_cache_bytes,
)
from kaito.presets.skus import GPUConfig
from kaito.presets.tuning import TuningEstimate, estimate_tuning

__all__ = [
    "MIN_CONTEXT",
    "Estimate",
    "TuningEstimate",
    "estimate",
    "estimate_tuning",
    "minimum_gpu_memory_gib",
]

MIN_CONTEXT = 2048
CONTEXT_ALIGNMENT = 256


@dataclass(frozen=True)
class Estimate:
    """What the runtime should be started with, and whether it fits.

    ``gpus_per_node`` is how many GPUs the runtime uses (and its pod requests)
    on each of ``nodes`` nodes. When ``fits`` is false the numbers describe the
    largest layout tried and ``reason`` says what is missing.
    """

    gpus_per_node: int
    nodes: int
    tensor_parallel_size: int
    pipeline_parallel_size: int
    max_model_len: int
    gpu_memory_utilization: float
    fits: bool
    reason: str | None
    memory_per_gpu_gib: float


@dataclass(frozen=True)
class _Layout:
    gpus_per_node: int
    nodes: int
    tensor_parallel: int
    stages: int

    @property
    def shards(self) -> int:
        return self.tensor_parallel * self.stages


def _valid_tensor_parallel(arch: Architecture, tp: int) -> bool:
    """vLLM splits attention heads evenly; KV heads are split or replicated evenly."""
    return arch.attention_heads % tp == 0 and (arch.kv_heads % tp == 0 or tp % arch.kv_heads == 0)


def _layouts(preset: ModelPreset, gpu: GPUConfig, runtime: Runtime, node_count: int | None) -> list[_Layout]:
    if runtime is Runtime.TRANSFORMERS:
        return [_Layout(g, 1, 1, g) for g in range(1, gpu.gpu_count + 1)]
    tps = [tp for tp in range(1, gpu.gpu_count + 1) if _valid_tensor_parallel(preset.architecture, tp)]
    single = [_Layout(tp, 1, tp, 1) for tp in tps]
    if not preset.distributed_inference:
        return single
    max_nodes = min(node_count or preset.architecture.layers, preset.architecture.layers)
    return single + [_Layout(tps[-1], n, tps[-1], n) for n in range(2, max_nodes + 1)]


@dataclass(frozen=True)
class _Fit:
    """KV-cache bytes left on each GPU of a layout, and the longest context they hold."""

    budget_bytes: float
    max_context: int


def _kv(preset: ModelPreset, layout: _Layout, tokens: int) -> int:
    return kv_cache_bytes(
        preset.architecture,
        tokens,
        dtype_bytes=DTYPE_BYTES[preset.dtype],
        tensor_parallel=layout.tensor_parallel,
        stages=layout.stages,
    )


def _fit(preset: ModelPreset, gpu: GPUConfig, layout: _Layout) -> _Fit:
    usable = gpu.gpu_memory_gib * gpu_memory_utilization(gpu.gpu_memory_gib)
    weights = preset.weights_gib * WEIGHT_EXPANSION / layout.shards
    budget = (usable - RUNTIME_OVERHEAD_GIB - weights) * GIB
    limit = preset.architecture.max_context
    if budget <= 0:
        return _Fit(budget, 0)
    if _kv(preset, layout, limit) <= budget:
        return _Fit(budget, limit)
    low, high = 0, (limit - 1) // CONTEXT_ALIGNMENT  # in units of CONTEXT_ALIGNMENT tokens
    while low < high:
        middle = (low + high + 1) // 2
        if _kv(preset, layout, middle * CONTEXT_ALIGNMENT) <= budget:
            low = middle
        else:
            high = middle - 1
    return _Fit(budget, low * CONTEXT_ALIGNMENT)


def _memory_per_gpu_gib(preset: ModelPreset, layout: _Layout, tokens: int) -> float:
    weights = preset.weights_gib * WEIGHT_EXPANSION / layout.shards
    return weights + RUNTIME_OVERHEAD_GIB + gib(_kv(preset, layout, tokens))


def _larger_hint(preset: ModelPreset, gpu: GPUConfig, runtime: Runtime, largest: _Layout) -> tuple[str, str]:
    """Why more of this instance type cannot help (or ``""``), and what the user can change."""
    if not preset.distributed_inference:
        return "the preset does not support multi-node inference", "pick a larger instance type"
    if runtime is Runtime.TRANSFORMERS:
        vllm_possible = runtime_unsupported_reason(preset, Runtime.VLLM, gpu) is None
        return (
            "multi-node distributed inference is not supported with Huggingface Transformers runtime",
            "pick a larger instance type" + (" or the vllm runtime" if vllm_possible else ""),
        )
    if largest.nodes < preset.architecture.layers:
        return "", "allow more nodes or pick a larger instance type"
    return "", "pick a larger instance type"


def _shortfall(preset: ModelPreset, gpu: GPUConfig, runtime: Runtime, largest: _Layout, required: int) -> str:
    """Upstream-style message for the largest layout tried."""
    note, action = _larger_hint(preset, gpu, runtime, largest)
    advice = f"{note}: {action}" if note else action
    needed = preset.weights_gib * WEIGHT_EXPANSION
    have = gpu.total_memory_gib * largest.nodes
    if have < needed:
        where = (
            f"Instance type {gpu.sku} has"
            if largest.nodes == 1
            else f"{largest.nodes} nodes of instance type {gpu.sku} have"
        )
        return (
            f"Insufficient total GPU memory: {where} a total of {format_gib(have)}, "
            f"but preset {preset.name} requires at least {format_gib(needed)}; {advice}"
        )
    utilization = gpu_memory_utilization(gpu.gpu_memory_gib)
    per_gpu_memory = format_gib(gpu.gpu_memory_gib)
    provides = f"Insufficient per GPU memory: Instance type {gpu.sku} provides {per_gpu_memory} per GPU"
    if utilization == 0:
        return f"{provides}, no more than the {format_gib(RESERVED_GIB)} kept free for the driver; {advice}"
    gpus = largest.gpus_per_node * largest.nodes
    if _fit(preset, gpu, largest).budget_bytes <= 0:
        per_gpu = _memory_per_gpu_gib(preset, largest, 0) / utilization
        return (
            f"{provides}, but preset {preset.name} requires at least {format_gib(per_gpu)} per GPU "
            f"for its weights and the runtime on {gpus} GPU(s); {advice}"
        )
    per_gpu = _memory_per_gpu_gib(preset, largest, required) / utilization
    return (
        f"{provides}, but preset {preset.name} requires at least {format_gib(per_gpu)} per GPU to serve "
        f"max-model-len {required} on {gpus} GPU(s); lower max-model-len or {action}"
        + (f" ({note})" if note else "")
    )


def _estimate(
    preset: ModelPreset, layout: _Layout, utilization: float, max_model_len: int, reason: str | None = None
) -> Estimate:
    return Estimate(
        gpus_per_node=layout.gpus_per_node,
        nodes=layout.nodes,
        tensor_parallel_size=layout.tensor_parallel,
        pipeline_parallel_size=layout.nodes,
        max_model_len=max_model_len,
        gpu_memory_utilization=utilization,
        fits=reason is None,
        reason=reason,
        memory_per_gpu_gib=_memory_per_gpu_gib(preset, layout, max_model_len),
    )


def estimate(
    preset: ModelPreset,
    gpu: GPUConfig,
    runtime: Runtime,
    max_model_len: int | None = None,
    node_count: int | None = None,
) -> Estimate:
    """The smallest layout of ``preset`` on ``gpu`` nodes that serves the required context.

    ``node_count`` caps how many nodes one vLLM instance may span (``None``:
    as many as the model has layers); single-node runtimes and presets ignore it.
    """
    if max_model_len is not None and max_model_len <= 0:
        raise ValueError(f"max-model-len must be a positive number of tokens, not {max_model_len}")
    if node_count is not None and node_count <= 0:
        raise ValueError(f"node count must be at least 1, not {node_count}")
    utilization = gpu_memory_utilization(gpu.gpu_memory_gib)
    layouts = _layouts(preset, gpu, runtime, node_count)
    whole_node = [layout for layout in layouts if layout.nodes == 1][-1]
    unsupported = runtime_unsupported_reason(preset, runtime, gpu)
    if unsupported is not None:
        return _estimate(preset, whole_node, utilization, 0, unsupported)
    limit = preset.architecture.max_context
    if max_model_len is not None and max_model_len > limit:
        reason = f"max-model-len {max_model_len} exceeds model's maximum supported context window {limit}"
        return _estimate(preset, whole_node, utilization, 0, reason)
    required = max_model_len if max_model_len is not None else min(MIN_CONTEXT, limit)
    for layout in layouts:
        fit = _fit(preset, gpu, layout)
        if fit.max_context >= required:
            return _estimate(preset, layout, utilization, max_model_len or fit.max_context)
    largest = layouts[-1]
    reason = _shortfall(preset, gpu, runtime, largest, required)
    return _estimate(preset, largest, utilization, _fit(preset, gpu, largest).max_context, reason)


def minimum_gpu_memory_gib(preset: ModelPreset) -> float:
    """GPU memory the preset needs to serve ``min(2048, context)`` tokens on one GPU, before utilization."""
    layout = _Layout(1, 1, 1, 1)
    return _memory_per_gpu_gib(preset, layout, min(MIN_CONTEXT, preset.architecture.max_context))
