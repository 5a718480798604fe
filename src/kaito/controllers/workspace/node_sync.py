"""A workspace's GPU nodes, the same for inference and tuning: find them, ask for the shortfall, label them.

Reads come from the caches; the only writes are node requests (NodeClaims or
Machines, through the provisioner strategy) and the ``accelerator=nvidia``
label on nodes kaito selected.
"""

from __future__ import annotations

import structlog

from kaito.api.core import Node
from kaito.api.wellknown import ACCELERATOR_NVIDIA, LABEL_ACCELERATOR
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.indexes import WORKSPACE_INDEX
from kaito.controllers.workspace.nodes import NodeSurvey, node_facts
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.provisioning import NodeRequest, Provisioner
from kaito.kube.client import Client
from kaito.kube.errors import AlreadyExists, NotFound
from kaito.kube.events import EventRecorder
from kaito.presets.catalog import get_preset
from kaito.presets.skus import GPUConfig, gpu_config_from_node, lookup_sku

log = structlog.get_logger("kaito.workspace")


class NodeSync:
    def __init__(
        self,
        client: Client,
        caches: Caches,
        recorder: EventRecorder,
        options: WorkspaceOptions,
        provisioner: Provisioner,
    ) -> None:
        self.client = client
        self.caches = caches
        self.recorder = recorder
        self.options = options
        self.provisioner = provisioner

    def candidate_nodes(self, workspace: Workspace) -> list[Node]:
        """Only nodes the workspace's selector picks can ever serve it; the cache copies no others."""
        selector = workspace.resource.label_selector if workspace.resource else None
        return self.caches.nodes.list(label_selector=selector) if selector is not None else []

    def node_requests(self, workspace: Workspace) -> list[NodeRequest]:
        cache = self.caches.node_requests
        if cache is None:
            return []
        found: list[NodeRequest] = list(cache.by_index(WORKSPACE_INDEX, workspace.key))
        return found

    def gpu(self, workspace: Workspace, nodes: list[Node]) -> GPUConfig | None:
        """GPU facts from the SKU table, or else from the labels of ``nodes`` (the workspace's candidates)."""
        instance_type = workspace.resource.instance_type if workspace.resource else None
        if instance_type:
            known = lookup_sku(instance_type, self.options.cloud)
            if known is not None:
                return known
        for node in sorted(nodes, key=lambda n: n.name):
            facts = node_facts(node)
            if not facts.ready:
                continue
            try:
                gpu = gpu_config_from_node(facts.labels, (node.status or {}).get("capacity") or {})
            except ValueError:
                continue
            if gpu is not None:
                return gpu
        return None

    async def provision(
        self, workspace: Workspace, survey: NodeSurvey, requests: list[NodeRequest]
    ) -> list[NodeRequest]:
        """Create the node requests for the slots the survey says are missing; return those created."""
        created_now: list[NodeRequest] = []
        existing = {r.name for r in requests}
        storage = self._storage_gib(workspace)
        wanted = self.provisioner.desired_requests(workspace, survey.claims_needed, storage, self.options)
        for request in wanted:
            if request.name in existing:
                continue
            kind = request.RESOURCE.kind
            try:
                created = await self.client.create(request)
            except AlreadyExists:
                continue  # made by an earlier reconcile the cache has not shown yet
            except Exception as err:
                self.recorder.warning(
                    workspace, f"{kind}CreationFailed", f"Failed to create {kind} {request.name}: {err}"
                )
                raise
            created_now.append(created)
            if self.caches.node_requests is not None:
                self.caches.node_requests.assume(created)
            log.info("node requested", kind=kind, node_request=request.name)
            self.recorder.normal(
                workspace,
                f"{kind}Created",
                f"Successfully created {kind} {request.name} for workspace {workspace.name}",
            )
        return created_now

    def _storage_gib(self, workspace: Workspace) -> int:
        preset_spec = workspace.preset
        preset = get_preset(preset_spec.name) if preset_spec else None
        return preset.disk_gib if preset is not None else self.options.template_disk_gib

    async def label_accelerators(self, names: list[str]) -> None:
        """GPU nodes count only with accelerator=nvidia; kaito labels the nodes it selected."""
        for name in names:
            try:
                await self.client.patch(
                    Node, name, {"metadata": {"labels": {LABEL_ACCELERATOR: ACCELERATOR_NVIDIA}}}
                )
            except NotFound:
                continue


def unknown_gpu_message(workspace: Workspace) -> str:
    instance_type = workspace.resource.instance_type if workspace.resource else None
    return (
        f"the GPUs of instance type {instance_type or '(any)'} are unknown: kaito's SKU table does not "
        "list it and its nodes carry no nvidia.com/gpu.product, gpu.count and gpu.memory labels"
    )
