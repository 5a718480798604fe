"""Status from observations: conditions, state, timestamps, and no change when nothing changed."""

from __future__ import annotations

from kaito.api.conditions import get_condition
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.failures import Failure
from kaito.controllers.workspace.provisioning import BRING_YOUR_OWN, MACHINES, NODECLAIMS
from kaito.controllers.workspace.status import (
    Observation,
    condition_changes,
    deleting_status,
    inference_status,
)

T0, T1, T2 = "2026-11-22T12:00:00Z", "2026-11-22T12:05:00Z", "2026-11-22T12:09:00Z"


def conditions(ws: Workspace) -> dict[str, tuple[str, str]]:
    assert ws.status is not None
    return {c.type: (c.status, c.reason or "") for c in ws.status.conditions or []}


def advance(ws: Workspace, seen: Observation, now: str) -> Workspace:
    return ws.model_copy(update={"status": inference_status(ws, seen, now)})


def test_from_accepted_to_ready(phi3: Workspace) -> None:
    waiting = Observation(NODECLAIMS.condition, target_node_count=1, requests_needed=1)
    ws = advance(phi3, waiting, T0)
    assert conditions(ws) == {
        "NodeClaimReady": ("False", "NodeClaimNotReady"),
        "ResourceReady": ("False", "NodeNotReady"),
        "InferenceReady": ("False", "WorkspaceInferenceStatusPending"),
        "WorkspaceSucceeded": ("False", "workspacePending"),
    }
    assert ws.status is not None and ws.status.state == "Pending" and ws.status.target_node_count == 1
    assert ws.status.phase_timestamps is not None and ws.status.phase_timestamps.accepted == T0
    assert ws.status.phase_timestamps.nodes_requested == T0

    nodes_up = Observation(
        NODECLAIMS.condition,
        target_node_count=1,
        requests_needed=1,
        requests_ready=1,
        usable_nodes=1,
        worker_nodes=["n1"],
        workload_exists=True,
    )
    ws = advance(ws, nodes_up, T1)
    assert conditions(ws)["ResourceReady"] == ("True", "workspaceResourceStatusSuccess")
    assert conditions(ws)["NodeClaimReady"] == ("True", "NodeClaimsReady")
    assert ws.status is not None and ws.status.worker_nodes == ["n1"]

    serving = Observation(**{**nodes_up.__dict__, "workload_ready": True})
    ws = advance(ws, serving, T2)
    assert conditions(ws)["InferenceReady"] == ("True", "WorkspaceInferenceStatusSuccess")
    assert conditions(ws)["WorkspaceSucceeded"] == ("True", "workspaceSucceeded")
    assert ws.status is not None and ws.status.state == "Ready"
    stamps = ws.status.phase_timestamps
    assert stamps is not None and (
        stamps.accepted,
        stamps.nodes_ready,
        stamps.workload_created,
        stamps.inference_ready,
    ) == (T0, T1, T1, T2)
    ready = get_condition(ws.status.conditions, "ResourceReady")
    assert ready is not None and ready.last_transition_time == T1


def test_recomputing_the_same_observation_changes_nothing(phi3: Workspace) -> None:
    seen = Observation(
        NODECLAIMS.condition,
        target_node_count=1,
        usable_nodes=1,
        worker_nodes=["n1"],
        workload_exists=True,
        workload_ready=True,
    )
    ws = advance(phi3, seen, T0)
    again = inference_status(ws, seen, T2)
    assert ws.status is not None and again.to_dict() == ws.status.to_dict()
    assert condition_changes(ws.status, again) == []


def test_a_quota_error_shows_on_the_workspace(phi3: Workspace) -> None:
    quota = Failure("LaunchFailed", "NodeClaim ws1: exceeding approved standardNCSv3Family Cores quota")
    ws = advance(
        phi3,
        Observation(NODECLAIMS.condition, target_node_count=1, requests_needed=1, request_failure=quota),
        T0,
    )
    assert ws.status is not None
    resource = get_condition(ws.status.conditions, "ResourceReady")
    assert resource is not None and (resource.reason, resource.message) == (quota.reason, quota.message)
    assert conditions(ws)["NodeClaimReady"] == ("False", "LaunchFailed")


def test_a_crash_loop_after_ready_is_not_ready(phi3: Workspace) -> None:
    base = dict(
        request_condition=NODECLAIMS.condition,
        target_node_count=1,
        usable_nodes=1,
        worker_nodes=["n1"],
        workload_exists=True,
    )
    ws = advance(phi3, Observation(**base, workload_ready=True), T0)  # type: ignore[arg-type]
    crash = Failure("ContainerCrashLoopBackOff", "container c of pod p is crash-looping (restarted 3 times)")
    ws = advance(ws, Observation(**base, pod_failure=crash), T1)  # type: ignore[arg-type]
    assert conditions(ws)["InferenceReady"] == ("False", "ContainerCrashLoopBackOff")
    assert ws.status is not None and ws.status.state == "NotReady"


def test_plan_errors_fail_the_workspace(phi3: Workspace) -> None:
    ws = advance(phi3, Observation(NODECLAIMS.condition, plan_error="Insufficient per GPU memory"), T0)
    assert conditions(ws)["WorkspaceSucceeded"] == ("False", "workspaceFailed")
    assert ws.status is not None and ws.status.state == "Failed"


def test_machines_and_byo_use_their_own_node_condition(phi3: Workspace) -> None:
    ws = advance(phi3, Observation(MACHINES.condition, target_node_count=1, requests_needed=1), T0)
    assert "MachineReady" in conditions(ws) and "NodeClaimReady" not in conditions(ws)
    ws = advance(phi3, Observation(BRING_YOUR_OWN.condition, target_node_count=1), T0)
    assert "MachineReady" not in conditions(ws) and "NodeClaimReady" not in conditions(ws)


def test_gpu_problems_are_spelled_out(phi3: Workspace) -> None:
    problem = "node n1 is Ready but reports 0 nvidia.com/gpu after 10 minutes; is the NVIDIA device plugin running on it?"
    ws = advance(phi3, Observation(BRING_YOUR_OWN.condition, target_node_count=1, node_problems=[problem]), T0)
    assert ws.status is not None
    resource = get_condition(ws.status.conditions, "ResourceReady")
    assert resource is not None and resource.message == problem and resource.reason == "NodePluginsNotReady"


def test_deleting(phi3: Workspace) -> None:
    status = deleting_status(phi3, T0)
    assert get_condition(status.conditions, "WorkspaceDeleting") is not None
