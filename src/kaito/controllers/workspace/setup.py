"""Wiring the workspace controller into a manager: its informers, indexes and watches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from kaito.api.core import ConfigMap, ControllerRevision, Deployment, Node, Pod, Service, StatefulSet
from kaito.api.wellknown import LABEL_WORKSPACE
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.indexes import WORKSPACE_INDEX, enqueue_owning_workspace, index_by_workspace
from kaito.controllers.workspace.metrics import WORKSPACE_COUNT
from kaito.controllers.workspace.nodes import node_facts, selects
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.provisioning import provisioner_for
from kaito.controllers.workspace.reconciler import WorkspaceReconciler
from kaito.kube.clock import RealClock
from kaito.kube.controller import Controller
from kaito.kube.handlers import (
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
)
from kaito.kube.informer import Informer
from kaito.kube.manager import Manager
from kaito.kube.predicates import Funcs
from kaito.kube.reconcile import Request

CONTROLLER_NAME = "workspace"
RECORDER_COMPONENT = "workspace-controller"


def _spec_or_metadata_changed(old: Workspace, new: Workspace) -> bool:
    """Our own status writes come back as events too; only changes that matter reconcile."""
    before, after = old.metadata, new.metadata
    return (
        before.generation != after.generation
        or before.annotations != after.annotations
        or before.labels != after.labels
        or before.finalizers != after.finalizers
        or before.deletion_timestamp != after.deletion_timestamp
    )


def _node_changed(old: Node, new: Node) -> bool:
    """Heartbeats are noise; readiness, labels and GPU capacity are what workspaces wait for."""
    a, b = node_facts(old), node_facts(new)
    return (a.ready, a.labels, a.gpus, a.deleting) != (b.ready, b.labels, b.gpus, b.deleting)


def setup_workspace_controller(
    manager: Manager, options: WorkspaceOptions, concurrent_reconciles: int
) -> Controller:
    workspaces = manager.informer(Workspace)
    nodes = manager.informer(Node)
    node_requests: Informer[Any] | None = None
    model = provisioner_for(options.node_provisioner).model
    if model is not None:
        node_requests = manager.informer(
            model, label_selector=LABEL_WORKSPACE, indexers={WORKSPACE_INDEX: index_by_workspace}
        )
    caches = Caches(
        workspaces=workspaces,
        nodes=nodes,
        node_requests=node_requests,
        deployments=manager.informer(Deployment, label_selector=LABEL_WORKSPACE),
        statefulsets=manager.informer(StatefulSet, label_selector=LABEL_WORKSPACE),
        services=manager.informer(Service, label_selector=LABEL_WORKSPACE),
        config_maps=manager.informer(ConfigMap),
        revisions=manager.informer(ControllerRevision),
        pods=manager.informer(Pod, label_selector=LABEL_WORKSPACE),
    )
    reconciler = WorkspaceReconciler(
        manager.client, caches, manager.recorder(RECORDER_COMPONENT), options, RealClock()
    )
    controller = Controller(CONTROLLER_NAME, reconciler, max_concurrent_reconciles=concurrent_reconciles)

    def workspaces_on(node: Node) -> Iterable[Request]:
        labels = node.metadata.labels or {}
        for workspace in workspaces.list():
            if selects(workspace, labels):
                yield Request(workspace.name, workspace.namespace)

    def workspaces_using(config_map: ConfigMap) -> Iterable[Request]:
        for workspace in workspaces.list(config_map.namespace):
            if workspace.inference is not None and workspace.inference.config == config_map.name:
                yield Request(workspace.name, workspace.namespace)

    def workspace_of_pod(pod: Pod) -> Iterable[Request]:
        name = (pod.metadata.labels or {}).get(LABEL_WORKSPACE)
        return (Request(name, pod.namespace),) if name else ()

    owner = EnqueueRequestForOwner(Workspace)
    controller.watches(workspaces, None, Funcs(on_update=_spec_or_metadata_changed))
    if node_requests is not None:
        controller.watches(node_requests, enqueue_owning_workspace())
    controller.watches(nodes, EnqueueRequestsFromMapFunc(workspaces_on), Funcs(on_update=_node_changed))
    owned: tuple[Informer[Any], ...] = (
        caches.deployments,
        caches.statefulsets,
        caches.services,
        caches.revisions,
    )
    for cache in owned:
        controller.watches(cache, owner)
    controller.watches(caches.config_maps, EnqueueRequestsFromMapFunc(workspaces_using))
    controller.watches(caches.pods, EnqueueRequestsFromMapFunc(workspace_of_pod))
    manager.add(controller)

    async def count_workspaces() -> None:
        stop_counting = WORKSPACE_COUNT.watch(workspaces.list)
        try:
            await asyncio.Event().wait()
        finally:
            stop_counting()

    manager.add_runnable("workspace-count-metric", count_workspaces, needs_leader=False)
    return controller
