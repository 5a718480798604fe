"""The Workspace reconciler: from a Workspace to GPU nodes, a model server and its Service.

Level-triggered: every call reads the cached state, takes the next steps that
are due (finalizer, revision, node requests, node labels, config, Services,
workload), writes status if it changed, and returns. It never waits for a node
or a pod; watch events on those bring the workspace back, and a deadline that
only time can pass comes back as ``requeue_after``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any

import structlog

from kaito.api.core import ConfigMap, ControllerRevision, Deployment, Node, Pod, Service, StatefulSet
from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.timestamps import format_time, parse_time
from kaito.api.wellknown import (
    ACCELERATOR_NVIDIA,
    ANNOTATION_HASH,
    ANNOTATION_REVISION,
    FINALIZER_WORKSPACE,
    LABEL_ACCELERATOR,
    LABEL_REVISION_WORKSPACE,
    ConditionStatus,
    ConditionType,
    NodeProvisioner,
    Reason,
)
from kaito.api.workspace import Workspace, WorkspaceStatus
from kaito.controllers.workspace import metrics
from kaito.controllers.workspace.apply import NotOwned, apply
from kaito.controllers.workspace.failures import Failure, classify_node_request, classify_pods
from kaito.controllers.workspace.indexes import WORKSPACE_INDEX
from kaito.controllers.workspace.nodeclaims import workspace_labels
from kaito.controllers.workspace.nodes import NodeSurvey, node_facts, survey_nodes
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import InferencePlan, PlanError, plan_inference
from kaito.controllers.workspace.provisioning import NodeRequest, desired_node_requests
from kaito.controllers.workspace.revisions import RevisionConflict, plan_revision
from kaito.controllers.workspace.status import (
    Observation,
    condition_changes,
    deleting_status,
    inference_status,
    tuning_unavailable_status,
)
from kaito.controllers.workspace.workload import (
    build_default_config_map,
    build_services,
    build_workload,
    default_config_map_name,
    workload_ready,
)
from kaito.kube.client import Client
from kaito.kube.clock import Clock
from kaito.kube.errors import AlreadyExists, NotFound
from kaito.kube.events import EventRecorder
from kaito.kube.informer import Informer
from kaito.kube.reconcile import Request, Result
from kaito.presets.catalog import get_preset
from kaito.presets.skus import GPUConfig, gpu_config_from_node, lookup_sku
from kaito.validation.configmaps import inference_config_errors

log = structlog.get_logger("kaito.workspace")

# Condition reasons that mean something is wrong, worth a Warning event.
_WARNING_REASONS = frozenset(
    {
        Reason.RESOURCE_STATUS_FAILED,
        Reason.WORKSPACE_FAILED,
        Reason.INFERENCE_STATUS_FAILED,
        Reason.NODE_PLUGINS_NOT_READY,
        Reason.IMAGE_PULL_ERROR,
        Reason.CONTAINER_CRASH_LOOP_BACK_OFF,
        Reason.CONTAINER_OOM_KILLED,
        Reason.CONTAINER_START_ERROR,
        Reason.POD_EVICTED,
        Reason.UNSCHEDULABLE,
        "LaunchFailed",
    }
)
_STILL_THERE_RECHECK_SECONDS = 10.0


@dataclass(frozen=True)
class Caches:
    """The informers the reconciler reads; writes go through the client."""

    workspaces: Informer[Workspace]
    nodes: Informer[Node]
    node_requests: Informer[Any] | None  # NodeClaims or Machines, indexed by workspace
    deployments: Informer[Deployment]
    statefulsets: Informer[StatefulSet]
    services: Informer[Service]
    config_maps: Informer[ConfigMap]
    revisions: Informer[ControllerRevision]
    pods: Informer[Pod]


class WorkspaceReconciler:
    def __init__(
        self, client: Client, caches: Caches, recorder: EventRecorder, options: WorkspaceOptions, clock: Clock
    ) -> None:
        self.client = client
        self.caches = caches
        self.recorder = recorder
        self.options = options
        self.clock = clock

    async def reconcile(self, request: Request) -> Result:
        workspace = self.caches.workspaces.get(request.name, request.namespace)
        if workspace is None:
            return Result()
        if workspace.metadata.deletion_timestamp is not None:
            return await self._finalize(workspace)
        workspace = await self._ensure_finalizer(workspace)
        if workspace.tuning is not None:
            await self._write_status(workspace, tuning_unavailable_status(workspace, self._now()))
            return Result()
        try:
            workspace, revision = await self._sync_revision(workspace)
        except RevisionConflict as err:
            seen = Observation(self.options.node_provisioner, plan_error=str(err))
            await self._write_status(workspace, inference_status(workspace, seen, self._now()))
            return Result()
        return await self._reconcile_inference(workspace, revision)

    # Inference.

    async def _reconcile_inference(self, workspace: Workspace, revision: int) -> Result:
        now = self.clock.wall()
        requests = self._node_requests(workspace)
        nodes = self._candidate_nodes(workspace)
        config_name, max_model_len, config_error = self._inference_config(workspace)
        plan: InferencePlan | None = None
        gpu = self._gpu(workspace, nodes)
        provisioner = self.options.node_provisioner
        try:
            if gpu is not None or self._is_template(workspace):
                plan = plan_inference(workspace, gpu, max_model_len)
        except PlanError as err:
            seen = Observation(provisioner, plan_error=str(err))
            await self._write_status(workspace, inference_status(workspace, seen, format_time(now)))
            return Result()

        requested = (workspace.resource.count if workspace.resource else None) or 1
        recorded = workspace.status.target_node_count if workspace.status else None
        target = recorded or (plan.node_count if plan is not None else requested)
        survey = survey_nodes(
            workspace, nodes, requests, target, now, self.options.gpu_ready_deadline_seconds
        )
        await self._provision(workspace, survey, requests)
        await self._label_accelerators(survey.unlabelled)
        live_requests = [r for r in requests if not r.is_deleting]
        ready_requests = sum(1 for r in live_requests if r.is_ready)
        seen = Observation(
            provisioner=provisioner,
            target_node_count=target if plan is not None else None,
            worker_nodes=survey.selected,
            usable_nodes=len(survey.usable),
            node_problems=survey.problems,
            requests_needed=survey.claims_needed,
            requests_ready=ready_requests,
            request_failure=classify_node_request(live_requests)
            if ready_requests < survey.claims_needed
            else None,
            config_error=config_error,
        )
        if plan is None or not survey.ready(target) or config_error is not None:
            if plan is None and gpu is None and survey.ready(target):
                seen = replace(seen, plan_error=self._unknown_gpu_message(workspace))
            await self._write_status(workspace, inference_status(workspace, seen, format_time(now)))
            return Result(requeue_after=survey.recheck_after or 0.0)

        try:
            ready, pod_failure, exists = await self._serve(workspace, plan, survey, revision, config_name)
        except NotOwned as err:
            seen = replace(seen, config_error=str(err))
            await self._write_status(workspace, inference_status(workspace, seen, format_time(now)))
            return Result()
        seen = replace(seen, workload_exists=exists, workload_ready=ready, pod_failure=pod_failure)
        await self._write_status(workspace, inference_status(workspace, seen, format_time(now)))
        return Result()

    async def _serve(
        self, workspace: Workspace, plan: InferencePlan, survey: NodeSurvey, revision: int, config_name: str
    ) -> tuple[bool, Failure | None, bool]:
        """Config, Services and workload; whether the workload is ready, and why not."""
        uid = workspace.metadata.uid or ""
        if workspace.inference is not None and workspace.inference.config is None:
            await apply(
                self.client, self.caches.config_maps, build_default_config_map(workspace, self.options), uid
            )
        for service in build_services(workspace, plan):
            _, change = await apply(
                self.client, self.caches.services, service, uid, keep=_keep_service_allocations
            )
            if change is not None:
                self.recorder.normal(workspace, f"Service{change}", f"{change} Service {service.name}")
        desired = build_workload(workspace, plan, survey.selected, revision, config_name, self.options)
        cache: Informer[Any] = (
            self.caches.statefulsets if isinstance(desired, StatefulSet) else self.caches.deployments
        )
        current, change = await apply(self.client, cache, desired, uid)
        if change is not None:
            kind = desired.RESOURCE.kind
            log.info(
                "workload written", change=str(change), kind=kind, revision=revision, nodes=survey.selected
            )
            self.recorder.normal(
                workspace, f"Workload{change}", f"{change} {kind} {desired.name} (revision {revision})"
            )
        await self._remove_other_workload_kind(workspace, desired)
        pods = self.caches.pods.list(workspace.namespace, {"kaito.sh/workspace": workspace.name})
        ready = workload_ready(current)
        return ready, None if ready else classify_pods([p.to_dict() for p in pods]), True

    async def _remove_other_workload_kind(
        self, workspace: Workspace, desired: Deployment | StatefulSet
    ) -> None:
        """A workspace that moved between one and several nodes leaves its old workload kind behind."""
        other: type[Deployment] | type[StatefulSet] = (
            StatefulSet if isinstance(desired, Deployment) else Deployment
        )
        cache: Informer[Any] = self.caches.statefulsets if other is StatefulSet else self.caches.deployments
        stale = cache.get(workspace.name, workspace.namespace)
        if stale is None or not any(
            r.uid == workspace.metadata.uid for r in stale.metadata.owner_references or []
        ):
            return
        try:
            await self.client.delete(
                other, workspace.name, workspace.namespace, propagation_policy="Background"
            )
        except NotFound:
            return
        self.recorder.normal(workspace, "WorkloadReplaced", f"Deleted {other.RESOURCE.kind} {workspace.name}")

    def _inference_config(self, workspace: Workspace) -> tuple[str, int | None, str | None]:
        """The ConfigMap to mount, the max-model-len it sets, and what is wrong with it."""
        inference = workspace.inference
        assert inference is not None
        if inference.config is None:
            return default_config_map_name(workspace), None, None
        config_map = self.caches.config_maps.get(inference.config, workspace.namespace)
        if config_map is None:
            return (
                inference.config,
                None,
                f"ConfigMap '{inference.config}' specified in 'config' not found in namespace "
                f"'{workspace.namespace}'",
            )
        preset = get_preset(inference.preset.name) if inference.preset else None
        max_context = preset.architecture.max_context if preset else 2**31
        config, errors = inference_config_errors("inference.config", config_map, max_context)
        return inference.config, config.max_model_len, "; ".join(e.message for e in errors) or None

    def _gpu(self, workspace: Workspace, nodes: list[Node]) -> GPUConfig | None:
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

    def _unknown_gpu_message(self, workspace: Workspace) -> str:
        instance_type = workspace.resource.instance_type if workspace.resource else None
        return (
            f"the GPUs of instance type {instance_type or '(any)'} are unknown: kaito's SKU table does not "
            "list it and its nodes carry no nvidia.com/gpu.product, gpu.count and gpu.memory labels"
        )

    @staticmethod
    def _is_template(workspace: Workspace) -> bool:
        return workspace.inference is not None and workspace.inference.template is not None

    # Nodes.

    def _candidate_nodes(self, workspace: Workspace) -> list[Node]:
        """Only nodes the workspace's selector picks can ever serve it; the cache copies no others."""
        selector = workspace.resource.label_selector if workspace.resource else None
        return self.caches.nodes.list(label_selector=selector) if selector is not None else []

    def _node_requests(self, workspace: Workspace) -> list[NodeRequest]:
        cache = self.caches.node_requests
        if cache is None:
            return []
        found: list[NodeRequest] = list(cache.by_index(WORKSPACE_INDEX, workspace.key))
        return found

    async def _provision(self, workspace: Workspace, survey: NodeSurvey, requests: list[NodeRequest]) -> None:
        existing = {r.name for r in requests}
        storage = self._storage_gib(workspace)
        for request in desired_node_requests(workspace, survey.claims_needed, storage, self.options):
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
            if self.caches.node_requests is not None:
                self.caches.node_requests.assume(created)
            log.info("node requested", kind=kind, node_request=request.name)
            self.recorder.normal(
                workspace,
                f"{kind}Created",
                f"Successfully created {kind} {request.name} for workspace {workspace.name}",
            )

    def _storage_gib(self, workspace: Workspace) -> int:
        preset_spec = workspace.preset
        preset = get_preset(preset_spec.name) if preset_spec else None
        return preset.disk_gib if preset is not None else self.options.template_disk_gib

    async def _label_accelerators(self, names: list[str]) -> None:
        """GPU nodes count only with accelerator=nvidia; kaito labels the nodes it selected."""
        for name in names:
            try:
                await self.client.patch(
                    Node, name, {"metadata": {"labels": {LABEL_ACCELERATOR: ACCELERATOR_NVIDIA}}}
                )
            except NotFound:
                continue

    # Revisions, finalizer, deletion.

    async def _sync_revision(self, workspace: Workspace) -> tuple[Workspace, int]:
        uid = workspace.metadata.uid
        history = [
            r
            for r in self.caches.revisions.list(
                workspace.namespace, {LABEL_REVISION_WORKSPACE: workspace.name}
            )
            if any(ref.uid == uid for ref in r.metadata.owner_references or [])
        ]
        revision = plan_revision(workspace, history)
        if revision.create is not None:
            with contextlib.suppress(AlreadyExists):
                self.caches.revisions.assume(await self.client.create(revision.create))
        for name in revision.delete:
            with contextlib.suppress(NotFound):
                await self.client.delete(ControllerRevision, name, workspace.namespace)
        wanted = {ANNOTATION_HASH: revision.hash, ANNOTATION_REVISION: str(revision.number)}
        if any(workspace.annotations.get(k) != v for k, v in wanted.items()):
            patch = {
                "metadata": {"annotations": wanted, "resourceVersion": workspace.metadata.resource_version}
            }
            workspace = await self.client.patch(
                Workspace, workspace.name, patch, namespace=workspace.namespace
            )
            self.caches.workspaces.assume(workspace)
        return workspace, revision.number

    async def _ensure_finalizer(self, workspace: Workspace) -> Workspace:
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

    async def _finalize(self, workspace: Workspace) -> Result:
        """Delete the node requests this workspace made (never other nodes), wait, then let it go."""
        if FINALIZER_WORKSPACE not in (workspace.metadata.finalizers or []):
            return Result()
        workspace = await self._write_status(workspace, deleting_status(workspace, self._now()))
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
            return Result(requeue_after=_STILL_THERE_RECHECK_SECONDS)
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
        if self.options.node_provisioner == NodeProvisioner.BYO:
            return []
        model: type[NodeClaim] | type[Machine] = (
            Machine if self.options.node_provisioner == NodeProvisioner.MACHINE else NodeClaim
        )
        found = await self.client.list(model, label_selector=workspace_labels(workspace))
        return list(found.items)

    # Status.

    async def _write_status(self, workspace: Workspace, status: WorkspaceStatus) -> Workspace:
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
        self.caches.workspaces.assume(updated)
        self._observe_time_to_ready(updated, before)
        return updated

    def _announce(self, workspace: Workspace, type_: str, status: str, reason: str, message: str) -> None:
        if status == ConditionStatus.FALSE and reason in _WARNING_REASONS:
            self.recorder.warning(workspace, reason, message)
        elif status == ConditionStatus.TRUE and type_ in (
            ConditionType.RESOURCE_READY,
            ConditionType.INFERENCE_READY,
        ):
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

    def _now(self) -> str:
        return format_time(self.clock.wall())


def _keep_service_allocations(existing: Service, desired: Service) -> None:
    """Cluster IPs and node ports are the API server's; an update must carry them over."""
    current = existing.spec or {}
    spec = desired.spec or {}
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort"):
        if key in current:
            spec[key] = current[key]
    node_ports = {p.get("name"): p.get("nodePort") for p in current.get("ports") or [] if p.get("nodePort")}
    for port in spec.get("ports") or []:
        if port.get("name") in node_ports:
            port["nodePort"] = node_ports[port["name"]]
    desired.spec = spec
