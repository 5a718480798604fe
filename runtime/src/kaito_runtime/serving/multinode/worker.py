"""Rank > 0: join the leader's Ray cluster and report the Ray node's health until it ends."""

from __future__ import annotations

import logging
import os
import time

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.multinode.child_process import ChildProcess
from kaito_runtime.serving.multinode.environment import CLUSTER_TIMEOUT_ENV, MultiNodeSettings
from kaito_runtime.serving.multinode.gpus import visible_gpu_count
from kaito_runtime.serving.multinode.health_server import HealthServer
from kaito_runtime.serving.multinode.ray_commands import host_port, worker_command
from kaito_runtime.serving.multinode.reachability import wait_until_reachable

logger = logging.getLogger(__name__)


def run_worker(settings: MultiNodeSettings, host: str, port: int) -> None:
    """Serve ``/health`` (503 until the Ray node runs), join, and raise when the Ray node ends.

    A worker that loses its node (leader restarted, raylet killed) exits non-zero so Kubernetes
    restarts the pod, which then joins the new cluster from scratch.
    """
    head = host_port(settings.leader_address, settings.ray_port)
    ray_node = ChildProcess("the Ray worker", worker_command(settings, visible_gpu_count(os.environ)))
    state = {"phase": f"waiting for the Ray head at {head}"}
    health = HealthServer(host, port, lambda: ray_node.running, lambda: state["phase"]).start()
    try:
        deadline = time.monotonic() + settings.cluster_timeout
        limit = f"{settings.cluster_timeout:g}s ({CLUSTER_TIMEOUT_ENV})"
        wait_until_reachable(settings.leader_address, settings.ray_port, deadline, "the Ray head", limit)
        logger.info("node %d of %d joining the Ray cluster at %s", settings.rank, settings.node_count, head)
        ray_node.start()
        state["phase"] = "the Ray worker has exited"
        status = ray_node.wait()
        raise StartupError(
            f"the Ray worker of the cluster at {head} exited with status {status}; "
            "exiting so the pod restarts and joins again"
        )
    finally:
        ray_node.stop()
        health.stop()
