"""The workload, Services and config a workspace gets: pure builders, checked field by field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kaito.api.core import Deployment, StatefulSet
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.plan import PlanError, plan_inference
from kaito.controllers.workspace.workload import (
    ANNOTATION_DESIRED_HASH,
    build_default_config_map,
    build_services,
    build_workload,
    workload_ready,
)
from kaito.presets.catalog import get_preset
from kaito.presets.skus import lookup_sku

from .conftest import workspace

OPTIONS = WorkspaceOptions()
NODES = ["aks-ws1-12345678-vmss000000"]


def build(ws: Workspace, nodes: list[str] = NODES) -> Deployment | StatefulSet:
    instance_type = ws.resource.instance_type if ws.resource else None
    plan = plan_inference(ws, lookup_sku(instance_type) if instance_type else None)
    return build_workload(ws, plan, nodes, 3, "params", OPTIONS)


def container(workload: Deployment | StatefulSet) -> dict[str, Any]:
    spec = workload.spec or {}
    (main,) = spec["template"]["spec"]["containers"]
    return dict(main)


def test_phi3_on_a_v100_is_a_transformers_deployment(phi3: Workspace) -> None:
    workload = build(phi3)
    assert isinstance(workload, Deployment)
    data = workload.to_dict()
    assert data["metadata"]["name"] == "workspace-phi-3-mini" and data["metadata"]["namespace"] == "default"
    assert data["metadata"]["annotations"]["workspace.kaito.io/revision"] == "3"
    assert data["metadata"]["ownerReferences"][0]["kind"] == "Workspace"
    spec = data["spec"]
    assert spec["replicas"] == 1
    assert spec["selector"] == {"matchLabels": {"kaito.sh/workspace": "workspace-phi-3-mini"}}
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    pod = spec["template"]["spec"]
    main = container(workload)
    preset = get_preset("phi-3-mini-4k-instruct")
    assert preset is not None
    assert main["image"] == f"mcr.microsoft.com/aks/kaito/kaito-phi-3-mini-4k-instruct:{preset.image_tag}"
    assert main["command"] == ["kaito-runtime", "serve"]
    assert "--runtime=transformers" in main["args"] and "--model=/workspace/weights" in main["args"]
    assert "--served-model-name=phi-3-mini-4k-instruct" in main["args"]
    assert "--config=/mnt/config/inference_config.yaml" in main["args"]
    assert main["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]
    assert main["resources"] == {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
    assert main["startupProbe"]["httpGet"] == {"path": "/health", "port": 5000, "scheme": "HTTP"}
    # readiness timeout: clamp(15 min + 18 s x 7.12 GiB, 30 min, 180 min) = 1800 s -> 180 probes of 10 s.
    assert main["startupProbe"]["failureThreshold"] == 180
    assert (
        main["livenessProbe"]["failureThreshold"] == 3
        and main["readinessProbe"]["httpGet"]["path"] == "/health"
    )
    assert {"name": "dshm", "emptyDir": {"medium": "Memory"}} in pod["volumes"]
    assert {"name": "config-volume", "configMap": {"name": "params"}} in pod["volumes"]
    assert {"name": "config-volume", "mountPath": "/mnt/config"} in main["volumeMounts"]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in main["volumeMounts"]
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
    ]
    assert pod["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                # One term per node: a node field selector takes exactly one value.
                "nodeSelectorTerms": [
                    {
                        "matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}],
                        "matchExpressions": [{"key": "apps", "operator": "In", "values": ["phi-3"]}],
                    }
                    for node in sorted(NODES)
                ]
            }
        }
    }
    assert "initContainers" not in pod and "imagePullSecrets" not in pod


def test_phi35_on_an_a100_is_served_by_vllm(phi35: Workspace) -> None:
    main = container(build(phi35))
    assert "--runtime=vllm" in main["args"]
    assert "--tensor-parallel-size=1" in main["args"] and "--pipeline-parallel-size=1" in main["args"]
    assert any(a.startswith("--max-model-len=") for a in main["args"])
    assert any(a.startswith("--gpu-memory-utilization=") for a in main["args"])


def test_adapters_get_init_containers_strength_env_and_pull_secrets(phi3_adapters: Workspace) -> None:
    doc = phi3_adapters.to_dict()
    doc["inference"]["adapters"][0]["source"]["imagePullSecrets"] = ["acr-pull"]
    doc["inference"]["adapters"].append(
        {"source": {"name": "shared", "volumeSource": {"persistentVolumeClaim": {"claimName": "adapters"}}}}
    )
    workload = build(workspace(doc))
    pod = (workload.spec or {})["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["name"] == "adapter-phi-3-adapter"
    assert init["image"] == "myregistry.azurecr.io/phi-3-adapter:0.0.1"
    assert init["command"] == [
        "/bin/sh",
        "-c",
        "mkdir -p /mnt/adapter/phi-3-adapter && cp -r /data/. /mnt/adapter/phi-3-adapter/",
    ]
    assert init["volumeMounts"] == [{"name": "adapter-volume", "mountPath": "/mnt/adapter"}]
    assert pod["imagePullSecrets"] == [{"name": "acr-pull"}]
    assert {"name": "adapter-shared", "persistentVolumeClaim": {"claimName": "adapters"}} in pod["volumes"]
    main = container(workload)
    assert {"name": "phi-3-adapter", "value": "1.0"} in main["env"]
    assert {"name": "adapter-shared", "mountPath": "/mnt/adapter/shared", "readOnly": True} in main[
        "volumeMounts"
    ]
    assert "--adapters-dir=/mnt/adapter" in main["args"]


def test_changing_adapters_changes_the_desired_hash(phi3: Workspace, phi3_adapters: Workspace) -> None:
    plain, adapted = build(phi3), build(phi3_adapters)
    assert (plain.metadata.annotations or {})[ANNOTATION_DESIRED_HASH] == (
        build(phi3).metadata.annotations or {}
    )[ANNOTATION_DESIRED_HASH]
    assert (plain.metadata.annotations or {})[ANNOTATION_DESIRED_HASH] != (
        adapted.metadata.annotations or {}
    )[ANNOTATION_DESIRED_HASH]


def gated_70b() -> Workspace:
    return workspace(
        {
            "metadata": {"name": "llama", "namespace": "team"},
            "resource": {
                "instanceType": "Standard_NC24ads_A100_v4",
                "labelSelector": {"matchLabels": {"apps": "llama"}},
            },
            "inference": {
                "preset": {
                    "name": "llama-3.3-70b-instruct",
                    "presetOptions": {"modelAccessSecret": "hf-token"},
                }
            },
        }
    )


def test_a_model_spanning_nodes_is_a_statefulset_with_a_headless_service() -> None:
    ws = gated_70b()
    plan = plan_inference(ws, lookup_sku("Standard_NC24ads_A100_v4"))
    assert plan.distributed and plan.node_count == 2
    workload = build_workload(ws, plan, ["n1", "n2"], 1, "params", OPTIONS)
    assert isinstance(workload, StatefulSet)
    spec = workload.spec or {}
    assert (
        spec["replicas"] == 2
        and spec["serviceName"] == "llama-headless"
        and spec["podManagementPolicy"] == "Parallel"
    )
    main = container(workload)
    assert (
        "--pipeline-parallel-size=2" in main["args"] and "--distributed-executor-backend=ray" in main["args"]
    )
    assert main["image"] == "mcr.microsoft.com/aks/kaito/kaito-base:0.1.0"
    assert {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN", "optional": True}},
    } in main["env"]
    leader = {"name": "KAITO_LEADER_ADDRESS", "value": "llama-0.llama-headless.team.svc.cluster.local"}
    assert leader in main["env"]
    assert {"name": "KAITO_CLUSTER_TIMEOUT_SECONDS", "value": "600"} in main["env"]
    pod_index = "metadata.labels['apps.kubernetes.io/pod-index']"
    assert {"name": "KAITO_NODE_RANK", "valueFrom": {"fieldRef": {"fieldPath": pod_index}}} in main["env"]
    # The leader's startup probe covers the cluster forming as well as the model loading.
    preset = get_preset("llama-3.3-70b-instruct")
    assert preset is not None
    assert main["startupProbe"]["failureThreshold"] == math.ceil((preset.readiness_timeout_seconds + 600) / 10)
    assert {"name": "weights-volume", "mountPath": "/workspace/weights"} in main["volumeMounts"]
    client, headless = build_services(ws, plan)
    assert client.spec is not None and client.spec["selector"] == {
        "kaito.sh/workspace": "llama",
        "statefulset.kubernetes.io/pod-name": "llama-0",
    }
    assert headless.name == "llama-headless" and headless.spec is not None
    assert headless.spec["clusterIP"] == "None" and headless.spec["publishNotReadyAddresses"] is True


def test_service_ports_and_load_balancer_annotation(phi3: Workspace) -> None:
    plan = plan_inference(phi3, lookup_sku("Standard_NC6s_v3"))
    (service,) = build_services(phi3, plan)
    assert service.spec == {
        "type": "ClusterIP",
        "selector": {"kaito.sh/workspace": "workspace-phi-3-mini"},
        "ports": [
            {"name": "http", "port": 80, "targetPort": 5000, "protocol": "TCP"},
            {"name": "torch", "port": 29500, "targetPort": 29500, "protocol": "TCP"},
        ],
    }
    lb = workspace(
        {**phi3.to_dict(), "metadata": {"name": "w", "annotations": {"kaito.sh/enablelb": "True"}}}
    )
    (service,) = build_services(lb, plan_inference(lb, lookup_sku("Standard_NC6s_v3")))
    assert service.spec is not None and service.spec["type"] == "LoadBalancer"


def test_template_workspaces_keep_their_pod_and_gain_placement() -> None:
    ws = workspace(
        {
            "metadata": {"name": "custom"},
            "resource": {
                "count": 2,
                "instanceType": "Standard_NC6s_v3",
                "labelSelector": {"matchLabels": {"apps": "custom"}},
            },
            "inference": {
                "template": {
                    "metadata": {"labels": {"team": "a"}},
                    "spec": {
                        "containers": [
                            {"name": "server", "image": "r.io/llm:1", "ports": [{"containerPort": 5000}]}
                        ],
                        "tolerations": [{"key": "x", "operator": "Exists"}],
                    },
                }
            },
        }
    )
    plan = plan_inference(ws, lookup_sku("Standard_NC6s_v3"))
    assert plan.replicas == 2 and plan.preset is None
    workload = build_workload(ws, plan, ["n1", "n2"], 1, "unused", OPTIONS)
    assert isinstance(workload, Deployment)
    template = (workload.spec or {})["template"]
    assert template["metadata"]["labels"] == {"team": "a", "kaito.sh/workspace": "custom"}
    assert template["spec"]["containers"] == [
        {"name": "server", "image": "r.io/llm:1", "ports": [{"containerPort": 5000}]}
    ]
    assert template["spec"]["tolerations"][0] == {"key": "x", "operator": "Exists"}
    assert len(template["spec"]["tolerations"]) == 3
    assert "nodeAffinity" in template["spec"]["affinity"]


def test_plans_refuse_what_cannot_run(phi3: Workspace) -> None:
    doc = phi3.to_dict()
    doc["metadata"]["annotations"] = {"kaito.sh/runtime": "vllm"}
    with pytest.raises(PlanError, match=r"vLLM runtime needs compute capability 8\.0"):
        plan_inference(workspace(doc), lookup_sku("Standard_NC6s_v3"))
    doc["metadata"]["annotations"] = {}
    doc["inference"]["preset"]["name"] = "phi-4"
    with pytest.raises(PlanError, match="Insufficient"):
        plan_inference(workspace(doc), lookup_sku("Standard_NC6s_v3"))
    doc["metadata"]["annotations"] = {"kaito.sh/bypass-resource-checks": ""}
    bypassed = plan_inference(workspace(doc), lookup_sku("Standard_NC6s_v3"))
    assert bypassed.estimate is not None and bypassed.estimate.fits


def test_default_config_map(phi3: Workspace) -> None:
    config_map = build_default_config_map(phi3, OPTIONS)
    assert config_map.name == "workspace-phi-3-mini-inference-params"
    assert "vllm:" in (config_map.data or {})["inference_config.yaml"]


@pytest.mark.parametrize(
    ("status", "generation", "ready"),
    [
        ({"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 1}, 2, True),
        ({"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}, 2, False),
        ({"observedGeneration": 2, "readyReplicas": 0, "updatedReplicas": 1}, 2, False),
        ({"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 0}, 2, False),
        ({}, 1, False),
    ],
)
def test_workload_readiness(status: dict[str, Any], generation: int, ready: bool) -> None:
    workload = Deployment.model_validate(
        {"metadata": {"name": "w", "generation": generation}, "spec": {"replicas": 1}, "status": status}
    )
    assert workload_ready(workload) is ready
