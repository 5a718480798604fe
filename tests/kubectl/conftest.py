"""Fixtures that drive the real kubectl (v1.35) against a sandbox.

kubectl is looked up at ``.tools/bin/kubectl`` (``hack/install-kube-tools.sh``
puts it there) or at ``$KAITO_KUBECTL``; a missing binary fails the tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kaito_sim.agents import Timings
from kaito_sim.cluster import Sandbox

REPO = Path(__file__).resolve().parents[2]
FAST = Timings(
    image_pull=0.1,
    init_container=0.1,
    ready=0.1,
    job_run=0.3,
    crash_after=0.1,
    backoff=0.3,
    termination=0.1,
    node_launch=0.1,
    node_register=0.1,
    node_ready=0.1,
    device_plugin=0.1,
)


@dataclass
class Result:
    rc: int
    out: str
    err: str


Kubectl = Callable[..., Awaitable[Result]]


@pytest.fixture(scope="session")
def kubectl_path() -> Path:
    path = Path(os.environ.get("KAITO_KUBECTL") or REPO / ".tools" / "bin" / "kubectl")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"kubectl not found at {path}: run hack/install-kube-tools.sh (or set KAITO_KUBECTL)")
    return path


@pytest.fixture(scope="session")
def helm_path() -> Path:
    path = Path(os.environ.get("KAITO_HELM") or REPO / ".tools" / "bin" / "helm")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"helm not found at {path}: run hack/install-kube-tools.sh (or set KAITO_HELM)")
    return path


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox(
        kubeconfig_path=tmp_path / "kubeconfig", timings=FAST, gpu_lookup=lambda instance_type: 1
    ) as box:
        yield box


@pytest.fixture
def kubectl(kubectl_path: Path, sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    """Run kubectl against the sandbox without blocking the event loop that serves it."""
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(tmp_path)}

    async def run(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 60) -> Result:
        proc = await asyncio.create_subprocess_exec(
            str(kubectl_path),
            *args,
            env=env,
            stdin=asyncio.subprocess.PIPE if stdin is not None else None,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), timeout
        )
        result = Result(proc.returncode or 0, out.decode(), err.decode())
        if check and result.rc != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.rc}):\n{result.err}")
        return result

    return run
