"""A controller: informer events in, rate-limited work queue in the middle, N reconcile workers out.

``watches`` maps events of any watched kind to reconcile requests; workers
take requests from the queue (never two for the same object at once) and call
the reconciler. The outcome decides what happens next, as in controller-runtime:

* an exception: requeue with the rate limiter's backoff;
* ``TerminalError``: log and count it, do not retry;
* ``Result(requeue_after=s)``: forget the backoff, run again in ``s`` seconds;
* ``Result()``: forget the backoff; the next event brings it back.

Each reconcile runs with structlog context variables ``controller``,
``namespace``, ``name`` and ``reconcile_id`` bound, so every log line the
reconciler writes says which object it was about.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog

from kaito.api.meta import KubeObject
from kaito.kube.clock import Clock, RealClock
from kaito.kube.handlers import EnqueueRequestForObject, EventHandler
from kaito.kube.informer import Informer
from kaito.kube.metrics import (
    ACTIVE_WORKERS,
    MAX_CONCURRENT_RECONCILES,
    RECONCILE_ERRORS,
    RECONCILE_TIME,
    RECONCILE_TOTAL,
    TERMINAL_RECONCILE_ERRORS,
)
from kaito.kube.predicates import Predicate
from kaito.kube.ratelimiters import RateLimiter
from kaito.kube.reconcile import Reconciler, Request, TerminalError
from kaito.kube.workqueue import RateLimitingQueue, ShutDown

T = TypeVar("T", bound=KubeObject)

log = structlog.get_logger("kaito.controller")


@dataclass(eq=False)
class _Watch(Generic[T]):
    """Adapts one informer's events, through predicates and a handler, into queue adds."""

    informer: Informer[T] = field(repr=False)
    handler: EventHandler[T]
    predicates: tuple[Predicate[T], ...]
    queue: RateLimitingQueue[Request]

    def on_add(self, obj: T, is_in_initial_list: bool) -> None:
        if all(p.create(obj) for p in self.predicates):
            self.handler.create(obj, self.queue)

    def on_update(self, old: T, new: T) -> None:
        if all(p.update(old, new) for p in self.predicates):
            self.handler.update(old, new, self.queue)

    def on_delete(self, obj: T) -> None:
        if all(p.delete(obj) for p in self.predicates):
            self.handler.delete(obj, self.queue)


class Controller:
    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        *,
        max_concurrent_reconciles: int = 1,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
    ) -> None:
        if max_concurrent_reconciles < 1:
            raise ValueError("max_concurrent_reconciles must be at least 1")
        self.name = name
        self.reconciler = reconciler
        self.max_concurrent_reconciles = max_concurrent_reconciles
        self._clock = clock or RealClock()
        self.queue: RateLimitingQueue[Request] = RateLimitingQueue(name, rate_limiter, self._clock)
        self._watches: list[_Watch[Any]] = []
        self._stopping = False
        self._started = False
        self._total = {result: RECONCILE_TOTAL.labels(name, result)
                       for result in ("success", "error", "requeue_after")}  # fmt: skip
        self._errors = RECONCILE_ERRORS.labels(name)
        self._terminal = TERMINAL_RECONCILE_ERRORS.labels(name)
        self._time = RECONCILE_TIME.labels(name)
        self._active = ACTIVE_WORKERS.labels(name)

    def watches(
        self, informer: Informer[T], handler: EventHandler[T] | None = None, *predicates: Predicate[T]
    ) -> Controller:
        """Reconcile the requests ``handler`` maps ``informer``'s events to, if all ``predicates`` pass.

        Without a handler the event's own object is reconciled (the primary kind).
        Events start flowing when the controller runs.
        """
        if self._started:
            raise RuntimeError(f"controller {self.name}: watches() must be called before run()")
        self._watches.append(_Watch(informer, handler or EnqueueRequestForObject(), predicates, self.queue))
        return self

    async def run(self) -> None:
        """Run the workers until ``stop`` has been called and they have finished, or until cancelled.

        Cancelling ``run`` cancels reconciles in flight (leadership lost);
        ``stop`` instead lets them finish (graceful shutdown).
        """
        if self._started:
            raise RuntimeError(f"controller {self.name} already ran")
        self._started = True
        MAX_CONCURRENT_RECONCILES.labels(self.name).set(self.max_concurrent_reconciles)
        for watch in self._watches:
            watch.informer.add_event_handler(watch)
        log.info("starting workers", controller=self.name, workers=self.max_concurrent_reconciles)
        try:
            async with asyncio.TaskGroup() as workers:
                for _ in range(self.max_concurrent_reconciles):
                    workers.create_task(self._worker())
        finally:
            for watch in self._watches:
                watch.informer.remove_event_handler(watch)
            self.queue.shut_down()
            log.info("workers stopped", controller=self.name)

    def stop(self) -> None:
        """Stop taking work; reconciles in flight finish, then ``run`` returns."""
        self._stopping = True
        self.queue.shut_down()

    async def _worker(self) -> None:
        while not self._stopping:
            try:
                request = await self.queue.get()
            except ShutDown:
                return
            try:
                if not self._stopping:
                    await self._reconcile(request)
            finally:
                self.queue.done(request)

    async def _reconcile(self, request: Request) -> None:
        started = self._clock.now()
        self._active.inc()
        try:
            with structlog.contextvars.bound_contextvars(
                controller=self.name,
                namespace=request.namespace,
                name=request.name,
                reconcile_id=str(uuid.uuid4()),
            ):
                await self._reconcile_once(request)
        finally:
            self._active.dec()
            self._time.observe(self._clock.now() - started)

    async def _reconcile_once(self, request: Request) -> None:
        try:
            result = await self.reconciler.reconcile(request)
        except TerminalError as err:
            self._total["error"].inc()
            self._errors.inc()
            self._terminal.inc()
            self.queue.forget(request)
            log.error("terminal reconciler error, not retrying", error=str(err))
            return
        except Exception as err:
            self._total["error"].inc()
            self._errors.inc()
            self.queue.add_rate_limited(request)
            log.error("reconciler error", error=str(err), exc_info=err)
            return
        if result.requeue_after > 0:
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
            self._total["requeue_after"].inc()
        else:
            self.queue.forget(request)
            self._total["success"].inc()
