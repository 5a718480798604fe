"""The Workspace reconciler, a table of contents: finalizer, revision, then inference or tuning.

Level-triggered: every call reads the cached state, takes the next steps that
are due, writes status if it changed, and returns. It never waits for a node
or a pod; watch events on those bring the workspace back, and a deadline that
only time can pass comes back as ``requeue_after``. Each step lives in its own
module: ``finalizer``, ``revision_sync``, ``inference`` (with ``node_sync``
for GPU nodes) and ``reporting`` (status and events).
"""

from __future__ import annotations

from kaito.api.timestamps import format_time
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.finalizer import Finalizer
from kaito.controllers.workspace.inference import InferenceSteps
from kaito.controllers.workspace.node_sync import NodeSync
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.provisioning import provisioner_for
from kaito.controllers.workspace.reporting import StatusReporter
from kaito.controllers.workspace.revision_sync import sync_revision
from kaito.controllers.workspace.revisions import RevisionConflict
from kaito.controllers.workspace.status import Observation, inference_status, tuning_unavailable_status
from kaito.kube.client import Client
from kaito.kube.clock import Clock
from kaito.kube.events import EventRecorder
from kaito.kube.reconcile import Request, Result


class WorkspaceReconciler:
    def __init__(
        self, client: Client, caches: Caches, recorder: EventRecorder, options: WorkspaceOptions, clock: Clock
    ) -> None:
        self.client = client
        self.caches = caches
        self.clock = clock
        self.provisioner = provisioner_for(options.node_provisioner)
        self.reporter = StatusReporter(client, caches.workspaces, recorder)
        self.finalizer = Finalizer(client, caches, recorder, self.reporter, self.provisioner)
        nodes = NodeSync(client, caches, recorder, options, self.provisioner)
        self.inference = InferenceSteps(client, caches, recorder, options, clock, nodes, self.reporter)

    async def reconcile(self, request: Request) -> Result:
        workspace = self.caches.workspaces.get(request.name, request.namespace)
        if workspace is None:
            return Result()
        if workspace.metadata.deletion_timestamp is not None:
            return await self.finalizer.finalize(workspace, self._now())
        workspace = await self.finalizer.ensure(workspace)
        if workspace.tuning is not None:
            await self.reporter.write(workspace, tuning_unavailable_status(workspace, self._now()))
            return Result()
        try:
            workspace, revision = await sync_revision(self.client, self.caches, workspace)
        except RevisionConflict as err:
            seen = Observation(self.provisioner.condition, plan_error=str(err))
            await self.reporter.write(workspace, inference_status(workspace, seen, self._now()))
            return Result()
        return await self.inference.reconcile(workspace, revision)

    def _now(self) -> str:
        return format_time(self.clock.wall())
