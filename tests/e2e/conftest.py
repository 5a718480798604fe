"""A simulated cluster (API emulator, kubelets, fake GPU provisioner) with the kaito operator running on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kaito.api.workspace import Workspace
from kaito.controllers.workspace.options import WorkspaceOptions
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.logging import configure_logging
from kaito.operator import controllers as setup
from kaito.operator.embedded import Operator
from kaito.presets.skus import sku_gpu_count
from kaito_sim import Sandbox, Timings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLACEHOLDERS = {
    "ACR_REPO_HERE.azurecr.io/IMAGE_NAME_HERE:0.0.1": "myregistry.azurecr.io/phi-3-adapter:0.0.1",
    "ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1": "myregistry.azurecr.io/phi-3-adapter:0.0.1",
    "ACR_REGISTRY_SECRET_HERE": "acr-push-secret",
}
T = TypeVar("T")


def example(relative: str) -> dict[str, Any]:
    text = (EXAMPLES / relative).read_text()
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    doc: dict[str, Any] = yaml.safe_load(text)
    doc["metadata"].setdefault("namespace", "default")
    return doc


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 30.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last value {last!r}")


@dataclass
class Cluster:
    sandbox: Sandbox
    client: Client
    kubeconfig: Path
    operator: Operator | None = None

    async def start_operator(self, options: WorkspaceOptions | None = None) -> Operator:
        self.operator = Operator(self.kubeconfig, setup.SetupOptions(workspace=options or WorkspaceOptions()))
        await self.operator.start()
        return self.operator

    async def stop_operator(self) -> None:
        if self.operator is not None:
            await self.operator.stop()
            self.operator = None

    async def workspace(self, name: str, namespace: str = "default") -> Workspace:
        return await self.client.get(Workspace, name, namespace)

    async def wait_for_condition(
        self,
        name: str,
        condition: str,
        status: str = "True",
        reason: str | None = None,
        timeout: float = 30.0,
    ) -> Workspace:
        async def check() -> Workspace | None:
            ws = await self.workspace(name)
            found = ws.condition(condition)
            if found is not None and found.status == status and (reason is None or found.reason == reason):
                return ws
            return None

        return await eventually(check, timeout, f"{name} {condition}={status} {reason or ''}")


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    configure_logging("console", "warning")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    kubeconfig = tmp_path / "kubeconfig"
    async with (
        Sandbox(port=0, kubeconfig_path=kubeconfig, timings=Timings(), gpu_lookup=sku_gpu_count) as sandbox,
        Client(await load_rest_config(str(kubeconfig)), qps=None) as client,
    ):
        harness = Cluster(sandbox, client, kubeconfig)
        try:
            yield harness
        finally:
            await harness.stop_operator()
