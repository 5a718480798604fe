"""The command, arguments and environment the kaito runtime image is started with.

Pure functions of (preset, GPU, runtime, estimate, options): the controller
turns the result into a container spec, and tests check it without a cluster.
Arguments are single ``--key=value`` (or bare ``--flag``) tokens, never shell
strings, for::

    kaito-runtime serve --runtime {vllm,transformers} --model PATH_OR_REPO [--revision REV]
        [--served-model-name NAME] [--port 5000] [--config FILE] [--adapters-dir DIR]
        [ENGINE ARGS ...]

Tuning builders will live beside these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaito.api import runtime_contract
from kaito.api.wellknown import Runtime
from kaito.presets.catalog import ModelPreset, RuntimeArgs, VLLMArgs
from kaito.presets.compat import (
    BFLOAT16_MIN_COMPUTE_CAPABILITY,
    adapters_unsupported_reason,
    runtime_unsupported_reason,
)
from kaito.presets.estimator import Estimate
from kaito.presets.skus import GPUConfig

RUNTIME_COMMAND = runtime_contract.SERVE_COMMAND
DEFAULT_REGISTRY = "mcr.microsoft.com/aks/kaito"
WEIGHTS_DIR = "/workspace/weights"
CHAT_TEMPLATES_DIR = "/workspace/chat_templates"
DEFAULT_PORT = runtime_contract.PORT
HF_TOKEN_ENV = "HF_TOKEN"
# Hugging Face hub cache for download-at-runtime presets: the weights volume,
# so tokenizer and config downloads land beside the weights, not in the image.
HF_HUB_CACHE_ENV = "HF_HUB_CACHE"


@dataclass(frozen=True)
class RuntimeParams:
    """``secret_env`` names variables the controller must fill from the model access secret."""

    command: list[str]
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    secret_env: list[str] = field(default_factory=list)


def _flag(key: str, value: object = None) -> str:
    return f"--{key}" if value is None else f"--{key}={value}"


def runtime_dtype(preset: ModelPreset, args: RuntimeArgs, gpu: GPUConfig) -> str:
    """The preset's dtype for this runtime, with bfloat16 replaced by float16 on GPUs that lack it."""
    no_bfloat16 = (
        gpu.compute_capability is not None and gpu.compute_capability < BFLOAT16_MIN_COMPUTE_CAPABILITY
    )
    loads_bfloat16 = args.dtype == "bfloat16" or (
        args.dtype == "auto" and preset.dtype == "bfloat16" and preset.quantization is None
    )
    return "float16" if no_bfloat16 and loads_bfloat16 else args.dtype


def _common_engine_args(
    preset: ModelPreset, args: RuntimeArgs, gpu: GPUConfig, templates_dir: str
) -> list[str]:
    engine = [_flag("dtype", runtime_dtype(preset, args, gpu))]
    if args.trust_remote_code:
        engine.append(_flag("trust-remote-code"))
    if args.chat_template:
        engine.append(_flag("chat-template", f"{templates_dir.rstrip('/')}/{args.chat_template}"))
    return engine


def build_inference_params(
    preset: ModelPreset,
    gpu: GPUConfig,
    runtime: Runtime,
    estimate: Estimate,
    *,
    config_path: str | None = None,
    adapters_dir: str | None = None,
    port: int = DEFAULT_PORT,
    chat_templates_dir: str = CHAT_TEMPLATES_DIR,
) -> RuntimeParams:
    """Runtime parameters to serve ``preset`` on ``gpu`` nodes as ``estimate`` laid it out.

    ``adapters_dir`` is given only when the workspace has LoRA adapters mounted
    there. Raises ``ValueError`` when the combination cannot run (the reason is
    the same one the webhook reports).
    """
    runtime_args = preset.runtime_args(runtime)
    unsupported = runtime_unsupported_reason(preset, runtime, gpu)
    if unsupported is not None or runtime_args is None:
        raise ValueError(unsupported or f"preset {preset.name} does not support the {runtime} runtime")
    if not estimate.fits:
        raise ValueError(f"preset {preset.name} does not fit instance type {gpu.sku}: {estimate.reason}")
    if adapters_dir is not None:
        adapters_reason = adapters_unsupported_reason(preset, runtime)
        if adapters_reason is not None:
            raise ValueError(adapters_reason)

    args = [_flag("runtime", runtime)]
    env: dict[str, str] = {}
    if preset.download_at_runtime:
        args += [_flag("model", preset.repo), _flag("revision", preset.revision)]
        env[HF_HUB_CACHE_ENV] = WEIGHTS_DIR
    else:
        args.append(_flag("model", WEIGHTS_DIR))
    args += [_flag("served-model-name", preset.name), _flag("port", port)]
    if config_path is not None:
        args.append(_flag("config", config_path))
    if adapters_dir is not None:
        args.append(_flag("adapters-dir", adapters_dir))

    if isinstance(runtime_args, VLLMArgs):
        vllm = runtime_args
        args += [
            _flag("tensor-parallel-size", estimate.tensor_parallel_size),
            _flag("pipeline-parallel-size", estimate.pipeline_parallel_size),
            _flag("gpu-memory-utilization", estimate.gpu_memory_utilization),
            _flag("max-model-len", estimate.max_model_len),
            *_common_engine_args(preset, vllm, gpu, chat_templates_dir),
        ]
        if vllm.tool_call_parser:
            args += [_flag("tool-call-parser", vllm.tool_call_parser), _flag("enable-auto-tool-choice")]
        if vllm.reasoning_parser:
            args.append(_flag("reasoning-parser", vllm.reasoning_parser))
        if preset.download_at_runtime:
            args.append(_flag("download-dir", WEIGHTS_DIR))
        if estimate.nodes > 1:
            args.append(_flag("distributed-executor-backend", "ray"))
        if adapters_dir is not None:
            args.append(_flag("enable-lora"))
    else:
        args += [
            *_common_engine_args(preset, runtime_args, gpu, chat_templates_dir),
            _flag("max-model-len", estimate.max_model_len),
        ]

    secret_env = [HF_TOKEN_ENV] if preset.download_at_runtime and preset.gated else []
    return RuntimeParams(command=list(RUNTIME_COMMAND), args=args, env=env, secret_env=secret_env)


def preset_image(preset: ModelPreset, registry: str = DEFAULT_REGISTRY) -> str:
    """``<registry>/kaito-<name>:<tag>``, the image with the preset's weights baked in.

    Download-at-runtime presets have no such image (the runtime fetches the
    weights), so asking for one is an error rather than a name that will not pull.
    """
    if preset.download_at_runtime:
        raise ValueError(f"preset {preset.name} downloads its weights at run time and has no baked image")
    if not registry.strip("/"):
        raise ValueError("the image registry must not be empty")
    return f"{registry.rstrip('/')}/kaito-{preset.name}:{preset.image_tag}"
