"""GPU memory model shared by the inference and tuning estimators.

Per GPU the runtime may use ``gpu_memory_utilization x memory``; out of that
come the weights it holds (x1.02 for buffers the checkpoint does not count),
a fixed runtime overhead, and what is left holds the KV cache.
"""

from __future__ import annotations

import math

from kaito.presets.catalog import GIB, Architecture

WEIGHT_EXPANSION = 1.02
# CUDA context, non-torch allocations, activations and CUDA graphs per GPU
# (upstream KAITO: 0.6 GiB non-torch + 1.7 GiB activations / graphs).
RUNTIME_OVERHEAD_GIB = 2.3
# Left outside the runtime's share for the driver and anything else on the GPU.
RESERVED_GIB = 1.5
MAX_GPU_MEMORY_UTILIZATION = 0.95
# A sliding-window layer keeps at most window + one prefill chunk of tokens
# (vLLM's default max_num_batched_tokens for online serving on large GPUs).
PREFILL_CHUNK_TOKENS = 8192


def gpu_memory_utilization(gpu_memory_gib: float) -> float:
    """Fraction of one GPU the runtime may use: all but ``RESERVED_GIB``, at most 0.95, in hundredths."""
    fraction = math.floor((1 - RESERVED_GIB / gpu_memory_gib) * 100) / 100
    return max(0.0, min(MAX_GPU_MEMORY_UTILIZATION, fraction))


def kv_cache_bytes(
    arch: Architecture, tokens: int, *, dtype_bytes: int, tensor_parallel: int = 1, stages: int = 1
) -> int:
    """KV cache bytes one GPU holds for one sequence of ``tokens``.

    ``stages`` GPUs (pipeline stages, or transformers' layer split) each hold
    ``ceil(layers / stages)`` layers; the worst stage is assumed to get the
    full-attention layers first. Per layer and token:

    - MHA / GQA / MQA: ``2 x ceil(kv_heads / tensor_parallel) x head_dim x dtype_bytes``
      (K and V; KV heads are split across tensor-parallel ranks, replicated
      when there are fewer heads than ranks);
    - MLA: ``(kv_lora_rank + qk_rope_head_dim) x dtype_bytes``, the same on every rank.

    Sliding-window layers hold ``min(tokens, window + PREFILL_CHUNK_TOKENS)`` tokens.
    """
    if arch.mla is not None:
        per_layer_token = (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * dtype_bytes
    else:
        per_layer_token = 2 * math.ceil(arch.kv_heads / tensor_parallel) * arch.head_dim * dtype_bytes
    stage_layers = math.ceil(arch.layers / stages)
    full_layers = min(stage_layers, arch.full_attention_layers)
    window_layers = stage_layers - full_layers
    window_tokens = min(tokens, (arch.sliding_window or 0) + PREFILL_CHUNK_TOKENS)
    return per_layer_token * (full_layers * tokens + window_layers * window_tokens)


def gib(value_bytes: float) -> float:
    return value_bytes / GIB


def format_gib(value: float) -> str:
    """``134.05 -> "134Gi"``, ``7.26 -> "7.3Gi"``: one decimal, trailing zero dropped, as in messages."""
    return f"{round(value, 1):g}Gi"
