"""One ``reconcile()`` at a time against the API emulator, with no simulated agents.

The end-to-end suite shows *that* a workspace converges; these tests pin down
*how*: which writes one reconcile makes, in which order, and that a reconcile
with nothing to do writes nothing. A wrong step order (say, a workload created
before its nodes are usable) fails here by name instead of as an e2e timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kaito.api.crds import all_crds
from kaito.api.resources import NODE
from kaito.api.wellknown import LABEL_INSTANCE_TYPE, NodeProvisioner
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.controllers.workspace.reconciler import WorkspaceReconciler
from kaito.controllers.workspace.setup import setup_workspace_controller
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.manager import Manager, ManagerOptions
from kaito.kube.reconcile import Request, Result
from kaito_sim.emulator import KubeEmulator

WORKSPACE = {
    "apiVersion": "kaito.sh/v1beta1",
    "kind": "Workspace",
    "metadata": {"name": "phi", "namespace": "default"},
    "resource": {"instanceType": "Standard_NC6s_v3", "labelSelector": {"matchLabels": {"apps": "phi-3"}}},
    "inference": {"preset": {"name": "phi-3-mini-4k-instruct"}},
}
WRITE_VERBS = ("create", "update", "patch", "delete")


@dataclass
class Harness:
    emulator: KubeEmulator
    client: Client
    reconciler: WorkspaceReconciler
    synced: Callable[[], Awaitable[None]]

    async def reconcile(self) -> tuple[Result, list[tuple[str, str]]]:
        """Run one reconcile once the caches show every earlier write; the (verb, resource) it wrote."""
        await self.synced()
        start = len(self.emulator.requests)
        result = await self.reconciler.reconcile(Request("phi", "default"))
        writes = [
            (r.verb, r.resource)
            for r in list(self.emulator.requests)[start:]
            if r.verb in WRITE_VERBS and r.resource != "events"
        ]
        return result, writes

    async def workspace(self) -> Workspace:
        return await self.client.get(Workspace, "phi", namespace="default")


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with KubeEmulator(crds=all_crds()) as emulator:
        client = Client(await load_rest_config(str(emulator.kubeconfig_path)), qps=None)
        manager = Manager(client, ManagerOptions(metrics_bind_address="0", health_probe_bind_address="0"))
        options = WorkspaceOptions(node_provisioner=NodeProvisioner.NODECLAIM)
        controller = setup_workspace_controller(manager, options, 1)
        reconciler = controller.reconciler
        assert isinstance(reconciler, WorkspaceReconciler)
        tasks = [asyncio.create_task(informer.run()) for informer in manager.informers]

        async def synced() -> None:
            """Wait until the caches show every earlier write: the workspace's cached resourceVersion
            is the server's, and no informer's contents move for a few polls (local watches are
            immediate, so a quiet period means nothing is in flight)."""
            await asyncio.gather(*(informer.wait_for_sync() for informer in manager.informers))
            quiet, last = 0, None
            for _ in range(400):
                stored = emulator.client.try_get(Workspace.RESOURCE, "phi", "default")
                cached = reconciler.caches.workspaces.get("phi", "default")
                in_step = (stored is None) == (cached is None) and (
                    stored is None
                    or cached is None
                    or stored["metadata"]["resourceVersion"] == cached.metadata.resource_version
                )
                state = [(len(i.store), i.last_sync_resource_version) for i in manager.informers]
                quiet = quiet + 1 if in_step and state == last else 0
                if quiet >= 3:
                    return
                last = state
                await asyncio.sleep(0.02)
            raise AssertionError("the caches did not catch up with the API server")

        try:
            yield Harness(emulator, client, reconciler, synced)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.close()


def gpu_node(name: str) -> dict[str, Any]:
    """A node as the provisioner and the NVIDIA device plugin leave it: Ready, one V100."""
    return {
        "metadata": {"name": name, "labels": {"apps": "phi-3", LABEL_INSTANCE_TYPE: "Standard_NC6s_v3"}},
        "status": {
            "capacity": {"nvidia.com/gpu": "1", "cpu": "6", "memory": "112Gi"},
            "allocatable": {"nvidia.com/gpu": "1", "cpu": "6", "memory": "112Gi"},
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
        },
    }


async def test_first_reconcile_claims_nodes_after_the_finalizer_and_revision(harness: Harness) -> None:
    harness.emulator.client.create(Workspace.RESOURCE, WORKSPACE, "default")

    result, writes = await harness.reconcile()

    assert writes == [
        ("patch", "workspaces"),  # finalizer first: nothing may exist that deletion cannot clean up
        ("create", "controllerrevisions"),
        ("patch", "workspaces"),  # revision hash and number annotations
        ("create", "nodeclaims"),
        ("patch", "workspaces/status"),
    ]
    assert result == Result()
    status = (await harness.workspace()).status
    assert status is not None and status.target_node_count == 1


async def test_a_reconcile_with_nothing_to_do_writes_nothing(harness: Harness) -> None:
    harness.emulator.client.create(Workspace.RESOURCE, WORKSPACE, "default")
    await harness.reconcile()

    _, writes = await harness.reconcile()

    assert writes == []


async def test_usable_nodes_get_labelled_then_config_services_and_workload_follow(harness: Harness) -> None:
    harness.emulator.client.create(Workspace.RESOURCE, WORKSPACE, "default")
    await harness.reconcile()
    harness.emulator.client.create(NODE, gpu_node("gpu-node-0"))

    _, labelling = await harness.reconcile()
    _, serving = await harness.reconcile()
    _, settled = await harness.reconcile()

    assert labelling == [("patch", "nodes"), ("patch", "workspaces/status")]
    assert serving == [
        ("create", "configmaps"),
        ("create", "services"),  # one Service: a single-node model needs no headless one
        ("create", "deployments"),
        ("patch", "workspaces/status"),
    ]
    assert settled == []


async def test_deletion_removes_claims_before_the_finalizer(harness: Harness) -> None:
    harness.emulator.client.create(Workspace.RESOURCE, WORKSPACE, "default")
    await harness.reconcile()
    await harness.client.delete(Workspace, "phi", "default")

    result, deleting = await harness.reconcile()
    _, released = await harness.reconcile()

    assert deleting == [("patch", "workspaces/status"), ("delete", "nodeclaims")]
    assert result.requeue_after > 0  # the claim is still going: look again, no watch will say so
    assert released == [("patch", "workspaces")]  # the finalizer, and nothing else
