"""The objects that serve a workspace: its Deployment or StatefulSet, Services and config.

Every builder is pure. Each desired object carries a hash of its own spec in
``kaito.sh/desired-hash``, so the reconciler compares one annotation instead
of diffing what the API server defaulted, and rewrites an object only when
what kaito wants has changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kaito.api import runtime_contract
from kaito.api.core import ConfigMap, Deployment, Service, StatefulSet
from kaito.api.meta import KubeObject, ObjectMeta
from kaito.api.wellknown import ANNOTATION_ENABLE_LB, ANNOTATION_REVISION, ENABLE_LB_VALUE, LABEL_WORKSPACE
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import InferencePlan
from kaito.controllers.workspace.podspec import (
    INFERENCE_PORT,
    RAY_PORT,
    pod_labels,
    preset_pod_template,
    user_pod_template,
)
from kaito.controllers.workspace.revisions import owner_reference

ANNOTATION_DESIRED_HASH = "kaito.sh/desired-hash"
INFERENCE_CONFIG_KEY = runtime_contract.CONFIG_FILE_NAME
TORCH_PORT = 29500
STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"


def desired_hash(obj: KubeObject) -> str:
    body = {k: v for k, v in obj.to_dict().items() if k not in ("metadata", "status")}
    body["labels"] = obj.metadata.labels
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _stamp(obj: KubeObject) -> KubeObject:
    annotations = dict(obj.metadata.annotations or {})
    annotations[ANNOTATION_DESIRED_HASH] = desired_hash(obj)
    obj.metadata.annotations = annotations
    return obj


def _metadata(workspace: Workspace, name: str, annotations: dict[str, str] | None = None) -> ObjectMeta:
    return ObjectMeta(
        name=name,
        namespace=workspace.namespace,
        labels={LABEL_WORKSPACE: workspace.name},
        annotations=annotations,
        owner_references=[owner_reference(workspace)],
    )


def headless_service_name(workspace: Workspace) -> str:
    return f"{workspace.name}-headless"


def default_config_map_name(workspace: Workspace) -> str:
    return f"{workspace.name}-inference-params"


def build_default_config_map(workspace: Workspace, options: WorkspaceOptions) -> ConfigMap:
    """The inference parameters a workspace gets when it names no ConfigMap of its own."""
    config_map = ConfigMap(
        metadata=_metadata(workspace, default_config_map_name(workspace)),
        data={INFERENCE_CONFIG_KEY: options.default_inference_config},
    )
    _stamp(config_map)
    return config_map


def build_workload(
    workspace: Workspace,
    plan: InferencePlan,
    nodes: list[str],
    revision: int,
    config_map: str,
    options: WorkspaceOptions,
) -> Deployment | StatefulSet:
    """A Deployment when every replica fits one node; a StatefulSet when one instance spans nodes."""
    if workspace.inference is not None and workspace.inference.template is not None:
        template = user_pod_template(workspace, nodes)
    else:
        template = preset_pod_template(workspace, plan, nodes, config_map, options)
    selector = {"matchLabels": pod_labels(workspace)}
    metadata = _metadata(workspace, workspace.name, {ANNOTATION_REVISION: str(revision)})
    workload: Deployment | StatefulSet
    if plan.distributed:
        workload = StatefulSet(
            metadata=metadata,
            spec={
                "replicas": plan.node_count,
                "serviceName": headless_service_name(workspace),
                "podManagementPolicy": "Parallel",
                "selector": selector,
                "template": template,
            },
        )
    else:
        workload = Deployment(
            metadata=metadata,
            spec={
                "replicas": plan.replicas,
                "selector": selector,
                # GPUs are all taken on the node, so a surge pod could never start.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
                "template": template,
            },
        )
    _stamp(workload)
    return workload


def build_services(workspace: Workspace, plan: InferencePlan) -> list[Service]:
    """``<ws>`` for clients (pinned to the leader when distributed), plus ``<ws>-headless`` for peers."""
    selector = pod_labels(workspace)
    if plan.distributed:
        selector = {**selector, STATEFULSET_POD_NAME_LABEL: f"{workspace.name}-0"}
    load_balancer = workspace.annotations.get(ANNOTATION_ENABLE_LB, "").lower() == ENABLE_LB_VALUE.lower()
    ports: list[dict[str, Any]] = [
        {"name": "http", "port": 80, "targetPort": INFERENCE_PORT, "protocol": "TCP"},
        {"name": "torch", "port": TORCH_PORT, "targetPort": TORCH_PORT, "protocol": "TCP"},
    ]
    services = [
        Service(
            metadata=_metadata(workspace, workspace.name),
            spec={
                "type": "LoadBalancer" if load_balancer else "ClusterIP",
                "selector": selector,
                "ports": ports,
            },
        )
    ]
    if plan.distributed:
        services.append(
            Service(
                metadata=_metadata(workspace, headless_service_name(workspace)),
                spec={
                    "clusterIP": "None",
                    "publishNotReadyAddresses": True,
                    "selector": pod_labels(workspace),
                    # Peers find each other by name; the ports document what they talk on.
                    "ports": [
                        {"name": "ray", "port": RAY_PORT, "targetPort": RAY_PORT, "protocol": "TCP"},
                        {"name": "torch", "port": TORCH_PORT, "targetPort": TORCH_PORT, "protocol": "TCP"},
                    ],
                },
            )
        )
    for service in services:
        _stamp(service)
    return services


def workload_ready(workload: Deployment | StatefulSet) -> bool:
    """Every replica of the current spec is ready (and the workload controller has seen that spec)."""
    spec, status = workload.spec or {}, workload.status or {}
    replicas = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < (workload.metadata.generation or 0):
        return False
    updated = status.get("updatedReplicas", 0)
    return bool(status.get("readyReplicas", 0) >= replicas and updated >= replicas)
