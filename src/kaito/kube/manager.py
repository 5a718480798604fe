"""The manager: runs the shared informers, the controllers and the endpoints of one operator process.

What runs when, as in controller-runtime:

* always: informers (so a standby's caches are warm), the event writer,
  ``/metrics`` and ``/healthz`` / ``/readyz`` (ready once every informer has synced);
* only while leading (or always, without leader election): the controllers and
  the runnables added with ``needs_leader=True``, started once the caches have synced.

``stop()`` (SIGTERM) shuts down gracefully: controllers stop taking work,
reconciles in flight get ``graceful_shutdown_timeout`` to finish, pending
events are written, the lease is released, and ``run`` returns. Losing the
lease instead cancels the controllers at once and ``run`` raises
``LeaderElectionLost``: the process should exit non-zero and be restarted,
because its caches and in-memory state may no longer be trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiohttp import web

from kaito.api.meta import KubeObject
from kaito.kube.client import Client
from kaito.kube.clock import Clock, RealClock
from kaito.kube.config import in_cluster_namespace
from kaito.kube.controller import Controller
from kaito.kube.events import EventBroadcaster, EventRecorder
from kaito.kube.health import Checks, ping
from kaito.kube.httpserver import HTTPServer
from kaito.kube.informer import Informer
from kaito.kube.labels import Selector, field_selector_query, selector_query
from kaito.kube.leaderelection import (
    LeaderElectionConfig,
    LeaderElector,
    LeaseLock,
)
from kaito.kube.metrics import exposition
from kaito.kube.store import IndexFunc

T = TypeVar("T", bound=KubeObject)

log = structlog.get_logger("kaito.manager")

Runnable = Callable[[], Coroutine[Any, Any, None]]

# Events still queued at shutdown get this long to be written.
_EVENT_FLUSH_TIMEOUT = 5.0


class CacheSyncTimeout(Exception):
    """The informers did not complete their first list in time (RBAC, a missing CRD, ...)."""


@dataclass(frozen=True)
class ManagerOptions:
    metrics_bind_address: str = ":8080"
    health_probe_bind_address: str = ":8081"
    # None: no leader election, controllers run at once.
    leader_election: LeaderElectionConfig | None = None
    # Where the lease lives; empty means the pod's own namespace.
    leader_election_namespace: str = ""
    graceful_shutdown_timeout: float = 30.0
    cache_sync_timeout: float = 120.0


@dataclass(frozen=True)
class _Runnable:
    name: str
    run: Runnable
    needs_leader: bool


class Manager:
    def __init__(self, client: Client, options: ManagerOptions | None = None, *, clock: Clock | None = None):
        self.client = client
        self.options = options or ManagerOptions()
        self._clock = clock or RealClock()
        self._informers: dict[tuple[Any, ...], Informer[Any]] = {}
        self._informer_tasks: list[asyncio.Task[None]] = []
        self._controllers: list[Controller] = []
        self._runnables: list[_Runnable] = []
        self._stop = asyncio.Event()
        self._running = False
        self.events = EventBroadcaster(client, clock=self._clock)
        self.healthz = Checks("healthz")
        self.readyz = Checks("readyz")
        self.healthz.add("ping", ping)
        self.readyz.add("informers-synced", self._check_synced)
        self.metrics_server = HTTPServer(self.options.metrics_bind_address, {"/metrics": _serve_metrics})
        self.health_server = HTTPServer(
            self.options.health_probe_bind_address, {**self.healthz.routes(), **self.readyz.routes()}
        )
        self.elector = self._make_elector()

    def _make_elector(self) -> LeaderElector | None:
        config = self.options.leader_election
        if config is None:
            return None
        namespace = self.options.leader_election_namespace or in_cluster_namespace()
        if not namespace:
            raise ValueError("leader election needs a namespace for its lease when not running in a cluster")
        return LeaderElector(LeaseLock(self.client, namespace, config.name), config, clock=self._clock)

    # Building the operator.

    def informer(
        self,
        model: type[T],
        *,
        namespace: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        resync_period: float | None = None,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
    ) -> Informer[T]:
        """The informer for ``model`` with these selectors, shared by every caller that asks for it.

        ``indexers`` are added to the shared informer (a name registered twice is an error).
        """
        labels, fields = selector_query(label_selector), field_selector_query(field_selector)
        key = (model, namespace, labels, fields)
        informer: Informer[T] | None = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.client,
                model,
                namespace=namespace,
                label_selector=labels,
                field_selector=fields,
                resync_period=resync_period,
                clock=self._clock,
            )
            self._informers[key] = informer
            if self._running:
                self._start_informer(informer)
        if indexers:
            informer.add_indexers(indexers)
        return informer

    def add(self, controller: Controller) -> None:
        """Run ``controller`` while this process leads."""
        self._controllers.append(controller)

    def add_runnable(self, name: str, run: Runnable, *, needs_leader: bool = True) -> None:
        """Run a coroutine for the manager's lifetime (or only while leading); it is cancelled at stop."""
        self._runnables.append(_Runnable(name, run, needs_leader))

    def recorder(self, component: str) -> EventRecorder:
        return self.events.recorder(component)

    @property
    def informers(self) -> list[Informer[Any]]:
        return list(self._informers.values())

    @property
    def controllers(self) -> list[Controller]:
        return list(self._controllers)

    # Running.

    def stop(self) -> None:
        """Ask ``run`` to shut down gracefully; safe to call from a signal handler or more than once."""
        self._stop.set()

    async def run(self) -> None:
        if self._running:
            raise RuntimeError("manager already running")
        self._running = True
        background: list[asyncio.Task[None]] = []
        try:
            await self.metrics_server.start()
            await self.health_server.start()
            log.info(
                "manager starting",
                metrics_port=self.metrics_server.port,
                health_port=self.health_server.port,
                leader_election=self.elector is not None,
            )
            for informer in self._informers.values():
                self._start_informer(informer)
            background.append(asyncio.create_task(self.events.run(), name="events"))
            for runnable in self._runnables:
                if not runnable.needs_leader:
                    background.append(asyncio.create_task(runnable.run(), name=runnable.name))
            if self.elector is None:
                await self._lead()
            else:
                await self._run_elected(self.elector)
        finally:
            for task in [*background, *self._informer_tasks]:
                task.cancel()
            await asyncio.gather(*background, *self._informer_tasks, return_exceptions=True)
            await self.health_server.stop()
            await self.metrics_server.stop()
            log.info("manager stopped")

    def _start_informer(self, informer: Informer[Any]) -> None:
        self._informer_tasks.append(asyncio.create_task(informer.run(), name=repr(informer)))

    async def _run_elected(self, elector: LeaderElector) -> None:
        electing = asyncio.create_task(elector.run(self._lead), name="leader-election")
        stopping = asyncio.create_task(self._stop.wait(), name="stop")
        try:
            await asyncio.wait({electing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not electing.done() and not elector.is_leader:
                electing.cancel()  # stopped while still waiting for the lease
            await asyncio.wait({electing})
        finally:
            stopping.cancel()
            if not electing.done():
                electing.cancel()
                await asyncio.wait({electing})
        if not electing.cancelled():
            electing.result()

    async def _lead(self) -> None:
        """Everything that runs only on the leader, from cache sync to graceful drain."""
        if not await self._wait_for_caches():
            return
        tasks = [asyncio.create_task(c.run(), name=f"controller-{c.name}") for c in self._controllers]
        runnables = [asyncio.create_task(r.run(), name=r.name) for r in self._runnables if r.needs_leader]
        stopping = asyncio.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait([*tasks, *runnables, stopping], return_when=asyncio.FIRST_COMPLETED)
            failed = [
                t for t in done if t is not stopping and not t.cancelled() and t.exception() is not None
            ]
            for task in failed:
                log.error("runnable failed, shutting down", task=task.get_name(), error=str(task.exception()))
            await self._drain(tasks)
            error = failed[0].exception() if failed else None
            if error is not None:
                raise error
        finally:
            for task in [*tasks, *runnables, stopping]:
                task.cancel()
            await asyncio.gather(*tasks, *runnables, stopping, return_exceptions=True)

    async def _drain(self, tasks: list[asyncio.Task[None]]) -> None:
        for controller in self._controllers:
            controller.stop()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.options.graceful_shutdown_timeout)
            if pending:
                log.warning(
                    "reconciles still running after the graceful shutdown timeout; cancelling them",
                    timeout=self.options.graceful_shutdown_timeout,
                    controllers=[t.get_name() for t in pending],
                )
        await self.events.flush(_EVENT_FLUSH_TIMEOUT)

    async def _wait_for_caches(self) -> bool:
        """True once every informer has synced; False if stopped first; CacheSyncTimeout past the limit."""
        syncing = asyncio.create_task(self._all_synced())
        stopping = asyncio.create_task(self._stop.wait())
        waiters: set[asyncio.Task[Any]] = {syncing, stopping}
        try:
            done, _ = await asyncio.wait(
                waiters,
                timeout=self.options.cache_sync_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopping.cancel()
            syncing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncing
        if syncing in done:
            return True
        if stopping in done:
            return False
        unsynced = [repr(i) for i in self._informers.values() if not i.has_synced]
        raise CacheSyncTimeout(f"caches not synced after {self.options.cache_sync_timeout}s: {unsynced}")

    async def _all_synced(self) -> None:
        for informer in self._informers.values():
            await informer.wait_for_sync()

    def _check_synced(self) -> None:
        unsynced = [repr(i) for i in self._informers.values() if not i.has_synced]
        if unsynced:
            raise RuntimeError(f"informers not synced: {', '.join(unsynced)}")


async def _serve_metrics(request: web.Request) -> web.Response:
    body, content_type = exposition()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response
