"""LoRA / QLoRA memory against hand-computed cases (see kaito.presets.tuning)."""

from __future__ import annotations

import pytest

from kaito.api.wellknown import TuningMethod
from kaito.presets.catalog import GIB, ModelPreset, get_preset
from kaito.presets.estimator import estimate_tuning
from kaito.presets.skus import GPUConfig, lookup_sku
from kaito.presets.tuning import adapter_parameters, tuning_memory_gib


def _preset(name: str) -> ModelPreset:
    preset = get_preset(name)
    assert preset is not None
    return preset


def _sku(name: str) -> GPUConfig:
    config = lookup_sku(name)
    assert config is not None
    return config


def test_adapter_parameters_of_phi_3_mini() -> None:
    # r=8 x 32 layers x (6 x 3072 + 2 x 3072 (q) + 2 x 3072 (kv) + 3 x 8192) = 256 x 55296
    assert adapter_parameters(_preset("phi-3-mini-128k-instruct")) == 14_155_776


def test_qlora_memory_of_phi_3_mini() -> None:
    embeddings = 32064 * 3072 * 2  # untied input and output embeddings stay 16-bit
    weights = ((3.82e9 - embeddings) * (0.5 + 1 / 64) + embeddings * 2) * 1.02
    adapter = 14_155_776 * 16
    activations = 1024 * 32 * 34 * 3072
    logits = 1024 * 32064 * 8
    expected = (weights + adapter + activations + logits) / GIB + 2.3  # = 8.092 GiB
    assert tuning_memory_gib(_preset("phi-3-mini-128k-instruct"), TuningMethod.QLORA) == pytest.approx(
        expected
    )
    assert expected == pytest.approx(8.092, abs=0.001)


def test_lora_keeps_16_bit_weights() -> None:
    # Only the weights term changes: 3.82e9 x 2 x 1.02 bytes instead of the 4-bit figure.
    preset = _preset("phi-3-mini-128k-instruct")
    embeddings = 32064 * 3072 * 2
    qlora_weights = ((3.82e9 - embeddings) * (0.5 + 1 / 64) + embeddings * 2) * 1.02
    lora_weights = 3.82e9 * 2 * 1.02
    difference = tuning_memory_gib(preset, TuningMethod.LORA) - tuning_memory_gib(preset, TuningMethod.QLORA)
    assert difference == pytest.approx((lora_weights - qlora_weights) / GIB)


def test_example_qlora_of_phi_3_mini_128k_on_nc6s_v3_fits() -> None:
    result = estimate_tuning(
        _preset("phi-3-mini-128k-instruct"), _sku("Standard_NC6s_v3"), TuningMethod.QLORA
    )
    assert result.fits and result.reason is None
    assert result.gpus == 1
    assert result.available_gib == pytest.approx(14.4)  # 16 x 0.90
    assert result.required_gib == pytest.approx(8.092, abs=0.001)


def test_lora_of_qwen_32b_does_not_fit_one_a100() -> None:
    result = estimate_tuning(
        _preset("qwen2.5-coder-32b-instruct"), _sku("Standard_NC24ads_A100_v4"), TuningMethod.LORA
    )
    assert not result.fits
    assert result.required_gib > result.available_gib == 76.0
    assert result.reason is not None
    assert result.reason.startswith(
        "Insufficient per GPU memory: Instance type Standard_NC24ads_A100_v4 provides 80Gi per GPU "
        "(76Gi usable), but lora tuning of preset qwen2.5-coder-32b-instruct requires at least"
    )
    qlora = estimate_tuning(
        _preset("qwen2.5-coder-32b-instruct"), _sku("Standard_NC24ads_A100_v4"), TuningMethod.QLORA
    )
    assert qlora.fits


def test_presets_without_tuning_are_refused() -> None:
    result = estimate_tuning(
        _preset("llama-3.1-8b-instruct"), _sku("Standard_NC24ads_A100_v4"), TuningMethod.LORA
    )
    assert not result.fits
    assert result.reason == "Preset llama-3.1-8b-instruct does not support tuning"


def test_a_method_the_preset_lacks_is_refused() -> None:
    lora_only = _preset("phi-4").model_copy(update={"tuning": (TuningMethod.LORA,)})
    result = estimate_tuning(lora_only, _sku("Standard_NC24ads_A100_v4"), TuningMethod.QLORA)
    assert result.reason == "Preset phi-4 does not support qlora tuning (supported: lora)"


def test_non_cuda_accelerators_cannot_tune() -> None:
    result = estimate_tuning(_preset("phi-4"), _sku("Standard_NG32ads_V620_v1"), TuningMethod.QLORA)
    assert not result.fits
    assert result.reason is not None and "not NVIDIA CUDA GPUs" in result.reason


def test_presets_without_mlp_width_cannot_be_sized() -> None:
    with pytest.raises(ValueError, match="gpt-oss-20b has no intermediate_size"):
        adapter_parameters(_preset("gpt-oss-20b"))
