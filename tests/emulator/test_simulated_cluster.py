"""The KWOK-style agents: scheduling, pod lifecycle, workloads and scripted failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpers.restclient import wait_for
from kaito.api.resources import DEPLOYMENT, EVENT, JOB, POD, STATEFULSET
from kaito_sim import KubeEmulator
from kaito_sim.agents import FAILURE_ANNOTATION, Failure, SimulatedCluster, Timings

pytestmark = pytest.mark.emulator_only

NS = "default"
FAST = Timings(
    image_pull=0.05,
    init_container=0.05,
    ready=0.05,
    job_run=0.1,
    crash_after=0.05,
    backoff=0.1,
    termination=0.05,
)


@pytest.fixture
async def sim(emu: KubeEmulator) -> AsyncIterator[SimulatedCluster]:
    async with SimulatedCluster(emu, FAST, gpu_lookup=lambda _: 1) as cluster:
        yield cluster


def template(
    labels: dict[str, str],
    gpus: int = 0,
    annotations: dict[str, str] | None = None,
    restart: str = "Always",
    **spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "ghcr.io/kaito/model:1"}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    meta: dict[str, Any] = {"labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta, "spec": {"containers": [container], "restartPolicy": restart, **spec}}


def pods(emu: KubeEmulator, selector: str) -> list[dict[str, Any]]:
    return emu.client.list(POD, NS, label_selector=selector)


async def test_deployment_becomes_available(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a", gpus=2)
    emu.client.create(
        DEPLOYMENT,
        {
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": template({"app": "web"}, gpus=1),
            },
        },
    )

    async def available() -> dict[str, Any] | None:
        status = emu.client.get(DEPLOYMENT, "web", NS).get("status") or {}
        return status if status.get("availableReplicas") == 2 else None

    status = await wait_for(available, "deployment available")
    assert (
        status["readyReplicas"] == 2 and status["updatedReplicas"] == 2 and status["observedGeneration"] == 1
    )
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Available": "True",
        "Progressing": "True",
    }
    running = pods(emu, "app=web")
    assert all(p["status"]["phase"] == "Running" and p["status"]["podIP"] for p in running)
    assert all(p["spec"]["nodeName"] == "node-a" for p in running)
    conditions = {c["type"]: c["status"] for c in running[0]["status"]["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    assert running[0]["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]


async def test_rolling_a_new_template_replaces_pods(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a", cpu="16")
    emu.client.create(
        DEPLOYMENT,
        {
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": template({"app": "web"}),
            },
        },
    )

    async def ready(image: str) -> bool:
        current = pods(emu, "app=web")
        return len(current) == 2 and all(
            p["spec"]["containers"][0]["image"] == image and p["status"].get("phase") == "Running"
            for p in current
        )

    await wait_for(lambda: ready("ghcr.io/kaito/model:1"), "first rollout")
    deploy = emu.client.get(DEPLOYMENT, "web", NS)
    deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/kaito/model:2"
    emu.client.update(DEPLOYMENT, deploy)
    await wait_for(lambda: ready("ghcr.io/kaito/model:2"), "second rollout")
    status = emu.client.get(DEPLOYMENT, "web", NS)["status"]
    assert status["observedGeneration"] == 2


async def test_statefulset_pods_are_ordered_and_labelled(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a")
    emu.client.create(
        STATEFULSET,
        {
            "metadata": {"name": "llm", "namespace": NS},
            "spec": {
                "replicas": 3,
                "serviceName": "llm-headless",
                "selector": {"matchLabels": {"app": "llm"}},
                "template": template({"app": "llm"}, initContainers=[{"name": "fetch", "image": "oras:1"}]),
            },
        },
    )

    async def all_ready() -> dict[str, Any] | None:
        status = emu.client.get(STATEFULSET, "llm", NS).get("status") or {}
        return status if status.get("readyReplicas") == 3 else None

    status = await wait_for(all_ready, "statefulset ready")
    assert status["currentRevision"] == status["updateRevision"]
    members = sorted(pods(emu, "app=llm"), key=lambda p: p["metadata"]["name"])
    assert [p["metadata"]["name"] for p in members] == ["llm-0", "llm-1", "llm-2"]
    labels = members[1]["metadata"]["labels"]
    assert (
        labels["statefulset.kubernetes.io/pod-name"] == "llm-1"
        and labels["apps.kubernetes.io/pod-index"] == "1"
    )
    assert members[1]["spec"]["hostname"] == "llm-1" and members[1]["spec"]["subdomain"] == "llm-headless"
    init = members[0]["status"]["initContainerStatuses"][0]
    assert init["state"]["terminated"]["reason"] == "Completed"
    created = [p["metadata"]["creationTimestamp"] for p in members]
    assert created == sorted(created)


async def test_job_completes(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a")
    emu.client.create(
        JOB,
        {"metadata": {"name": "tune", "namespace": NS}, "spec": {"template": template({}, restart="Never")}},
    )

    async def complete() -> dict[str, Any] | None:
        status = emu.client.get(JOB, "tune", NS).get("status") or {}
        types = {c["type"] for c in status.get("conditions") or [] if c["status"] == "True"}
        return status if "Complete" in types else None

    status = await wait_for(complete, "job complete")
    assert status["succeeded"] == 1 and status["active"] == 0 and status["completionTime"]
    assert pods(emu, "batch.kubernetes.io/job-name=tune")[0]["status"]["phase"] == "Succeeded"


async def test_job_failure_respects_backoff_limit(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a")
    emu.client.create(
        JOB,
        {
            "metadata": {"name": "tune", "namespace": NS},
            "spec": {
                "backoffLimit": 1,
                "template": template({}, restart="Never", annotations={FAILURE_ANNOTATION: "JobFailure"}),
            },
        },
    )

    async def failed() -> dict[str, Any] | None:
        status = emu.client.get(JOB, "tune", NS).get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        return status if "Failed" in conditions else None

    status = await wait_for(failed, "job failed")
    assert status["failed"] == 2
    failed_condition = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed_condition["reason"] == "BackoffLimitExceeded"


async def test_unschedulable_pod_gets_the_scheduler_message(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("cpu-1")
    sim.add_node("gpu-1", gpus=1, taints=[{"key": "sku", "value": "gpu", "effect": "NoSchedule"}])
    sim.add_node("gpu-2", gpus=1, labels={"pool": "other"})
    emu.client.create(
        POD,
        {
            "metadata": {"name": "big", "namespace": NS},
            "spec": {
                "containers": [
                    {"name": "c", "image": "x:1", "resources": {"limits": {"nvidia.com/gpu": "2"}}}
                ],
                "nodeSelector": {"pool": "other"},
            },
        },
    )

    async def unschedulable() -> dict[str, Any] | None:
        pod = emu.client.get(POD, "big", NS)
        cond = next((c for c in pod["status"].get("conditions") or [] if c["type"] == "PodScheduled"), None)
        return cond if cond and cond["status"] == "False" else None

    cond = await wait_for(unschedulable, "unschedulable condition")
    assert cond["reason"] == "Unschedulable"
    assert cond["message"] == (
        "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."
    )
    events = emu.client.list(EVENT, NS, field_selector="involvedObject.name=big,reason=FailedScheduling")
    assert events and events[0]["type"] == "Warning"


async def test_tolerations_and_affinity_allow_scheduling(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node(
        "gpu-1",
        gpus=1,
        instance_type="Standard_NC6s_v3",
        taints=[{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
    )
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "node.kubernetes.io/instance-type",
                                "operator": "In",
                                "values": ["Standard_NC6s_v3"],
                            }
                        ]
                    }
                ]
            }
        }
    }
    emu.client.create(
        POD,
        {
            "metadata": {"name": "p", "namespace": NS},
            "spec": {
                "containers": [
                    {"name": "c", "image": "x:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}
                ],
                "tolerations": [{"key": "sku", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
                "affinity": affinity,
            },
        },
    )

    async def bound() -> bool:
        return emu.client.get(POD, "p", NS)["spec"].get("nodeName") == "gpu-1"

    await wait_for(bound, "pod bound to the GPU node")


@pytest.mark.parametrize("failure", [Failure.CRASH_LOOP_BACKOFF, Failure.OOM_KILLED])
async def test_crash_loops(emu: KubeEmulator, sim: SimulatedCluster, failure: Failure) -> None:
    sim.add_node("node-a")
    sim.failures.add(failure, labels={"app": "bad"})
    emu.client.create(
        POD,
        {
            "metadata": {"name": "bad", "namespace": NS, "labels": {"app": "bad"}},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]},
        },
    )

    async def restarted_twice() -> dict[str, Any] | None:
        statuses = emu.client.get(POD, "bad", NS)["status"].get("containerStatuses") or []
        return statuses[0] if statuses and statuses[0]["restartCount"] >= 2 else None

    status = await wait_for(restarted_twice, "restarts")
    terminated = status["lastState"]["terminated"]
    if failure == Failure.OOM_KILLED:
        assert terminated["reason"] == "OOMKilled" and terminated["exitCode"] == 137
    else:
        assert terminated["reason"] == "Error" and terminated["exitCode"] == 1

    async def backing_off() -> bool:
        current = emu.client.get(POD, "bad", NS)["status"]["containerStatuses"][0]["state"]
        return (current.get("waiting") or {}).get("reason") == "CrashLoopBackOff"

    await wait_for(backing_off, "CrashLoopBackOff")


async def test_image_pull_backoff(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a")
    emu.client.create(
        POD,
        {
            "metadata": {
                "name": "p",
                "namespace": NS,
                "annotations": {FAILURE_ANNOTATION: "ImagePullBackOff"},
            },
            "spec": {"containers": [{"name": "c", "image": "nosuch/image:1"}]},
        },
    )
    reasons: set[str] = set()

    async def both_reasons() -> bool:
        state = (emu.client.get(POD, "p", NS)["status"].get("containerStatuses") or [{}])[0].get(
            "state"
        ) or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
            reasons.add(waiting["reason"])
            if waiting["reason"] == "ErrImagePull":
                assert 'failed to pull and unpack image "docker.io/nosuch/image:1"' in waiting["message"]
        return reasons == {"ErrImagePull", "ImagePullBackOff"}

    await wait_for(both_reasons, "ErrImagePull then ImagePullBackOff")
    assert emu.client.get(POD, "p", NS)["status"]["phase"] == "Pending"


async def test_graceful_pod_deletion(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    sim.add_node("node-a")
    emu.client.create(
        POD,
        {"metadata": {"name": "p", "namespace": NS}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}},
    )

    async def running() -> bool:
        return emu.client.get(POD, "p", NS)["status"].get("phase") == "Running"

    await wait_for(running, "pod running")
    deleting = emu.client.delete(POD, "p", NS)
    assert (
        deleting["metadata"]["deletionTimestamp"] and deleting["metadata"]["deletionGracePeriodSeconds"] == 30
    )

    async def gone() -> bool:
        return emu.client.try_get(POD, "p", NS) is None

    await wait_for(gone, "pod gone")


async def test_pods_of_a_removed_node_go_away(emu: KubeEmulator, sim: SimulatedCluster) -> None:
    from kaito.api.resources import NODE

    sim.add_node("node-a")
    emu.client.create(
        POD,
        {"metadata": {"name": "p", "namespace": NS}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}},
    )

    async def bound() -> bool:
        return bool(emu.client.get(POD, "p", NS)["spec"].get("nodeName"))

    await wait_for(bound, "pod bound")
    emu.client.delete(NODE, "node-a")

    async def gone() -> bool:
        return emu.client.try_get(POD, "p", NS) is None

    await wait_for(gone, "pod removed with its node")
