"""Inference estimates against hand-computed cases (see kaito.presets.estimator).

GiB figures below: utilization = min(0.95, floor((1 - 1.5 / gpu_gib) x 100) / 100),
usable = gpu_gib x utilization, budget = usable - 2.3 - weights x 1.02 / shards.
"""

from __future__ import annotations

import pytest

from kaito.api.wellknown import Runtime
from kaito.presets.catalog import ModelPreset, all_presets, get_preset
from kaito.presets.estimator import Estimate, estimate, minimum_gpu_memory_gib
from kaito.presets.memory import format_gib, gpu_memory_utilization, kv_cache_bytes
from kaito.presets.skus import GPUConfig, gpu_config_from_node, lookup_sku


def _preset(name: str) -> ModelPreset:
    preset = get_preset(name)
    assert preset is not None
    return preset


def _sku(name: str, cloud: str = "azure") -> GPUConfig:
    config = lookup_sku(name, cloud)
    assert config is not None
    return config


def _layout(result: Estimate) -> tuple[int, int, int, int, int]:
    return (
        result.gpus_per_node,
        result.nodes,
        result.tensor_parallel_size,
        result.pipeline_parallel_size,
        result.max_model_len,
    )


@pytest.mark.parametrize(
    ("gpu_gib", "utilization"),
    [
        (16, 0.90),  # 1 - 1.5/16 = 0.90625
        (24, 0.93),  # 0.9375
        (8, 0.81),  # 0.8125
        (80, 0.95),  # 0.98125, capped
        (4, 0.62),  # 0.625
        (1.5, 0.0),  # nothing left
    ],
)
def test_gpu_memory_utilization(gpu_gib: float, utilization: float) -> None:
    assert gpu_memory_utilization(gpu_gib) == utilization


def test_kv_cache_bytes_per_attention_kind() -> None:
    phi3 = _preset("phi-3-mini-128k-instruct").architecture  # MHA 32 layers x 32 KV heads x 96
    assert kv_cache_bytes(phi3, 1, dtype_bytes=2) == 2 * 32 * 32 * 96 * 2 == 393216
    llama = _preset("llama-3.3-70b-instruct").architecture  # GQA 80 x 8 x 128
    assert kv_cache_bytes(llama, 1, dtype_bytes=2) == 2 * 80 * 8 * 128 * 2 == 327680
    assert kv_cache_bytes(llama, 1, dtype_bytes=2, tensor_parallel=2) == 2 * 80 * 4 * 128 * 2
    assert kv_cache_bytes(llama, 1, dtype_bytes=2, stages=2) == 2 * 40 * 8 * 128 * 2
    falcon = _preset("falcon-7b").architecture  # MQA: the one KV head is replicated on every rank
    assert kv_cache_bytes(falcon, 1, dtype_bytes=2, tensor_parallel=4) == 2 * 32 * 1 * 64 * 2 == 8192
    deepseek = _preset("deepseek-r1-0528").architecture  # MLA: (512 + 64) x 2 bytes x 61 layers
    assert kv_cache_bytes(deepseek, 1, dtype_bytes=2) == 70272
    assert kv_cache_bytes(deepseek, 1, dtype_bytes=2, tensor_parallel=8) == 70272


def test_kv_cache_sliding_window_layers_stop_growing() -> None:
    gpt_oss = _preset("gpt-oss-20b").architecture  # 12 full + 12 window-128 layers, 2 x 8 x 64 x 2 = 2048 B
    # 131072 tokens: full layers hold all, window layers hold 128 + 8192 (one prefill chunk).
    assert kv_cache_bytes(gpt_oss, 131072, dtype_bytes=2) == 2048 * (12 * 131072 + 12 * 8320)
    # Short sequences are held whole by every layer.
    assert kv_cache_bytes(gpt_oss, 1000, dtype_bytes=2) == 2048 * 24 * 1000
    # With 4 pipeline stages each holds 6 layers; the worst stage is all full-attention.
    assert kv_cache_bytes(gpt_oss, 131072, dtype_bytes=2, stages=4) == 2048 * 6 * 131072


def test_example_phi_3_mini_4k_on_nc6s_v3_with_transformers() -> None:
    # V100 16 GiB: usable 16 x 0.90 = 14.4; budget 14.4 - 2.3 - 7.12 x 1.02 (7.2624) = 4.8376 GiB.
    # 4096 tokens x 393216 B = 1.5 GiB fits, so the whole 4k context is served.
    result = estimate(_preset("phi-3-mini-4k-instruct"), _sku("Standard_NC6s_v3"), Runtime.TRANSFORMERS)
    assert result.fits and result.reason is None
    assert _layout(result) == (1, 1, 1, 1, 4096)
    assert result.gpu_memory_utilization == 0.90
    assert result.memory_per_gpu_gib == pytest.approx(7.2624 + 2.3 + 1.5)


def test_example_phi_3_mini_128k_on_nc6s_v3_gets_the_context_that_fits() -> None:
    # Same 4.8376 GiB budget: 4.8376 x 2^30 / 393216 = 13209.9 tokens -> 51 x 256 = 13056.
    result = estimate(_preset("phi-3-mini-128k-instruct"), _sku("Standard_NC6s_v3"), Runtime.TRANSFORMERS)
    assert result.fits
    assert _layout(result) == (1, 1, 1, 1, 13056)


def test_asking_the_v100_for_the_full_128k_context_does_not_fit() -> None:
    # 131072 x 393216 B = 48 GiB of KV cache: (7.2624 + 2.3 + 48) / 0.90 = 63.96 GiB per GPU.
    result = estimate(
        _preset("phi-3-mini-128k-instruct"),
        _sku("Standard_NC6s_v3"),
        Runtime.TRANSFORMERS,
        max_model_len=131072,
    )
    assert not result.fits
    assert result.max_model_len == 13056  # what would fit
    assert result.reason == (
        "Insufficient per GPU memory: Instance type Standard_NC6s_v3 provides 16Gi per GPU, but preset "
        "phi-3-mini-128k-instruct requires at least 64Gi per GPU to serve max-model-len 131072 on 1 GPU(s); "
        "lower max-model-len or pick a larger instance type (multi-node distributed inference is not "
        "supported with Huggingface Transformers runtime)"
    )


def test_example_phi_3_5_mini_on_nc24ads_a100_with_vllm() -> None:
    # A100 80 GiB: utilization 0.95, usable 76; budget 76 - 2.3 - 7.2624 = 66.4376 GiB >= 48 GiB for 131072.
    result = estimate(_preset("phi-3.5-mini-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (1, 1, 1, 1, 131072)
    assert result.gpu_memory_utilization == 0.95


def test_phi_3_mini_4k_on_nc24ads_a100_needs_one_gpu() -> None:
    result = estimate(_preset("phi-3-mini-4k-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (1, 1, 1, 1, 4096)


def test_llama_3_3_70b_does_not_fit_one_80_gib_gpu() -> None:
    # Weights alone: 131.42 x 1.02 = 134.05 GiB > 80 GiB.
    result = estimate(
        _preset("llama-3.3-70b-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM, node_count=1
    )
    assert not result.fits
    assert _layout(result) == (1, 1, 1, 1, 0)
    assert result.reason == (
        "Insufficient total GPU memory: Instance type Standard_NC24ads_A100_v4 has a total of 80Gi, "
        "but preset llama-3.3-70b-instruct requires at least 134Gi; "
        "allow more nodes or pick a larger instance type"
    )


def test_llama_3_3_70b_fits_two_a100_80_gib_with_tensor_parallel_2() -> None:
    # tp=2: weights 67.0242 GiB per GPU; budget 76 - 2.3 - 67.0242 = 6.6758 GiB;
    # KV per token per GPU 2 x 80 layers x 4 heads x 128 x 2 B = 163840 B;
    # 6.6758 x 2^30 / 163840 = 43750.5 tokens -> 170 x 256 = 43520.
    result = estimate(_preset("llama-3.3-70b-instruct"), _sku("Standard_NC48ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (2, 1, 2, 1, 43520)


def test_llama_3_3_70b_uses_the_fewest_gpus_of_a_four_gpu_node() -> None:
    result = estimate(_preset("llama-3.3-70b-instruct"), _sku("Standard_NC96ads_A100_v4"), Runtime.VLLM)
    assert _layout(result) == (2, 1, 2, 1, 43520)
    # Asking for the full context takes all four: tp=4 holds 33.5 GiB of weights per GPU.
    full = estimate(
        _preset("llama-3.3-70b-instruct"),
        _sku("Standard_NC96ads_A100_v4"),
        Runtime.VLLM,
        max_model_len=131072,
    )
    assert full.fits
    assert _layout(full) == (4, 1, 4, 1, 131072)


def test_llama_3_3_70b_spreads_over_nodes_with_vllm_pipeline_parallel() -> None:
    # 2 nodes x 1 GPU, pp=2: 40 layers per stage, 2 x 40 x 8 x 128 x 2 = 163840 B per token, as above.
    result = estimate(_preset("llama-3.3-70b-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (1, 2, 1, 2, 43520)


def test_llama_3_3_70b_on_nc6s_v3_reads_like_upstream() -> None:
    result = estimate(_preset("llama-3.3-70b-instruct"), _sku("Standard_NC6s_v3"), Runtime.TRANSFORMERS)
    assert not result.fits
    assert result.reason is not None
    assert result.reason.startswith(
        "Insufficient total GPU memory: Instance type Standard_NC6s_v3 has a total of 16Gi, "
        "but preset llama-3.3-70b-instruct requires at least 134Gi"
    )
    assert "not supported with Huggingface Transformers runtime" in result.reason
    assert "vllm runtime" not in result.reason  # a V100 cannot run vLLM, so it is not offered


def test_non_distributed_preset_stays_on_one_node() -> None:
    # falcon-40b: 77.9 x 1.02 = 79.458 GiB > 76 usable on one A100, and it cannot span nodes.
    result = estimate(_preset("falcon-40b"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM, node_count=4)
    assert not result.fits
    assert result.nodes == 1
    assert result.reason == (
        "Insufficient per GPU memory: Instance type Standard_NC24ads_A100_v4 provides 80Gi per GPU, "
        "but preset falcon-40b requires at least 86.1Gi per GPU for its weights and the runtime on 1 GPU(s); "
        "the preset does not support multi-node inference: pick a larger instance type"
    )  # (79.458 + 2.3) / 0.95 = 86.06


def test_falcon_40b_takes_two_of_four_gpus() -> None:
    # tp=2: 39.729 GiB weights per GPU, budget 33.97 GiB; 2048 tokens x 61440 B = 120 MiB.
    result = estimate(_preset("falcon-40b"), _sku("Standard_NC96ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (2, 1, 2, 1, 2048)


def test_tensor_parallel_sizes_must_divide_the_heads() -> None:
    # phi-3-medium: 40 heads, 10 KV heads. On 4 x 8 GiB GPUs tp=4 is invalid (10 % 4, 4 % 10),
    # tp=2 holds 13.26 GiB of weights per GPU > 8 x 0.81 = 6.48 usable: nothing fits, largest tp tried is 2.
    node = gpu_config_from_node(
        {"nvidia.com/gpu.product": "NVIDIA-L4", "nvidia.com/gpu.memory": "8192"}, {"nvidia.com/gpu": "4"}
    )
    assert node is not None
    result = estimate(_preset("phi-3-medium-4k-instruct"), node, Runtime.VLLM, node_count=1)
    assert not result.fits
    assert (result.gpus_per_node, result.tensor_parallel_size) == (2, 2)
    # falcon-7b has 71 heads: only tp=1 is possible on a two-GPU A10 node.
    falcon = estimate(_preset("falcon-7b"), _sku("Standard_NV72ads_A10_v5"), Runtime.VLLM)
    assert falcon.fits and _layout(falcon) == (1, 1, 1, 1, 2048)


def test_transformers_splits_layers_over_the_fewest_gpus() -> None:
    # phi-3-medium-4k on 4 x V100 16 GiB: 1 GPU holds 26.52 GiB of weights (no), 2 GPUs 13.26
    # each (budget 14.4 - 2.3 - 13.26 < 0, no), 3 GPUs 8.84 each: budget 3.26 GiB, and each holds
    # ceil(40 / 3) = 14 layers x 2 x 10 x 128 x 2 B = 71680 B per token: 4096 tokens = 280 MiB.
    result = estimate(_preset("phi-3-medium-4k-instruct"), _sku("Standard_NC24s_v3"), Runtime.TRANSFORMERS)
    assert result.fits
    assert _layout(result) == (3, 1, 1, 1, 4096)


def test_gpt_oss_120b_fits_one_80_gib_gpu() -> None:
    # 60.77 x 1.02 = 61.9854 GiB; budget 76 - 2.3 - 61.9854 = 11.7146 GiB;
    # KV at 131072: 2048 B x (18 x 131072 + 18 x 8320) = 5.14 GiB.
    result = estimate(_preset("gpt-oss-120b"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (1, 1, 1, 1, 131072)


def test_deepseek_r1_needs_all_eight_h200() -> None:
    # tp=8: 641.3 x 1.02 / 8 = 81.766 GiB per GPU of 141 x 0.95 = 133.95 usable; MLA KV 70272 B per token,
    # 163840 tokens = 10.72 GiB. tp=4 would need 163.5 GiB of weights per GPU.
    result = estimate(_preset("deepseek-r1-0528"), _sku("Standard_ND96isr_H200_v5"), Runtime.VLLM)
    assert result.fits
    assert _layout(result) == (8, 1, 8, 1, 163840)


def test_byo_node_estimate() -> None:
    node = gpu_config_from_node(
        {
            "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
            "nvidia.com/gpu.memory": "81920",
            "nvidia.com/cuda.compute.major": "8",
            "nvidia.com/cuda.compute.minor": "0",
        },
        {"nvidia.com/gpu": "2"},
    )
    assert node is not None
    result = estimate(_preset("llama-3.3-70b-instruct"), node, Runtime.VLLM)
    assert _layout(result) == (2, 1, 2, 1, 43520)


def test_max_model_len_beyond_the_model_is_refused() -> None:
    result = estimate(
        _preset("phi-3-mini-4k-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM, max_model_len=8192
    )
    assert not result.fits
    assert result.reason == "max-model-len 8192 exceeds model's maximum supported context window 4096"


def test_explicit_max_model_len_is_served_as_asked() -> None:
    result = estimate(
        _preset("phi-3.5-mini-instruct"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM, max_model_len=4000
    )
    assert result.fits and result.max_model_len == 4000


def test_runtime_the_gpu_cannot_run_is_reported_not_estimated() -> None:
    result = estimate(_preset("phi-3-mini-4k-instruct"), _sku("Standard_NC6s_v3"), Runtime.VLLM)
    assert not result.fits
    assert result.reason is not None and result.reason.startswith(
        "The vLLM runtime needs compute capability 8.0"
    )


@pytest.mark.parametrize(("max_model_len", "node_count"), [(0, None), (-5, None), (None, 0)])
def test_nonsense_inputs_are_value_errors(max_model_len: int | None, node_count: int | None) -> None:
    with pytest.raises(ValueError, match="must be"):
        estimate(_preset("phi-4"), _sku("Standard_NC24ads_A100_v4"), Runtime.VLLM, max_model_len, node_count)


def test_tiny_gpu_is_a_clear_shortfall() -> None:
    node = gpu_config_from_node({"nvidia.com/gpu.memory": "1024"}, {"nvidia.com/gpu": "1"})
    assert node is not None
    result = estimate(_preset("phi-2"), node, Runtime.TRANSFORMERS)
    assert not result.fits
    assert result.reason is not None and "Insufficient total GPU memory" in result.reason


def test_minimum_gpu_memory() -> None:
    # phi-3-mini: 7.2624 weights + 2.3 overhead + 2048 x 393216 B (0.75 GiB) = 10.3124 GiB.
    assert minimum_gpu_memory_gib(_preset("phi-3-mini-4k-instruct")) == pytest.approx(10.3124)


@pytest.mark.parametrize(
    ("value", "text"), [(134.0484, "134Gi"), (7.2624, "7.3Gi"), (16.0, "16Gi"), (0.04, "0Gi")]
)
def test_format_gib(value: float, text: str) -> None:
    assert format_gib(value) == text


@pytest.mark.parametrize("preset", all_presets(), ids=lambda p: p.name)
def test_every_preset_fits_h200_nodes_within_their_memory(preset: ModelPreset) -> None:
    result = estimate(preset, _sku("Standard_ND96isr_H200_v5"), Runtime.VLLM)
    assert result.fits, result.reason
    assert result.memory_per_gpu_gib <= 141 * 0.95 + 1e-9
    context = preset.architecture.max_context
    assert min(2048, context) <= result.max_model_len <= context
