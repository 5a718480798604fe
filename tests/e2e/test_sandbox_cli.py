"""The README's "run it" command: `kaito sandbox --apply ...` as a newcomer runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_sandbox_applies_follows_and_refuses_placeholders(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kaito",
            "sandbox",
            "--kubeconfig",
            str(kubeconfig),
            "--apply",
            str(REPO / "examples/inference/kaito_workspace_phi_3.yaml"),
            "--apply",
            str(REPO / "examples/inference/kaito_workspace_phi_3_with_adapters.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if "all workspaces settled" in line or time.monotonic() > deadline:
                break
        output = "\n".join(lines)
        assert "all workspaces settled; still serving for kubectl" in output, output
        assert f"kubeconfig written to {kubeconfig}" in output
        assert "workspace/default/workspace-phi-3-mini: created" in output
        assert (
            'workspace/default/workspace-phi-3-mini-adapter: error: admission webhook "validation.workspace.kaito.sh" '
            "denied the request: inference.adapters[0].source.image: Unable to parse adapter image reference"
            in output
        ), output
        assert "default/workspace-phi-3-mini  Pending: ResourceReady=False" in output
        assert "default/workspace-phi-3-mini  Ready: WorkspaceSucceeded=True" in output
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "kaito sandbox stopped" in rest
