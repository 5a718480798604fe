"""Inference end to end: Workspace in, GPU nodes, model server and Service out, on the simulated cluster."""

from __future__ import annotations

from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kaito.api.core import ConfigMap, ControllerRevision, Deployment, Event, Node, Pod, Service, StatefulSet
from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.scheme import decode
from kaito.api.wellknown import NodeProvisioner
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.kube.metrics import REGISTRY
from kaito_sim import Failure

from .conftest import Cluster, eventually, example

WORKSPACE_LABELS = {"kaito.sh/workspace": "workspace-phi-3-mini", "kaito.sh/workspacenamespace": "default"}


async def apply(cluster: Cluster, doc: dict[str, Any]) -> Workspace:
    """Create the workspace in the version the manifest is written in."""
    workspace = decode(doc)
    assert isinstance(workspace, Workspace)
    return await cluster.client.create(workspace)


async def claims_of(
    cluster: Cluster, name: str, model: type[NodeClaim] | type[Machine] = NodeClaim
) -> list[Any]:
    found = await cluster.client.list(model, label_selector={"kaito.sh/workspace": name})
    return list(found.items)


async def test_phi3_example_reaches_succeeded_with_nodeclaim_workload_and_service(cluster: Cluster) -> None:
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")

    assert ws.status is not None and ws.status.state == "Ready" and ws.status.target_node_count == 1
    for condition in ("ResourceReady", "NodeClaimReady", "InferenceReady"):
        assert ws.condition_is_true(condition), condition
    assert FINALIZER in (ws.metadata.finalizers or [])
    assert (
        ws.annotations["workspace.kaito.io/revision"] == "1"
        and len(ws.annotations["workspace.kaito.io/hash"]) == 64
    )
    stamps = ws.status.phase_timestamps
    assert stamps is not None and None not in (
        stamps.accepted,
        stamps.nodes_ready,
        stamps.workload_created,
        stamps.inference_ready,
    )

    (claim,) = await claims_of(cluster, "workspace-phi-3-mini")
    expected = {"apps": "phi-3", "karpenter.sh/nodepool": "kaito", **WORKSPACE_LABELS}
    assert expected.items() <= claim.metadata.labels.items()
    # As Karpenter does at launch, single-value requirements became labels too.
    assert claim.metadata.labels["node.kubernetes.io/instance-type"] == "Standard_NC6s_v3"
    assert claim.spec.taints[0].to_dict() == {"key": "sku", "value": "gpu", "effect": "NoSchedule"}
    assert ws.status.worker_nodes == [claim.node_name]
    node = await cluster.client.get(Node, claim.node_name)
    assert (node.metadata.labels or {})["accelerator"] == "nvidia"

    deployment = await cluster.client.get(Deployment, "workspace-phi-3-mini", "default")
    pod_spec = (deployment.spec or {})["template"]["spec"]
    (main,) = pod_spec["containers"]
    assert main["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert main["ports"][0]["containerPort"] == 5000 and "--runtime=transformers" in main["args"]
    assert pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchFields"] == [{"key": "metadata.name", "operator": "In", "values": [claim.node_name]}]
    assert {t["key"] for t in pod_spec["tolerations"]} == {"nvidia.com/gpu", "sku"}

    service = await cluster.client.get(Service, "workspace-phi-3-mini", "default")
    assert [(p["name"], p["port"], p["targetPort"]) for p in (service.spec or {})["ports"]] == [
        ("http", 80, 5000),
        ("torch", 29500, 29500),
    ]
    assert (service.spec or {})["type"] == "ClusterIP" and (service.spec or {})["clusterIP"]
    pods = await cluster.client.list(
        Pod, "default", label_selector={"kaito.sh/workspace": "workspace-phi-3-mini"}
    )
    assert [p.to_dict()["spec"]["nodeName"] for p in pods.items] == [claim.node_name]
    revisions = await cluster.client.list(ControllerRevision, "default")
    assert [r.revision for r in revisions.items] == [1]
    await cluster.client.get(ConfigMap, "workspace-phi-3-mini-inference-params", "default")


async def test_v1beta1_example_on_an_a100_is_served_by_vllm(cluster: Cluster) -> None:
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.5-instruct.yaml"))
    await cluster.wait_for_condition("workspace-phi-3-5-mini", "WorkspaceSucceeded")
    deployment = await cluster.client.get(Deployment, "workspace-phi-3-5-mini", "default")
    (main,) = (deployment.spec or {})["template"]["spec"]["containers"]
    assert "--runtime=vllm" in main["args"] and "--served-model-name=phi-3.5-mini-instruct" in main["args"]


async def test_adapters_roll_out_as_a_new_revision(cluster: Cluster) -> None:
    await cluster.start_operator()
    doc = example("inference/kaito_workspace_phi_3_with_adapters.yaml")
    await apply(cluster, doc)
    ws = await cluster.wait_for_condition("workspace-phi-3-mini-adapter", "WorkspaceSucceeded")
    deployment = await cluster.client.get(Deployment, ws.name, "default")
    (init,) = (deployment.spec or {})["template"]["spec"]["initContainers"]
    assert init["image"] == "myregistry.azurecr.io/phi-3-adapter:0.0.1"

    ws.inference.adapters[0].source.image = "myregistry.azurecr.io/phi-3-adapter:0.0.2"  # type: ignore[index,union-attr]
    await cluster.client.update(ws)

    async def rolled() -> Deployment | None:
        current = await cluster.client.get(Deployment, ws.name, "default")
        containers = (current.spec or {})["template"]["spec"]["initContainers"]
        revision = (current.metadata.annotations or {}).get("workspace.kaito.io/revision")
        return current if containers[0]["image"].endswith(":0.0.2") and revision == "2" else None

    await eventually(rolled, what="deployment rolled to revision 2")
    ws = await cluster.wait_for_condition(ws.name, "WorkspaceSucceeded")
    assert ws.annotations["workspace.kaito.io/revision"] == "2"
    revisions = await cluster.client.list(
        ControllerRevision, "default", label_selector={"workspace.kaito.io/name": ws.name}
    )
    assert sorted(r.revision for r in revisions.items) == [1, 2]


async def test_a_quota_error_on_the_nodeclaim_shows_on_the_workspace(cluster: Cluster) -> None:
    cluster.sandbox.cluster.provisioner.fail_launch_with_quota("Standard_NC6s_v3")
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition(
        "workspace-phi-3-mini", "ResourceReady", "False", reason="LaunchFailed"
    )
    resource = ws.condition("ResourceReady")
    assert resource is not None and "quota" in (resource.message or "")
    claim_condition = ws.condition("NodeClaimReady")
    assert claim_condition is not None and claim_condition.reason == "LaunchFailed"
    events = await cluster.client.list(Event, "default", field_selector={"involvedObject.name": ws.name})
    assert any(e.reason == "LaunchFailed" and e.type == "Warning" for e in events.items)


async def test_a_crash_looping_pod_shows(cluster: Cluster) -> None:
    cluster.sandbox.cluster.failures.add(
        Failure.CRASH_LOOP_BACKOFF, labels={"kaito.sh/workspace": "workspace-phi-3-mini"}
    )
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition(
        "workspace-phi-3-mini", "InferenceReady", "False", reason="ContainerCrashLoopBackOff"
    )
    inference = ws.condition("InferenceReady")
    assert inference is not None and "crash-looping" in (inference.message or "")
    assert ws.status is not None and ws.status.state == "Pending"


async def test_a_node_without_gpus_is_named_after_the_deadline(cluster: Cluster) -> None:
    cluster.sandbox.cluster.provisioner.without_device_plugin()
    await cluster.start_operator(WorkspaceOptions(gpu_ready_deadline_seconds=1.0))
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition(
        "workspace-phi-3-mini", "ResourceReady", "False", reason="NodePluginsNotReady"
    )
    resource = ws.condition("ResourceReady")
    assert resource is not None
    assert "is Ready but reports 0 nvidia.com/gpu after" in (resource.message or "")
    assert "is the NVIDIA device plugin running on it?" in (resource.message or "")


async def test_delete_removes_everything_the_workspace_created(cluster: Cluster) -> None:
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    (claim,) = await claims_of(cluster, "workspace-phi-3-mini")
    bystander = "gpu-bystander"
    cluster.sandbox.cluster.add_node(
        bystander, gpus=1, instance_type="Standard_NC6s_v3", labels={"apps": "other"}
    )

    await cluster.client.delete(Workspace, "workspace-phi-3-mini", "default")

    async def gone() -> bool:
        remaining = await cluster.client.list(Workspace, "default")
        return not remaining.items

    await eventually(gone, what="workspace deleted")
    assert await claims_of(cluster, "workspace-phi-3-mini") == []
    names = {n.name for n in (await cluster.client.list(Node)).items}
    assert claim.node_name not in names and bystander in names

    async def collected() -> bool:
        kinds: list[type[Any]] = [Deployment, Service, ConfigMap, ControllerRevision, Pod]
        for model in kinds:
            items = (
                await cluster.client.list(
                    model, "default", label_selector={"kaito.sh/workspace": "workspace-phi-3-mini"}
                )
            ).items
            if model is ControllerRevision:
                items = (await cluster.client.list(model, "default")).items
            if items:
                return False
        return True

    await eventually(collected, what="owned objects garbage-collected")


async def test_restarting_the_controller_mid_flight_creates_no_duplicates(cluster: Cluster) -> None:
    doc = example("inference/kaito_workspace_phi_3.yaml")
    doc["resource"]["count"] = 2
    await cluster.start_operator()
    await apply(cluster, doc)
    await eventually(lambda: claims_of(cluster, "workspace-phi-3-mini"), what="first claims")
    await cluster.stop_operator()
    await cluster.start_operator()
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    await cluster.stop_operator()
    await cluster.start_operator()
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    assert len(await claims_of(cluster, "workspace-phi-3-mini")) == 2
    deployments = await cluster.client.list(Deployment, "default")
    assert [d.name for d in deployments.items] == ["workspace-phi-3-mini"]
    assert (deployments.items[0].spec or {})["replicas"] == 2


async def test_dropped_watches_and_injected_conflicts_still_converge(cluster: Cluster) -> None:
    faults = cluster.sandbox.emulator.faults
    faults.inject(409, rate=0.3, verbs={"update", "patch"}, seed=7)
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    for _ in range(3):
        await eventually(lambda: _dropped(faults), what="watches to drop")
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded", timeout=60)
    faults.clear()
    assert len(await claims_of(cluster, "workspace-phi-3-mini")) == 1


async def _dropped(faults: Any) -> bool:
    return bool(faults.drop_watches())


async def test_machines_with_the_machine_provisioner(cluster: Cluster) -> None:
    await cluster.start_operator(WorkspaceOptions(node_provisioner=NodeProvisioner.MACHINE))
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    assert ws.condition_is_true("MachineReady") and ws.condition("NodeClaimReady") is None
    (machine,) = await claims_of(cluster, "workspace-phi-3-mini", Machine)
    assert machine.metadata.labels["karpenter.sh/provisioner-name"] == "default"
    assert await claims_of(cluster, "workspace-phi-3-mini") == []


async def test_bring_your_own_nodes(cluster: Cluster) -> None:
    await cluster.start_operator(WorkspaceOptions(node_provisioner=NodeProvisioner.BYO))
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    ws = await cluster.wait_for_condition("workspace-phi-3-mini", "ResourceReady", "False")
    assert ws.condition("NodeClaimReady") is None
    cluster.sandbox.cluster.add_node(
        "my-v100", gpus=1, instance_type="Standard_NC6s_v3", labels={"apps": "phi-3"}
    )
    ws = await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    assert ws.status is not None and ws.status.worker_nodes == ["my-v100"]
    assert await claims_of(cluster, "workspace-phi-3-mini") == []


async def test_a_model_spanning_two_nodes_runs_as_a_statefulset(cluster: Cluster) -> None:
    await cluster.start_operator()
    doc = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "llama-70b", "namespace": "default"},
        "resource": {
            "instanceType": "Standard_NC24ads_A100_v4",
            "labelSelector": {"matchLabels": {"apps": "llama"}},
        },
        "inference": {
            "preset": {"name": "llama-3.3-70b-instruct", "presetOptions": {"modelAccessSecret": "hf-token"}}
        },
    }
    await apply(cluster, doc)
    ws = await cluster.wait_for_condition("llama-70b", "WorkspaceSucceeded")
    assert (
        ws.status is not None and ws.status.target_node_count == 2 and len(ws.status.worker_nodes or []) == 2
    )
    statefulset = await cluster.client.get(StatefulSet, "llama-70b", "default")
    assert (statefulset.spec or {})["replicas"] == 2
    headless = await cluster.client.get(Service, "llama-70b-headless", "default")
    assert (headless.spec or {})["clusterIP"] == "None"
    assert len(await claims_of(cluster, "llama-70b")) == 2


async def test_a_template_workspace_gets_the_same_service_and_status(cluster: Cluster) -> None:
    await cluster.start_operator()
    doc = {
        "apiVersion": "kaito.sh/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "custom-llm", "namespace": "default"},
        "resource": {
            "instanceType": "Standard_NC6s_v3",
            "labelSelector": {"matchLabels": {"apps": "custom"}},
        },
        "inference": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "server", "image": "r.io/llm:1", "ports": [{"containerPort": 5000}]}
                    ]
                }
            }
        },
    }
    await apply(cluster, doc)
    await cluster.wait_for_condition("custom-llm", "WorkspaceSucceeded")
    service = await cluster.client.get(Service, "custom-llm", "default")
    assert (service.spec or {})["selector"] == {"kaito.sh/workspace": "custom-llm"}


async def test_load_balancer_annotation(cluster: Cluster) -> None:
    await cluster.start_operator()
    doc = example("inference/kaito_workspace_phi_3.yaml")
    doc["metadata"]["annotations"] = {"kaito.sh/enablelb": "True"}
    await apply(cluster, doc)
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    service = await cluster.client.get(Service, "workspace-phi-3-mini", "default")
    assert (service.spec or {})["type"] == "LoadBalancer"


FINALIZER = "workspace.finalizer.kaito.sh"


async def test_apply_to_ready_is_measured(cluster: Cluster) -> None:
    def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(generate_latest(REGISTRY).decode())
            for s in family.samples
        }

    key = ("kaito_workspace_time_to_ready_seconds_count", (("preset", "phi-3-mini-4k-instruct"),))
    before = samples().get(key, 0.0)
    await cluster.start_operator()
    await apply(cluster, example("inference/kaito_workspace_phi_3.yaml"))
    await cluster.wait_for_condition("workspace-phi-3-mini", "WorkspaceSucceeded")
    after = samples()
    assert after[key] == before + 1
    assert after[("kaito_workspace_count", (("phase", "succeeded"),))] >= 1
