"""The bootstrap's parts without a cluster: backoff, reachability, the node wait, /health, supervision."""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.multinode.child_process import ChildProcess
from kaito_runtime.serving.multinode.head_watch import HeadWatch
from kaito_runtime.serving.multinode.health_server import HealthServer
from kaito_runtime.serving.multinode.node_wait import wait_for_nodes
from kaito_runtime.serving.multinode.ray_nodes import ClusterQueryError
from kaito_runtime.serving.multinode.reachability import (
    backoff_delays,
    unreachable_reason,
    wait_until_reachable,
)
from kaito_runtime.testing.server_process import free_port

LEADER = "ws-0.ws-headless.default.svc.cluster.local:6379"


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedCounter:
    """A NodeCounter answering from a script; an exception in it is raised instead."""

    def __init__(self, *answers: int | ClusterQueryError) -> None:
        self.answers = list(answers)

    def __call__(self) -> int:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, ClusterQueryError):
            raise answer
        return answer

    def close(self) -> None:
        pass


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = backoff_delays()
    assert [next(delays) for _ in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_unreachable_reasons() -> None:
    unresolvable = unreachable_reason("kaito-leader.invalid", 6379)
    assert unresolvable is not None and unresolvable.startswith("kaito-leader.invalid does not resolve yet")
    closed = free_port()
    refused = unreachable_reason("127.0.0.1", closed)
    assert refused is not None and refused.startswith(
        f"nothing accepts connections on 127.0.0.1:{closed} yet"
    )
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert unreachable_reason("127.0.0.1", listener.getsockname()[1]) is None


def test_wait_until_reachable_retries_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    answers = ["x does not resolve yet", "x does not resolve yet", "nothing accepts connections", None]
    clock = FakeClock()
    wait_until_reachable(
        "x", 6379, 100.0, "the Ray head", "100s", probe=lambda host, port: answers.pop(0),
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert messages(caplog) == [
        "waiting for the Ray head: x does not resolve yet",
        "waiting for the Ray head: nothing accepts connections",
        "the Ray head at x:6379 is reachable",
    ]


def test_wait_until_reachable_gives_up_at_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(StartupError) as raised:
        wait_until_reachable(
            "x", 6379, 30.0, "the Ray head", "30s (KAITO_CLUSTER_TIMEOUT_SECONDS)",
            probe=lambda host, port: "x does not resolve yet", clock=clock, sleep=clock.sleep,
        )  # fmt: skip
    assert str(raised.value) == (
        "the Ray head at x:6379 was not reachable within 30s (KAITO_CLUSTER_TIMEOUT_SECONDS): "
        "x does not resolve yet"
    )
    assert clock.now == 30.0


def test_wait_for_nodes_reports_progress(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = FakeClock()
    counter = ScriptedCounter(ClusterQueryError("not up yet"), ClusterQueryError("not up yet"), 1, 1, 2, 3)
    wait_for_nodes(3, counter, lambda: None, 60.0, 600.0, "600s", LEADER, clock=clock, sleep=clock.sleep)
    assert messages(caplog) == [
        "waiting for the Ray head: not up yet",
        "1 of 3 nodes joined the Ray cluster; waiting up to 600s more",
        "2 of 3 nodes joined the Ray cluster; waiting up to 596s more",
        "3 of 3 nodes joined the Ray cluster",
    ]


def test_wait_for_nodes_repeats_progress_while_stuck(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = FakeClock()
    counter = ScriptedCounter(*[1] * 20, ClusterQueryError("connection reset"), 2)
    wait_for_nodes(2, counter, lambda: None, 60.0, 600.0, "600s", LEADER, clock=clock, sleep=clock.sleep)
    assert messages(caplog) == [
        "1 of 2 nodes joined the Ray cluster; waiting up to 600s more",
        "1 of 2 nodes joined the Ray cluster; waiting up to 570s more",
        "cannot count the nodes of the Ray cluster: connection reset",
        "2 of 2 nodes joined the Ray cluster",
    ]


def test_wait_for_nodes_times_out_naming_what_is_missing() -> None:
    clock = FakeClock()
    counter = ScriptedCounter(ClusterQueryError("not up yet"), 2)
    with pytest.raises(StartupError) as raised:
        wait_for_nodes(
            4, counter, lambda: None, 60.0, 30.0, "30s (KAITO_CLUSTER_TIMEOUT_SECONDS)", LEADER,
            clock=clock, sleep=clock.sleep,
        )  # fmt: skip
    assert str(raised.value) == (
        "the Ray cluster did not form within 30s (KAITO_CLUSTER_TIMEOUT_SECONDS): 2 of 4 nodes joined the "
        "Ray cluster, 2 missing: the worker pods (KAITO_NODE_RANK 1 to 3) must run and reach the Ray head "
        f"at {LEADER}"
    )
    assert clock.now == 32.0  # the wait for the workers starts once the head answers


def test_wait_for_nodes_when_the_head_never_answers() -> None:
    clock = FakeClock()
    with pytest.raises(StartupError, match="the Ray head started but did not answer in time: refused"):
        wait_for_nodes(
            2, ScriptedCounter(ClusterQueryError("refused")), lambda: None, 60.0, 600.0, "600s", LEADER,
            clock=clock, sleep=clock.sleep,
        )  # fmt: skip
    assert clock.now == 60.0


@pytest.mark.parametrize("exits_after", [1, 4])  # before the head answers, and while waiting for workers
def test_wait_for_nodes_stops_when_the_head_exits(exits_after: int) -> None:
    clock = FakeClock()
    statuses: list[int | None] = [None] * exits_after + [1]
    counter = ScriptedCounter(ClusterQueryError("not up yet"), ClusterQueryError("not up yet"), 1)
    with pytest.raises(StartupError, match="the Ray head exited with status 1 before the cluster formed"):
        wait_for_nodes(
            2, counter, lambda: statuses.pop(0), 60.0, 600.0, "600s", LEADER, clock=clock, sleep=clock.sleep,
        )  # fmt: skip


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def test_health_server_follows_the_ray_node() -> None:
    alive = threading.Event()
    port = free_port()
    server = HealthServer("127.0.0.1", port, alive.is_set, lambda: "waiting for the Ray head").start()
    try:
        status, body = get(f"http://127.0.0.1:{port}/health")
        assert status == 503 and body["error"]["message"] == "waiting for the Ray head"
        alive.set()
        assert get(f"http://127.0.0.1:{port}/health") == (200, {"status": "ok"})
        status, body = get(f"http://127.0.0.1:{port}/v1/models")
        assert status == 404 and "the API is served by rank 0" in body["error"]["message"]
    finally:
        server.stop()


def test_health_server_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}"):
            HealthServer("127.0.0.1", port, lambda: True, lambda: "")


def test_child_process_that_cannot_start() -> None:
    with pytest.raises(StartupError, match="cannot start the Ray head"):
        ChildProcess("the Ray head", ["/nonexistent/ray", "start"]).start()


def test_child_process_killed_when_it_ignores_sigterm() -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    child = ChildProcess("stubborn", [sys.executable, "-c", script])
    child.start()
    time.sleep(1.0)  # let it install its handler
    started = time.monotonic()
    child.stop(grace=1.0)
    assert child.returncode == -signal.SIGKILL and time.monotonic() - started < 10


@pytest.fixture
def sigterm_received() -> Iterator[threading.Event]:
    """Records SIGTERM sent to this process (by the code under test) instead of dying of it."""
    received = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        received.set()

    previous = signal.signal(signal.SIGTERM, handler)
    yield received
    signal.signal(signal.SIGTERM, previous)


def test_head_watch_stops_the_server_when_the_head_exits(sigterm_received: threading.Event) -> None:
    head = ChildProcess(
        "the Ray head", [sys.executable, "-c", "import time, sys; time.sleep(0.5); sys.exit(3)"]
    )
    with HeadWatch(head.start(), interval=0.1) as watch:
        deadline = time.monotonic() + 30
        while not sigterm_received.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sigterm_received.is_set() and watch.exit_status == 3


def test_head_watch_quiet_while_the_head_runs(sigterm_received: threading.Event) -> None:
    head = ChildProcess("the Ray head", [sys.executable, "-c", "import time; time.sleep(60)"]).start()
    try:
        with HeadWatch(head, interval=0.1) as watch:
            time.sleep(0.5)
        assert not sigterm_received.is_set() and watch.exit_status is None
    finally:
        head.stop(grace=5)
