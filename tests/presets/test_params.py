"""Runtime command lines: exact tokens for the example manifests and the special cases."""

from __future__ import annotations

from typing import Any

import pytest

from kaito.api.wellknown import Runtime
from kaito.presets.catalog import ModelPreset, all_presets, get_preset
from kaito.presets.estimator import estimate
from kaito.presets.params import RuntimeParams, build_inference_params, preset_image
from kaito.presets.skus import GPUConfig, lookup_sku


def _preset(name: str) -> ModelPreset:
    preset = get_preset(name)
    assert preset is not None
    return preset


def _sku(name: str) -> GPUConfig:
    config = lookup_sku(name)
    assert config is not None
    return config


def _params(name: str, sku: str, runtime: Runtime, **options: Any) -> RuntimeParams:
    preset, gpu = _preset(name), _sku(sku)
    return build_inference_params(preset, gpu, runtime, estimate(preset, gpu, runtime), **options)


def test_phi_3_mini_on_v100_with_transformers() -> None:
    params = _params("phi-3-mini-4k-instruct", "Standard_NC6s_v3", Runtime.TRANSFORMERS)
    assert params.command == ["kaito-runtime", "serve"]
    assert params.args == [
        "--runtime=transformers",
        "--model=/workspace/weights",
        "--served-model-name=phi-3-mini-4k-instruct",
        "--port=5000",
        "--dtype=float16",  # the checkpoint is bfloat16, which a V100 lacks
        "--trust-remote-code",
        "--max-model-len=4096",
    ]
    assert params.env == {}
    assert params.secret_env == []


def test_phi_3_5_mini_on_a100_with_vllm_config_and_adapters() -> None:
    params = _params(
        "phi-3.5-mini-instruct",
        "Standard_NC24ads_A100_v4",
        Runtime.VLLM,
        config_path="/mnt/config/inference_config.yaml",
        adapters_dir="/mnt/adapter",
    )
    assert params.args == [
        "--runtime=vllm",
        "--model=/workspace/weights",
        "--served-model-name=phi-3.5-mini-instruct",
        "--port=5000",
        "--config=/mnt/config/inference_config.yaml",
        "--adapters-dir=/mnt/adapter",
        "--tensor-parallel-size=1",
        "--pipeline-parallel-size=1",
        "--gpu-memory-utilization=0.95",
        "--max-model-len=131072",
        "--dtype=bfloat16",
        "--enable-lora",
    ]


def test_gated_download_at_runtime_multi_node_llama() -> None:
    params = _params("llama-3.3-70b-instruct", "Standard_NC24ads_A100_v4", Runtime.VLLM)
    assert params.args == [
        "--runtime=vllm",
        "--model=meta-llama/Llama-3.3-70B-Instruct",
        "--revision=6f6073b423013f6a7d4d9f39144961bfbfbc386b",
        "--served-model-name=llama-3.3-70b-instruct",
        "--port=5000",
        "--tensor-parallel-size=1",
        "--pipeline-parallel-size=2",
        "--gpu-memory-utilization=0.95",
        "--max-model-len=43520",
        "--dtype=bfloat16",
        "--tool-call-parser=llama3_json",
        "--enable-auto-tool-choice",
        "--download-dir=/workspace/weights",
        "--distributed-executor-backend=ray",
    ]
    assert params.env == {"HF_HUB_CACHE": "/workspace/weights"}
    assert params.secret_env == ["HF_TOKEN"]


def test_download_at_runtime_without_a_gate_needs_no_token() -> None:
    params = _params("gpt-oss-120b", "Standard_NC24ads_A100_v4", Runtime.VLLM)
    assert "--model=openai/gpt-oss-120b" in params.args
    assert "--dtype=auto" in params.args  # quantized checkpoint: vLLM picks
    assert params.args[-3:] == [
        "--enable-auto-tool-choice",
        "--reasoning-parser=openai_gptoss",
        "--download-dir=/workspace/weights",
    ]
    assert params.secret_env == []


def test_reasoning_parser_and_transformers_chat_template() -> None:
    vllm = _params("deepseek-r1-distill-qwen-14b", "Standard_NC24ads_A100_v4", Runtime.VLLM)
    assert "--reasoning-parser=deepseek_r1" in vllm.args
    transformers = _params("mistral-7b-instruct", "Standard_NC24ads_A100_v4", Runtime.TRANSFORMERS)
    assert transformers.args[-3:] == [
        "--dtype=bfloat16",
        "--chat-template=/workspace/chat_templates/mistral-instruct.jinja",
        "--max-model-len=32768",
    ]


def test_chat_template_directory_is_an_option() -> None:
    params = _params(
        "falcon-7b-instruct",
        "Standard_NC24ads_A100_v4",
        Runtime.VLLM,
        chat_templates_dir="/templates/",
    )
    assert "--chat-template=/templates/falcon-instruct.jinja" in params.args


def test_every_chat_template_a_preset_names_ships_with_the_runtime() -> None:
    """The runtime image installs kaito_runtime/chat_templates at /workspace/chat_templates."""
    from pathlib import Path

    from kaito.presets.catalog import all_presets

    shipped = Path(__file__).resolve().parents[2] / "runtime" / "src" / "kaito_runtime" / "chat_templates"
    named = {
        args.chat_template
        for preset in all_presets()
        for args in (preset.runtimes.vllm, preset.runtimes.transformers)
        if args is not None and args.chat_template
    }
    assert named and all((shipped / name).is_file() for name in named), named


def test_adapters_on_a_model_vllm_cannot_adapt_are_refused() -> None:
    with pytest.raises(ValueError, match="vLLM does not support LoRA adapters for this model: falcon-7b"):
        _params("falcon-7b", "Standard_NC24ads_A100_v4", Runtime.VLLM, adapters_dir="/mnt/adapter")
    transformers = _params(
        "falcon-7b", "Standard_NC24ads_A100_v4", Runtime.TRANSFORMERS, adapters_dir="/mnt/adapter"
    )
    assert "--adapters-dir=/mnt/adapter" in transformers.args


def test_runtime_the_gpu_cannot_run_is_refused() -> None:
    with pytest.raises(ValueError, match=r"The vLLM runtime needs compute capability 8\.0 or newer"):
        _params("phi-3-mini-4k-instruct", "Standard_NC6s_v3", Runtime.VLLM)


def test_an_estimate_that_does_not_fit_is_refused() -> None:
    with pytest.raises(
        ValueError, match="does not fit instance type Standard_NC6s_v3: Insufficient total GPU memory"
    ):
        _params("llama-3.3-70b-instruct", "Standard_NC6s_v3", Runtime.TRANSFORMERS)


@pytest.mark.parametrize(
    ("preset", "runtime"),
    [(preset, runtime) for preset in all_presets() for runtime in preset.supported_runtimes],
    ids=lambda value: value.name if isinstance(value, ModelPreset) else str(value),
)
def test_every_argument_is_one_flag_token(preset: ModelPreset, runtime: Runtime) -> None:
    gpu = _sku("Standard_ND96isr_H200_v5")
    result = estimate(preset, gpu, runtime)
    params = build_inference_params(preset, gpu, runtime, result)
    assert all(arg.startswith("--") and " " not in arg for arg in params.args)
    assert params.args[0] == f"--runtime={runtime}"
    assert f"--served-model-name={preset.name}" in params.args
    assert f"--max-model-len={result.max_model_len}" in params.args


def test_preset_image() -> None:
    assert (
        preset_image(_preset("phi-3-mini-4k-instruct"))
        == "mcr.microsoft.com/aks/kaito/kaito-phi-3-mini-4k-instruct:0.2.0"
    )
    assert (
        preset_image(_preset("gpt-oss-20b"), "myacr.azurecr.io/kaito/")
        == "myacr.azurecr.io/kaito/kaito-gpt-oss-20b:0.0.2"
    )


def test_preset_image_errors() -> None:
    with pytest.raises(ValueError, match=r"llama-3\.1-8b-instruct downloads its weights at run time"):
        preset_image(_preset("llama-3.1-8b-instruct"))
    with pytest.raises(ValueError, match="registry must not be empty"):
        preset_image(_preset("phi-4"), "/")
