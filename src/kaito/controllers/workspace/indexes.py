"""The cache index that links cluster-scoped objects (NodeClaims, Machines) to their workspace.

A cluster-scoped object cannot carry an ownerReference to a namespaced
Workspace, so kaito links them with two labels; the generic controller library
is told which labels here, in the workspace controller's own wiring.
"""

from __future__ import annotations

from kaito.api.wellknown import LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE
from kaito.kube.handlers import EnqueueRequestForLabelledOwner
from kaito.kube.store import index_by_owner_labels

WORKSPACE_INDEX = "workspace"

index_by_workspace = index_by_owner_labels(LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE)


def enqueue_owning_workspace() -> EnqueueRequestForLabelledOwner:
    """The handler that maps a labelled NodeClaim (Machine, Node) to its workspace's request."""
    return EnqueueRequestForLabelledOwner(LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE)
