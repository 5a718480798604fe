"""The fake node provisioner: NodeClaim / Machine lifecycle, scripted failures, deletion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpers.restclient import wait_for
from kaito.api.crds import all_crds
from kaito.api.resources import MACHINE, NODE, NODECLAIM
from kaito_sim import KubeEmulator
from kaito_sim.agents import SimulatedCluster, Timings
from kaito_sim.agents.provisioner import node_name_for, quota_family

pytestmark = pytest.mark.emulator_only

FAST = Timings(node_launch=0.05, node_register=0.05, node_ready=0.05, device_plugin=0.05, termination=0.05)
GPUS = {"Standard_NC12s_v3": 2, "Standard_NC24ads_A100_v4": 1}


@pytest.fixture
async def provisioned() -> AsyncIterator[tuple[KubeEmulator, SimulatedCluster]]:
    async with KubeEmulator(crds=all_crds()) as emu, SimulatedCluster(emu, FAST, gpu_lookup=GPUS.get) as sim:
        yield emu, sim


def nodeclaim(name: str, instance_type: str = "Standard_NC12s_v3") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {
                "kaito.sh/workspace": "ws",
                "kaito.sh/workspacenamespace": "d",
                "karpenter.sh/nodepool": "kaito",
            },
        },
        "spec": {
            "requirements": [
                {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [instance_type]}
            ],
            "nodeClassRef": {"group": "kaito.sh", "kind": "KaitoNodeClass", "name": "default"},
            "taints": [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}],
            "resources": {"requests": {"storage": "120Gi"}},
        },
    }


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


async def test_nodeclaim_lifecycle(provisioned: tuple[KubeEmulator, SimulatedCluster]) -> None:
    emu, _ = provisioned
    emu.client.create(NODECLAIM, nodeclaim("ws1a2b3c4d5"))

    async def ready() -> dict[str, Any] | None:
        claim = emu.client.get(NODECLAIM, "ws1a2b3c4d5")
        return claim if conditions(claim).get("Ready", {}).get("status") == "True" else None

    claim = await wait_for(ready, "NodeClaim Ready")
    assert claim["metadata"]["finalizers"] == ["karpenter.sh/termination"]
    assert {t: c["status"] for t, c in conditions(claim).items()} == {
        "Launched": "True",
        "Registered": "True",
        "Initialized": "True",
        "Ready": "True",
    }
    assert conditions(claim)["Launched"]["reason"] == "Launched"
    node_name = node_name_for("ws1a2b3c4d5")
    assert claim["status"]["nodeName"] == node_name == "aks-ws1a2b3c4d5-12345678-vmss000000"
    assert claim["status"]["capacity"]["nvidia.com/gpu"] == "2"

    async def gpus_reported() -> dict[str, Any] | None:
        node = emu.client.get(NODE, node_name)
        return node if node["status"]["allocatable"].get("nvidia.com/gpu") == "2" else None

    node = await wait_for(gpus_reported, "device plugin reports GPUs")
    labels = node["metadata"]["labels"]
    assert labels["node.kubernetes.io/instance-type"] == "Standard_NC12s_v3"
    assert labels["agentpool"] == labels["kubernetes.azure.com/agentpool"] == "ws1a2b3c4d5"
    assert labels["kaito.sh/machine-type"] == "gpu" and labels["karpenter.sh/registered"] == "true"
    assert labels["kaito.sh/workspace"] == "ws" and labels["kubernetes.io/os"] == "linux"
    assert node["spec"]["taints"] == [{"key": "sku", "value": "gpu", "effect": "NoSchedule"}]
    assert node["spec"]["providerID"] == claim["status"]["providerID"]
    assert node["spec"]["providerID"].startswith("azure:///subscriptions/")
    assert conditions(node)["Ready"]["status"] == "True"


async def test_deleting_a_claim_deletes_its_node_then_the_claim(
    provisioned: tuple[KubeEmulator, SimulatedCluster],
) -> None:
    emu, _ = provisioned
    emu.client.create(NODECLAIM, nodeclaim("ws1"))
    node_name = node_name_for("ws1")

    async def node_exists() -> bool:
        return emu.client.try_get(NODE, node_name) is not None

    await wait_for(node_exists, "node created")
    emu.client.delete(NODECLAIM, "ws1")

    async def all_gone() -> bool:
        return emu.client.try_get(NODECLAIM, "ws1") is None and emu.client.try_get(NODE, node_name) is None

    await wait_for(all_gone, "claim and node gone")


async def test_quota_error_keeps_launched_unknown(provisioned: tuple[KubeEmulator, SimulatedCluster]) -> None:
    emu, sim = provisioned
    sim.provisioner.fail_launch_with_quota("Standard_NC12s_v3")
    emu.client.create(NODECLAIM, nodeclaim("ws2"))

    async def launch_failed() -> dict[str, Any] | None:
        launched = conditions(emu.client.get(NODECLAIM, "ws2")).get("Launched")
        return launched if launched and launched["reason"] == "LaunchFailed" else None

    launched = await wait_for(launch_failed, "LaunchFailed")
    assert launched["status"] == "Unknown"
    assert "exceeding approved standardNCSv3Family Cores quota" in launched["message"]
    assert emu.client.try_get(NODE, node_name_for("ws2")) is None
    ready = conditions(emu.client.get(NODECLAIM, "ws2"))["Ready"]
    assert ready["status"] == "Unknown" and ready["reason"] == "ReconcilingDependents"


async def test_missing_device_plugin(provisioned: tuple[KubeEmulator, SimulatedCluster]) -> None:
    emu, sim = provisioned
    sim.provisioner.without_device_plugin()
    emu.client.create(NODECLAIM, nodeclaim("ws3"))

    async def ready() -> bool:
        return conditions(emu.client.get(NODECLAIM, "ws3")).get("Ready", {}).get("status") == "True"

    await wait_for(ready, "claim ready")
    await sim.settle()
    node = emu.client.get(NODE, node_name_for("ws3"))
    assert conditions(node)["Ready"]["status"] == "True"
    assert "nvidia.com/gpu" not in node["status"]["allocatable"]


async def test_machine_lifecycle(provisioned: tuple[KubeEmulator, SimulatedCluster]) -> None:
    emu, _ = provisioned
    emu.client.create(
        MACHINE,
        {
            "metadata": {"name": "ws4"},
            "spec": {
                "requirements": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": ["Standard_NC24ads_A100_v4"],
                    }
                ],
                "machineTemplateRef": {"name": "ws4"},
            },
        },
    )

    async def ready() -> dict[str, Any] | None:
        machine = emu.client.get(MACHINE, "ws4")
        return machine if conditions(machine).get("Ready", {}).get("status") == "True" else None

    machine = await wait_for(ready, "Machine ready")
    assert set(conditions(machine)) == {"MachineLaunched", "MachineRegistered", "MachineInitialized", "Ready"}


def test_quota_family_names() -> None:
    assert quota_family("Standard_NC12s_v3") == "standardNCSv3Family"
    assert quota_family("Standard_NC24ads_A100_v4") == "standardNCADSA100v4Family"
