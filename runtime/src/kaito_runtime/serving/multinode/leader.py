"""Rank 0: start the Ray head, wait until every pod has joined, then serve vLLM on the cluster."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.multinode.child_process import ChildProcess
from kaito_runtime.serving.multinode.environment import CLUSTER_TIMEOUT_ENV, MultiNodeSettings
from kaito_runtime.serving.multinode.gpus import visible_gpu_count
from kaito_runtime.serving.multinode.head_watch import HeadWatch
from kaito_runtime.serving.multinode.node_wait import wait_for_nodes
from kaito_runtime.serving.multinode.ray_commands import driver_address, head_command, host_port
from kaito_runtime.serving.multinode.ray_nodes import NodeCounter, RayNodeCounter
from kaito_runtime.serving.multinode.reachability import unreachable_reason, wait_until_reachable

logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
# The head's own start-up on this pod (not waiting for anyone): a few seconds, unless the node is
# starved. KAITO_CLUSTER_TIMEOUT_SECONDS, for the workers, counts from when the head answers.
HEAD_START_SECONDS = 300.0


def run_leader(
    settings: MultiNodeSettings,
    serve: Callable[[], None],
    node_counter: Callable[[str], NodeCounter] = RayNodeCounter,
) -> None:
    """Run ``serve`` (vLLM, in this process) once the cluster has ``node_count`` nodes.

    ``RAY_ADDRESS`` points vLLM at the head started here. The head is stopped when serving ends,
    and serving ends (non-zero) when the head dies.
    """
    gpus = visible_gpu_count(os.environ)
    head = ChildProcess("the Ray head", head_command(settings, gpus)).start()
    try:
        head_deadline = time.monotonic() + HEAD_START_SECONDS

        def probe(host: str, port: int) -> str | None:
            if head.returncode is not None:
                raise StartupError(f"the Ray head exited with status {head.returncode} while starting")
            return unreachable_reason(host, port)

        wait_until_reachable(
            LOCALHOST,
            settings.ray_port,
            head_deadline,
            "the Ray head",
            f"{HEAD_START_SECONDS:g}s",
            probe=probe,
        )
        address = driver_address(settings)
        counter = node_counter(address)
        try:
            wait_for_nodes(
                settings.node_count,
                counter,
                lambda: head.returncode,
                head_deadline,
                settings.cluster_timeout,
                f"{settings.cluster_timeout:g}s ({CLUSTER_TIMEOUT_ENV})",
                host_port(settings.leader_address, settings.ray_port),
            )
        finally:
            counter.close()
        os.environ["RAY_ADDRESS"] = address
        logger.info("Ray cluster of %d nodes (%d GPUs here) ready; starting vLLM", settings.node_count, gpus)
        with HeadWatch(head) as watch:
            try:
                serve()
            except KeyboardInterrupt:
                if watch.exit_status is None:
                    raise
        if watch.exit_status is not None:
            raise StartupError(f"the Ray head exited with status {watch.exit_status} while vLLM was serving")
    finally:
        head.stop()
