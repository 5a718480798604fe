"""``kaito sandbox``: serves, writes a usable kubeconfig, stops cleanly on SIGTERM / SIGINT."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

pytestmark = pytest.mark.emulator_only


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_sandbox_serves_until_signalled(tmp_path: Path, stop_signal: signal.Signals) -> None:
    kubeconfig = tmp_path / "kube" / "config"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kaito",
        "sandbox",
        "--port",
        "0",
        "--kubeconfig",
        str(kubeconfig),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"Kubernetes API at (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        url = match.group(1)
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == url
        assert config["current-context"] == "kaito-sandbox"
        async with aiohttp.ClientSession() as session, session.get(f"{url}/api/v1/nodes") as resp:
            nodes = await resp.json()
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["kaito-system-0"]
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 10)).decode() for _ in range(3)]
        assert lines[2].strip() == f"export KUBECONFIG={kubeconfig}"
    finally:
        proc.send_signal(stop_signal)
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0


async def test_sandbox_reports_a_busy_port(tmp_path: Path) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kaito",
            "sandbox",
            "--port",
            str(port),
            "--kubeconfig",
            str(tmp_path / "kubeconfig"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 1
        assert f"cannot serve on 127.0.0.1:{port}" in err.decode()
        assert "Traceback" not in err.decode()
    finally:
        server.close()
        await server.wait_closed()
