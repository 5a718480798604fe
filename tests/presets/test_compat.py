"""Default runtime per GPU, and refusals that say what to change."""

from __future__ import annotations

import pytest

from kaito.api.wellknown import Runtime
from kaito.presets.catalog import ModelPreset, get_preset
from kaito.presets.compat import (
    adapters_unsupported_reason,
    default_runtime,
    resolve_runtime,
    runtime_unsupported_reason,
)
from kaito.presets.skus import GPUConfig, gpu_config_from_node, lookup_sku


def _preset(name: str) -> ModelPreset:
    preset = get_preset(name)
    assert preset is not None
    return preset


def _sku(name: str, cloud: str = "azure") -> GPUConfig:
    config = lookup_sku(name, cloud)
    assert config is not None
    return config


@pytest.mark.parametrize(
    ("sku", "cloud", "runtime"),
    [
        ("Standard_NC6s_v3", "azure", Runtime.TRANSFORMERS),  # V100 7.0
        ("Standard_NC4as_T4_v3", "azure", Runtime.TRANSFORMERS),  # T4 7.5
        ("Standard_NV6", "azure", Runtime.TRANSFORMERS),  # M60 5.2
        ("Standard_NC24ads_A100_v4", "azure", Runtime.VLLM),  # A100 8.0
        ("Standard_NV36ads_A10_v5", "azure", Runtime.VLLM),  # A10 8.6
        ("g6.xlarge", "aws", Runtime.VLLM),  # L4 8.9
        ("Standard_NC40ads_H100_v5", "azure", Runtime.VLLM),  # H100 9.0
    ],
)
def test_default_runtime_follows_compute_capability(sku: str, cloud: str, runtime: Runtime) -> None:
    assert default_runtime(_sku(sku, cloud)) is runtime


def test_unknown_byo_capability_defaults_to_vllm() -> None:
    node = gpu_config_from_node({"nvidia.com/gpu.memory": "24564"}, {"nvidia.com/gpu": "1"})
    assert node is not None
    assert default_runtime(node) is Runtime.VLLM


def test_example_manifests_need_no_annotation() -> None:
    v100 = _sku("Standard_NC6s_v3")
    for name in ("phi-3-mini-4k-instruct", "phi-3-mini-128k-instruct"):
        assert runtime_unsupported_reason(_preset(name), default_runtime(v100), v100) is None
    a100 = _sku("Standard_NC24ads_A100_v4")
    assert runtime_unsupported_reason(_preset("phi-3.5-mini-instruct"), default_runtime(a100), a100) is None


def test_vllm_on_v100_is_refused_naming_sku_gpu_and_the_fix() -> None:
    reason = runtime_unsupported_reason(
        _preset("phi-3-mini-4k-instruct"), Runtime.VLLM, _sku("Standard_NC6s_v3")
    )
    assert reason == (
        "The vLLM runtime needs compute capability 8.0 or newer, but instance type Standard_NC6s_v3 has "
        "NVIDIA V100 GPUs (compute capability 7.0); set annotation kaito.sh/runtime: transformers or pick "
        "an instance type with A100 or H100 GPUs (compute capability 8.0 or newer)"
    )


def test_vllm_only_preset_on_an_old_gpu_has_no_runtime() -> None:
    reason = runtime_unsupported_reason(
        _preset("phi-4-mini-instruct"), Runtime.TRANSFORMERS, _sku("Standard_NC6s_v3")
    )
    assert reason is not None
    assert "does not support the transformers runtime (supported: vllm)" in reason
    assert "Standard_NC6s_v3 has NVIDIA V100 GPUs" in reason
    assert "pick an instance type with A100 or H100 GPUs" in reason


def test_runtime_the_preset_lacks_on_a_capable_gpu_suggests_the_one_it_has() -> None:
    reason = runtime_unsupported_reason(
        _preset("phi-4-mini-instruct"), Runtime.TRANSFORMERS, _sku("Standard_NC24ads_A100_v4")
    )
    assert reason is not None and reason.endswith("set annotation kaito.sh/runtime: vllm")


def test_unknown_gpu_judges_only_the_preset() -> None:
    assert runtime_unsupported_reason(_preset("phi-4"), Runtime.TRANSFORMERS, None) is None
    reason = runtime_unsupported_reason(_preset("phi-4-mini-instruct"), Runtime.TRANSFORMERS, None)
    assert reason is not None and "does not support the transformers runtime" in reason


def test_bfloat16_only_model_on_v100() -> None:
    reason = runtime_unsupported_reason(
        _preset("gemma-3-4b-instruct"), Runtime.TRANSFORMERS, _sku("Standard_NC6s_v3")
    )
    assert reason is not None and reason.startswith("Preset gemma-3-4b-instruct needs bfloat16")


def test_mxfp4_model_on_t4() -> None:
    reason = runtime_unsupported_reason(
        _preset("gpt-oss-20b"), Runtime.TRANSFORMERS, _sku("Standard_NC4as_T4_v3")
    )
    assert reason is not None and "mxfp4-quantized and needs compute capability 8.0" in reason


def test_non_cuda_accelerators_are_refused() -> None:
    reason = runtime_unsupported_reason(_preset("phi-4"), Runtime.VLLM, _sku("Standard_NG32ads_V620_v1"))
    assert reason is not None
    assert "AMD Radeon PRO V620 accelerators, which are not NVIDIA CUDA GPUs" in reason


@pytest.mark.parametrize(
    ("annotation", "sku", "expected"),
    [
        (None, "Standard_NC6s_v3", Runtime.TRANSFORMERS),
        (None, "Standard_NC24ads_A100_v4", Runtime.VLLM),
        (None, None, Runtime.VLLM),
        ("transformers", "Standard_NC24ads_A100_v4", Runtime.TRANSFORMERS),
        ("vllm", "Standard_NC6s_v3", Runtime.VLLM),
    ],
)
def test_resolve_runtime(annotation: str | None, sku: str | None, expected: Runtime) -> None:
    assert resolve_runtime(annotation, _sku(sku) if sku else None) is expected


def test_resolve_runtime_rejects_an_unknown_annotation() -> None:
    with pytest.raises(
        ValueError, match=r"kaito\.sh/runtime: 'tgi' is not a runtime; expected one of vllm, transformers"
    ):
        resolve_runtime("tgi", None)


def test_adapters() -> None:
    assert adapters_unsupported_reason(_preset("falcon-7b"), Runtime.VLLM) == (
        "Runtime validation: vLLM does not support LoRA adapters for this model: falcon-7b; "
        "set annotation kaito.sh/runtime: transformers to use adapters"
    )
    assert adapters_unsupported_reason(_preset("falcon-7b"), Runtime.TRANSFORMERS) is None
    assert adapters_unsupported_reason(_preset("phi-3-mini-128k-instruct"), Runtime.VLLM) is None
