"""Follow workspaces from applied to ready (or failed), one line per change, for the sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable

from kaito.api.wellknown import ConditionStatus, ConditionType, WorkspaceState
from kaito.api.workspace import Workspace
from kaito.kube.client import Bookmark, Client
from kaito.kube.errors import Gone

_ORDER = (
    ConditionType.RESOURCE_READY,
    ConditionType.NODECLAIM_READY,
    ConditionType.MACHINE_READY,
    ConditionType.INFERENCE_READY,
    ConditionType.JOB_STARTED,
    ConditionType.WORKSPACE_SUCCEEDED,
)


def summary(workspace: Workspace) -> str:
    """The state and what the workspace is waiting for (or that it is done)."""
    status = workspace.status
    state = (status.state if status and status.state else WorkspaceState.PENDING).value
    conditions = {c.type: c for c in (status.conditions if status else None) or []}
    if not conditions:
        return f"{state}: accepted, waiting for the controller"
    succeeded = conditions.get(ConditionType.WORKSPACE_SUCCEEDED)
    if succeeded is not None and succeeded.status == ConditionStatus.TRUE:
        return f"{state}: WorkspaceSucceeded=True"
    for type_ in _ORDER:
        condition = conditions.get(type_)
        if condition is not None and condition.status != ConditionStatus.TRUE:
            return f"{state}: {type_}={condition.status} ({condition.reason}: {condition.message})"
    return state


def finished(workspace: Workspace) -> bool:
    state = workspace.status.state if workspace.status else None
    return workspace.condition_is_true(ConditionType.WORKSPACE_SUCCEEDED) or state == WorkspaceState.FAILED


async def follow(client: Client, keys: set[str], emit: Callable[[str], None]) -> None:
    """Print each change of the named workspaces until all are ready or failed."""
    started = time.monotonic()
    last: dict[str, str] = {}
    done: set[str] = set()
    resource_version = ""
    while done < keys:
        try:
            if not resource_version:
                listing = await client.list(Workspace)
                resource_version = listing.resource_version
                for workspace in listing.items:
                    _show(workspace, keys, last, done, started, emit)
                continue
            async with client.watch(
                Workspace, resource_version=resource_version, timeout_seconds=60
            ) as events:
                async for event in events:
                    if isinstance(event, Bookmark):
                        resource_version = event.resource_version
                        continue
                    resource_version = event.object.metadata.resource_version or resource_version
                    if event.type == "DELETED" and event.object.key in keys:
                        emit(f"[{time.monotonic() - started:6.1f}s] {event.object.key}  deleted")
                        done.add(event.object.key)
                        continue
                    _show(event.object, keys, last, done, started, emit)
                    if done >= keys:
                        return
        except Gone:
            resource_version = ""


def _show(
    workspace: Workspace,
    keys: set[str],
    last: dict[str, str],
    done: set[str],
    started: float,
    emit: Callable[[str], None],
) -> None:
    key = workspace.key
    if key not in keys:
        return
    line = summary(workspace)
    if last.get(key) != line:
        last[key] = line
        emit(f"[{time.monotonic() - started:6.1f}s] {key}  {line}")
    if finished(workspace):
        done.add(key)
