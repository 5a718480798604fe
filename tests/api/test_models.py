"""The typed API: lossless round trips, strict types, conversion between versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kaito.api.conversion import convert_workspace, workspace_class_for
from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.scheme import decode
from kaito.api.workspace import Workspace, WorkspaceV1alpha1

REPO = Path(__file__).resolve().parents[2]


def example_manifests() -> list[Path]:
    return sorted((REPO / "examples").glob("*/*.yaml"))


@pytest.mark.parametrize("path", example_manifests(), ids=lambda p: p.name)
def test_example_manifests_round_trip_unchanged(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    obj = decode(document)
    assert isinstance(obj, Workspace)
    assert obj.to_dict() == document


def test_full_object_with_template_volume_source_and_unknown_fields_round_trips() -> None:
    document: dict[str, Any] = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {
            "name": "w",
            "namespace": "ns",
            "uid": "u",
            "resourceVersion": "7",
            "generation": 2,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"a": "b"},
            "managedFields": [{"manager": "kubectl", "operation": "Update"}],
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "X", "name": "x", "uid": "1", "controller": True}
            ],
        },
        "resource": {
            "count": 2,
            "instanceType": "Standard_NC12s_v3",
            "labelSelector": {"matchLabels": {"a": "b"}},
        },
        "inference": {
            "template": {
                "metadata": {"labels": {"x": "y"}},
                "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": 1}}}]},
            },
            "adapters": [
                {"source": {"name": "a", "volumeSource": {"persistentVolumeClaim": {"claimName": "pvc"}}}}
            ],
            "futureField": {"nested": [1, 2]},
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "R", "message": "", "lastTransitionTime": "t"}
            ],
            "workerNodes": ["n1"],
            "state": "Ready",
            "targetNodeCount": 2,
            "newStatusField": True,
        },
        "topLevelFromNewerServer": "kept",
    }
    assert decode(document).to_dict() == document


def test_nodeclaim_and_machine_round_trip() -> None:
    nodeclaim = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": "ws0123456789", "labels": {"karpenter.sh/nodepool": "kaito"}},
        "spec": {
            "requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["x"]}],
            "nodeClassRef": {"group": "kaito.sh", "kind": "KaitoNodeClass", "name": "default"},
            "taints": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
            "resources": {"requests": {"storage": "120Gi"}},
        },
        "status": {
            "nodeName": "n",
            "providerID": "azure:///x",
            "imageID": "img",
            "capacity": {"nvidia.com/gpu": "1"},
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t", "reason": "Ready"}],
        },
    }
    claim = decode(nodeclaim)
    assert isinstance(claim, NodeClaim) and claim.is_ready and claim.node_name == "n"
    assert claim.status is not None and claim.status.provider_id == "azure:///x"
    assert claim.to_dict() == nodeclaim
    machine = {
        "apiVersion": "karpenter.sh/v1alpha5",
        "kind": "Machine",
        "metadata": {"name": "ws0123456789"},
        "spec": {"machineTemplateRef": {"name": "ws0123456789"}, "kubelet": {"maxPods": 30}},
        "status": {"conditions": [{"type": "MachineLaunched", "status": "False", "severity": "Error"}]},
    }
    obj = decode(machine)
    assert isinstance(obj, Machine) and not obj.is_ready
    assert obj.to_dict() == machine


def test_types_are_strict() -> None:
    with pytest.raises(ValueError, match="valid integer"):
        Workspace.model_validate({"resource": {"count": "1"}})
    with pytest.raises(ValueError, match="valid string"):
        Workspace.model_validate({"inference": {"adapters": [{"strength": 1.0}]}})


def test_typed_objects_carry_their_kind() -> None:
    assert Workspace().to_dict()["apiVersion"] == "kaito.sh/v1beta1"
    assert WorkspaceV1alpha1().kind == "Workspace"
    assert WorkspaceV1alpha1().api_version == "kaito.sh/v1alpha1"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    extra=st.dictionaries(
        st.from_regex(r"\Az[a-zA-Z]{1,8}\Z"), json_values.filter(lambda v: v is not None), max_size=3
    )
)
def test_conversion_is_lossless_both_ways(extra: dict[str, Any]) -> None:
    document = {
        "apiVersion": "kaito.sh/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "w"},
        "resource": {"instanceType": "Standard_NC6s_v3", "labelSelector": {"matchLabels": {"a": "b"}}},
        "inference": {"preset": {"name": "phi-3-mini-4k-instruct"}, **extra},
        "status": {"state": "Pending", "targetNodeCount": 1},
    }
    alpha = WorkspaceV1alpha1.model_validate(document)
    beta = convert_workspace(alpha, Workspace)
    assert beta.api_version == "kaito.sh/v1beta1"
    back = convert_workspace(beta, WorkspaceV1alpha1)
    assert back.to_dict() == document


def test_workspace_class_for_names_served_versions() -> None:
    assert workspace_class_for("kaito.sh/v1beta1") is Workspace
    with pytest.raises(ValueError, match=r"served versions: kaito\.sh/v1beta1, kaito\.sh/v1alpha1"):
        workspace_class_for("kaito.sh/v2")
