"""How a workspace gets its GPU nodes: one strategy object, chosen once from the options.

NodeClaims (karpenter.sh/v1), Machines (karpenter.sh/v1alpha5) and BYO
("bring your own nodes": create nothing, wait for matching nodes) differ in the
model class they create and watch, the condition that reports them on the
workspace and its reasons, and how one request is built. Everything else in the
workspace controller is the same, so the difference lives here alone, as
upstream's ``NodesProvisioner`` interface keeps it in one place; the
controller's wiring, reconciler and status code ask the strategy instead of
switching on ``--node-provisioner``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.wellknown import ANNOTATION_NODE_IMAGE_FAMILY, ConditionType, NodeProvisioner, Reason
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.nodeclaims import build_machine, build_nodeclaim
from kaito.controllers.workspace.options import WorkspaceOptions

NodeRequest = NodeClaim | Machine
DEFAULT_IMAGE_FAMILY = "ubuntu"

# (workspace, slot, instance type, OS disk GiB, options) -> the request for that slot.
BuildRequest = Callable[[Workspace, int, str, int, WorkspaceOptions], NodeRequest]


@dataclass(frozen=True)
class RequestCondition:
    """The workspace condition that reports this strategy's node requests, and its reasons."""

    type: str
    plural: str  # "NodeClaims", "Machines": how messages name the requests
    ready_reason: str
    not_ready_reason: str


@dataclass(frozen=True)
class Provisioner:
    """One way of getting GPU nodes. ``model`` is None when nothing is created (BYO)."""

    name: NodeProvisioner
    model: type[NodeClaim] | type[Machine] | None
    condition: RequestCondition | None
    build: BuildRequest | None

    @property
    def creates_nodes(self) -> bool:
        return self.model is not None

    def desired_requests(
        self, workspace: Workspace, count: int, storage_gib: int, options: WorkspaceOptions
    ) -> list[NodeRequest]:
        """Slots 0..count-1; the slot number fixes each request's name (see ``nodeclaims``)."""
        instance_type = workspace.resource.instance_type if workspace.resource else None
        if count <= 0 or not instance_type or self.build is None:
            return []
        return [self.build(workspace, slot, instance_type, storage_gib, options) for slot in range(count)]


def _build_nodeclaim(
    workspace: Workspace, slot: int, instance_type: str, storage_gib: int, options: WorkspaceOptions
) -> NodeRequest:
    family = workspace.annotations.get(ANNOTATION_NODE_IMAGE_FAMILY, DEFAULT_IMAGE_FAMILY)
    return build_nodeclaim(workspace, slot, instance_type, storage_gib, options.cloud, family)


def _build_machine(
    workspace: Workspace, slot: int, instance_type: str, storage_gib: int, options: WorkspaceOptions
) -> NodeRequest:
    return build_machine(workspace, slot, instance_type, storage_gib)


NODECLAIMS = Provisioner(
    name=NodeProvisioner.NODECLAIM,
    model=NodeClaim,
    condition=RequestCondition(
        ConditionType.NODECLAIM_READY, "NodeClaims", Reason.NODECLAIMS_READY, Reason.NODECLAIM_NOT_READY
    ),
    build=_build_nodeclaim,
)
MACHINES = Provisioner(
    name=NodeProvisioner.MACHINE,
    model=Machine,
    condition=RequestCondition(
        ConditionType.MACHINE_READY, "Machines", Reason.MACHINES_READY, Reason.MACHINE_NOT_READY
    ),
    build=_build_machine,
)
BRING_YOUR_OWN = Provisioner(name=NodeProvisioner.BYO, model=None, condition=None, build=None)

_BY_NAME = {p.name: p for p in (NODECLAIMS, MACHINES, BRING_YOUR_OWN)}
REQUEST_CONDITION_TYPES = frozenset(p.condition.type for p in _BY_NAME.values() if p.condition is not None)


def provisioner_for(name: NodeProvisioner) -> Provisioner:
    return _BY_NAME[name]
