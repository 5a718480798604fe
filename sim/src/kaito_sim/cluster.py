"""The sandbox: the API emulator plus the simulated cluster, served on
localhost for people and real clients (kubectl, helm, the operator).

Further components (controllers) plug in with :meth:`Sandbox.add_component`;
they start after the cluster is up and stop before it goes down.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from kaito.api.resources import NODE
from kaito_sim.agents.cluster import SimulatedCluster
from kaito_sim.agents.failures import FAILURE_ANNOTATION
from kaito_sim.agents.provisioner import GpuLookup
from kaito_sim.agents.timings import Timings
from kaito_sim.emulator.server import KubeEmulator

DEFAULT_KUBECONFIG = Path("~/.kube/kaito-sandbox.yaml")
SYSTEM_NODE = "kaito-system-0"


class Component(Protocol):
    """Anything the sandbox runs alongside the cluster (e.g. the kaito controllers)."""

    async def start(self) -> Any: ...

    async def stop(self) -> None: ...


def default_crds() -> list[dict[str, Any]]:
    from kaito.api.crds import all_crds

    return all_crds()


class Sandbox:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        kubeconfig_path: str | os.PathLike[str] | None = None,
        context_name: str = "kaito-sandbox",
        crds: Iterable[dict[str, Any]] | None = None,
        timings: Timings | None = None,
        gpu_lookup: GpuLookup,
        system_node: bool = True,
    ) -> None:
        path = Path(kubeconfig_path) if kubeconfig_path is not None else DEFAULT_KUBECONFIG
        self.kubeconfig_path = path.expanduser()
        self.context_name = context_name
        self.emulator = KubeEmulator(
            crds=default_crds() if crds is None else crds,
            host=host,
            port=port,
            kubeconfig_path=self.kubeconfig_path,
            context_name=context_name,
        )
        self.cluster = SimulatedCluster(self.emulator, timings or Timings.sandbox(), gpu_lookup=gpu_lookup)
        self.components: list[Component] = []
        self._system_node = system_node

    def add_component(self, component: Component) -> None:
        self.components.append(component)

    @property
    def url(self) -> str:
        return self.emulator.url

    async def start(self) -> Sandbox:
        await self.emulator.start()
        await self.cluster.start()
        if self._system_node and self.emulator.client.try_get(NODE, SYSTEM_NODE) is None:
            self.cluster.add_node(
                SYSTEM_NODE,
                cpu="16",
                memory="64Gi",
                labels={
                    "node-role.kubernetes.io/control-plane": "",
                    "kubernetes.azure.com/mode": "system",
                    "agentpool": "system",
                },
            )
        for component in self.components:
            await component.start()
        return self

    async def stop(self) -> None:
        for component in reversed(self.components):
            await component.stop()
        await self.cluster.stop()
        await self.emulator.stop()

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then shut down cleanly."""
        async with self:
            await stop.wait()

    def usage(self) -> str:
        return (
            f"kaito sandbox: Kubernetes API at {self.url} (simulated cluster, nothing real runs)\n"
            f"kubeconfig written to {self.kubeconfig_path} (context {self.context_name})\n\n"
            f"  export KUBECONFIG={self.kubeconfig_path}\n"
            "  kubectl get nodes\n"
            "  kubectl apply -f workspace.yaml && kubectl get workspaces -w\n\n"
            "NodeClaims get simulated GPU nodes; pods run on simulated kubelets. To see a failure, "
            "annotate a "
            "pod\n"
            f"template with {FAILURE_ANNOTATION}: ImagePullBackOff | CrashLoopBackOff | OOMKilled | "
            "Unschedulable | JobFailure.\n"
            "Press Ctrl-C to stop."
        )
