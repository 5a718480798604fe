"""Turning pod and NodeClaim states into one short reason."""

from __future__ import annotations

from typing import Any

import pytest

from kaito.api.karpenter import Machine, NodeClaim
from kaito.controllers.workspace.failures import classify_node_request, classify_pods


def pod(
    name: str,
    *,
    waiting: dict[str, Any] | None = None,
    last: dict[str, Any] | None = None,
    restarts: int = 0,
    scheduled: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "r.io/x:1", "restartCount": restarts, "state": {}}
    if waiting:
        container["state"] = {"waiting": waiting}
    if last:
        container["lastState"] = {"terminated": last}
    status: dict[str, Any] = {
        "containerStatuses": [container],
        "conditions": [scheduled] if scheduled else [],
    }
    if reason:
        status.update(reason=reason, message="The node was low on resource: memory.")
    return {"metadata": {"name": name}, "status": status}


@pytest.mark.parametrize(
    ("pods", "reason", "fragment"),
    [
        (
            [
                pod(
                    "p",
                    waiting={"reason": "ImagePullBackOff", "message": 'Back-off pulling image "r.io/x:1"'},
                )
            ],
            "ImagePullError",
            'container main of pod p: ImagePullBackOff: Back-off pulling image "r.io/x:1"',
        ),
        (
            [
                pod(
                    "p",
                    waiting={"reason": "CrashLoopBackOff"},
                    last={"exitCode": 1, "reason": "Error"},
                    restarts=4,
                )
            ],
            "ContainerCrashLoopBackOff",
            "is crash-looping (restarted 4 times; last exit code 1)",
        ),
        (
            [
                pod(
                    "p",
                    waiting={"reason": "CrashLoopBackOff"},
                    last={"exitCode": 137, "reason": "OOMKilled"},
                    restarts=2,
                )
            ],
            "ContainerOOMKilled",
            "was OOMKilled (restarted 2 times)",
        ),
        (
            [pod("p", waiting={"reason": "CreateContainerConfigError", "message": 'secret "hf" not found'})],
            "ContainerStartError",
            'secret "hf" not found',
        ),
        (
            [
                pod(
                    "p",
                    scheduled={
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
                    },
                )
            ],
            "Unschedulable",
            "pod p cannot be scheduled: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        ),
        (
            [pod("p", reason="Evicted")],
            "PodEvicted",
            "pod p was evicted: The node was low on resource: memory.",
        ),
    ],
)
def test_pod_failures(pods: list[dict[str, Any]], reason: str, fragment: str) -> None:
    failure = classify_pods(pods)
    assert failure is not None and failure.reason == reason and fragment in failure.message


def test_starting_pods_are_not_failures() -> None:
    assert classify_pods([pod("p", waiting={"reason": "ContainerCreating"})]) is None
    assert classify_pods([]) is None


def test_messages_are_truncated() -> None:
    failure = classify_pods([pod("p", waiting={"reason": "ErrImagePull", "message": "x" * 1000})])
    assert failure is not None and len(failure.message) == 256 and failure.message.endswith("...")


def nodeclaim(name: str, conditions: list[dict[str, Any]]) -> NodeClaim:
    return NodeClaim.model_validate(
        {
            "metadata": {"name": name},
            "spec": {"requirements": [], "nodeClassRef": {"group": "g", "kind": "k", "name": "n"}},
            "status": {"conditions": conditions},
        }
    )


def test_a_real_reason_beats_awaiting_reconciliation() -> None:
    quota = "Operation could not be completed as it results in exceeding approved standardNCSv3Family Cores quota."
    claims = [
        nodeclaim("ws-a", [{"type": "Launched", "status": "Unknown", "reason": "AwaitingReconciliation"}]),
        nodeclaim(
            "ws-b", [{"type": "Launched", "status": "False", "reason": "LaunchFailed", "message": quota}]
        ),
    ]
    failure = classify_node_request(claims)
    assert failure is not None and failure.reason == "LaunchFailed"
    assert failure.message == f"NodeClaim ws-b: {quota}"


def test_first_non_true_condition_in_lifecycle_order() -> None:
    claim = nodeclaim(
        "ws-a",
        [
            {"type": "Launched", "status": "True", "reason": "Launched"},
            {
                "type": "Registered",
                "status": "Unknown",
                "reason": "NodeNotFound",
                "message": "Node not registered with cluster",
            },
        ],
    )
    failure = classify_node_request([claim])
    assert failure is not None and (failure.reason, failure.message) == (
        "NodeNotFound",
        "NodeClaim ws-a: Node not registered with cluster",
    )


def test_machines_use_prefixed_conditions() -> None:
    machine = Machine.model_validate(
        {
            "metadata": {"name": "m"},
            "spec": {},
            "status": {
                "conditions": [
                    {
                        "type": "MachineLaunched",
                        "status": "False",
                        "reason": "LaunchFailed",
                        "message": "no capacity",
                    }
                ]
            },
        }
    )
    failure = classify_node_request([machine])
    assert failure is not None and failure.message == "Machine m: no capacity"


def test_cloud_errors_are_cut_down_to_code_and_message() -> None:
    azure = (
        'agentPool.BeginCreateOrUpdate for "ws1" failed: PUT https://management.azure.com/x\n'
        "RESPONSE 400: 400 Bad Request\nERROR CODE: QuotaExceeded\n"
        '{"code": "QuotaExceeded", "message": "Preflight validation check failed. Message: Operation could not be '
        'completed as it results in exceeding approved standardNCSv3Family Cores quota."}'
    )
    claim = nodeclaim(
        "ws1", [{"type": "Launched", "status": "False", "reason": "LaunchFailed", "message": azure}]
    )
    failure = classify_node_request([claim])
    assert failure is not None and failure.message == (
        "NodeClaim ws1: QuotaExceeded: Operation could not be completed as it results in exceeding approved "
        "standardNCSv3Family Cores quota."
    )
