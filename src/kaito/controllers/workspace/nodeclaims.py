"""The NodeClaims (karpenter.sh/v1) and Machines (karpenter.sh/v1alpha5) a workspace asks for.

Names are derived from the workspace's UID and a slot number, so asking twice
for slot k (after a restart, or from a stale cache) collides with
AlreadyExists instead of creating a second node. ``ws`` + 10 hex characters
also satisfies the AKS agent-pool name rule the gpu-provisioner maps them to.
"""

from __future__ import annotations

import hashlib

from kaito.api.karpenter import (
    Machine,
    MachineSpec,
    MachineTemplateRef,
    NodeClaim,
    NodeClaimSpec,
    NodeClassReference,
    NodeSelectorRequirement,
    ResourceRequirements,
    Taint,
)
from kaito.api.meta import ObjectMeta
from kaito.api.wellknown import (
    ANNOTATION_DO_NOT_DISRUPT,
    ANNOTATION_NODE_IMAGE_FAMILY,
    LABEL_ARCH,
    LABEL_AZURE_SKU_NAME,
    LABEL_INSTANCE_TYPE,
    LABEL_MACHINE_TYPE,
    LABEL_NODEPOOL,
    LABEL_OS,
    LABEL_PROVISIONER_NAME,
    LABEL_WORKSPACE,
    LABEL_WORKSPACE_NAMESPACE,
    NODEPOOL_KAITO,
    PROVISIONER_DEFAULT,
    TAINT_SKU_KEY,
    TAINT_SKU_VALUE,
)
from kaito.api.workspace import Workspace

_NODE_CLASS = {
    "azure": NodeClassReference(group="kaito.sh", kind="KaitoNodeClass", name="default"),
    "aws": NodeClassReference(group="karpenter.k8s.aws", kind="EC2NodeClass", name="default"),
    "arc": NodeClassReference(group="kaito.sh", kind="KaitoNodeClass", name="default"),
}
_GPU_TAINT = Taint(key=TAINT_SKU_KEY, value=TAINT_SKU_VALUE, effect="NoSchedule")


def node_request_name(workspace: Workspace, slot: int) -> str:
    digest = hashlib.sha256(
        f"{workspace.namespace}/{workspace.name}/{workspace.metadata.uid}/{slot}".encode()
    )
    return f"ws{digest.hexdigest()[:10]}"


def workspace_labels(workspace: Workspace) -> dict[str, str]:
    """Labels tying a cluster-scoped object back to its workspace."""
    return {LABEL_WORKSPACE: workspace.name, LABEL_WORKSPACE_NAMESPACE: workspace.namespace}


def _selector_labels(workspace: Workspace) -> dict[str, str]:
    selector = workspace.resource.label_selector if workspace.resource else None
    return selector.as_map() if selector else {}


def _in(key: str, value: str) -> NodeSelectorRequirement:
    return NodeSelectorRequirement(key=key, operator="In", values=[value])


def build_nodeclaim(
    workspace: Workspace, slot: int, instance_type: str, storage_gib: int, cloud: str, image_family: str
) -> NodeClaim:
    requirements = [
        _in(LABEL_NODEPOOL, NODEPOOL_KAITO),
        _in(LABEL_INSTANCE_TYPE, instance_type),
        _in(LABEL_OS, "linux"),
    ]
    if cloud == "aws":
        requirements.append(
            NodeSelectorRequirement(key="karpenter.k8s.aws/instance-gpu-count", operator="Gt", values=["0"])
        )
    else:
        requirements.append(_in(LABEL_AZURE_SKU_NAME, instance_type))
    return NodeClaim(
        metadata=ObjectMeta(
            name=node_request_name(workspace, slot),
            labels={
                **_selector_labels(workspace),
                LABEL_NODEPOOL: NODEPOOL_KAITO,
                **workspace_labels(workspace),
            },
            annotations={ANNOTATION_DO_NOT_DISRUPT: "true", ANNOTATION_NODE_IMAGE_FAMILY: image_family},
        ),
        spec=NodeClaimSpec(
            requirements=requirements,
            node_class_ref=_NODE_CLASS.get(cloud, _NODE_CLASS["azure"]),
            taints=[_GPU_TAINT],
            resources=ResourceRequirements(requests={"storage": f"{storage_gib}Gi"}),
        ),
    )


def build_machine(workspace: Workspace, slot: int, instance_type: str, storage_gib: int) -> Machine:
    name = node_request_name(workspace, slot)
    return Machine(
        metadata=ObjectMeta(
            name=name,
            labels={
                **_selector_labels(workspace),
                LABEL_PROVISIONER_NAME: PROVISIONER_DEFAULT,
                **workspace_labels(workspace),
            },
        ),
        spec=MachineSpec(
            machine_template_ref=MachineTemplateRef(name=name),
            requirements=[
                _in(LABEL_INSTANCE_TYPE, instance_type),
                _in(LABEL_PROVISIONER_NAME, PROVISIONER_DEFAULT),
                _in(LABEL_MACHINE_TYPE, "gpu"),
                _in(LABEL_ARCH, "amd64"),
                _in(LABEL_OS, "linux"),
            ],
            taints=[_GPU_TAINT],
            resources=ResourceRequirements(requests={"storage": f"{storage_gib}Gi"}),
        ),
    )
