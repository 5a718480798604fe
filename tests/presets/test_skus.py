"""SKU catalog lookups and GPU facts of bring-your-own nodes."""

from __future__ import annotations

import pytest

from kaito.presets.skus import (
    all_skus,
    closest_sku_names,
    gpu_config_from_node,
    lookup_sku,
)


@pytest.mark.parametrize(
    ("cloud", "sku", "gpus", "gib_per_gpu", "model", "capability", "nvme"),
    [
        ("azure", "Standard_NC6s_v3", 1, 16.0, "NVIDIA V100", (7, 0), False),
        ("azure", "Standard_NC24ads_A100_v4", 1, 80.0, "NVIDIA A100", (8, 0), True),
        ("azure", "Standard_ND96asr_A100_v4", 8, 40.0, "NVIDIA A100", (8, 0), False),
        ("azure", "Standard_NC80adis_H100_v5", 2, 94.0, "NVIDIA H100", (9, 0), True),
        ("azure", "Standard_ND96isr_H200_v5", 8, 141.0, "NVIDIA H200", (9, 0), True),
        ("azure", "Standard_NV36ads_A10_v5", 1, 24.0, "NVIDIA A10", (8, 6), False),
        ("azure", "Standard_NV6ads_A10_v5", 1, 4.0, "NVIDIA A10", (8, 6), False),
        ("azure", "Standard_NC4as_T4_v3", 1, 16.0, "NVIDIA T4", (7, 5), False),
        ("azure", "Standard_NV12", 2, 8.0, "NVIDIA M60", (5, 2), False),
        ("azure", "Standard_NC6", 1, 12.0, "NVIDIA K80", (3, 7), False),
        ("azure", "Standard_NV32as_v4", 1, 16.0, "AMD Radeon Instinct MI25", None, False),
        ("aws", "p5.48xlarge", 8, 80.0, "NVIDIA H100", (9, 0), True),
        ("aws", "g5.12xlarge", 4, 24.0, "NVIDIA A10G", (8, 6), True),
        ("aws", "g6.xlarge", 1, 24.0, "NVIDIA L4", (8, 9), True),
        ("aws", "p3.2xlarge", 1, 16.0, "NVIDIA V100", (7, 0), False),
        ("aws", "inf2.48xlarge", 12, 32.0, "AWS Inferentia2", None, False),
        ("arc", "Standard_NC16_A16", 2, 16.0, "NVIDIA A16", (8, 6), False),
        ("arc", "Standard_NK6", 1, 8.0, "NVIDIA T4", (7, 5), False),
    ],
)
def test_sku_facts(
    cloud: str,
    sku: str,
    gpus: int,
    gib_per_gpu: float,
    model: str,
    capability: tuple[int, int] | None,
    nvme: bool,
) -> None:
    config = lookup_sku(sku, cloud)
    assert config is not None
    assert (config.sku, config.gpu_count, config.gpu_memory_gib) == (sku, gpus, gib_per_gpu)
    assert (config.gpu_model, config.compute_capability, config.nvme, config.cloud) == (
        model,
        capability,
        nvme,
        cloud,
    )
    assert config.cuda is (capability is not None)
    assert config.total_memory_gib == gpus * gib_per_gpu


def test_lookup_ignores_case_and_surrounding_space() -> None:
    assert lookup_sku(" standard_nc24ADS_a100_v4 ") == lookup_sku("Standard_NC24ads_A100_v4")


def test_unknown_sku_and_unknown_cloud() -> None:
    assert lookup_sku("Standard_Bad") is None
    assert lookup_sku("p4d.24xlarge") is None  # an AWS type is not an Azure one
    with pytest.raises(ValueError, match="unknown cloud 'gcp'"):
        lookup_sku("a2-highgpu-1g", "gcp")


def test_catalog_sizes_cover_every_reference_row() -> None:
    # Azure: 14 current + 15 v0.4.6 + 18 v0.3.2 rows; AWS: 35 current + 24 v0.4.6; Arc: 8 + 2.
    assert (len(all_skus("azure")), len(all_skus("aws")), len(all_skus("arc"))) == (47, 59, 10)


@pytest.mark.parametrize(
    ("model", "capability"),
    [
        ("V100", (7, 0)),
        ("T4", (7, 5)),
        ("M60", (5, 2)),
        ("K80", (3, 7)),
        ("A100", (8, 0)),
        ("A10", (8, 6)),
        ("A10G", (8, 6)),
        ("L4", (8, 9)),
        ("H100", (9, 0)),
        ("H200", (9, 0)),
        ("A2", (8, 6)),
        ("A16", (8, 6)),
    ],
)
def test_compute_capability_per_gpu_model(model: str, capability: tuple[int, int]) -> None:
    configs = [
        c for cloud in ("azure", "aws", "arc") for c in all_skus(cloud) if c.gpu_model == f"NVIDIA {model}"
    ]
    assert configs
    assert {c.compute_capability for c in configs} == {capability}


def test_closest_sku_names() -> None:
    assert closest_sku_names("Standard_NC6s") == ["Standard_NC6s_v3", "Standard_NC6s_v2", "Standard_NC6"]
    assert closest_sku_names("Standard_NC24ads_A100_v5")[0] == "Standard_NC24ads_A100_v4"
    assert closest_sku_names("p4d", "aws")[0] == "p4d.24xlarge"


A100_NODE_LABELS = {
    "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
    "nvidia.com/gpu.count": "8",
    "nvidia.com/gpu.memory": "81920",
    "nvidia.com/cuda.compute.major": "8",
    "nvidia.com/cuda.compute.minor": "0",
    "node.kubernetes.io/instance-type": "my-a100-box",
}


def test_byo_node_from_gpu_feature_discovery_labels() -> None:
    config = gpu_config_from_node(A100_NODE_LABELS, {"nvidia.com/gpu": "8", "cpu": "96"})
    assert config is not None
    assert (config.sku, config.gpu_count, config.gpu_memory_gib) == (
        "my-a100-box",
        8,
        80.0,
    )  # 81920 MiB / 1024
    assert (config.gpu_model, config.compute_capability, config.cloud, config.cuda) == (
        "NVIDIA-A100-SXM4-80GB",
        (8, 0),
        "byo",
        True,
    )


def test_byo_capacity_wins_over_the_count_label() -> None:
    config = gpu_config_from_node(A100_NODE_LABELS, {"nvidia.com/gpu": 4})
    assert config is not None and config.gpu_count == 4


def test_byo_without_capacity_uses_the_count_label_and_product_name() -> None:
    labels = {
        "nvidia.com/gpu.product": "Tesla-V100-SXM2-16GB",
        "nvidia.com/gpu.count": "2",
        "nvidia.com/gpu.memory": "16160",
    }
    config = gpu_config_from_node(labels, {})
    assert config is not None
    assert config.gpu_count == 2
    assert config.gpu_memory_gib == pytest.approx(15.78, abs=0.01)  # 16160 / 1024
    assert config.compute_capability == (7, 0)  # from "V100" in the product name
    assert config.sku == "Tesla-V100-SXM2-16GB"


def test_byo_unknown_product_has_unknown_capability() -> None:
    labels = {"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090", "nvidia.com/gpu.memory": "24564"}
    config = gpu_config_from_node(labels, {"nvidia.com/gpu": "1"})
    assert config is not None
    assert config.compute_capability is None and config.cuda
    assert config.compute_capability_text == "unknown"


def test_node_without_gpus_is_not_a_gpu_config() -> None:
    assert gpu_config_from_node({"kubernetes.io/os": "linux"}, {"cpu": "8"}) is None
    assert gpu_config_from_node({}, {"nvidia.com/gpu": "0"}) is None


@pytest.mark.parametrize(
    ("labels", "capacity", "message"),
    [
        ({}, {"nvidia.com/gpu": "2"}, "no usable nvidia.com/gpu.memory label"),
        (
            {"nvidia.com/gpu.memory": "lots"},
            {"nvidia.com/gpu": "1"},
            "nvidia.com/gpu.memory='lots' is not an integer",
        ),
        ({"nvidia.com/gpu.memory": "1024"}, {"nvidia.com/gpu": "1.5"}, "is not a whole number"),
    ],
)
def test_byo_bad_labels_are_clear_errors(
    labels: dict[str, str], capacity: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        gpu_config_from_node(labels, capacity)
