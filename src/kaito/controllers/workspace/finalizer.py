"""The workspace finalizer: added first, removed last, once the nodes kaito asked for are gone.

Owned objects (workloads, Services, ConfigMaps, revisions, Jobs) go by
garbage collection through their ownerReferences. NodeClaims and Machines are
cluster-scoped and cannot be owned by a namespaced Workspace, so kaito deletes
them itself before letting the workspace go, and never touches other nodes.
"""

from __future__ import annotations

import contextlib

import structlog

from kaito.api.wellknown import FINALIZER_WORKSPACE
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.nodeclaims import workspace_labels
from kaito.controllers.workspace.provisioning import NodeRequest, Provisioner
from kaito.controllers.workspace.reporting import StatusReporter
from kaito.controllers.workspace.status import deleting_status
from kaito.kube.client import Client
from kaito.kube.errors import NotFound
from kaito.kube.events import EventRecorder
from kaito.kube.reconcile import Result

log = structlog.get_logger("kaito.workspace")

# How soon to look again while node requests are still being deleted (their deletion events
# are not watched by label once the objects are gone from the cache).
STILL_THERE_RECHECK_SECONDS = 10.0


class Finalizer:
    def __init__(
        self,
        client: Client,
        caches: Caches,
        recorder: EventRecorder,
        reporter: StatusReporter,
        provisioner: Provisioner,
    ) -> None:
        self.client = client
        self.caches = caches
        self.recorder = recorder
        self.reporter = reporter
        self.provisioner = provisioner

    async def ensure(self, workspace: Workspace) -> Workspace:
        """Add the finalizer (guarded by resourceVersion) before anything is created for the workspace."""
        finalizers = workspace.metadata.finalizers or []
        if FINALIZER_WORKSPACE in finalizers:
            return workspace
        patch = {
            "metadata": {
                "finalizers": [*finalizers, FINALIZER_WORKSPACE],
                "resourceVersion": workspace.metadata.resource_version,
            }
        }
        updated = await self.client.patch(Workspace, workspace.name, patch, namespace=workspace.namespace)
        self.caches.workspaces.assume(updated)
        return updated

    async def finalize(self, workspace: Workspace, now: str) -> Result:
        """Delete the node requests this workspace made (never other nodes), wait, then let it go."""
        if FINALIZER_WORKSPACE not in (workspace.metadata.finalizers or []):
            return Result()
        workspace = await self.reporter.write(workspace, deleting_status(workspace, now))
        remaining = await self._live_node_requests(workspace)
        for request in remaining:
            if request.is_deleting:
                continue
            try:
                await self.client.delete(type(request), request.name)
            except NotFound:
                continue
            kind = request.RESOURCE.kind
            log.info("node request deleted", kind=kind, node_request=request.name)
            self.recorder.normal(workspace, f"{kind}Deleted", f"Deleted {kind} {request.name}")
        if remaining:
            return Result(requeue_after=STILL_THERE_RECHECK_SECONDS)
        finalizers = [f for f in workspace.metadata.finalizers or [] if f != FINALIZER_WORKSPACE]
        patch = {
            "metadata": {"finalizers": finalizers, "resourceVersion": workspace.metadata.resource_version}
        }
        with contextlib.suppress(NotFound):
            await self.client.patch(Workspace, workspace.name, patch, namespace=workspace.namespace)
        log.info("finalizer removed")
        return Result()

    async def _live_node_requests(self, workspace: Workspace) -> list[NodeRequest]:
        """From the API server, not the cache: a claim created moments ago must not leak."""
        if self.provisioner.model is None:
            return []
        found = await self.client.list(self.provisioner.model, label_selector=workspace_labels(workspace))
        return list(found.items)
