"""``kaito controller``: flag errors exit 2; against the emulator it serves probes and metrics,
stops cleanly on SIGTERM, and two replicas with --leader-elect hand over when the leader is killed."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kaito.api.resources import LEASE
from kaito.cli import controller as controller_cli

LEASE_NAME = "kaito-cli-test"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kaito")
    controller_cli.register(parser.add_subparsers())
    return parser.parse_args(["controller", *argv])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--controllers", "bogus"], "unknown controller 'bogus' (available: "),
        (["--controllers", "nodeclaim"], "controller 'nodeclaim' is not available yet"),
        (["--controllers", ","], "expected a comma-separated list"),
        (["--concurrent-reconciles", "0"], "must be at least 1"),
        (["--metrics-bind-address", "8080"], "must be HOST:PORT, :PORT or 0"),
        (["--health-probe-bind-address", ":99999"], "port out of range"),
        (["--leader-election-lease-duration", "soon"], "expected a duration"),
        (["--log-format", "xml"], "invalid choice"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_durations_accept_units() -> None:
    args = parse(
        "--leader-election-lease-duration",
        "1m",
        "--leader-election-renew-deadline",
        "1500ms",
        "--leader-election-retry-period",
        "0.5s",
    )
    assert (args.leader_election_lease_duration, args.leader_election_renew_deadline) == (60.0, 1.5)
    assert args.leader_election_retry_period == 0.5
    defaults = parse()
    assert defaults.metrics_bind_address == ":8080" and defaults.health_probe_bind_address == ":8081"
    assert defaults.concurrent_reconciles == 5 and defaults.leader_election_id == "ef60f9b0.io"
    assert defaults.log_format == "json" and defaults.controllers is None


def unreachable_kubeconfig(tmp_path: Path) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "current-context: x\n"
    )
    return str(path)


def test_inconsistent_leader_election_timings_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--kubeconfig", unreachable_kubeconfig(tmp_path), "--leader-elect",
                 "--leader-election-renew-deadline", "20s")  # fmt: skip
    assert controller_cli.run(args) == 2
    assert "lease duration must be greater than the renew deadline" in capsys.readouterr().err


def test_leader_election_outside_a_cluster_needs_a_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse("--kubeconfig", unreachable_kubeconfig(tmp_path), "--leader-elect")
    assert controller_cli.run(args) == 2
    assert "leader election needs a namespace" in capsys.readouterr().err


def test_a_missing_kubeconfig_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert controller_cli.run(parse("--kubeconfig", str(tmp_path / "nope"))) == 2
    assert "does not exist" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A ``kaito controller`` subprocess whose JSON log lines are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process, health: int, metrics: int) -> None:
        self.proc = proc
        self.health = health
        self.metrics = metrics
        self.logs: list[dict[str, Any]] = []
        self.raw: list[str] = []
        assert proc.stderr is not None
        self._reader = asyncio.create_task(self._read(proc.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").strip()
            self.raw.append(text)
            try:
                self.logs.append(json.loads(text))
            except ValueError:
                continue

    def logged(self, event: str) -> bool:
        return any(entry.get("event") == event for entry in self.logs)

    async def finish(self, timeout: float = 60) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout=timeout)
        await asyncio.wait_for(self._reader, timeout=timeout)
        return code


@asynccontextmanager
async def kaito_controller(kubeconfig: Path, *extra: str) -> AsyncIterator[Process]:
    health, metrics = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kaito", "controller",
        "--kubeconfig", str(kubeconfig),
        "--health-probe-bind-address", f"127.0.0.1:{health}",
        "--metrics-bind-address", f"127.0.0.1:{metrics}",
        *extra,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    process = Process(proc, health, metrics)
    try:
        yield process
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def get(url: str) -> tuple[int, str]:
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.text()
    except aiohttp.ClientError:
        return 0, ""


async def wait_ready(process: Process, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while (await get(f"http://127.0.0.1:{process.health}/readyz"))[0] != 200:
            assert process.proc.returncode is None, "\n".join(process.raw)
            await asyncio.sleep(0.1)


def lease_holder(emulator: Any) -> str:
    lease = emulator.client.try_get(LEASE, LEASE_NAME, "default")
    return ((lease or {}).get("spec") or {}).get("holderIdentity", "")


async def test_serves_probes_and_metrics_then_stops_cleanly_on_sigterm(emulator: Any) -> None:
    async with kaito_controller(
        emulator.kubeconfig_path, "--leader-elect", "--leader-election-id", LEASE_NAME,
        "--leader-election-namespace", "default",
    ) as process:  # fmt: skip
        await wait_ready(process)
        assert await get(f"http://127.0.0.1:{process.health}/healthz") == (200, "ok")
        status, metrics = await get(f"http://127.0.0.1:{process.metrics}/metrics")
        assert status == 200
        assert f'leader_election_master_status{{name="{LEASE_NAME}"}}' in metrics
        assert "rest_client_requests_total{" in metrics and "_created" not in metrics
        async with asyncio.timeout(60):
            while not lease_holder(emulator):
                await asyncio.sleep(0.1)
        agents = {r.user_agent for r in emulator.requests.filter(resource="leases")}
        assert agents == {"kaito-controller/0.1.0"}
        process.proc.send_signal(signal.SIGTERM)
        assert await process.finish() == 0, "\n".join(process.raw)
    assert process.logged("shut down cleanly") and process.logged("released lease")
    assert lease_holder(emulator) == "", "the lease is handed back on shutdown"
    assert all(entry.get("level") for entry in process.logs), "every log line is JSON with a level"


async def test_leader_killed_the_standby_takes_over(emulator: Any) -> None:
    timing = ("--leader-election-lease-duration", "3s", "--leader-election-renew-deadline", "2s",
              "--leader-election-retry-period", "0.5s")  # fmt: skip
    common = ("--leader-elect", "--leader-election-id", LEASE_NAME, "--leader-election-namespace", "default",
              "--log-level", "debug", *timing)  # fmt: skip
    async with kaito_controller(emulator.kubeconfig_path, *common) as one:
        await wait_ready(one)
        async with asyncio.timeout(60):
            while not one.logged("became leader"):
                await asyncio.sleep(0.05)
        first = lease_holder(emulator)
        async with kaito_controller(emulator.kubeconfig_path, *common) as two:
            await wait_ready(two)
            await asyncio.sleep(1.5)
            assert not two.logged("became leader") and lease_holder(emulator) == first
            one.proc.kill()  # SIGKILL: no release, the lease must expire
            killed_at = asyncio.get_running_loop().time()
            await one.finish()
            async with asyncio.timeout(60):
                while not two.logged("became leader"):
                    await asyncio.sleep(0.05)
            took_over = asyncio.get_running_loop().time() - killed_at
            second = lease_holder(emulator)
            assert second and second != first
            # lease (3 s) + one retry period (0.5 s * 1.2 jitter) + generous slack for a loaded machine
            assert took_over <= 3.0 + 0.6 + 3.0, took_over
            two.proc.send_signal(signal.SIGTERM)
            assert await two.finish() == 0


def test_workspace_flags_reach_the_controller_options() -> None:
    args = parse(
        "--node-provisioner", "machine", "--cloud-provider", "aws", "--preset-registry", "myacr.azurecr.io/kaito",
        "--gpu-ready-deadline", "2m", "--webhook-port", "9443", "--webhook-namespace", "kaito-system",
    )
    options = controller_cli._setup_options(args)
    assert options.workspace.node_provisioner == "machine" and options.workspace.cloud == "aws"
    assert options.workspace.registry == "myacr.azurecr.io/kaito" and options.workspace.gpu_ready_deadline_seconds == 120
    assert options.webhook is not None and options.webhook.target.namespace == "kaito-system"
    assert options.webhook.target.port == 9443 and options.webhook.target.url is None


def test_the_webhook_needs_a_namespace_outside_a_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--webhook-port", "9443", "--webhook-namespace", "")
    with pytest.raises(ValueError, match="pass --webhook-namespace"):
        controller_cli._setup_options(args)
