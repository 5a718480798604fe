"""Writing a workspace's status, and telling its story as Events and metrics.

Status is computed elsewhere (``status``, pure); this module only compares it
with what is stored and writes when it differs, so a converged workspace costs
no write. Condition flips that matter become Events, the first
``InferenceReady`` feeds the apply-to-ready histogram.
"""

from __future__ import annotations

import structlog

from kaito.api.timestamps import parse_time
from kaito.api.wellknown import ConditionStatus, ConditionType, Reason
from kaito.api.workspace import Workspace, WorkspaceStatus
from kaito.controllers.workspace import metrics
from kaito.controllers.workspace.status import condition_changes
from kaito.kube.client import Client
from kaito.kube.events import EventRecorder
from kaito.kube.informer import Informer

log = structlog.get_logger("kaito.workspace")

# Condition reasons that mean something is wrong, worth a Warning event.
WARNING_REASONS = frozenset(
    {
        Reason.RESOURCE_STATUS_FAILED,
        Reason.WORKSPACE_FAILED,
        Reason.INFERENCE_STATUS_FAILED,
        Reason.TUNING_JOB_STATUS_FAILED,
        Reason.NODE_PLUGINS_NOT_READY,
        Reason.IMAGE_PULL_ERROR,
        Reason.CONTAINER_CRASH_LOOP_BACK_OFF,
        Reason.CONTAINER_OOM_KILLED,
        Reason.CONTAINER_START_ERROR,
        Reason.POD_EVICTED,
        Reason.UNSCHEDULABLE,
        Reason.LAUNCH_FAILED,
    }
)
# Conditions whose turning True is news worth a Normal event.
_ANNOUNCED_WHEN_TRUE = frozenset(
    {ConditionType.RESOURCE_READY, ConditionType.INFERENCE_READY, ConditionType.JOB_STARTED}
)


class StatusReporter:
    def __init__(self, client: Client, workspaces: Informer[Workspace], recorder: EventRecorder) -> None:
        self.client = client
        self.workspaces = workspaces
        self.recorder = recorder

    async def write(self, workspace: Workspace, status: WorkspaceStatus) -> Workspace:
        """Write ``status`` if it differs from the stored one; return the workspace as it now is."""
        before = workspace.status
        if before is not None and before.to_dict() == status.to_dict():
            return workspace
        for condition in condition_changes(before, status):
            self._announce(
                workspace, condition.type, condition.status, condition.reason or "", condition.message or ""
            )
        updated = await self.client.patch_status(
            Workspace, workspace.name, {"status": status.to_dict()}, namespace=workspace.namespace
        )
        log.debug("status written", state=str(status.state))
        self.workspaces.assume(updated)
        self._observe_time_to_ready(updated, before)
        return updated

    def _announce(self, workspace: Workspace, type_: str, status: str, reason: str, message: str) -> None:
        if status == ConditionStatus.FALSE and reason in WARNING_REASONS:
            self.recorder.warning(workspace, reason, message)
        elif status == ConditionStatus.TRUE and type_ in _ANNOUNCED_WHEN_TRUE:
            self.recorder.normal(workspace, type_, message)

    def _observe_time_to_ready(self, workspace: Workspace, before: WorkspaceStatus | None) -> None:
        stamps = workspace.status.phase_timestamps if workspace.status else None
        first = (
            before is None
            or before.phase_timestamps is None
            or before.phase_timestamps.inference_ready is None
        )
        created = workspace.metadata.creation_timestamp
        if stamps is None or stamps.inference_ready is None or not first or created is None:
            return
        metrics.observe_time_to_ready(workspace, parse_time(stamps.inference_ready), parse_time(created))
