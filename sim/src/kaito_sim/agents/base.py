"""The loop every simulated agent runs: store events map to keys, keys are
reconciled one at a time, and a reconcile may ask to run again later
(which is how delays such as "the container starts after 2 s" happen)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace or resource, name): what every agent reconciles


class Agent:
    """Subclasses say which keys an event concerns and how to reconcile a key."""

    name = "agent"

    def __init__(self, store: Store, client: LocalClient) -> None:
        self.store = store
        self.client = client
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._pending: set[Key] = set()
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._task: asyncio.Task[None] | None = None
        self._busy = False

    # -------------------------------------------------------------- subclass hooks

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        return ()

    def initial_keys(self) -> Iterable[Key]:
        return ()

    def reconcile(self, key: Key) -> float | None:
        """Bring one key's world forward; return seconds until it should run again, if ever."""
        return None

    # -------------------------------------------------------------- machinery

    def start(self) -> None:
        self.store.hub.listeners.append(self._on_event)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"sim-{self.name}")
        for key in self.initial_keys():
            self.enqueue(key)

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.store.hub.listeners.remove(self._on_event)
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def idle(self) -> bool:
        return not self._pending and not self._busy

    def enqueue(self, key: Key) -> None:
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def enqueue_after(self, key: Key, delay: float) -> None:
        if delay <= 0:
            self.enqueue(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        when = loop.time() + delay
        if existing is not None and existing.when() <= when:
            return
        if existing is not None:
            existing.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.enqueue(key)

    def _on_event(self, event: WatchEvent) -> None:
        for key in self.keys_for(event):
            self.enqueue(key)

    async def _run(self) -> None:
        while True:
            key = await self._queue.get()
            self._pending.discard(key)
            self._busy = True
            try:
                delay = self.reconcile(key)
            except ApiError as exc:
                logger.debug("%s: %s while reconciling %s; retrying", self.name, exc, key)
                delay = 0.05
            except Exception:  # an agent bug must not stop the simulated cluster
                logger.exception("%s: reconciling %s failed", self.name, key)
                delay = 1.0
            finally:
                self._busy = False
            if delay is not None:
                self.enqueue_after(key, delay)
            await asyncio.sleep(0)
