"""The inference pod template: a pure function of the workspace, its plan and its nodes.

Preset workspaces get the runtime's command line from the preset parameter
builders; template workspaces keep their own pod and get only what placement
needs (labels, node affinity, tolerations). Either way the pod is pinned to
the workspace's nodes by name and tolerates the GPU taints.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from kaito.api import runtime_contract as contract
from kaito.api.wellknown import LABEL_WORKSPACE, RESOURCE_NVIDIA_GPU, TAINT_SKU_KEY, TAINT_SKU_VALUE
from kaito.api.workspace import AdapterSpec, Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import InferencePlan
from kaito.presets.params import HF_TOKEN_ENV, WEIGHTS_DIR, build_inference_params, preset_image

INFERENCE_PORT = contract.PORT
CONFIG_DIR = contract.CONFIG_DIR
CONFIG_FILE = contract.CONFIG_PATH
ADAPTERS_DIR = contract.ADAPTERS_DIR
HEALTH_PATH = contract.HEALTH_PATH
PROBE_PERIOD_SECONDS = 10
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
RAY_PORT = contract.RAY_PORT
# How long the leader of a multi-node instance waits for its workers to join before giving up;
# its startup probe allows this on top of the model's load time.
CLUSTER_FORMATION_SECONDS = 600

TOLERATIONS: list[dict[str, Any]] = [
    {"key": RESOURCE_NVIDIA_GPU, "operator": "Exists", "effect": "NoSchedule"},
    {"key": TAINT_SKU_KEY, "operator": "Equal", "value": TAINT_SKU_VALUE, "effect": "NoSchedule"},
]


def pod_labels(workspace: Workspace) -> dict[str, str]:
    return {LABEL_WORKSPACE: workspace.name}


def node_affinity(workspace: Workspace, nodes: list[str]) -> dict[str, Any]:
    """Required affinity to exactly the workspace's nodes (by name) that carry its selector labels.

    One node selector term per node: terms are ORed, and kube-apiserver allows
    exactly one value in a ``matchFields`` requirement
    (``pkg/apis/core/validation/validation.go`` ``validateNodeFieldSelectorRequirement``),
    so several nodes in one requirement would be refused with 422.
    """
    selector = workspace.resource.label_selector if workspace.resource else None
    expressions = [
        {"key": key, "operator": "In", "values": [value]}
        for key, value in sorted((selector.as_map() if selector else {}).items())
    ]
    terms: list[dict[str, Any]] = []
    for node in sorted(nodes):
        term: dict[str, Any] = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        if expressions:
            term["matchExpressions"] = expressions
        terms.append(term)
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


def preset_pod_template(
    workspace: Workspace,
    plan: InferencePlan,
    nodes: list[str],
    config_map: str,
    options: WorkspaceOptions,
) -> dict[str, Any]:
    inference = workspace.inference
    assert inference is not None and inference.preset is not None
    assert plan.preset is not None and plan.gpu is not None and plan.estimate is not None
    preset, gpu = plan.preset, plan.gpu
    adapters = inference.adapters or []
    params = build_inference_params(
        preset,
        gpu,
        plan.runtime,
        plan.estimate,
        config_path=CONFIG_FILE,
        adapters_dir=ADAPTERS_DIR if adapters else None,
        port=INFERENCE_PORT,
    )
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(params.env.items())]
    secret = inference.preset.preset_options.model_access_secret if inference.preset.preset_options else None
    if secret:
        env.append(
            {
                "name": HF_TOKEN_ENV,
                "valueFrom": {"secretKeyRef": {"name": secret, "key": HF_TOKEN_ENV, "optional": True}},
            }
        )
    env += [
        {"name": a.source.name, "value": a.effective_strength} for a in adapters if a.source and a.source.name
    ]
    if plan.distributed:
        env += _distributed_env(workspace, plan)

    volumes: list[dict[str, Any]] = [
        {"name": "dshm", "emptyDir": {"medium": "Memory"}},
        {"name": "config-volume", "configMap": {"name": config_map}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "dshm", "mountPath": "/dev/shm"},
        {"name": "config-volume", "mountPath": CONFIG_DIR},
    ]
    if preset.download_at_runtime:
        volumes.append({"name": "weights-volume", "emptyDir": {}})
        mounts.append({"name": "weights-volume", "mountPath": WEIGHTS_DIR})
    init_containers, adapter_volumes, adapter_mounts = _adapters(adapters)
    volumes += adapter_volumes
    mounts += adapter_mounts

    gpus = str(gpu.gpu_count)
    startup_budget = preset.readiness_timeout_seconds + (CLUSTER_FORMATION_SECONDS if plan.distributed else 0)
    startup_failures = math.ceil(startup_budget / PROBE_PERIOD_SECONDS)
    container: dict[str, Any] = {
        "name": workspace.name,
        "image": _image(workspace, plan, options),
        "command": params.command,
        "args": params.args,
        "env": env,
        "ports": [{"name": "http", "containerPort": INFERENCE_PORT, "protocol": "TCP"}],
        "resources": {"requests": {RESOURCE_NVIDIA_GPU: gpus}, "limits": {RESOURCE_NVIDIA_GPU: gpus}},
        "volumeMounts": mounts,
        "startupProbe": _http_probe(failure_threshold=startup_failures),
        "livenessProbe": _http_probe(failure_threshold=3),
        "readinessProbe": _http_probe(failure_threshold=3),
    }
    spec: dict[str, Any] = {
        "containers": [container],
        "volumes": volumes,
        "tolerations": copy.deepcopy(TOLERATIONS),
        "affinity": node_affinity(workspace, nodes),
    }
    if init_containers:
        spec["initContainers"] = init_containers
    pull_secrets = _pull_secrets(workspace)
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in pull_secrets]
    return {"metadata": {"labels": pod_labels(workspace)}, "spec": spec}


def user_pod_template(workspace: Workspace, nodes: list[str]) -> dict[str, Any]:
    """The user's template, with the placement kaito owns merged in."""
    inference = workspace.inference
    assert inference is not None and inference.template is not None
    template = copy.deepcopy(inference.template)
    metadata = template.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **pod_labels(workspace)}
    spec = template.setdefault("spec", {})
    tolerations = list(spec.get("tolerations") or [])
    spec["tolerations"] = tolerations + [t for t in TOLERATIONS if t not in tolerations]
    affinity = spec.get("affinity") or {}
    spec["affinity"] = {**affinity, **node_affinity(workspace, nodes)}
    return template


def _image(workspace: Workspace, plan: InferencePlan, options: WorkspaceOptions) -> str:
    assert (
        workspace.inference is not None and workspace.inference.preset is not None and plan.preset is not None
    )
    preset_options = workspace.inference.preset.preset_options
    if preset_options is not None and preset_options.image:
        return preset_options.image
    if plan.preset.download_at_runtime:
        return f"{options.registry.rstrip('/')}/kaito-base:{options.base_image_tag}"
    return preset_image(plan.preset, options.registry)


def _http_probe(failure_threshold: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": HEALTH_PATH, "port": INFERENCE_PORT, "scheme": "HTTP"},
        "periodSeconds": PROBE_PERIOD_SECONDS,
        "timeoutSeconds": 5,
        "failureThreshold": failure_threshold,
    }


def _distributed_env(workspace: Workspace, plan: InferencePlan) -> list[dict[str, Any]]:
    """What the runtime needs to form one vLLM instance across the StatefulSet's pods."""
    leader = f"{workspace.name}-0.{workspace.name}-headless.{workspace.namespace}.svc.cluster.local"
    return [
        {"name": contract.NODE_COUNT_ENV, "value": str(plan.node_count)},
        {"name": contract.LEADER_ADDRESS_ENV, "value": leader},
        {"name": contract.RAY_PORT_ENV, "value": str(RAY_PORT)},
        {"name": contract.CLUSTER_TIMEOUT_ENV, "value": str(CLUSTER_FORMATION_SECONDS)},
        {
            "name": contract.NODE_RANK_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{POD_INDEX_LABEL}']"}},
        },
    ]


def _adapters(
    adapters: list[AdapterSpec],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Init containers copying image adapters, and mounts of volume adapters, under /mnt/adapter/<name>."""
    if not adapters:
        return [], [], []
    init_containers: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = [{"name": "adapter-volume", "emptyDir": {}}]
    mounts: list[dict[str, Any]] = [{"name": "adapter-volume", "mountPath": ADAPTERS_DIR}]
    for adapter in adapters:
        source = adapter.source
        if source is None or not source.name:
            continue
        target = f"{ADAPTERS_DIR}/{source.name}"
        if source.image:
            init_containers.append(
                {
                    "name": f"adapter-{source.name}",
                    "image": source.image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["/bin/sh", "-c", f"mkdir -p {target} && cp -r /data/. {target}/"],
                    "volumeMounts": [{"name": "adapter-volume", "mountPath": ADAPTERS_DIR}],
                }
            )
        elif source.volume_source is not None:
            volume = f"adapter-{source.name}"
            volumes.append({"name": volume, **copy.deepcopy(source.volume_source)})
            mounts.append({"name": volume, "mountPath": target, "readOnly": True})
    return init_containers, volumes, mounts


def _pull_secrets(workspace: Workspace) -> list[str]:
    inference = workspace.inference
    assert inference is not None
    names: list[str] = []
    if inference.preset is not None and inference.preset.preset_options is not None:
        names += inference.preset.preset_options.image_pull_secrets or []
    for adapter in inference.adapters or []:
        if adapter.source is not None:
            names += adapter.source.image_pull_secrets or []
    return list(dict.fromkeys(names))
