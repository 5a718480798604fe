"""Kubernetes Events about the objects a controller manages: what ``kubectl describe`` shows.

``EventRecorder.event`` never blocks a reconcile: it puts the event on a
bounded queue and the ``EventBroadcaster``'s task writes it. A repeat of an
event already written (same object, type, reason, message and source) bumps
that Event's ``count`` and ``lastTimestamp`` instead of creating another one,
as client-go's event correlator does, so a reconcile loop reporting the same
problem every few seconds leaves one growing Event, not thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import structlog

from kaito.api.core import Event
from kaito.api.meta import KubeObject, ObjectMeta
from kaito.kube import errors
from kaito.kube.client import Client
from kaito.kube.clock import Clock, RealClock

log = structlog.get_logger("kaito.events")

EventType = Literal["Normal", "Warning"]

_CACHE_SIZE = 4096
_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class _Pending:
    involved: dict[str, str]
    namespace: str
    type: EventType
    reason: str
    message: str
    component: str

    @property
    def key(self) -> tuple[str, ...]:
        obj = self.involved
        return (obj.get("uid", ""), obj["kind"], self.namespace, obj["name"], self.type, self.reason,
                self.message, self.component)  # fmt: skip


@dataclass
class _Written:
    name: str
    count: int


class EventRecorder:
    """Records events from one component (``source.component``), e.g. ``"workspace-controller"``."""

    def __init__(self, broadcaster: EventBroadcaster, component: str) -> None:
        self._broadcaster = broadcaster
        self.component = component

    def event(self, obj: KubeObject, event_type: EventType, reason: str, message: str) -> None:
        involved = {
            "apiVersion": obj.api_version or type(obj).RESOURCE.api_version,
            "kind": obj.kind or type(obj).RESOURCE.kind,
            "name": obj.name,
            "namespace": obj.namespace,
            "uid": obj.metadata.uid or "",
            "resourceVersion": obj.metadata.resource_version or "",
        }
        involved = {k: v for k, v in involved.items() if v}
        self._broadcaster.submit(
            _Pending(involved, obj.namespace or "default", event_type, reason, message, self.component)
        )

    def normal(self, obj: KubeObject, reason: str, message: str) -> None:
        self.event(obj, "Normal", reason, message)

    def warning(self, obj: KubeObject, reason: str, message: str) -> None:
        self.event(obj, "Warning", reason, message)


class EventBroadcaster:
    """Writes the events of every recorder in the process, one at a time, in order."""

    def __init__(self, client: Client, *, host: str | None = None, clock: Clock | None = None) -> None:
        self.client = client
        self.host = host or socket.gethostname()
        self._clock = clock or RealClock()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(_QUEUE_SIZE)
        self._written: OrderedDict[tuple[str, ...], _Written] = OrderedDict()

    def recorder(self, component: str) -> EventRecorder:
        return EventRecorder(self, component)

    def submit(self, pending: _Pending) -> None:
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            log.warning(
                "event queue full, dropping event", reason=pending.reason, name=pending.involved["name"]
            )

    async def run(self) -> None:
        """Write events until cancelled."""
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("could not write event", reason=pending.reason, error=str(err))
            finally:
                self._queue.task_done()

    async def flush(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) until every submitted event is written."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._queue.join()

    async def _write(self, pending: _Pending) -> None:
        now = self._clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
        previous = self._written.get(pending.key)
        if previous is not None:
            try:
                await self.client.patch(
                    Event,
                    previous.name,
                    {"count": previous.count + 1, "lastTimestamp": now},
                    namespace=pending.namespace,
                )
            except errors.NotFound:
                pass  # the Event expired (or was deleted): write a fresh one
            else:
                previous.count += 1
                self._written.move_to_end(pending.key)
                return
        event = Event(
            metadata=ObjectMeta(
                name=f"{pending.involved['name']}.{time.time_ns():x}", namespace=pending.namespace
            ),
            involved_object=pending.involved,
            reason=pending.reason,
            message=pending.message,
            type=pending.type,
            count=1,
            first_timestamp=now,
            last_timestamp=now,
            source={"component": pending.component, "host": self.host},
            reporting_component=pending.component,
            reporting_instance=self.host,
        )
        created = await self.client.create(event)
        self._written[pending.key] = _Written(created.name, 1)
        if len(self._written) > _CACHE_SIZE:
            self._written.popitem(last=False)
