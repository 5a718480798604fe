"""Time as the runtime sees it, behind a small interface.

Rate limiters, delayed queue adds, informer backoff and leader election all
reason about time. Routing every read of the clock and every wait through a
``Clock`` lets tests drive those paths with a ``FakeClock`` exactly and fast,
in the spirit of ``k8s.io/utils/clock`` and its ``testing`` package.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds: only differences are meaningful."""
        ...

    def wall(self) -> datetime:
        """Wall-clock time (UTC), for timestamps written to the API."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle: ...


class RealClock:
    """The event loop's monotonic clock and the system's wall clock."""

    def now(self) -> float:
        # The same clock asyncio's default loop uses, readable outside the loop too.
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told to; timers fire, in deadline order, inside ``advance``.

    Sleeping coroutines resume on the event loop's next turns after their timer
    fires, so tests advance the clock and then wait for the effect they expect
    (``wait_for_waiters`` tells when code under test has gone to sleep).
    """

    def __init__(self, start: float = 0.0, wall_start: datetime | None = None) -> None:
        self._now = start
        self._start = start
        self._wall_start = wall_start or datetime(2030, 1, 1, tzinfo=UTC)
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(self._now + max(0.0, seconds), callback)
        heapq.heappush(self._timers, (timer.deadline, next(self._sequence), timer))
        return timer

    @property
    def waiters(self) -> int:
        """Pending (not cancelled) timers and sleepers."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    def next_deadline(self) -> float | None:
        """When the earliest pending timer fires, or None when nothing waits."""
        live = [deadline for deadline, _, timer in self._timers if not timer.cancelled]
        return min(live) if live else None

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer due on the way at its own deadline."""
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            deadline, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, deadline)
            timer.callback()
        self._now = target

    async def wait_for_waiters(self, count: int = 1, timeout: float = 10.0) -> None:
        """Yield to the loop until at least ``count`` timers are pending (real-time ``timeout``)."""
        async with asyncio.timeout(timeout):
            while self.waiters < count:
                await asyncio.sleep(0.001)
