"""The leader's wait for every pod to join the Ray cluster, with progress and a bounded patience."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.multinode.ray_nodes import ClusterQueryError, NodeCounter

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
# Progress is logged whenever the count changes, and at least this often while it does not.
REPORT_SECONDS = 30.0


def missing_nodes_message(joined: int, expected: int, leader: str) -> str:
    """What to look at when the cluster is incomplete: the ranks that have not joined (any of them)."""
    missing = expected - joined
    ranks = "1" if expected == 2 else f"1 to {expected - 1}"
    return (
        f"{joined} of {expected} nodes joined the Ray cluster, {missing} missing: "
        f"the worker pods (KAITO_NODE_RANK {ranks}) must run and reach the Ray head at {leader}"
    )


def _first_count(
    count_nodes: NodeCounter,
    head_exit_status: Callable[[], int | None],
    connect_deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    """The first answer of ``count_nodes``: the head is up once it can be asked."""
    reported = ""
    while True:
        status = head_exit_status()
        if status is not None:
            raise StartupError(f"the Ray head exited with status {status} before the cluster formed")
        try:
            return count_nodes()
        except ClusterQueryError as error:
            if str(error) != reported:
                logger.info("waiting for the Ray head: %s", error)
                reported = str(error)
        if clock() >= connect_deadline:
            raise StartupError(f"the Ray head started but did not answer in time: {reported}")
        sleep(min(POLL_SECONDS, max(connect_deadline - clock(), 0.0)))


def wait_for_nodes(
    expected: int,
    count_nodes: NodeCounter,
    head_exit_status: Callable[[], int | None],
    connect_deadline: float,
    timeout: float,
    limit: str,
    leader: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once ``expected`` nodes are alive; fail when the head exits or the wait runs out.

    The head's own start-up (until it answers, by ``connect_deadline``) is not the workers' fault,
    so ``timeout`` (``limit`` in words) counts from then.
    """
    count = _first_count(count_nodes, head_exit_status, connect_deadline, clock, sleep)
    deadline = clock() + timeout
    joined, reported_at = -1, float("-inf")
    while True:
        if count >= expected:
            logger.info("%d of %d nodes joined the Ray cluster", count, expected)
            return
        now = clock()
        if count != joined or now - reported_at >= REPORT_SECONDS:
            logger.info(
                "%d of %d nodes joined the Ray cluster; waiting up to %.0fs more",
                count, expected, max(deadline - now, 0.0),
            )  # fmt: skip
            joined, reported_at = count, now
        if now >= deadline:
            missing = missing_nodes_message(count, expected, leader)
            raise StartupError(f"the Ray cluster did not form within {limit}: {missing}")
        sleep(min(POLL_SECONDS, max(deadline - now, 0.0)))
        status = head_exit_status()
        if status is not None:
            raise StartupError(f"the Ray head exited with status {status} before the cluster formed")
        try:
            count = count_nodes()
        except ClusterQueryError as error:
            logger.warning("cannot count the nodes of the Ray cluster: %s", error)
