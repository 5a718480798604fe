"""Multi-node settings from the environment, the GPUs a node announces, and the ``ray start`` lines."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.multinode.environment import (
    DEFAULT_CLUSTER_TIMEOUT_SECONDS,
    MultiNodeSettings,
    parse_node_environment,
)
from kaito_runtime.serving.multinode.gpus import visible_gpu_count
from kaito_runtime.serving.multinode.ray_commands import (
    driver_address,
    head_command,
    host_port,
    worker_command,
)

LEADER = "ws-0.ws-headless.default.svc.cluster.local"
CLUSTER = {"KAITO_NODE_COUNT": "3", "KAITO_NODE_RANK": "1", "KAITO_LEADER_ADDRESS": LEADER}


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"KAITO_NODE_COUNT": "1"},
        # A single node ignores the other variables, as it always has.
        {"KAITO_NODE_COUNT": " 1 ", "KAITO_NODE_RANK": "7", "KAITO_LEADER_ADDRESS": "http://nowhere"},
    ],
)
def test_single_node(environ: dict[str, str]) -> None:
    assert parse_node_environment(environ) is None


def test_worker_with_defaults() -> None:
    settings = parse_node_environment(CLUSTER)
    assert settings == MultiNodeSettings(node_count=3, rank=1, leader_address=LEADER)
    assert not settings.is_leader
    assert settings.ray_port == 6379 and settings.cluster_timeout == DEFAULT_CLUSTER_TIMEOUT_SECONDS == 1800


def test_leader_with_every_setting() -> None:
    settings = parse_node_environment(
        {
            **CLUSTER,
            "KAITO_NODE_RANK": "0",
            "KAITO_LEADER_ADDRESS": "fd00::1",
            "KAITO_RAY_PORT": "7000",
            "KAITO_CLUSTER_TIMEOUT_SECONDS": "90.5",
            "KAITO_RAY_START_ARGS": "--num-gpus=4 --temp-dir '/scratch/ray dir'",
        }
    )
    assert settings is not None and settings.is_leader
    assert settings.leader_address == "fd00::1" and settings.ray_port == 7000
    assert settings.cluster_timeout == 90.5
    assert settings.ray_start_args == ("--num-gpus=4", "--temp-dir", "/scratch/ray dir")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KAITO_NODE_COUNT": "two"}, "KAITO_NODE_COUNT must be a non-negative integer, got 'two'"),
        ({"KAITO_NODE_COUNT": "-2"}, "KAITO_NODE_COUNT must be a non-negative integer, got '-2'"),
        ({"KAITO_NODE_COUNT": "0"}, "KAITO_NODE_COUNT must be at least 1"),
        ({"KAITO_NODE_RANK": None}, "KAITO_NODE_RANK is required when KAITO_NODE_COUNT=3"),
        ({"KAITO_NODE_RANK": ""}, "KAITO_NODE_RANK is required when KAITO_NODE_COUNT=3"),
        ({"KAITO_NODE_RANK": "1.0"}, "KAITO_NODE_RANK must be a non-negative integer, got '1.0'"),
        ({"KAITO_NODE_RANK": "3"}, "KAITO_NODE_RANK=3 is out of range: KAITO_NODE_COUNT=3 allows 0 to 2"),
        ({"KAITO_LEADER_ADDRESS": None}, "KAITO_LEADER_ADDRESS is required when KAITO_NODE_COUNT=3"),
        ({"KAITO_LEADER_ADDRESS": "http://ws-0"}, "KAITO_LEADER_ADDRESS must be the leader pod's host name"),
        ({"KAITO_LEADER_ADDRESS": "ws-0:6379"}, "KAITO_LEADER_ADDRESS must be the leader pod's host name"),
        ({"KAITO_LEADER_ADDRESS": "ws..0"}, "KAITO_LEADER_ADDRESS must be the leader pod's host name"),
        ({"KAITO_RAY_PORT": "http"}, "KAITO_RAY_PORT must be a non-negative integer, got 'http'"),
        ({"KAITO_RAY_PORT": "70000"}, "KAITO_RAY_PORT must be between 1 and 65535, got 70000"),
        ({"KAITO_CLUSTER_TIMEOUT_SECONDS": "soon"}, "KAITO_CLUSTER_TIMEOUT_SECONDS must be a number"),
        ({"KAITO_CLUSTER_TIMEOUT_SECONDS": "0"}, "KAITO_CLUSTER_TIMEOUT_SECONDS must be a positive number"),
        ({"KAITO_CLUSTER_TIMEOUT_SECONDS": "nan"}, "KAITO_CLUSTER_TIMEOUT_SECONDS must be a positive number"),
        ({"KAITO_RAY_START_ARGS": "--temp-dir='/x"}, "KAITO_RAY_START_ARGS cannot be split into arguments"),
        ({"KAITO_RAY_START_ARGS": "--port=1"}, "KAITO_RAY_START_ARGS must not set --port"),
        ({"KAITO_RAY_START_ARGS": "--num-gpus 1 --head"}, "KAITO_RAY_START_ARGS must not set --head"),
    ],
)
def test_bad_settings_name_the_variable(overrides: dict[str, str | None], message: str) -> None:
    environ = {**CLUSTER, **overrides}
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_node_environment({key: value for key, value in environ.items() if value is not None})


@pytest.mark.parametrize(
    ("environ", "device_files", "expected"),
    [
        ({"CUDA_VISIBLE_DEVICES": "0,1"}, 8, 2),
        ({"CUDA_VISIBLE_DEVICES": ""}, 8, 0),
        ({"CUDA_VISIBLE_DEVICES": "2,-1,3"}, 8, 1),  # CUDA stops at the first invalid id
        ({"NVIDIA_VISIBLE_DEVICES": "GPU-a1,GPU-b2,GPU-c3"}, 8, 3),
        ({"NVIDIA_VISIBLE_DEVICES": "void"}, 8, 0),
        ({"NVIDIA_VISIBLE_DEVICES": "all"}, 4, 4),
        ({}, 2, 2),
        ({}, 0, 0),
    ],
)
def test_visible_gpu_count(environ: dict[str, str], device_files: int, expected: int, tmp_path: Path) -> None:
    for index in range(device_files):
        (tmp_path / f"nvidia{index}").touch()
    for other in ("nvidiactl", "nvidia-uvm", "nvidia-caps"):
        (tmp_path / other).touch()
    assert visible_gpu_count(environ, tmp_path) == expected


def test_visible_gpu_count_without_dev() -> None:
    assert visible_gpu_count({}, Path("/nonexistent")) == 0


def test_ray_commands() -> None:
    settings = MultiNodeSettings(
        node_count=2, rank=0, leader_address=LEADER, ray_port=6380, ray_start_args=("--num-gpus=8",)
    )
    ray = [sys.executable, "-m", "ray.scripts.scripts", "start"]
    assert head_command(settings, 4) == [
        *ray, "--head", "--port=6380", "--include-dashboard=false",
        "--num-gpus=4", "--block", "--disable-usage-stats", "--num-gpus=8",
    ]  # fmt: skip
    assert worker_command(settings, 4) == [
        *ray, f"--address={LEADER}:6380", "--num-gpus=4", "--block", "--disable-usage-stats", "--num-gpus=8",
    ]  # fmt: skip
    assert driver_address(settings) == "127.0.0.1:6380"


def test_host_port_brackets_ipv6() -> None:
    assert host_port("fd00::1", 6379) == "[fd00::1]:6379"
    assert host_port("10.0.0.4", 6379) == "10.0.0.4:6379"
    assert host_port(LEADER, 6379) == f"{LEADER}:6379"
