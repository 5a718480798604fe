"""``SimulatedCluster``: every simulated agent running against one emulator."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from kaito.api.resources import NODE
from kaito_sim.agents.base import Agent
from kaito_sim.agents.deployment import DeploymentController
from kaito_sim.agents.failures import FailureScripts
from kaito_sim.agents.job import JobController
from kaito_sim.agents.kubelet import Kubelet
from kaito_sim.agents.nodes import node_conditions, node_object
from kaito_sim.agents.provisioner import GpuLookup, NodeProvisioner
from kaito_sim.agents.replicaset import ReplicaSetController
from kaito_sim.agents.scheduler import Scheduler
from kaito_sim.agents.statefulset import StatefulSetController
from kaito_sim.agents.timings import Timings
from kaito_sim.emulator.server import KubeEmulator

Obj = dict[str, Any]


class SimulatedCluster:
    """Scheduler, kubelet, workload controllers and node provisioner on ``emulator``.

    ``failures`` scripts pod failures; ``provisioner`` scripts node-provisioning problems.
    """

    def __init__(
        self, emulator: KubeEmulator, timings: Timings | None = None, *, gpu_lookup: GpuLookup
    ) -> None:
        self.emulator = emulator
        self.timings = timings or Timings()
        self.failures = FailureScripts()
        store, client = emulator.store, emulator.client
        self.scheduler = Scheduler(store, client, self.failures)
        self.kubelet = Kubelet(store, client, self.failures, self.timings)
        self.provisioner = NodeProvisioner(store, client, self.timings, gpu_lookup)
        self.agents: list[Agent] = [
            self.scheduler,
            self.kubelet,
            ReplicaSetController(store, client),
            DeploymentController(store, client),
            StatefulSetController(store, client),
            JobController(store, client),
            self.provisioner,
        ]
        self._node_count = 0

    async def start(self) -> SimulatedCluster:
        self.emulator.api.graceful_pod_deletion = True
        for agent in self.agents:
            agent.start()
        return self

    async def stop(self) -> None:
        for agent in self.agents:
            await agent.stop()
        self.emulator.api.graceful_pod_deletion = False

    async def __aenter__(self) -> SimulatedCluster:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def add_node(
        self,
        name: str,
        *,
        gpus: int = 0,
        instance_type: str | None = None,
        cpu: str = "8",
        memory: str = "32Gi",
        labels: dict[str, str] | None = None,
        taints: list[Obj] | None = None,
        ready: bool = True,
    ) -> Obj:
        """Register a Node (a kubelet joining); ``gpus`` > 0 reports ``nvidia.com/gpu``."""
        self._node_count += 1
        node = node_object(
            name,
            index=self._node_count,
            gpus=gpus,
            cpu=cpu,
            memory=memory,
            labels=labels,
            taints=taints,
            ready=ready,
            instance_type=instance_type,
        )
        return self.emulator.client.create(NODE, node)

    def set_node_ready(self, name: str, ready: bool) -> Obj:
        node = self.emulator.client.get(NODE, name)
        node["status"]["conditions"] = node_conditions(ready)
        return self.emulator.client.update(NODE, node, status=True)

    def idle(self) -> bool:
        return all(agent.idle() for agent in self.agents)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until no agent has queued work (delayed steps may still be pending on timers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.idle() and loop.time() < deadline:
            await asyncio.sleep(0.01)
