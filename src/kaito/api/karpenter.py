"""Karpenter node requests: ``karpenter.sh/v1`` NodeClaim and the older
``karpenter.sh/v1alpha5`` Machine.

Both are cluster-scoped. The workspace controller creates them; a node
provisioner drives their lifecycle through the conditions
Launched -> Registered -> Initialized -> Ready (prefixed ``Machine`` on Machines).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from kaito.api import resources as r
from kaito.api.meta import Condition, KubeModel, KubeObject
from kaito.api.resources import ResourceType
from kaito.api.wellknown import ConditionStatus


class Taint(KubeModel):
    key: str
    value: str | None = None
    effect: str = Field(json_schema_extra={"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]})
    time_added: str | None = None


class NodeSelectorRequirement(KubeModel):
    key: str
    operator: str = Field(json_schema_extra={"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]})
    values: list[str] | None = None
    min_values: int | None = None


class ResourceRequirements(KubeModel):
    requests: dict[str, str] | None = None


class NodeClassReference(KubeModel):
    group: str
    kind: str
    name: str


class _NodeRequestStatus(KubeModel):
    node_name: str | None = None
    provider_id: str | None = Field(default=None, alias="providerID")
    capacity: dict[str, str] | None = None
    allocatable: dict[str, str] | None = None
    conditions: list[Condition] | None = Field(
        default=None,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class NodeClaimSpec(KubeModel):
    taints: list[Taint] | None = None
    startup_taints: list[Taint] | None = None
    requirements: list[NodeSelectorRequirement] = Field(json_schema_extra={"maxItems": 100})
    resources: ResourceRequirements | None = None
    node_class_ref: NodeClassReference
    expire_after: str | None = None
    termination_grace_period: str | None = None


class NodeClaimStatus(_NodeRequestStatus):
    image_id: str | None = Field(default=None, alias="imageID")
    last_pod_event_time: str | None = None


class _NodeRequest(KubeObject):
    """What NodeClaim and Machine share: conditions and the node they produced."""

    READY_CONDITION: ClassVar[str] = "Ready"
    LIFECYCLE_CONDITIONS: ClassVar[tuple[str, ...]]

    def condition(self, type_: str) -> Condition | None:
        status: _NodeRequestStatus | None = getattr(self, "status", None)
        for cond in (status.conditions if status else None) or []:
            if cond.type == type_:
                return cond
        return None

    @property
    def is_ready(self) -> bool:
        cond = self.condition(self.READY_CONDITION)
        return cond is not None and cond.status == ConditionStatus.TRUE

    @property
    def is_deleting(self) -> bool:
        return self.metadata.deletion_timestamp is not None

    @property
    def node_name(self) -> str | None:
        status: _NodeRequestStatus | None = getattr(self, "status", None)
        return status.node_name if status else None


class NodeClaim(_NodeRequest):
    RESOURCE: ClassVar[ResourceType] = r.NODECLAIM
    LIFECYCLE_CONDITIONS: ClassVar[tuple[str, ...]] = ("Launched", "Registered", "Initialized")

    spec: NodeClaimSpec
    status: NodeClaimStatus | None = None


class MachineTemplateRef(KubeModel):
    kind: str | None = None
    name: str
    api_version: str | None = None


class MachineSpec(KubeModel):
    taints: list[Taint] | None = None
    startup_taints: list[Taint] | None = None
    requirements: list[NodeSelectorRequirement] | None = None
    resources: ResourceRequirements | None = None
    kubelet: dict[str, Any] | None = Field(
        default=None, json_schema_extra={"x-kubernetes-preserve-unknown-fields": True}
    )
    machine_template_ref: MachineTemplateRef | None = None


class MachineStatus(_NodeRequestStatus):
    pass


class Machine(_NodeRequest):
    RESOURCE: ClassVar[ResourceType] = r.MACHINE
    LIFECYCLE_CONDITIONS: ClassVar[tuple[str, ...]] = (
        "MachineLaunched",
        "MachineRegistered",
        "MachineInitialized",
    )

    spec: MachineSpec
    status: MachineStatus | None = None
