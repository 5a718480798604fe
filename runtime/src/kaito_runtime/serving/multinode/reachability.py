"""Waiting, with backoff, until a TCP address resolves and accepts connections.

Pods of a StatefulSet start in parallel: a worker's leader may not be in DNS yet (its pod has no IP)
or its Ray head may not listen yet. Both are normal for a while, so they are retried, not fatal.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.multinode.ray_commands import host_port

logger = logging.getLogger(__name__)

# A dead leader must not take longer than this to be noticed once it is back.
MAX_BACKOFF_SECONDS = 10.0


def backoff_delays(
    first: float = 0.5, factor: float = 2.0, cap: float = MAX_BACKOFF_SECONDS
) -> Iterator[float]:
    """``first``, then each delay ``factor`` times the last, never above ``cap``; endless."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)


def unreachable_reason(host: str, port: int, timeout: float = 5.0) -> str | None:
    """Why ``host:port`` cannot be connected to right now, or None when it accepts a connection."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        return f"{host} does not resolve yet ({error.strerror})"
    last = "no address"
    for family, kind, protocol, _, address in addresses:
        try:
            with socket.socket(family, kind, protocol) as connection:
                connection.settimeout(timeout)
                connection.connect(address)
                return None
        except OSError as error:
            last = error.strerror or str(error)
    return f"nothing accepts connections on {host_port(host, port)} yet ({last})"


def wait_until_reachable(
    host: str,
    port: int,
    deadline: float,
    what: str,
    limit: str,
    *,
    probe: Callable[[str, int], str | None] = unreachable_reason,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Block until ``probe`` finds ``host:port`` reachable; past ``deadline`` (``limit`` in words) fail."""
    delays = backoff_delays()
    last_reason: str | None = None
    while True:
        reason = probe(host, port)
        if reason is None:
            if last_reason is not None:
                logger.info("%s at %s is reachable", what, host_port(host, port))
            return
        if reason != last_reason:
            logger.info("waiting for %s: %s", what, reason)
            last_reason = reason
        remaining = deadline - clock()
        if remaining <= 0:
            raise StartupError(
                f"{what} at {host_port(host, port)} was not reachable within {limit}: {reason}"
            )
        sleep(min(next(delays), remaining))
