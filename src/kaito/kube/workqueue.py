"""Work queues with client-go's ``util/workqueue`` semantics, for asyncio.

* An item is never handed to two workers at once: while it is being processed
  a new ``add`` only marks it dirty, and it is queued again on ``done``.
* Queued items are de-duplicated: ten adds before a worker picks it up are one
  reconcile.
* ``DelayingQueue.add_after`` adds later (the earliest requested time wins).
* ``RateLimitingQueue.add_rate_limited`` asks a ``RateLimiter`` how long to
  wait; ``forget`` resets the item's backoff after a success.

Adds are plain synchronous calls, so informer event handlers enqueue without
awaiting anything.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from kaito.kube.clock import Clock, RealClock, TimerHandle
from kaito.kube.metrics import QueueMetrics
from kaito.kube.ratelimiters import RateLimiter, default_controller_rate_limiter

T = TypeVar("T", bound=Hashable)


class ShutDown(Exception):
    """``get`` on a queue that is shut down and has nothing left to hand out."""


class Queue(Generic[T]):
    """The basic queue: de-duplicating, one worker per item, with a dirty re-run."""

    def __init__(self, name: str = "", clock: Clock | None = None) -> None:
        self.name = name
        self._clock = clock or RealClock()
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._drained: asyncio.Event | None = None
        self._shutting_down = False
        self._metrics = QueueMetrics(name, self._clock) if name else None

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, item: T) -> None:
        """Queue ``item`` unless it is already queued; if it is being processed, run it again after."""
        if self._shutting_down or item in self._dirty:
            return
        if self._metrics:
            self._metrics.add(item)
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._wake_one()

    async def get(self) -> T:
        """The next item, now marked as processing; raises ``ShutDown`` once shut down and empty.

        After ``shut_down`` the items still queued are handed out until none are left.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # Woken for an item we will not take: pass the wake-up on.
                    self._wake_one()
                raise
            finally:
                if waiter in self._getters:
                    self._getters.remove(waiter)
        item = self._queue.popleft()
        if self._metrics:
            self._metrics.get(item)
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """Mark ``item`` finished; if it was added meanwhile, queue it again."""
        if self._metrics:
            self._metrics.done(item)
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_one()
        elif not self._processing and self._drained is not None:
            self._drained.set()

    def shut_down(self) -> None:
        """Ignore further adds and wake every waiting ``get``."""
        self._shutting_down = True
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def shut_down_with_drain(self) -> None:
        """Shut down, then wait until every item handed out by ``get`` is ``done``."""
        self._drained = asyncio.Event()
        self.shut_down()
        if self._processing:
            await self._drained.wait()

    def is_processing(self, item: T) -> bool:
        return item in self._processing

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class DelayingQueue(Queue[T]):
    """A queue that can also add items after a delay."""

    def __init__(self, name: str = "", clock: Clock | None = None) -> None:
        super().__init__(name, clock)
        self._waiting: dict[T, tuple[float, TimerHandle]] = {}

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` after ``delay`` seconds (counted as a retry); an earlier pending time wins."""
        if self.shutting_down:
            return
        if self._metrics:
            self._metrics.retry()
        if delay <= 0:
            self._fire(item)
            return
        ready_at = self._clock.now() + delay
        pending = self._waiting.get(item)
        if pending is not None:
            if pending[0] <= ready_at:
                return
            pending[1].cancel()
        timer = self._clock.call_later(delay, lambda: self._fire(item))
        self._waiting[item] = (ready_at, timer)

    @property
    def waiting(self) -> int:
        """Items waiting for their delay to pass."""
        return len(self._waiting)

    def _fire(self, item: T) -> None:
        pending = self._waiting.pop(item, None)
        if pending is not None:
            pending[1].cancel()
        self.add(item)

    def shut_down(self) -> None:
        for _, timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        super().shut_down()


class RateLimitingQueue(DelayingQueue[T]):
    """A delaying queue whose retries are paced by a ``RateLimiter``."""

    def __init__(
        self, name: str = "", rate_limiter: RateLimiter | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(name, clock)
        self.rate_limiter = rate_limiter or default_controller_rate_limiter(self._clock)

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` once the rate limiter allows."""
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """The item succeeded: its backoff starts from the beginning next time."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)
