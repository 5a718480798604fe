"""Shared fixtures: a tiny model and LoRA adapters built once per test session, on local disk only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaito_runtime.testing.server_process import (
    OFFLINE_ENV,
    ServerFactory,
    ServerProcess,
    free_port,
    kaito_runtime_serve,
)
from kaito_runtime.testing.tiny_model import build_lora_adapter, build_tiny_model

# Model loading inside the test process (reference outputs, tokenizer) must not reach the Hub either.
os.environ.update(
    {key: value for key, value in OFFLINE_ENV.items() if key.startswith(("HF_", "TRANSFORMERS"))}
)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def adapters_dir(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two adapters of different ranks, plus a folder that is not an adapter."""
    root = tmp_path_factory.mktemp("adapters")
    build_lora_adapter(tiny_model, root / "alpha", rank=4, seed=1)
    build_lora_adapter(tiny_model, root / "beta", rank=8, seed=2)
    (root / "not-an-adapter").mkdir()
    return root


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """Start ``kaito-runtime serve`` processes for a test module; all are stopped at its end."""
    started: list[ServerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, ready_timeout: float = 120.0) -> ServerProcess:
        port = free_port()
        log = tmp_path_factory.mktemp("server-logs") / f"server-{port}.log"
        server = ServerProcess(kaito_runtime_serve(*args, "--port", str(port)), port, log, env)
        started.append(server)
        return server.start(ready_timeout)

    yield start
    for server in started:
        server.stop()
