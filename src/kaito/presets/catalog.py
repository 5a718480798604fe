"""The model preset catalog: ``data/models.yaml`` loaded into typed, validated models.

A preset is data, not code: adding a model means adding a YAML entry whose
facts (config.json, safetensors sizes, pinned revision) are checked here when
kaito is imported.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from functools import cache
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from kaito.api.wellknown import Runtime, TuningMethod
from kaito.presets.datafiles import load_catalog
from kaito.presets.names import closest_names

GIB = 1024**3

# Upstream KAITO's startup-probe budget: 15 minutes plus 18 seconds per GiB of
# weights, clamped to [30 min, 180 min] (presets/workspace/models/vllm_model.go).
_READINESS_BASE_S = 15 * 60
_READINESS_PER_GIB_S = 18
_READINESS_MIN_S = 30 * 60
_READINESS_MAX_S = 180 * 60
# Disk for the node: the weights plus room for images and caches, upstream's
# generator rule (modelFileSize + 80Gi).
_DISK_HEADROOM_GIB = 80

DType = Literal["bfloat16", "float16", "float32"]
RuntimeDType = Literal["auto", "bfloat16", "float16", "float32"]
DTYPE_BYTES: dict[str, int] = {"bfloat16": 2, "float16": 2, "float32": 4}


class Attention(StrEnum):
    MHA = "MHA"
    GQA = "GQA"
    MQA = "MQA"
    MLA = "MLA"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MLA(_Strict):
    """Multi-head latent attention: the KV cache holds one compressed latent per token and layer."""

    kv_lora_rank: PositiveInt
    qk_rope_head_dim: PositiveInt


class Architecture(_Strict):
    class_name: str
    layers: PositiveInt
    attention_heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    hidden_size: PositiveInt
    intermediate_size: PositiveInt | None = None
    vocab_size: PositiveInt
    tie_word_embeddings: bool
    max_context: PositiveInt
    attention: Attention
    sliding_window: PositiveInt | None = None
    sliding_window_layers: NonNegativeInt = 0
    mla: MLA | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Architecture:
        if self.attention_heads % self.kv_heads:
            raise ValueError(f"{self.attention_heads} attention heads are not a multiple of {self.kv_heads}")
        expected = self._attention_kind()
        if self.attention is not expected:
            raise ValueError(f"attention is {self.attention} but the head counts make it {expected}")
        if (self.sliding_window is None) != (self.sliding_window_layers == 0):
            raise ValueError("sliding_window and sliding_window_layers must be given together")
        if self.sliding_window_layers > self.layers:
            raise ValueError(f"sliding_window_layers {self.sliding_window_layers} > layers {self.layers}")
        if self.sliding_window is not None and self.sliding_window >= self.max_context:
            raise ValueError("a sliding window as long as the context has no effect; leave it out")
        return self

    def _attention_kind(self) -> Attention:
        if self.mla is not None:
            return Attention.MLA
        if self.kv_heads == self.attention_heads:
            return Attention.MHA
        return Attention.MQA if self.kv_heads == 1 else Attention.GQA

    @property
    def full_attention_layers(self) -> int:
        return self.layers - self.sliding_window_layers


class RuntimeArgs(_Strict):
    """Arguments both runtimes understand."""

    dtype: RuntimeDType
    trust_remote_code: bool = False
    chat_template: str | None = None


class VLLMArgs(RuntimeArgs):
    lora: bool
    tool_call_parser: str | None = None
    reasoning_parser: str | None = None


class Runtimes(_Strict):
    vllm: VLLMArgs | None = None
    transformers: RuntimeArgs | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Runtimes:
        if self.vllm is None and self.transformers is None:
            raise ValueError("a preset needs at least one runtime")
        return self


class ModelPreset(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    family: str
    repo: str = Field(pattern=r"^[\w.\-]+/[\w.\-]+$")
    revision: str
    parameters_billion: PositiveFloat
    dtype: DType
    quantization: str | None = None
    weights_gib: PositiveFloat
    architecture: Architecture
    gated: bool
    download_at_runtime: bool
    image_tag: str = Field(pattern=r"^[\w][\w.\-]{0,127}$")
    distributed_inference: bool
    runtimes: Runtimes
    tuning: tuple[TuningMethod, ...] = ()
    bfloat16_only: bool = False

    @field_validator("revision")
    @classmethod
    def _commit(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{40}", value):
            raise ValueError("revision must be a full 40-character commit sha")
        return value

    @model_validator(mode="after")
    def _facts_agree(self) -> ModelPreset:
        if self.quantization is None:
            expected = self.parameters_billion * 1e9 * DTYPE_BYTES[self.dtype] / GIB
            if abs(self.weights_gib - expected) > 0.05 * expected:
                raise ValueError(
                    f"weights_gib {self.weights_gib} disagrees with {self.parameters_billion}B "
                    f"{self.dtype} parameters ({expected:.2f} GiB)"
                )
        if self.tuning and self.architecture.intermediate_size is None:
            raise ValueError("tunable presets need architecture.intermediate_size to size LoRA adapters")
        return self

    @property
    def supported_runtimes(self) -> tuple[Runtime, ...]:
        return tuple(
            runtime
            for runtime, args in (
                (Runtime.VLLM, self.runtimes.vllm),
                (Runtime.TRANSFORMERS, self.runtimes.transformers),
            )
            if args is not None
        )

    def runtime_args(self, runtime: Runtime) -> RuntimeArgs | None:
        return self.runtimes.vllm if runtime is Runtime.VLLM else self.runtimes.transformers

    @property
    def readiness_timeout_seconds(self) -> int:
        """How long the runtime may take to download, load and warm up before it counts as failed."""
        seconds = _READINESS_BASE_S + round(_READINESS_PER_GIB_S * self.weights_gib)
        return max(_READINESS_MIN_S, min(_READINESS_MAX_S, seconds))

    @property
    def disk_gib(self) -> int:
        """Node disk the preset needs: weights plus headroom for images and caches."""
        return math.ceil(self.weights_gib) + _DISK_HEADROOM_GIB


class _PresetCatalog(_Strict):
    presets: tuple[ModelPreset, ...]

    @model_validator(mode="after")
    def _unique(self) -> _PresetCatalog:
        names = [preset.name for preset in self.presets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"presets listed twice: {', '.join(duplicates)}")
        return self


_CATALOG = load_catalog("models.yaml", _PresetCatalog)


@cache
def _by_name() -> dict[str, ModelPreset]:
    return {preset.name.casefold(): preset for preset in _CATALOG.presets}


def all_presets() -> list[ModelPreset]:
    """Every preset, in catalog order."""
    return list(_CATALOG.presets)


def get_preset(name: str) -> ModelPreset | None:
    """The preset called ``name`` (case-insensitive), or ``None``."""
    return _by_name().get(name.strip().casefold())


def closest_preset_names(name: str, n: int = 3) -> list[str]:
    """Preset names that look like ``name``, best first, for "did you mean" messages."""
    return closest_names(name, (preset.name for preset in _CATALOG.presets), n)
