"""A workspace's status, computed from what the reconciler observed.

Pure: (previous status, observation, now) -> next status. Conditions keep
their transition times when nothing flips, so writing the result back is a
no-op unless something changed; the reconciler compares and writes only then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kaito.api.conditions import get_condition, remove_condition, set_condition
from kaito.api.meta import Condition
from kaito.api.wellknown import ConditionStatus, ConditionType, Reason, WorkspaceState
from kaito.api.workspace import PhaseTimestamps, Workspace, WorkspaceStatus
from kaito.controllers.workspace.failures import Failure
from kaito.controllers.workspace.provisioning import REQUEST_CONDITION_TYPES, RequestCondition

TRUE, FALSE, UNKNOWN = ConditionStatus.TRUE, ConditionStatus.FALSE, ConditionStatus.UNKNOWN
Put = Callable[[str, str, str, str], None]


@dataclass(frozen=True)
class Observation:
    """What one reconcile saw; every field the status depends on."""

    # The condition reporting the node requests (NodeClaimReady, MachineReady); None for BYO.
    request_condition: RequestCondition | None
    target_node_count: int | None = None
    plan_error: str | None = None
    worker_nodes: list[str] = field(default_factory=list)
    usable_nodes: int = 0
    node_problems: list[str] = field(default_factory=list)
    requests_needed: int = 0
    requests_ready: int = 0
    request_failure: Failure | None = None
    workload_exists: bool = False
    workload_ready: bool = False
    pod_failure: Failure | None = None
    config_error: str | None = None


def deleting_status(workspace: Workspace, now: str) -> WorkspaceStatus:
    status = _copy(workspace)
    conditions = status.conditions or []
    set_condition(
        conditions,
        ConditionType.WORKSPACE_DELETING,
        TRUE,
        Reason.WORKSPACE_DELETED,
        "workspace is being deleted",
        workspace.metadata.generation,
        now,
    )
    status.conditions = conditions
    return status


def tuning_unavailable_status(workspace: Workspace, now: str) -> WorkspaceStatus:
    """Fine-tuning jobs are not part of this controller yet: say so instead of staying silent."""
    status = _copy(workspace)
    conditions = status.conditions or []
    status.conditions = conditions
    message = "fine-tuning workspaces are accepted but this kaito version does not run tuning jobs yet"
    set_condition(
        conditions,
        ConditionType.JOB_STARTED,
        FALSE,
        Reason.TUNING_UNAVAILABLE,
        message,
        workspace.metadata.generation,
        now,
    )
    set_condition(
        conditions,
        ConditionType.WORKSPACE_SUCCEEDED,
        FALSE,
        Reason.WORKSPACE_PENDING,
        message,
        workspace.metadata.generation,
        now,
    )
    status.state = WorkspaceState.PENDING
    return status


def inference_status(workspace: Workspace, seen: Observation, now: str) -> WorkspaceStatus:
    status = _copy(workspace)
    generation = workspace.metadata.generation
    conditions = status.conditions or []
    status.conditions = conditions
    stamps = status.phase_timestamps or PhaseTimestamps()
    status.phase_timestamps = stamps
    stamps.accepted = stamps.accepted or now
    if status.target_node_count is None and seen.target_node_count is not None:
        status.target_node_count = seen.target_node_count
    if seen.worker_nodes:
        status.worker_nodes = sorted(seen.worker_nodes)

    def put(type_: str, value: str, reason: str, message: str) -> None:
        set_condition(conditions, type_, value, reason, message, generation, now)

    if seen.plan_error is not None:
        put(ConditionType.RESOURCE_READY, FALSE, Reason.RESOURCE_STATUS_FAILED, seen.plan_error)
        put(ConditionType.INFERENCE_READY, FALSE, Reason.INFERENCE_STATUS_FAILED, seen.plan_error)
        put(ConditionType.WORKSPACE_SUCCEEDED, FALSE, Reason.WORKSPACE_FAILED, seen.plan_error)
        status.state = WorkspaceState.FAILED
        return status

    target = seen.target_node_count or 0
    resource_ready = seen.usable_nodes >= target
    _node_request_condition(conditions, seen, put)
    if seen.requests_needed:
        stamps.nodes_requested = stamps.nodes_requested or now
    if resource_ready:
        stamps.nodes_ready = stamps.nodes_ready or now
        put(ConditionType.RESOURCE_READY, TRUE, Reason.RESOURCE_STATUS_SUCCESS, "workspace resource is ready")
    elif seen.request_failure is not None:
        put(ConditionType.RESOURCE_READY, FALSE, seen.request_failure.reason, seen.request_failure.message)
    elif seen.node_problems:
        put(ConditionType.RESOURCE_READY, FALSE, Reason.NODE_PLUGINS_NOT_READY, "; ".join(seen.node_problems))
    else:
        put(
            ConditionType.RESOURCE_READY,
            FALSE,
            Reason.NODE_NOT_READY,
            f"waiting for GPU nodes: {seen.usable_nodes} of {target} ready",
        )

    if seen.workload_exists:
        stamps.workload_created = stamps.workload_created or now
    if not resource_ready:
        _not_ready(
            put, status, Reason.INFERENCE_STATUS_PENDING, "waiting for GPU nodes before deploying the model"
        )
    elif seen.config_error is not None:
        _not_ready(put, status, Reason.INFERENCE_STATUS_FAILED, seen.config_error, failed=True)
    elif seen.workload_ready:
        stamps.inference_ready = stamps.inference_ready or now
        put(
            ConditionType.INFERENCE_READY,
            TRUE,
            Reason.INFERENCE_STATUS_SUCCESS,
            "Inference has been deployed successfully",
        )
        put(ConditionType.WORKSPACE_SUCCEEDED, TRUE, Reason.WORKSPACE_SUCCEEDED, "workspace succeeds")
        status.state = WorkspaceState.READY
    elif seen.pod_failure is not None:
        _not_ready(put, status, seen.pod_failure.reason, seen.pod_failure.message)
    else:
        _not_ready(put, status, Reason.INFERENCE_STATUS_PENDING, "Inference workload is not ready")
    return status


def _not_ready(put: Put, status: WorkspaceStatus, reason: str, message: str, failed: bool = False) -> None:
    put(ConditionType.INFERENCE_READY, FALSE, reason, message)
    if failed:
        put(ConditionType.WORKSPACE_SUCCEEDED, FALSE, Reason.WORKSPACE_FAILED, message)
    else:
        put(
            ConditionType.WORKSPACE_SUCCEEDED,
            FALSE,
            Reason.WORKSPACE_PENDING,
            "workspace is waiting for inference workload readiness",
        )
    was_serving = status.state in (WorkspaceState.READY, WorkspaceState.NOT_READY)
    status.state = (
        WorkspaceState.FAILED
        if failed
        else WorkspaceState.NOT_READY
        if was_serving
        else WorkspaceState.PENDING
    )


def _node_request_condition(conditions: list[Condition], seen: Observation, put: Put) -> None:
    """NodeClaimReady (or MachineReady): are the node requests this workspace made fulfilled?"""
    condition = seen.request_condition
    if condition is None:
        return
    for other in REQUEST_CONDITION_TYPES - {condition.type}:
        remove_condition(conditions, other)
    if seen.requests_ready >= seen.requests_needed:
        put(condition.type, TRUE, condition.ready_reason, f"Enough {condition.plural} are ready")
    elif seen.request_failure is not None:
        put(condition.type, FALSE, seen.request_failure.reason, seen.request_failure.message)
    else:
        put(
            condition.type,
            FALSE,
            condition.not_ready_reason,
            f"Ready {condition.plural} are not enough: {seen.requests_ready} of {seen.requests_needed} ready",
        )


def _copy(workspace: Workspace) -> WorkspaceStatus:
    previous = workspace.status or WorkspaceStatus()
    return WorkspaceStatus.model_validate(previous.to_dict())


def condition_changes(before: WorkspaceStatus | None, after: WorkspaceStatus) -> list[Condition]:
    """Conditions whose status or reason changed: what deserves an Event."""
    old = before.conditions if before else None
    return [
        c
        for c in after.conditions or []
        if (prev := get_condition(old, c.type)) is None or (prev.status, prev.reason) != (c.status, c.reason)
    ]
