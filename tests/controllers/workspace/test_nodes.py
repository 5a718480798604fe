"""Node selection and GPU readiness, on hand-built node lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kaito.api.core import Node
from kaito.api.karpenter import NodeClaim
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.nodes import survey_nodes

from .conftest import workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEADLINE = 600.0


def node(
    name: str,
    *,
    ready: bool = True,
    gpus: int = 1,
    accelerator: bool = True,
    sku: str = "Standard_NC6s_v3",
    ready_minutes_ago: float = 30,
    extra: dict[str, str] | None = None,
    apps: str = "phi-3",
) -> Node:
    labels = {"apps": apps, "node.kubernetes.io/instance-type": sku, **(extra or {})}
    if accelerator:
        labels["accelerator"] = "nvidia"
    since = (NOW - timedelta(minutes=ready_minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status: dict[str, Any] = {
        "conditions": [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": since}
        ],
        "capacity": {"nvidia.com/gpu": str(gpus)},
    }
    return Node.model_validate({"metadata": {"name": name, "labels": labels}, "status": status})


def claim(name: str, node_name: str | None) -> NodeClaim:
    return NodeClaim.model_validate(
        {
            "metadata": {"name": name},
            "spec": {
                "requirements": [],
                "nodeClassRef": {"group": "kaito.sh", "kind": "KaitoNodeClass", "name": "default"},
            },
            "status": {"nodeName": node_name} if node_name else {},
        }
    )


def test_no_nodes_means_claims_for_the_whole_target(phi3: Workspace) -> None:
    survey = survey_nodes(phi3, [], [], 2, NOW, DEADLINE)
    assert (survey.selected, survey.claims_needed, survey.ready(2)) == ([], 2, False)


def test_existing_qualified_nodes_are_used_first(phi3: Workspace) -> None:
    nodes = [
        node("byo-a"),
        node("other-sku", sku="Standard_NC12s_v3"),
        node("other-app", apps="x"),
        node("byo-b", ready=False),
    ]
    survey = survey_nodes(phi3, nodes, [], 2, NOW, DEADLINE)
    assert survey.selected == ["byo-a"] and survey.usable == ["byo-a"]
    assert survey.claims_needed == 1


def test_priority_preferred_then_previous_then_claimed_then_name() -> None:
    ws = workspace(
        {
            "metadata": {"name": "w"},
            "resource": {
                "instanceType": "Standard_NC6s_v3",
                "preferredNodes": ["z-preferred"],
                "labelSelector": {"matchLabels": {"apps": "phi-3"}},
            },
            "inference": {"preset": {"name": "phi-3-mini-4k-instruct"}},
            "status": {"workerNodes": ["y-previous"]},
        }
    )
    nodes = [node(n) for n in ("a-plain", "x-claimed", "y-previous", "z-preferred")]
    survey = survey_nodes(ws, nodes, [claim("ws1", "x-claimed")], 3, NOW, DEADLINE)
    assert survey.selected == ["x-claimed", "y-previous", "z-preferred"]
    assert survey.claims_needed == 1  # two of the three are existing nodes; the third needs a claim


def test_gpu_readiness_needs_label_and_capacity(phi3: Workspace) -> None:
    nodes = [node("n1", accelerator=False), node("n2", gpus=0, ready_minutes_ago=1)]
    survey = survey_nodes(phi3, nodes, [], 2, NOW, DEADLINE)
    assert survey.selected == ["n1", "n2"] and survey.usable == []
    assert survey.unlabelled == ["n1"]
    assert survey.problems == []
    assert survey.recheck_after == DEADLINE - 60


def test_a_node_without_gpus_past_the_deadline_is_named(phi3: Workspace) -> None:
    survey = survey_nodes(phi3, [node("n1", gpus=0, ready_minutes_ago=12)], [], 1, NOW, DEADLINE)
    assert survey.problems == [
        "node n1 is Ready but reports 0 nvidia.com/gpu after 12 minutes; is the NVIDIA device plugin running on it?"
    ]
    assert survey.recheck_after is None


def test_deleting_nodes_never_qualify(phi3: Workspace) -> None:
    gone = node("n1").model_copy(
        update={"metadata": node("n1").metadata.model_copy(update={"deletion_timestamp": "t"})}
    )
    assert survey_nodes(phi3, [gone], [], 1, NOW, DEADLINE).selected == []
