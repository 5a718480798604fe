"""The model catalog: coverage, validation of the data and the facts it derives."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from kaito.api.wellknown import Runtime, TuningMethod
from kaito.presets.catalog import (
    GIB,
    ModelPreset,
    all_presets,
    closest_preset_names,
    get_preset,
)
from kaito.presets.datafiles import CatalogError, load_catalog

REQUIRED = [
    "phi-2",
    "phi-3-mini-4k-instruct",
    "phi-3-mini-128k-instruct",
    "phi-3-medium-4k-instruct",
    "phi-3-medium-128k-instruct",
    "phi-3.5-mini-instruct",
    "phi-4",
    "phi-4-mini-instruct",
    "falcon-7b",
    "falcon-7b-instruct",
    "falcon-40b",
    "falcon-40b-instruct",
    "mistral-7b",
    "mistral-7b-instruct",
    "llama-3.1-8b-instruct",
    "qwen2.5-coder-7b-instruct",
    "qwen2.5-coder-32b-instruct",
    "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-qwen-14b",
    "llama-3.3-70b-instruct",
    "gemma-3-4b-instruct",
    "gemma-3-27b-instruct",
    "gpt-oss-20b",
    "gpt-oss-120b",
]


def _raw(name: str) -> dict[str, Any]:
    preset = get_preset(name)
    assert preset is not None
    return copy.deepcopy(preset.model_dump(mode="json"))


@pytest.mark.parametrize("name", REQUIRED)
def test_every_required_preset_is_in_the_catalog(name: str) -> None:
    preset = get_preset(name)
    assert preset is not None
    assert preset.name == name


def test_lookup_ignores_case_and_unknown_names_give_none() -> None:
    assert get_preset("PHI-4") is get_preset("phi-4")
    assert get_preset("phi-5") is None


def test_all_presets_keeps_catalog_order_and_names_are_unique() -> None:
    names = [preset.name for preset in all_presets()]
    assert names[0] == "phi-2"
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("query", "expected_first"),
    [
        ("phi3", "phi-3.5-mini-instruct"),  # prefix of several: shortest folded name first
        ("llama-3-70b", "llama-3.3-70b-instruct"),
        ("Mistral-7B-Instruct", "mistral-7b-instruct"),
        ("gpt-oss", "gpt-oss-20b"),
    ],
)
def test_closest_names_suggest_the_intended_preset(query: str, expected_first: str) -> None:
    suggestions = closest_preset_names(query)
    assert suggestions[0] == expected_first
    assert len(suggestions) <= 3


def test_closest_names_of_nonsense_is_empty() -> None:
    assert closest_preset_names("zzzz") == []
    assert closest_preset_names("phi", n=0) == []


# A dense decoder's parameter count follows from its config.json:
#   embeddings  vocab x hidden x (1 if tied else 2)
#   per layer   h*q + 2*h*kv + q*h (attention) + 3*h*I (gated MLP) + 2*h (norms)
#   final norm  h
# Reproducing the published count (and so the safetensors size) checks every
# architecture figure of these presets at once.
DENSE_CLASSES = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Phi3ForCausalLM"}


@pytest.mark.parametrize(
    "preset", [p for p in all_presets() if p.architecture.class_name in DENSE_CLASSES], ids=lambda p: p.name
)
def test_architecture_facts_reproduce_the_published_parameter_count(preset: ModelPreset) -> None:
    arch = preset.architecture
    assert arch.intermediate_size is not None
    h, q, kv = arch.hidden_size, arch.attention_heads * arch.head_dim, arch.kv_heads * arch.head_dim
    embeddings = arch.vocab_size * h * (1 if arch.tie_word_embeddings else 2)
    per_layer = h * q + 2 * h * kv + q * h + 3 * h * arch.intermediate_size + 2 * h
    parameters = embeddings + arch.layers * per_layer + h
    assert parameters / 1e9 == pytest.approx(preset.parameters_billion, rel=0.002)
    assert parameters * 2 / GIB == pytest.approx(preset.weights_gib, rel=0.002)


def test_phi_3_mini_figures() -> None:
    preset = get_preset("phi-3-mini-4k-instruct")
    assert preset is not None
    assert preset.revision == "0a67737cc96d2554230f90338b163bc6380a2a85"
    arch = preset.architecture
    assert (arch.layers, arch.attention_heads, arch.kv_heads, arch.head_dim) == (32, 32, 32, 96)
    assert arch.attention == "MHA"
    assert arch.max_context == 4096
    assert preset.supported_runtimes == (Runtime.VLLM, Runtime.TRANSFORMERS)
    assert preset.tuning == (TuningMethod.LORA, TuningMethod.QLORA)


@pytest.mark.parametrize(
    ("name", "gated", "download_at_runtime", "image_tag"),
    [
        ("llama-3.1-8b-instruct", True, True, "0.2.0"),
        ("llama-3.3-70b-instruct", True, True, "0.0.1"),
        ("gemma-3-27b-instruct", True, True, "0.0.1"),
        ("gpt-oss-20b", False, False, "0.0.2"),
        ("gpt-oss-120b", False, True, "0.0.1"),
        ("phi-4", False, False, "0.2.0"),
    ],
)
def test_weights_delivery(name: str, gated: bool, download_at_runtime: bool, image_tag: str) -> None:
    preset = get_preset(name)
    assert preset is not None
    assert (preset.gated, preset.download_at_runtime, preset.image_tag) == (
        gated,
        download_at_runtime,
        image_tag,
    )


def test_runtime_specific_facts() -> None:
    phi4_mini, falcon, gpt_oss = (
        get_preset("phi-4-mini-instruct"),
        get_preset("falcon-7b"),
        get_preset("gpt-oss-20b"),
    )
    assert phi4_mini is not None and falcon is not None and gpt_oss is not None
    assert phi4_mini.supported_runtimes == (Runtime.VLLM,)
    assert falcon.runtimes.vllm is not None and falcon.runtimes.vllm.lora is False
    assert gpt_oss.quantization == "mxfp4"
    assert gpt_oss.architecture.sliding_window == 128
    assert gpt_oss.architecture.full_attention_layers == 12


@pytest.mark.parametrize(
    ("name", "seconds"),
    [
        ("phi-3-mini-4k-instruct", 1800),  # 900 + 18 x 7.12 = 1028 -> raised to the 30 min floor
        ("llama-3.3-70b-instruct", 3266),  # 900 + round(18 x 131.42 = 2365.56) = 3266
        ("deepseek-r1-0528", 10800),  # 900 + 18 x 641.3 = 12443 -> capped at 180 min
    ],
)
def test_readiness_timeout_grows_with_the_weights(name: str, seconds: int) -> None:
    preset = get_preset(name)
    assert preset is not None
    assert preset.readiness_timeout_seconds == seconds


def test_disk_is_weights_rounded_up_plus_headroom() -> None:
    preset = get_preset("llama-3.3-70b-instruct")
    assert preset is not None
    assert preset.disk_gib == 132 + 80  # ceil(131.42) + 80


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw.update(revision="main"), "40-character commit sha"),
        (lambda raw: raw.update(weights_gib=3.0), "disagrees with"),
        (lambda raw: raw["architecture"].update(attention="GQA"), "head counts make it MHA"),
        (lambda raw: raw["architecture"].update(kv_heads=5), "not a multiple of 5"),
        (lambda raw: raw["architecture"].update(sliding_window_layers=0), "given together"),
        (lambda raw: raw["architecture"].update(intermediate_size=None), "intermediate_size"),
        (lambda raw: raw.update(runtimes={}), "at least one runtime"),
        (lambda raw: raw.update(unknown_field=1), "unknown_field"),
    ],
)
def test_bad_preset_data_is_rejected_with_the_field_named(change: Any, message: str) -> None:
    raw = _raw("phi-3-mini-4k-instruct")
    change(raw)
    with pytest.raises(ValidationError, match=message):
        ModelPreset.model_validate(raw)


def test_a_malformed_data_file_fails_loudly() -> None:
    from kaito.presets.catalog import _PresetCatalog

    with pytest.raises(CatalogError, match=r"kaito/presets/data/skus.yaml is invalid"):
        load_catalog("skus.yaml", _PresetCatalog)
