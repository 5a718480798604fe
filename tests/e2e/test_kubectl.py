"""What a user sees with the real kubectl: printer columns and the story in events."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from .conftest import Cluster

REPO = Path(__file__).resolve().parents[2]


def kubectl_binary() -> Path:
    path = Path(os.environ.get("KAITO_KUBECTL") or REPO / ".tools" / "bin" / "kubectl")
    if not path.is_file():
        pytest.fail(f"kubectl not found at {path}: run hack/install-kube-tools.sh (or set KAITO_KUBECTL)")
    return path


async def kubectl(cluster: Cluster, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(kubectl_binary()),
        "--kubeconfig",
        str(cluster.kubeconfig),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_apply_get_and_describe_with_real_kubectl(cluster: Cluster) -> None:
    await cluster.start_operator()
    applied = await kubectl(
        cluster, "apply", "-f", str(REPO / "examples/inference/kaito_workspace_phi_3.5-instruct.yaml")
    )
    assert applied.strip() == "workspace.kaito.sh/workspace-phi-3-5-mini created"
    await cluster.wait_for_condition("workspace-phi-3-5-mini", "WorkspaceSucceeded")

    table = (await kubectl(cluster, "get", "workspace", "workspace-phi-3-5-mini")).splitlines()
    assert table[0].split() == [
        "NAME",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "JOBSTARTED",
        "WORKSPACESUCCEEDED",
        "TARGETNODECOUNT",
        "STATE",
        "AGE",
    ]
    row = table[1].split()
    assert row[:4] == ["workspace-phi-3-5-mini", "Standard_NC24ads_A100_v4", "True", "True"]
    assert row[4:7] == ["True", "1", "Ready"]  # JOBSTARTED is empty for inference

    alpha = (
        await kubectl(cluster, "get", "workspaces.v1alpha1.kaito.sh", "workspace-phi-3-5-mini")
    ).splitlines()
    assert alpha[0].split() == [
        "NAME",
        "INSTANCE",
        "RESOURCEREADY",
        "INFERENCEREADY",
        "JOBSTARTED",
        "WORKSPACESUCCEEDED",
        "AGE",
    ]

    services = await kubectl(cluster, "get", "svc", "workspace-phi-3-5-mini")
    assert "80/TCP,29500/TCP" in services

    described = await kubectl(cluster, "describe", "workspace", "workspace-phi-3-5-mini")
    events = described[described.index("Events:") :]
    for reason in (
        "NodeClaimCreated",
        "ResourceReady",
        "ServiceCreated",
        "WorkloadCreated",
        "InferenceReady",
    ):
        assert reason in events, events
    assert "Successfully created NodeClaim" in events

    short = await kubectl(cluster, "get", "wk")
    assert "workspace-phi-3-5-mini" in short
