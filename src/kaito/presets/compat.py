"""Which runtime can serve a preset on a GPU, and why not when it cannot.

vLLM is the default from CUDA compute capability 8.0 (Ampere) up; older GPUs
(V100, T4, ...) get the Hugging Face transformers runtime, so manifests written
for them keep working without an annotation. Refusals name the instance type,
the GPU and what the user can change.
"""

from __future__ import annotations

from kaito.api.wellknown import ANNOTATION_RUNTIME, Runtime
from kaito.presets.catalog import ModelPreset
from kaito.presets.skus import GPUConfig

VLLM_MIN_COMPUTE_CAPABILITY = (8, 0)
BFLOAT16_MIN_COMPUTE_CAPABILITY = (8, 0)
# Quantized checkpoints need kernels that exist only from Ampere on (vLLM's
# Marlin / Triton MXFP4 and FP8 paths).
QUANTIZATION_MIN_COMPUTE_CAPABILITY = {"mxfp4": (8, 0), "fp8": (8, 0)}
_NEWER_GPU_HINT = "pick an instance type with A100 or H100 GPUs (compute capability 8.0 or newer)"


def _below(gpu: GPUConfig, minimum: tuple[int, int]) -> bool:
    """True only when the capability is known and too old; unknown BYO GPUs get the benefit of the doubt."""
    return gpu.compute_capability is not None and gpu.compute_capability < minimum


def _gpu(gpu: GPUConfig) -> str:
    return (
        f"instance type {gpu.sku} has {gpu.gpu_model} GPUs (compute capability {gpu.compute_capability_text})"
    )


def default_runtime(gpu: GPUConfig) -> Runtime:
    """vLLM unless the GPU is known to be older than compute capability 8.0."""
    return Runtime.TRANSFORMERS if _below(gpu, VLLM_MIN_COMPUTE_CAPABILITY) else Runtime.VLLM


def gpu_unsupported_reason(preset: ModelPreset, gpu: GPUConfig) -> str | None:
    """Why ``gpu`` cannot hold ``preset`` whatever the runtime (inference or tuning), or ``None``."""
    if not gpu.cuda:
        return (
            f"Instance type {gpu.sku} has {gpu.gpu_model} accelerators, which are not NVIDIA CUDA GPUs; "
            "kaito's runtimes need NVIDIA GPUs: pick an NVIDIA instance type"
        )
    if preset.bfloat16_only and _below(gpu, BFLOAT16_MIN_COMPUTE_CAPABILITY):
        return (
            f"Preset {preset.name} needs bfloat16 (float16 overflows its activations), "
            f"but {_gpu(gpu)}; {_NEWER_GPU_HINT}"
        )
    minimum = QUANTIZATION_MIN_COMPUTE_CAPABILITY.get(preset.quantization or "")
    if minimum is not None and _below(gpu, minimum):
        return (
            f"Preset {preset.name} is {preset.quantization}-quantized and needs compute capability "
            f"{minimum[0]}.{minimum[1]} or newer, but {_gpu(gpu)}; {_NEWER_GPU_HINT}"
        )
    return None


def resolve_runtime(annotation: str | None, gpu: GPUConfig | None) -> Runtime:
    """The runtime a workspace gets: its ``kaito.sh/runtime`` annotation, else the GPU's default.

    Without GPU facts (an instance type kaito does not know) the default is vLLM.
    """
    if annotation is None:
        return default_runtime(gpu) if gpu is not None else Runtime.VLLM
    try:
        return Runtime(annotation)
    except ValueError:
        choices = ", ".join(runtime.value for runtime in Runtime)
        raise ValueError(
            f"annotation {ANNOTATION_RUNTIME}: {annotation!r} is not a runtime; expected one of {choices}"
        ) from None


def runtime_unsupported_reason(preset: ModelPreset, runtime: Runtime, gpu: GPUConfig | None) -> str | None:
    """Why ``preset`` cannot be served by ``runtime`` on ``gpu``, or ``None`` when it can.

    ``gpu`` may be ``None`` when the GPUs are not known; only the preset's own
    runtime support is judged then.
    """
    if gpu is not None:
        gpu_reason = gpu_unsupported_reason(preset, gpu)
        if gpu_reason is not None:
            return gpu_reason
    supported = preset.supported_runtimes
    if runtime not in supported:
        reason = (
            f"Preset {preset.name} does not support the {runtime} runtime (supported: {', '.join(supported)})"
        )
        if gpu is not None and Runtime.VLLM in supported and _below(gpu, VLLM_MIN_COMPUTE_CAPABILITY):
            return (
                f"{reason}, and vLLM needs compute capability 8.0 or newer but {_gpu(gpu)}; {_NEWER_GPU_HINT}"
            )
        return f"{reason}; set annotation {ANNOTATION_RUNTIME}: {supported[0]}"
    if runtime is Runtime.VLLM and gpu is not None and _below(gpu, VLLM_MIN_COMPUTE_CAPABILITY):
        hint = (
            f"set annotation {ANNOTATION_RUNTIME}: {Runtime.TRANSFORMERS} or {_NEWER_GPU_HINT}"
            if Runtime.TRANSFORMERS in supported
            else _NEWER_GPU_HINT
        )
        return f"The vLLM runtime needs compute capability 8.0 or newer, but {_gpu(gpu)}; {hint}"
    return None


def adapters_unsupported_reason(preset: ModelPreset, runtime: Runtime) -> str | None:
    """Why LoRA adapters cannot be attached to ``preset`` on ``runtime``, or ``None``."""
    vllm = preset.runtimes.vllm
    if runtime is not Runtime.VLLM or vllm is None or vllm.lora:
        return None
    reason = f"Runtime validation: vLLM does not support LoRA adapters for this model: {preset.name}"
    if Runtime.TRANSFORMERS in preset.supported_runtimes:
        return f"{reason}; set annotation {ANNOTATION_RUNTIME}: {Runtime.TRANSFORMERS} to use adapters"
    return reason
