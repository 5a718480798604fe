"""Work-queue semantics, as client-go's ``util/workqueue`` tests pin them down."""

from __future__ import annotations

import asyncio
import random

import pytest

from kaito.kube.clock import FakeClock
from kaito.kube.ratelimiters import ItemExponentialFailureRateLimiter
from kaito.kube.workqueue import DelayingQueue, Queue, RateLimitingQueue, ShutDown


async def test_queued_items_are_deduplicated_and_kept_in_order() -> None:
    q: Queue[str] = Queue()
    for item in ("a", "b", "a", "c", "b"):
        q.add(item)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_add_while_processing_marks_dirty_and_runs_once_more_after_done() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    item = await q.get()
    q.add("a")
    q.add("a")
    assert len(q) == 0, "a key being processed must not be handed to another worker"
    assert q.is_processing("a")
    q.done(item)
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    assert len(q) == 0


async def test_done_without_a_new_add_does_not_requeue() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.done(await q.get())
    assert len(q) == 0 and not q.is_processing("a")


async def test_never_two_workers_on_one_key_and_every_add_is_seen() -> None:
    """Workers race over hot keys: no key is ever in two workers, and each key's last add is processed."""
    q: Queue[int] = Queue()
    rng = random.Random(7)
    in_progress: set[int] = set()
    violations: list[int] = []
    last_added: dict[int, int] = {}
    last_seen: dict[int, int] = {}

    async def worker() -> None:
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            if key in in_progress:
                violations.append(key)
            in_progress.add(key)
            seen = last_added[key]
            await asyncio.sleep(rng.random() / 1000)
            last_seen[key] = seen
            in_progress.discard(key)
            q.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    for version in range(1, 2001):
        key = rng.randrange(5)
        last_added[key] = version
        q.add(key)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    await q.shut_down_with_drain()
    await asyncio.wait_for(asyncio.gather(*workers), timeout=30)
    assert violations == []
    assert last_seen == last_added, "the dirty re-run must process every key after its last add"


async def test_get_waits_for_an_add() -> None:
    q: Queue[str] = Queue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("x")
    assert await asyncio.wait_for(getter, timeout=5) == "x"


async def test_a_cancelled_getter_passes_its_wake_up_on() -> None:
    q: Queue[str] = Queue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("x")  # wakes `first`...
    first.cancel()  # ...which goes away before taking the item
    assert await asyncio.wait_for(second, timeout=5) == "x"


async def test_shut_down_hands_out_what_is_left_then_raises_and_ignores_adds() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    q.shut_down()
    q.add("b")
    assert await q.get() == "a"
    with pytest.raises(ShutDown):
        await q.get()


async def test_shut_down_wakes_blocked_getters() -> None:
    q: Queue[str] = Queue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.shut_down()
    results = await asyncio.wait_for(asyncio.gather(*getters, return_exceptions=True), timeout=5)
    assert all(isinstance(r, ShutDown) for r in results)


async def test_shut_down_with_drain_waits_for_items_in_flight() -> None:
    q: Queue[str] = Queue()
    q.add("a")
    item = await q.get()
    drain = asyncio.create_task(q.shut_down_with_drain())
    await asyncio.sleep(0.01)
    assert not drain.done()
    q.done(item)
    await asyncio.wait_for(drain, timeout=5)


async def test_add_after_adds_when_the_delay_has_passed() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 1.0)
    assert len(q) == 0 and q.waiting == 1
    clock.advance(0.999)
    assert len(q) == 0
    clock.advance(0.001)
    assert len(q) == 1 and q.waiting == 0
    assert await q.get() == "a"


async def test_add_after_keeps_the_earliest_time_for_an_item() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("a", 5.0)
    q.add_after("a", 1.0)
    q.add_after("a", 3.0)
    assert q.waiting == 1
    clock.advance(1.0)
    assert len(q) == 1
    q.done(await q.get())
    clock.advance(10.0)
    assert len(q) == 0, "the later requests were folded into the earlier one"


async def test_add_after_with_no_delay_adds_now_and_shutdown_cancels_waiting() -> None:
    clock = FakeClock()
    q: DelayingQueue[str] = DelayingQueue(clock=clock)
    q.add_after("now", 0)
    q.add_after("later", 2.0)
    assert len(q) == 1
    q.shut_down()
    clock.advance(5.0)
    assert len(q) == 1 and q.waiting == 0


async def test_rate_limited_delays_double_and_reset() -> None:
    clock = FakeClock()
    q: RateLimitingQueue[str] = RateLimitingQueue(
        rate_limiter=ItemExponentialFailureRateLimiter(0.005, 1000.0), clock=clock
    )
    relative = []
    for _ in range(5):
        q.add_rate_limited("a")
        deadline = clock.next_deadline()
        assert deadline is not None
        relative.append(round(deadline - clock.now(), 6))
        clock.advance(deadline - clock.now())
        q.done(await q.get())
    assert relative == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert q.num_requeues("a") == 5
    q.forget("a")
    assert q.num_requeues("a") == 0
    q.add_rate_limited("a")
    deadline = clock.next_deadline()
    assert deadline is not None and round(deadline - clock.now(), 6) == 0.005
