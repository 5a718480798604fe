"""Why a workload or node claim is not ready, in one short, specific sentence.

The controller already sees these signals in pods and NodeClaims; surfacing
them in the Workspace's conditions spares users from digging through child
objects (upstream users asked for exactly this).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.wellknown import ConditionStatus, Reason

MAX_MESSAGE_LENGTH = 256
_AWAITING = "AwaitingReconciliation"
_IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
_START_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})


@dataclass(frozen=True)
class Failure:
    reason: str
    message: str


_ERROR_CODE = re.compile(r"ERROR CODE:\s*(\S+)")
# No closing quote needed: providers truncate long errors (gpu-provisioner at 800 characters).
_JSON_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)')
_NESTED_MESSAGE = re.compile(r"\bMessage:\s*(.+)", re.DOTALL)


def truncate(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_LENGTH else message[: MAX_MESSAGE_LENGTH - 3] + "..."


def essential(message: str) -> str:
    """The part of a cloud provider's error a person needs: its code and message, not the request dump.

    Azure errors arrive as ``PUT <url> ... ERROR CODE: QuotaExceeded ... {"message": "... Message:
    Operation could not be completed as it results in exceeding approved ... quota ..."}``.
    """
    body = _JSON_MESSAGE.search(message)
    if body is None:
        return message
    text = body.group(1).replace('\\"', '"')
    nested = _NESTED_MESSAGE.search(text)
    if nested is not None:
        text = nested.group(1)
    code = _ERROR_CODE.search(message)
    return f"{code.group(1)}: {text}" if code else text


def classify_pods(pods: Sequence[dict[str, Any]]) -> Failure | None:
    """The first pod problem worth telling the user about, or None while pods merely start."""
    for pod in sorted(pods, key=lambda p: p.get("metadata", {}).get("name", "")):
        failure = _classify_pod(pod)
        if failure is not None:
            return Failure(failure.reason, truncate(failure.message))
    return None


def _classify_pod(pod: dict[str, Any]) -> Failure | None:
    name = pod.get("metadata", {}).get("name", "")
    status = pod.get("status") or {}
    if status.get("reason") == "Evicted":
        return Failure(
            Reason.POD_EVICTED, f"pod {name} was evicted: {status.get('message', '')}".rstrip(": ")
        )
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == ConditionStatus.FALSE
            and condition.get("reason") == "Unschedulable"
        ):
            return Failure(
                Reason.UNSCHEDULABLE, f"pod {name} cannot be scheduled: {condition.get('message', '')}"
            )
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    for container in statuses:
        failure = _classify_container(name, container)
        if failure is not None:
            return failure
    return None


def _classify_container(pod: str, container: dict[str, Any]) -> Failure | None:
    name = container.get("name", "")
    state = container.get("state") or {}
    waiting = state.get("waiting") or {}
    terminated = state.get("terminated") or {}
    last_terminated = (container.get("lastState") or {}).get("terminated") or {}
    where = f"container {name} of pod {pod}"
    waiting_reason = waiting.get("reason")
    if waiting_reason in _IMAGE_PULL_REASONS:
        detail = waiting.get("message") or f"image {container.get('image', '')} cannot be pulled"
        return Failure(Reason.IMAGE_PULL_ERROR, f"{where}: {waiting_reason}: {detail}")
    if "OOMKilled" in (terminated.get("reason"), last_terminated.get("reason")):
        return Failure(
            Reason.CONTAINER_OOM_KILLED,
            f"{where} was OOMKilled (restarted {container.get('restartCount', 0)} times): "
            "the model needs more memory than the container has",
        )
    if waiting_reason == "CrashLoopBackOff":
        exit_code = last_terminated.get("exitCode")
        detail = f"; last exit code {exit_code}" if exit_code is not None else ""
        return Failure(
            Reason.CONTAINER_CRASH_LOOP_BACK_OFF,
            f"{where} is crash-looping (restarted {container.get('restartCount', 0)} times{detail})",
        )
    if waiting_reason in _START_REASONS:
        return Failure(
            Reason.CONTAINER_START_ERROR, f"{where}: {waiting_reason}: {waiting.get('message', '')}"
        )
    return None


def classify_node_request(requests: Sequence[NodeClaim | Machine]) -> Failure | None:
    """The first lifecycle condition that is not True, across the claims; a real reason beats
    ``AwaitingReconciliation``, which only says the provisioner has not looked yet."""
    awaiting: Failure | None = None
    for request in sorted(requests, key=lambda r: r.name):
        if request.is_deleting:
            continue
        for condition_type in request.LIFECYCLE_CONDITIONS:
            condition = request.condition(condition_type)
            if condition is not None and condition.status == ConditionStatus.TRUE:
                continue
            reason = (condition.reason if condition else None) or _AWAITING
            message = (condition.message if condition else None) or f"{condition_type} is not yet reported"
            summary = f"{request.RESOURCE.kind} {request.name}: {essential(message)}"
            failure = Failure(reason, truncate(summary))
            if reason != _AWAITING:
                return failure
            awaiting = awaiting or failure
            break
    return awaiting
