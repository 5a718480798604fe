"""GPU memory for LoRA / QLoRA fine-tuning of a preset.

The trainer runs one data-parallel process per GPU (``accelerate launch
--num_processes=<GPUs>``), so every GPU holds a whole copy and the requirement
is per GPU. Per GPU, in bytes (then GiB):

    weights     = lora:  parameters x dtype_bytes
                  qlora: (parameters - embeddings) x (0.5 + 1/64) + embeddings x 2
                         (NF4 codes plus one 8-bit absmax per 64-weight block with double
                         quantisation; embedding and untied LM-head matrices stay 16-bit)
                  times 1.02, as for inference
    embeddings  = vocab_size x hidden_size x (1 if tied else 2)
    adapter     = r x layers x (6 h + 2 q + 2 kv + 3 I) x 16
                  (rank r = 8 on the q, k, v, o, gate, up and down projections, an upper
                  bound on the default target modules; fp32 weight, fp32 gradient and two
                  Adam moments = 16 bytes per adapter parameter)
    activations = sequence x layers x 34 x h   (16-bit activations kept for backward with
                  fused attention, Korthikanti et al. 2022, batch size 1)
    logits      = sequence x vocab_size x 8    (fp32 logits and their gradient)
    overhead    = 2.3 GiB

with h = hidden size, q = attention_heads x head_dim, kv = kv_heads x head_dim,
I = intermediate size and sequence = 1024 tokens (TRL SFTConfig's default
max_length; the default tuning templates use batch size 1). It fits when the
total is at most ``gpu_memory_utilization x gpu_memory``.
"""

from __future__ import annotations

from dataclasses import dataclass

from kaito.api.wellknown import TuningMethod
from kaito.presets.catalog import DTYPE_BYTES, GIB, ModelPreset
from kaito.presets.compat import gpu_unsupported_reason
from kaito.presets.memory import (
    RUNTIME_OVERHEAD_GIB,
    WEIGHT_EXPANSION,
    format_gib,
    gpu_memory_utilization,
)
from kaito.presets.skus import GPUConfig

LORA_RANK = 8
TRAINING_SEQUENCE_LENGTH = 1024
NF4_BYTES_PER_PARAMETER = 0.5 + 1 / 64
EMBEDDING_BYTES_PER_PARAMETER = 2
ADAPTER_BYTES_PER_PARAMETER = 16
ACTIVATION_BYTES_PER_TOKEN_LAYER_HIDDEN = 34
LOGIT_BYTES_PER_TOKEN_VOCAB = 8


@dataclass(frozen=True)
class TuningEstimate:
    """Whether ``method`` tuning of a preset fits each GPU of a node, with GiB per GPU."""

    method: TuningMethod
    fits: bool
    gpus: int
    required_gib: float
    available_gib: float
    reason: str | None


def adapter_parameters(preset: ModelPreset) -> int:
    """LoRA parameters at rank ``LORA_RANK`` on every attention and MLP projection."""
    arch = preset.architecture
    if arch.intermediate_size is None:
        raise ValueError(f"preset {preset.name} has no intermediate_size: it cannot be tuned")
    q = arch.attention_heads * arch.head_dim
    kv = arch.kv_heads * arch.head_dim
    h = arch.hidden_size
    return LORA_RANK * arch.layers * (6 * h + 2 * q + 2 * kv + 3 * arch.intermediate_size)


def tuning_memory_gib(preset: ModelPreset, method: TuningMethod) -> float:
    """GiB one GPU needs to train a ``method`` adapter for ``preset`` (module docstring formula)."""
    arch = preset.architecture
    parameters = preset.parameters_billion * 1e9
    if method is TuningMethod.QLORA:
        embeddings = arch.vocab_size * arch.hidden_size * (1 if arch.tie_word_embeddings else 2)
        weights = (
            parameters - embeddings
        ) * NF4_BYTES_PER_PARAMETER + embeddings * EMBEDDING_BYTES_PER_PARAMETER
    else:
        weights = parameters * DTYPE_BYTES[preset.dtype]
    adapter = adapter_parameters(preset) * ADAPTER_BYTES_PER_PARAMETER
    activations = (
        TRAINING_SEQUENCE_LENGTH * arch.layers * ACTIVATION_BYTES_PER_TOKEN_LAYER_HIDDEN * arch.hidden_size
    )
    logits = TRAINING_SEQUENCE_LENGTH * arch.vocab_size * LOGIT_BYTES_PER_TOKEN_VOCAB
    total = weights * WEIGHT_EXPANSION + adapter + activations + logits
    return total / GIB + RUNTIME_OVERHEAD_GIB


def estimate_tuning(preset: ModelPreset, gpu: GPUConfig, method: TuningMethod) -> TuningEstimate:
    """Whether ``method`` tuning of ``preset`` fits on each GPU of ``gpu``, and why not."""
    available = gpu.gpu_memory_gib * gpu_memory_utilization(gpu.gpu_memory_gib)

    def refused(reason: str, required: float = 0.0) -> TuningEstimate:
        return TuningEstimate(method, False, gpu.gpu_count, required, available, reason)

    if not preset.tuning:
        return refused(f"Preset {preset.name} does not support tuning")
    if method not in preset.tuning:
        supported = ", ".join(preset.tuning)
        return refused(f"Preset {preset.name} does not support {method} tuning (supported: {supported})")
    gpu_reason = gpu_unsupported_reason(preset, gpu)
    if gpu_reason is not None:
        return refused(gpu_reason)
    required = tuning_memory_gib(preset, method)
    if required > available:
        return refused(
            f"Insufficient per GPU memory: Instance type {gpu.sku} provides {format_gib(gpu.gpu_memory_gib)} "
            f"per GPU ({format_gib(available)} usable), but {method} tuning of preset {preset.name} "
            f"requires at least {format_gib(required)} per GPU",
            required,
        )
    return TuningEstimate(method, True, gpu.gpu_count, required, available, None)
