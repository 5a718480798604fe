"""GPU facts of an instance type (from the shipped SKU catalog) or of a
bring-your-own node (from the labels gpu-feature-discovery puts on it).

Both end up as one ``GPUConfig`` so the estimator and the runtime rules never
care where the facts came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from kaito.api.wellknown import (
    LABEL_CUDA_COMPUTE_MAJOR,
    LABEL_CUDA_COMPUTE_MINOR,
    LABEL_GPU_COUNT,
    LABEL_GPU_MEMORY,
    LABEL_GPU_PRODUCT,
    LABEL_INSTANCE_TYPE,
    RESOURCE_NVIDIA_GPU,
)
from kaito.presets.datafiles import load_catalog
from kaito.presets.names import closest_names

Cloud = Literal["azure", "aws", "arc"]
CLOUDS: tuple[Cloud, ...] = ("azure", "aws", "arc")
BYO_CLOUD = "byo"
MIB_PER_GIB = 1024


@dataclass(frozen=True)
class GPUConfig:
    """The GPUs of one node.

    ``gpu_memory_gib`` is per GPU. ``compute_capability`` is ``None`` for
    accelerators that are not CUDA devices, and for NVIDIA nodes whose labels
    do not say (``cuda`` tells the two apart).
    """

    sku: str
    gpu_count: int
    gpu_memory_gib: float
    gpu_model: str
    compute_capability: tuple[int, int] | None
    nvme: bool
    cloud: str
    cuda: bool = True

    @property
    def total_memory_gib(self) -> float:
        return self.gpu_count * self.gpu_memory_gib

    @property
    def compute_capability_text(self) -> str:
        if self.compute_capability is None:
            return "unknown" if self.cuda else "none (not a CUDA device)"
        return f"{self.compute_capability[0]}.{self.compute_capability[1]}"


class _GPUModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    compute_capability: tuple[int, int] | None


class _SKURow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(min_length=1)
    gpus: PositiveInt
    memory_gib: PositiveFloat
    model: str
    nvme: bool = False


class _SKUCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_models: dict[str, _GPUModel]
    clouds: dict[Cloud, list[_SKURow]]

    @model_validator(mode="after")
    def _consistent(self) -> _SKUCatalog:
        for cloud, rows in self.clouds.items():
            seen: set[str] = set()
            for row in rows:
                if row.model not in self.gpu_models:
                    raise ValueError(f"{cloud} SKU {row.sku}: GPU model {row.model!r} is not in gpu_models")
                if row.sku.casefold() in seen:
                    raise ValueError(f"{cloud} SKU {row.sku} is listed twice")
                seen.add(row.sku.casefold())
        return self


_CATALOG = load_catalog("skus.yaml", _SKUCatalog)


def _config(row: _SKURow, cloud: Cloud) -> GPUConfig:
    capability = _CATALOG.gpu_models[row.model].compute_capability
    return GPUConfig(
        sku=row.sku,
        gpu_count=row.gpus,
        gpu_memory_gib=row.memory_gib / row.gpus,
        gpu_model=row.model,
        compute_capability=capability,
        nvme=row.nvme,
        cloud=cloud,
        cuda=capability is not None,
    )


def _check_cloud(cloud: str) -> Cloud:
    for known in CLOUDS:
        if cloud.casefold() == known:
            return known
    raise ValueError(f"unknown cloud {cloud!r}; expected one of {', '.join(CLOUDS)}")


@cache
def _by_name(cloud: Cloud) -> dict[str, GPUConfig]:
    return {row.sku.casefold(): _config(row, cloud) for row in _CATALOG.clouds.get(cloud, [])}


def all_skus(cloud: str = "azure") -> list[GPUConfig]:
    """Every instance type of ``cloud``, in catalog order."""
    return list(_by_name(_check_cloud(cloud)).values())


def lookup_sku(instance_type: str, cloud: str = "azure") -> GPUConfig | None:
    """The GPU facts of ``instance_type`` (case-insensitive), or ``None`` if unknown."""
    return _by_name(_check_cloud(cloud)).get(instance_type.strip().casefold())


def closest_sku_names(name: str, cloud: str = "azure", n: int = 3) -> list[str]:
    """Known instance types of ``cloud`` that look like ``name``, best first."""
    return closest_names(name, (config.sku for config in all_skus(cloud)), n)


def _label_int(labels: Mapping[str, str], key: str) -> int | None:
    value = labels.get(key)
    if value is None or str(value).strip() == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"node label {key}={value!r} is not an integer") from None


def _capacity_gpus(capacity: Mapping[str, str | int]) -> int | None:
    value = capacity.get(RESOURCE_NVIDIA_GPU)
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"node capacity {RESOURCE_NVIDIA_GPU}={value!r} is not a whole number") from None


def _capability_from_product(product: str) -> tuple[int, int] | None:
    """Compute capability of a product label such as ``NVIDIA-A100-SXM4-80GB``.

    Used when the ``nvidia.com/cuda.compute.*`` labels are missing: the product
    name's words are matched against the GPU models in the catalog.
    """
    words = {word.upper() for word in re.split(r"[-_\s]+", product) if word}
    for model, facts in _CATALOG.gpu_models.items():
        family = model.split()[-1].upper()
        if facts.compute_capability is not None and model.upper().startswith("NVIDIA") and family in words:
            return facts.compute_capability
    return None


def gpu_config_from_node(labels: Mapping[str, str], capacity: Mapping[str, str | int]) -> GPUConfig | None:
    """GPU facts of a bring-your-own node, or ``None`` if it exposes no NVIDIA GPU.

    The GPU count comes from the node's ``nvidia.com/gpu`` capacity (what pods
    can actually request), falling back to the ``nvidia.com/gpu.count`` label;
    ``nvidia.com/gpu.memory`` is MiB per GPU. A node with GPUs but no memory
    label cannot be sized and is an error, as is any label that is not a number.
    """
    count = _capacity_gpus(capacity)
    if count is None:
        count = _label_int(labels, LABEL_GPU_COUNT)
    if count is None or count <= 0:
        return None
    memory_mib = _label_int(labels, LABEL_GPU_MEMORY)
    if memory_mib is None or memory_mib <= 0:
        raise ValueError(
            f"node has {count} GPU(s) but no usable {LABEL_GPU_MEMORY} label (MiB per GPU); "
            "install gpu-feature-discovery or label the node"
        )
    product = labels.get(LABEL_GPU_PRODUCT, "").strip() or "NVIDIA GPU"
    major = _label_int(labels, LABEL_CUDA_COMPUTE_MAJOR)
    minor = _label_int(labels, LABEL_CUDA_COMPUTE_MINOR)
    capability = (major, minor or 0) if major is not None else _capability_from_product(product)
    return GPUConfig(
        sku=labels.get(LABEL_INSTANCE_TYPE, "").strip() or product,
        gpu_count=count,
        gpu_memory_gib=memory_mib / MIB_PER_GIB,
        gpu_model=product,
        compute_capability=capability,
        nvme=False,
        cloud=BYO_CLOUD,
    )


def sku_gpu_count(instance_type: str) -> int | None:
    """GPUs of an Azure instance type in the catalog, or None when the catalog does not know it."""
    sku = lookup_sku(instance_type)
    return sku.gpu_count if sku is not None else None
