"""The node requests a workspace makes: names that never duplicate, and the upstream shape."""

from __future__ import annotations

import re

from kaito.api.workspace import Workspace
from kaito.controllers.workspace.nodeclaims import build_machine, build_nodeclaim, node_request_name
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.provisioning import BRING_YOUR_OWN, MACHINES, NODECLAIMS

from .conftest import workspace


def test_names_are_stable_per_slot_and_valid_aks_pool_names(phi3: Workspace) -> None:
    names = [node_request_name(phi3, slot) for slot in range(3)]
    assert names == [node_request_name(phi3, slot) for slot in range(3)]
    assert len(set(names)) == 3
    assert all(re.fullmatch(r"ws[0-9a-f]{10}", n) for n in names)
    other = workspace({**phi3.to_dict(), "metadata": {"name": phi3.name}}, uid="another-uid")
    assert node_request_name(other, 0) != names[0]


def test_nodeclaim_has_the_upstream_labels_taint_requirements_and_storage(phi3: Workspace) -> None:
    claim = build_nodeclaim(phi3, 0, "Standard_NC6s_v3", 80, "azure", "ubuntu").to_dict()
    assert claim["apiVersion"] == "karpenter.sh/v1" and "namespace" not in claim["metadata"]
    assert claim["metadata"]["labels"] == {
        "apps": "phi-3",
        "karpenter.sh/nodepool": "kaito",
        "kaito.sh/workspace": "workspace-phi-3-mini",
        "kaito.sh/workspacenamespace": "default",
    }
    assert claim["metadata"]["annotations"] == {
        "karpenter.sh/do-not-disrupt": "true",
        "kaito.sh/node-image-family": "ubuntu",
    }
    spec = claim["spec"]
    assert spec["nodeClassRef"] == {"group": "kaito.sh", "kind": "KaitoNodeClass", "name": "default"}
    assert spec["taints"] == [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}]
    assert spec["requirements"] == [
        {"key": "karpenter.sh/nodepool", "operator": "In", "values": ["kaito"]},
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["Standard_NC6s_v3"]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.azure.com/sku-name", "operator": "In", "values": ["Standard_NC6s_v3"]},
    ]
    assert spec["resources"] == {"requests": {"storage": "80Gi"}}


def test_aws_nodeclaims_use_ec2_node_class_and_gpu_count(phi3: Workspace) -> None:
    spec = build_nodeclaim(phi3, 0, "g5.xlarge", 80, "aws", "ubuntu").to_dict()["spec"]
    assert spec["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
    assert {"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]} in spec[
        "requirements"
    ]


def test_machine_has_the_v1alpha5_shape(phi3: Workspace) -> None:
    machine = build_machine(phi3, 1, "Standard_NC6s_v3", 80).to_dict()
    assert machine["apiVersion"] == "karpenter.sh/v1alpha5"
    assert machine["metadata"]["labels"]["karpenter.sh/provisioner-name"] == "default"
    assert machine["spec"]["machineTemplateRef"] == {"name": machine["metadata"]["name"]}
    assert {"key": "kaito.sh/machine-type", "operator": "In", "values": ["gpu"]} in machine["spec"][
        "requirements"
    ]


def test_desired_requests_follow_the_provisioner(phi3: Workspace) -> None:
    claims = NODECLAIMS.desired_requests(phi3, 2, 80, WorkspaceOptions())
    assert [c.RESOURCE.kind for c in claims] == ["NodeClaim", "NodeClaim"]
    machines = MACHINES.desired_requests(phi3, 1, 80, WorkspaceOptions())
    assert [m.RESOURCE.kind for m in machines] == ["Machine"]
    assert BRING_YOUR_OWN.desired_requests(phi3, 2, 80, WorkspaceOptions()) == []
    annotated = workspace(
        {
            **phi3.to_dict(),
            "metadata": {"name": "w", "annotations": {"kaito.sh/node-image-family": "azurelinux"}},
        }
    )
    (claim,) = NODECLAIMS.desired_requests(annotated, 1, 80, WorkspaceOptions())
    assert (claim.metadata.annotations or {})["kaito.sh/node-image-family"] == "azurelinux"
