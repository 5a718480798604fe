"""The Workspace kind, in the upstream shape: ``resource``, ``inference``,
``tuning`` and ``status`` sit at the top level, not under ``.spec``.

``kaito.sh/v1beta1`` is the storage version and the one the controller works
with; ``kaito.sh/v1alpha1`` is served with the same structural schema, so the
API server converts between them by rewriting ``apiVersion`` and nothing is
lost either way (see ``kaito.api.conversion``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from kaito.api import resources as r
from kaito.api.meta import Condition, KubeModel, KubeObject, LabelSelector
from kaito.api.resources import ResourceType
from kaito.api.wellknown import (
    ANNOTATION_RUNTIME,
    AccessMode,
    ConditionStatus,
    ConditionType,
    TuningMethod,
    WorkspaceState,
)


class ResourceSpec(KubeModel):
    count: int | None = Field(
        default=None,
        description="Number of GPU nodes (CRD default 1). With vLLM the node count comes from the "
        "estimator; transformers serves from this many nodes.",
        json_schema_extra={"default": 1, "minimum": 1},
    )
    instance_type: str | None = Field(default=None, description="GPU VM size, e.g. Standard_NC24ads_A100_v4.")
    label_selector: LabelSelector | None = Field(
        default=None, description="Selects the nodes the workload may run on; copied onto NodeClaims."
    )
    preferred_nodes: list[str] | None = Field(default=None, description="Existing node names to use first.")


class PresetOptions(KubeModel):
    image: str | None = Field(default=None, description="Private model image (accessMode private).")
    image_pull_secrets: list[str] | None = None
    model_access_secret: str | None = Field(
        default=None, description="Secret with key HF_TOKEN, for gated models downloaded at run time."
    )


class PresetSpec(KubeModel):
    name: str = Field(description="Model preset name, e.g. phi-3-mini-4k-instruct.")
    # Enums are matched by value (strict mode would demand enum instances).
    access_mode: AccessMode | None = Field(
        default=None, strict=False, json_schema_extra={"default": "public"}
    )
    preset_options: PresetOptions | None = None

    @property
    def effective_access_mode(self) -> AccessMode:
        return self.access_mode or AccessMode.PUBLIC


class DataSource(KubeModel):
    """Where data comes from: an adapter or a tuning data set."""

    name: str | None = None
    urls: list[str] | None = None
    volume_source: dict[str, Any] | None = Field(
        default=None, json_schema_extra={"x-kubernetes-preserve-unknown-fields": True}
    )
    image: str | None = None
    image_pull_secrets: list[str] | None = None


class DataDestination(KubeModel):
    """Where a tuning job's output goes: a volume or an image pushed to a registry."""

    volume_source: dict[str, Any] | None = Field(
        default=None, json_schema_extra={"x-kubernetes-preserve-unknown-fields": True}
    )
    image: str | None = None
    image_push_secret: str | None = None


class AdapterSpec(KubeModel):
    source: DataSource | None = None
    strength: str | None = Field(
        default=None, description='Weight of the adapter, a number in [0, 1] written as a string ("1.0").'
    )

    @property
    def effective_strength(self) -> str:
        return self.strength if self.strength is not None else "1.0"


class InferenceSpec(KubeModel):
    preset: PresetSpec | None = None
    template: dict[str, Any] | None = Field(
        default=None,
        description="A full PodTemplateSpec, for models without a preset.",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )
    config: str | None = Field(
        default=None, description="ConfigMap in the workspace namespace with key inference_config.yaml."
    )
    adapters: list[AdapterSpec] | None = Field(default=None, json_schema_extra={"maxItems": 10})


class TuningSpec(KubeModel):
    preset: PresetSpec | None = None
    method: TuningMethod | None = Field(default=None, strict=False)
    config: str | None = Field(default=None, description="ConfigMap with key training_config.yaml.")
    input: DataSource | None = None
    output: DataDestination | None = None


class PhaseTimestamps(KubeModel):
    """When the workspace reached each phase (kaito addition), so apply-to-ready is measured."""

    accepted: str | None = None
    nodes_requested: str | None = None
    nodes_ready: str | None = None
    workload_created: str | None = None
    inference_ready: str | None = None
    job_started: str | None = None
    job_finished: str | None = None


class WorkspaceStatus(KubeModel):
    worker_nodes: list[str] | None = None
    conditions: list[Condition] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    state: WorkspaceState | None = Field(default=None, strict=False)
    target_node_count: int | None = None
    phase_timestamps: PhaseTimestamps | None = None


class Workspace(KubeObject):
    """kaito.sh/v1beta1 Workspace, the storage version."""

    RESOURCE: ClassVar[ResourceType] = r.WORKSPACE_V1BETA1

    resource: ResourceSpec | None = None
    inference: InferenceSpec | None = None
    tuning: TuningSpec | None = None
    status: WorkspaceStatus | None = None

    @property
    def preset(self) -> PresetSpec | None:
        """The model preset, whether this workspace serves or tunes."""
        if self.inference is not None and self.inference.preset is not None:
            return self.inference.preset
        return self.tuning.preset if self.tuning is not None else None

    @property
    def annotations(self) -> dict[str, str]:
        return self.metadata.annotations or {}

    @property
    def runtime_annotation(self) -> str | None:
        return self.annotations.get(ANNOTATION_RUNTIME)

    def condition(self, type_: ConditionType | str) -> Condition | None:
        for cond in (self.status.conditions if self.status else None) or []:
            if cond.type == type_:
                return cond
        return None

    def condition_is_true(self, type_: ConditionType | str) -> bool:
        cond = self.condition(type_)
        return cond is not None and cond.status == ConditionStatus.TRUE


class WorkspaceV1alpha1(Workspace):
    """kaito.sh/v1alpha1 Workspace: served, same schema as v1beta1."""

    RESOURCE: ClassVar[ResourceType] = r.WORKSPACE_V1ALPHA1


WORKSPACE_VERSIONS: tuple[type[Workspace], ...] = (Workspace, WorkspaceV1alpha1)
