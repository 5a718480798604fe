"""Multi-node serving through ``kaito-runtime serve``, on a real Ray cluster formed on this machine.

Every pod of the workspace is a process here: rank 0 starts the Ray head and serves vLLM once the
workers have joined; the workers join with ``ray start --block`` and answer only ``/health``. Each
node gets its own Ray temp dir and ports (through ``KAITO_RAY_START_ARGS``), as separate pods would.
vLLM's CPU build cannot run its Ray executor, so the leader serves the tiny model with its default
executor: what is tested is the bootstrap around vLLM, not vLLM's pipeline parallelism.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import psutil
import pytest

from kaito_runtime.testing.server_process import ServerProcess, free_port, kaito_runtime_serve
from kaito_runtime.testing.tiny_model import TINY_MODEL_NAME

LEADER = "127.0.0.1"
# Ray's start-up and the cluster's formation take a few seconds on an idle machine; these leave
# room for a loaded one.
JOIN_TIMEOUT = 240.0
VLLM_READY_TIMEOUT = 600.0


@pytest.fixture(scope="module")
def ray_root() -> Iterator[Path]:
    """Short, because Ray's Unix socket paths live under it and may not exceed 107 bytes."""
    root = Path(tempfile.mkdtemp(prefix="kaito-ray-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Nodes:
    """Starts the pods of one workspace (node count, Ray port) as local processes."""

    count: int
    ray_port: int
    ray_root: Path
    logs: Path
    model: Path
    timeout: float = 600.0

    def __post_init__(self) -> None:
        self.started: list[ServerProcess] = []
        self.ray_temp_dirs: dict[int, Path] = {}  # by HTTP port

    def launch(
        self, rank: int, *extra: str, leader: str = LEADER, timeout: float | None = None
    ) -> ServerProcess:
        temp_dir = Path(tempfile.mkdtemp(prefix=f"r{rank}-", dir=self.ray_root))
        ray_args = [f"--temp-dir={temp_dir}", f"--dashboard-agent-listen-port={free_port()}"]
        if rank == 0:
            ray_args += [f"--dashboard-port={free_port()}", f"--ray-client-server-port={free_port()}"]
        env = {
            "KAITO_NODE_COUNT": str(self.count),
            "KAITO_NODE_RANK": str(rank),
            "KAITO_LEADER_ADDRESS": leader,
            "KAITO_RAY_PORT": str(self.ray_port),
            "KAITO_CLUSTER_TIMEOUT_SECONDS": str(timeout or self.timeout),
            "KAITO_RAY_START_ARGS": " ".join(ray_args),
        }
        port = free_port()
        command = kaito_runtime_serve(
            "--runtime=vllm", f"--model={self.model}", f"--served-model-name={TINY_MODEL_NAME}",
            "--max-model-len=256", "--dtype=float32", "--enforce-eager", "--max-num-seqs=2",
            "--port", str(port), *extra,
        )  # fmt: skip
        process = ServerProcess(command, port, self.logs / f"rank{rank}-{port}.log", env).launch()
        self.started.append(process)
        self.ray_temp_dirs[port] = temp_dir
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


def nodes_factory(
    tiny_model: Path, ray_root: Path, tmp_path_factory: pytest.TempPathFactory, count: int
) -> Nodes:
    return Nodes(count, free_port(), ray_root, tmp_path_factory.mktemp("multinode-logs"), tiny_model)


def ray_processes_under(directory: Path) -> list[psutil.Process]:
    """Ray processes of the node whose temp dir is ``directory`` (their command lines name it)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(directory) in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


def raylet_of(worker: ServerProcess) -> psutil.Process:
    for child in psutil.Process(worker.pid).children(recursive=True):
        if child.name() == "raylet":
            return child
    raise AssertionError(f"no raylet under the worker:\n{worker.log_tail()}")


@dataclass
class Cluster:
    leader: ServerProcess
    worker: ServerProcess
    nodes: Nodes
    health_while_waiting: int | None


@pytest.fixture(scope="module")
def cluster(tiny_model: Path, ray_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A two-pod workspace: the leader is started first and waits; then the worker joins."""
    nodes = nodes_factory(tiny_model, ray_root, tmp_path_factory, count=2)
    try:
        leader = nodes.launch(0)
        leader.wait_for_log("1 of 2 nodes joined the Ray cluster", JOIN_TIMEOUT)
        health_while_waiting = leader.health_status()
        worker = nodes.launch(1).wait_healthy(JOIN_TIMEOUT)
        leader.wait_healthy(VLLM_READY_TIMEOUT)
        yield Cluster(leader, worker, nodes, health_while_waiting)
    finally:
        nodes.stop_all()


def test_leader_waits_for_every_node_then_serves(cluster: Cluster) -> None:
    assert cluster.health_while_waiting is None  # nothing listens before the cluster is complete
    log = cluster.leader.log_path.read_text(errors="replace")
    waiting = log.index("1 of 2 nodes joined the Ray cluster; waiting up to")
    joined = log.index("2 of 2 nodes joined the Ray cluster")
    assert waiting < joined < log.index("starting vLLM") < log.index("serving on")
    client = openai.OpenAI(
        base_url=f"{cluster.leader.base_url}/v1", api_key="unused", max_retries=0, timeout=120
    )
    completion = client.completions.create(model=TINY_MODEL_NAME, prompt="Kubernetes is", max_tokens=4)
    assert completion.usage is not None and completion.usage.completion_tokens == 4


def test_worker_serves_only_health(cluster: Cluster) -> None:
    assert cluster.worker.health_status() == 200
    with pytest.raises(openai.NotFoundError, match="the API is served by rank 0"):
        openai.OpenAI(base_url=f"{cluster.worker.base_url}/v1", api_key="unused", max_retries=0).models.list()
    log = cluster.worker.log_path.read_text(errors="replace")
    assert f"joining the Ray cluster at {LEADER}:{cluster.nodes.ray_port}" in log
    assert "Ray runtime started" in log  # ray start's own output goes to the pod's log


def test_worker_exits_when_its_ray_node_dies(cluster: Cluster) -> None:
    # A worker of its own (the cluster accepts more nodes), so the shared one stays up.
    worker = cluster.nodes.launch(1).wait_healthy(JOIN_TIMEOUT)
    worker.wait_for_log("Ray runtime started", JOIN_TIMEOUT)  # registered with the head
    raylet_of(worker).kill()
    assert worker.wait_exit(120) == 1
    log = worker.log_path.read_text(errors="replace")
    head = f"{LEADER}:{cluster.nodes.ray_port}"
    assert f"kaito-runtime serve: error: the Ray worker of the cluster at {head} exited with status" in log
    assert "exiting so the pod restarts and joins again" in log and "Traceback" not in log
    assert cluster.leader.health_status() == 200


def test_leader_times_out_naming_the_missing_nodes(
    tiny_model: Path, ray_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nodes = nodes_factory(tiny_model, ray_root, tmp_path_factory, count=2)
    try:
        leader = nodes.launch(0, timeout=5)
        assert leader.wait_exit(240) == 1
    finally:
        nodes.stop_all()
    log = leader.log_path.read_text(errors="replace")
    assert (
        "kaito-runtime serve: error: the Ray cluster did not form within 5s "
        "(KAITO_CLUSTER_TIMEOUT_SECONDS): 1 of 2 nodes joined the Ray cluster, 1 missing: the worker pods "
        f"(KAITO_NODE_RANK 1) must run and reach the Ray head at {LEADER}:{nodes.ray_port}"
    ) in log
    assert "Traceback" not in log and "starting vLLM" not in log
    assert not ray_processes_under(nodes.ray_temp_dirs[leader.port])  # the Ray head was stopped


def test_worker_waits_for_an_unresolvable_leader(
    tiny_model: Path, ray_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nodes = nodes_factory(tiny_model, ray_root, tmp_path_factory, count=2)
    try:
        worker = nodes.launch(1, leader="kaito-leader.invalid")
        worker.wait_for_log(
            "waiting for the Ray head: kaito-leader.invalid does not resolve yet", JOIN_TIMEOUT
        )
        assert worker.health_status() == 503
        gives_up = nodes.launch(1, leader="kaito-leader.invalid", timeout=2)
        assert gives_up.wait_exit(120) == 1
    finally:
        nodes.stop_all()
    assert (
        f"the Ray head at kaito-leader.invalid:{nodes.ray_port} was not reachable within 2s "
        "(KAITO_CLUSTER_TIMEOUT_SECONDS): kaito-leader.invalid does not resolve yet"
    ) in gives_up.log_path.read_text(errors="replace")
