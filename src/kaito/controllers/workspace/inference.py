"""The inference steps of a workspace: plan, nodes, config, Services, workload, status.

Level-triggered like the whole reconciler: it does what is due now and returns;
watch events on nodes, claims, pods and workloads bring the workspace back, and
a deadline only time can pass comes back as ``requeue_after``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog

from kaito.api.core import Deployment, Service, StatefulSet
from kaito.api.timestamps import format_time
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.apply import NotOwned, apply
from kaito.controllers.workspace.caches import Caches
from kaito.controllers.workspace.failures import Failure, classify_node_request, classify_pods
from kaito.controllers.workspace.node_sync import NodeSync, unknown_gpu_message
from kaito.controllers.workspace.nodes import NodeSurvey, survey_nodes
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import InferencePlan, PlanError, plan_inference
from kaito.controllers.workspace.reporting import StatusReporter
from kaito.controllers.workspace.status import Observation, inference_status
from kaito.controllers.workspace.workload import (
    build_default_config_map,
    build_services,
    build_workload,
    default_config_map_name,
    workload_ready,
)
from kaito.kube.client import Client
from kaito.kube.clock import Clock
from kaito.kube.errors import NotFound
from kaito.kube.events import EventRecorder
from kaito.kube.informer import Informer
from kaito.kube.reconcile import Result
from kaito.presets.catalog import get_preset
from kaito.validation.configmaps import inference_config_errors

log = structlog.get_logger("kaito.workspace")


class InferenceSteps:
    def __init__(
        self,
        client: Client,
        caches: Caches,
        recorder: EventRecorder,
        options: WorkspaceOptions,
        clock: Clock,
        nodes: NodeSync,
        reporter: StatusReporter,
    ) -> None:
        self.client = client
        self.caches = caches
        self.recorder = recorder
        self.options = options
        self.clock = clock
        self.nodes = nodes
        self.reporter = reporter

    async def reconcile(self, workspace: Workspace, revision: int) -> Result:
        now = self.clock.wall()
        requests = self.nodes.node_requests(workspace)
        nodes = self.nodes.candidate_nodes(workspace)
        config_name, max_model_len, config_error = self._inference_config(workspace)
        plan: InferencePlan | None = None
        gpu = self.nodes.gpu(workspace, nodes)
        condition = self.nodes.provisioner.condition
        try:
            if gpu is not None or _is_template(workspace):
                plan = plan_inference(workspace, gpu, max_model_len)
        except PlanError as err:
            seen = Observation(condition, plan_error=str(err))
            await self.reporter.write(workspace, inference_status(workspace, seen, format_time(now)))
            return Result()

        requested = (workspace.resource.count if workspace.resource else None) or 1
        recorded = workspace.status.target_node_count if workspace.status else None
        target = recorded or (plan.node_count if plan is not None else requested)
        deadline = self.options.gpu_ready_deadline_seconds
        survey = survey_nodes(workspace, nodes, requests, target, now, deadline)
        # The status written now already describes requests created just now, instead of needing
        # a second write when their watch events arrive.
        requests = [*requests, *await self.nodes.provision(workspace, survey, requests)]
        await self.nodes.label_accelerators(survey.unlabelled)
        live_requests = [r for r in requests if not r.is_deleting]
        ready_requests = sum(1 for r in live_requests if r.is_ready)
        seen = Observation(
            request_condition=condition,
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
                seen = replace(seen, plan_error=unknown_gpu_message(workspace))
            await self.reporter.write(workspace, inference_status(workspace, seen, format_time(now)))
            return Result(requeue_after=survey.recheck_after or 0.0)

        try:
            ready, pod_failure, exists = await self._serve(workspace, plan, survey, revision, config_name)
        except NotOwned as err:
            seen = replace(seen, config_error=str(err))
            await self.reporter.write(workspace, inference_status(workspace, seen, format_time(now)))
            return Result()
        seen = replace(seen, workload_exists=exists, workload_ready=ready, pod_failure=pod_failure)
        await self.reporter.write(workspace, inference_status(workspace, seen, format_time(now)))
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


def _is_template(workspace: Workspace) -> bool:
    return workspace.inference is not None and workspace.inference.template is not None


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
