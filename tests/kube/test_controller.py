"""Controller worker logic: outcomes, backoff, concurrency, graceful stop, log context, metrics."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import structlog

from kaito.kube.clock import FakeClock
from kaito.kube.controller import Controller
from kaito.kube.metrics import REGISTRY
from kaito.kube.reconcile import Request, Result, TerminalError


def sample(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


class ScriptedReconciler:
    """Returns (or raises) the scripted outcomes in order, then plain success."""

    def __init__(self, *outcomes: Result | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[Request] = []

    async def reconcile(self, request: Request) -> Result:
        self.calls.append(request)
        outcome = self.outcomes.pop(0) if self.outcomes else Result()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def run_controller(controller: Controller) -> asyncio.Task[None]:
    task = asyncio.create_task(controller.run())
    await asyncio.sleep(0)
    return task


async def stop(controller: Controller, task: asyncio.Task[None]) -> None:
    controller.stop()
    await asyncio.wait_for(task, timeout=10)


async def test_success_is_counted_and_forgets_backoff(unique_name: str, eventually) -> None:
    reconciler = ScriptedReconciler()
    controller = Controller(unique_name, reconciler)
    task = await run_controller(controller)
    controller.queue.add(Request("a", "ns"))
    await eventually(lambda: len(reconciler.calls) == 1)
    await eventually(
        lambda: sample("controller_runtime_reconcile_total", controller=unique_name, result="success") == 1
    )
    assert controller.queue.num_requeues(Request("a", "ns")) == 0
    assert sample("controller_runtime_reconcile_time_seconds_count", controller=unique_name) == 1
    await stop(controller, task)


async def test_errors_requeue_with_growing_backoff_then_success_resets(unique_name: str, eventually) -> None:
    clock = FakeClock()
    boom = RuntimeError("boom")
    reconciler = ScriptedReconciler(boom, boom, boom)
    controller = Controller(unique_name, reconciler, clock=clock)
    request = Request("a", "ns")
    task = await run_controller(controller)
    controller.queue.add(request)
    delays = []
    for failures in (1, 2, 3):
        await eventually(lambda n=failures: len(reconciler.calls) == n and controller.queue.waiting == 1)  # type: ignore[misc]
        deadline = clock.next_deadline()
        assert deadline is not None
        delays.append(round(deadline - clock.now(), 6))
        clock.advance(deadline - clock.now())
    await eventually(lambda: len(reconciler.calls) == 4)
    await eventually(lambda: controller.queue.num_requeues(request) == 0)
    assert delays == [0.005, 0.01, 0.02]
    assert sample("controller_runtime_reconcile_errors_total", controller=unique_name) == 3
    assert sample("controller_runtime_reconcile_total", controller=unique_name, result="error") == 3
    assert sample("controller_runtime_reconcile_total", controller=unique_name, result="success") == 1
    assert sample("workqueue_retries_total", name=unique_name) == 3
    await stop(controller, task)


async def test_terminal_errors_are_not_retried(unique_name: str, eventually) -> None:
    clock = FakeClock()
    reconciler = ScriptedReconciler(TerminalError("spec is invalid"))
    controller = Controller(unique_name, reconciler, clock=clock)
    task = await run_controller(controller)
    controller.queue.add(Request("a"))
    await eventually(
        lambda: sample("controller_runtime_terminal_reconcile_errors_total", controller=unique_name) == 1
    )
    clock.advance(3600)
    await asyncio.sleep(0.05)
    assert len(reconciler.calls) == 1 and controller.queue.waiting == 0 and len(controller.queue) == 0
    await stop(controller, task)


async def test_requeue_after_runs_again_later_without_backoff(unique_name: str, eventually) -> None:
    clock = FakeClock()
    reconciler = ScriptedReconciler(Result(requeue_after=30.0))
    controller = Controller(unique_name, reconciler, clock=clock)
    request = Request("a", "ns")
    task = await run_controller(controller)
    controller.queue.add(request)
    await eventually(lambda: controller.queue.waiting == 1)
    assert clock.next_deadline() == pytest.approx(30.0)
    assert controller.queue.num_requeues(request) == 0
    clock.advance(30.0)
    await eventually(lambda: len(reconciler.calls) == 2)
    await eventually(
        lambda: (
            sample("controller_runtime_reconcile_total", controller=unique_name, result="requeue_after") == 1
        )
    )
    await stop(controller, task)


class GatedReconciler:
    """Blocks every reconcile until released; records how many run at once, per key too."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.running: Counter[str] = Counter()
        self.max_running = 0
        self.max_per_key = 0
        self.done: list[str] = []
        self.context: list[dict[str, object]] = []

    async def reconcile(self, request: Request) -> Result:
        self.running[request.key] += 1
        self.max_per_key = max(self.max_per_key, self.running[request.key])
        self.max_running = max(self.max_running, sum(self.running.values()))
        self.context.append(dict(structlog.contextvars.get_contextvars()))
        try:
            await self.gate.wait()
        finally:
            self.running[request.key] -= 1
        self.done.append(request.key)
        return Result()


async def test_workers_run_reconciles_concurrently_up_to_the_limit(unique_name: str, eventually) -> None:
    reconciler = GatedReconciler()
    controller = Controller(unique_name, reconciler, max_concurrent_reconciles=3)
    task = await run_controller(controller)
    for i in range(10):
        controller.queue.add(Request(f"o{i}", "ns"))
    await eventually(lambda: sum(reconciler.running.values()) == 3)
    assert sample("controller_runtime_active_workers", controller=unique_name) == 3
    assert sample("controller_runtime_max_concurrent_reconciles", controller=unique_name) == 3
    controller.queue.add(Request("o0", "ns"))  # o0 is in flight: it must not start twice
    reconciler.gate.set()
    await eventually(lambda: len(reconciler.done) == 11)
    assert reconciler.max_running == 3
    assert reconciler.max_per_key == 1
    await stop(controller, task)


async def test_each_reconcile_logs_with_controller_object_and_reconcile_id(
    unique_name: str, eventually
) -> None:
    reconciler = GatedReconciler()
    reconciler.gate.set()
    controller = Controller(unique_name, reconciler, max_concurrent_reconciles=2)
    task = await run_controller(controller)
    controller.queue.add(Request("a", "ns1"))
    controller.queue.add(Request("b", "ns2"))
    await eventually(lambda: len(reconciler.done) == 2)
    contexts = sorted(reconciler.context, key=lambda c: str(c["name"]))
    assert [(c["controller"], c["namespace"], c["name"]) for c in contexts] == [
        (unique_name, "ns1", "a"),
        (unique_name, "ns2", "b"),
    ]
    ids = {c["reconcile_id"] for c in contexts}
    assert len(ids) == 2 and all(isinstance(i, str) and len(i) == 36 for i in ids)
    assert structlog.contextvars.get_contextvars() == {}, "nothing leaks out of the reconcile"
    await stop(controller, task)


async def test_stop_lets_reconciles_in_flight_finish_and_takes_no_new_work(
    unique_name: str, eventually
) -> None:
    reconciler = GatedReconciler()
    controller = Controller(unique_name, reconciler, max_concurrent_reconciles=2)
    task = await run_controller(controller)
    for i in range(5):
        controller.queue.add(Request(f"o{i}", "ns"))
    await eventually(lambda: sum(reconciler.running.values()) == 2)
    controller.stop()
    await asyncio.sleep(0.05)
    assert not task.done(), "reconciles in flight are waited for"
    reconciler.gate.set()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(reconciler.done) == ["ns/o0", "ns/o1"]
    assert controller.queue.shutting_down


async def test_cancelling_run_cancels_reconciles_in_flight(unique_name: str, eventually) -> None:
    reconciler = GatedReconciler()
    controller = Controller(unique_name, reconciler)
    task = await run_controller(controller)
    controller.queue.add(Request("a", "ns"))
    await eventually(lambda: sum(reconciler.running.values()) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reconciler.done == [] and sum(reconciler.running.values()) == 0
    assert sample("controller_runtime_active_workers", controller=unique_name) == 0


def test_controller_options_are_validated(unique_name: str) -> None:
    with pytest.raises(ValueError):
        Controller(unique_name, ScriptedReconciler(), max_concurrent_reconciles=0)
    with pytest.raises(ValueError):
        Result(requeue_after=-1)


def test_request_keys_round_trip() -> None:
    assert Request("a", "ns").key == "ns/a"
    assert Request.from_key("ns/a") == Request("a", "ns")
    assert Request.from_key("node-1") == Request("node-1")
    assert str(Request("node-1")) == "node-1"
