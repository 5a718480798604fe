"""Asking for GPU nodes: the NodeClaims or Machines that cover a workspace's shortfall."""

from __future__ import annotations

from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.wellknown import ANNOTATION_NODE_IMAGE_FAMILY, NodeProvisioner
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.nodeclaims import build_machine, build_nodeclaim
from kaito.controllers.workspace.options import WorkspaceOptions

NodeRequest = NodeClaim | Machine
DEFAULT_IMAGE_FAMILY = "ubuntu"


def desired_node_requests(
    workspace: Workspace, count: int, storage_gib: int, options: WorkspaceOptions
) -> list[NodeRequest]:
    """Slots 0..count-1; the slot number fixes each request's name."""
    instance_type = workspace.resource.instance_type if workspace.resource else None
    if count <= 0 or not instance_type or options.node_provisioner == NodeProvisioner.BYO:
        return []
    if options.node_provisioner == NodeProvisioner.MACHINE:
        return [build_machine(workspace, slot, instance_type, storage_gib) for slot in range(count)]
    family = workspace.annotations.get(ANNOTATION_NODE_IMAGE_FAMILY, DEFAULT_IMAGE_FAMILY)
    return [
        build_nodeclaim(workspace, slot, instance_type, storage_gib, options.cloud, family)
        for slot in range(count)
    ]
