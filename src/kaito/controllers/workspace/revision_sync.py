"""Keeping a workspace's ControllerRevision history and its revision annotations in step.

``revisions.plan_revision`` decides (pure); this module writes what it decided:
the new revision, the pruned old ones, and the hash/revision annotations on the
workspace that the workload's pods are stamped with.
"""

from __future__ import annotations

import contextlib

from kaito.api.core import ControllerRevision
from kaito.api.wellknown import ANNOTATION_HASH, ANNOTATION_REVISION, LABEL_REVISION_WORKSPACE
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.revisions import plan_revision
from kaito.kube.client import Client
from kaito.kube.errors import AlreadyExists, NotFound


async def sync_revision(client: Client, caches: Caches, workspace: Workspace) -> tuple[Workspace, int]:
    """The workspace (annotated) and its current revision number; raises ``RevisionConflict``."""
    uid = workspace.metadata.uid
    history = [
        r
        for r in caches.revisions.list(workspace.namespace, {LABEL_REVISION_WORKSPACE: workspace.name})
        if any(ref.uid == uid for ref in r.metadata.owner_references or [])
    ]
    revision = plan_revision(workspace, history)
    if revision.create is not None:
        with contextlib.suppress(AlreadyExists):
            caches.revisions.assume(await client.create(revision.create))
    for name in revision.delete:
        with contextlib.suppress(NotFound):
            await client.delete(ControllerRevision, name, workspace.namespace)
    wanted = {ANNOTATION_HASH: revision.hash, ANNOTATION_REVISION: str(revision.number)}
    if any(workspace.annotations.get(k) != v for k, v in wanted.items()):
        patch = {"metadata": {"annotations": wanted, "resourceVersion": workspace.metadata.resource_version}}
        workspace = await client.patch(Workspace, workspace.name, patch, namespace=workspace.namespace)
        caches.workspaces.assume(workspace)
    return workspace, revision.number
