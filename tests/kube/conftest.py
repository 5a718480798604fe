"""Shared fixtures for the controller-runtime tests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Protocol

import pytest

from kaito.api.crds import all_crds
from kaito.api.workspace import Workspace
from kaito.kube.client import Client
from kaito.kube.config import RestConfig, load_rest_config

if TYPE_CHECKING:
    from kaito_sim import KubeEmulator

_names = itertools.count()


class Eventually(Protocol):
    async def __call__(
        self, condition: Callable[[], bool], timeout: float = 30.0, what: str = ""
    ) -> None: ...


async def _eventually(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; generous timeouts keep a loaded machine from failing tests."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {what or condition}")
        await asyncio.sleep(0.005)


@pytest.fixture
def eventually() -> Eventually:
    return _eventually


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A metric-label-safe name no other test uses (metrics are process-global)."""
    return f"{request.node.name.replace('[', '-').replace(']', '')[:40]}-{next(_names)}"


@pytest.fixture
async def emulator() -> AsyncIterator[KubeEmulator]:
    from kaito_sim import KubeEmulator

    async with KubeEmulator(crds=all_crds()) as emu:
        yield emu


@pytest.fixture
async def rest_config(emulator: KubeEmulator) -> RestConfig:
    return await load_rest_config(str(emulator.kubeconfig_path))


@pytest.fixture
async def client(rest_config: RestConfig) -> AsyncIterator[Client]:
    async with Client(rest_config, qps=None) as c:
        yield c


def workspace(name: str, namespace: str = "default", **labels: str) -> Workspace:
    return Workspace.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace, "labels": labels or None},
            "resource": {
                "instanceType": "Standard_NC24ads_A100_v4",
                "labelSelector": {"matchLabels": {"a": "b"}},
            },
            "inference": {"preset": {"name": "phi-3.5-mini-instruct"}},
        }
    )


@pytest.fixture
def make_workspace() -> Callable[..., Workspace]:
    return workspace
