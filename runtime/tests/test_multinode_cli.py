"""Multi-node settings that cannot work stop ``kaito-runtime serve`` at once: exit 2, the variable named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kaito_runtime.testing.server_process import OFFLINE_ENV

CLUSTER = {"KAITO_NODE_COUNT": "2", "KAITO_NODE_RANK": "1", "KAITO_LEADER_ADDRESS": "ws-0.ws-headless"}


def serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kaito_runtime", "serve", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**OFFLINE_ENV, "PATH": "/usr/bin:/bin", **env},
    )


@pytest.mark.parametrize(
    ("runtime", "overrides", "message"),
    [
        (
            "transformers",
            {},
            "KAITO_NODE_COUNT=2: the transformers runtime serves from one node; "
            "a model spread over several nodes needs --runtime=vllm",
        ),
        (
            "vllm",
            {"KAITO_NODE_COUNT": "2 nodes"},
            "KAITO_NODE_COUNT must be a non-negative integer, got '2 nodes'",
        ),
        ("vllm", {"KAITO_NODE_RANK": ""}, "KAITO_NODE_RANK is required when KAITO_NODE_COUNT=2"),
        (
            "vllm",
            {"KAITO_LEADER_ADDRESS": "tcp://ws-0"},
            "KAITO_LEADER_ADDRESS must be the leader pod's host name",
        ),
    ],
)
def test_unusable_multinode_settings(runtime: str, overrides: dict[str, str], message: str) -> None:
    result = serve(f"--runtime={runtime}", "--model=/nowhere", env={**CLUSTER, **overrides})
    assert result.returncode == 2, result.stderr
    assert f"kaito-runtime serve: error: {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_the_environment() -> None:
    result = serve("--help", env={})
    assert result.returncode == 0
    for name in (
        "KAITO_NODE_COUNT",
        "KAITO_NODE_RANK",
        "KAITO_LEADER_ADDRESS",
        "KAITO_CLUSTER_TIMEOUT_SECONDS",
    ):
        assert name in result.stdout
