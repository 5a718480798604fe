"""The watch hub: a bounded per-resource event history and live subscribers.

Every write goes through :meth:`WatchHub.publish`. A subscriber starting
from a resourceVersion first gets the retained events after it, then live
ones; once events it needs have been dropped from the history it gets 410
Gone, which is what makes informers relist.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kaito_sim.emulator.errors import gone

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


@dataclass(slots=True)
class WatchEvent:
    """One committed write. ``old`` is the state before it (None for ADDED)."""

    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None
    rv: int
    resource: str
    namespace: str


# Decides what a watcher sees of an event: the (type, object) to send, or None to skip it.
Translator = Callable[[WatchEvent], "tuple[str, dict[str, Any]] | None"]


@dataclass(eq=False)
class Watcher:
    """A subscription. ``queue`` yields (type, object, rv) tuples, then None once closed."""

    resource: str
    namespace: str | None
    translate: Translator
    queue: asyncio.Queue[tuple[str, dict[str, Any], int] | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def offer(self, event: WatchEvent) -> None:
        if self.closed or (self.namespace and event.namespace != self.namespace):
            return
        seen = self.translate(event)
        if seen is not None:
            self.queue.put_nowait((seen[0], seen[1], event.rv))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class WatchHub:
    def __init__(self, history_size: int) -> None:
        self.history_size = history_size
        self._history: dict[str, deque[WatchEvent]] = {}
        self._compacted: dict[str, int] = {}
        self._watchers: dict[str, set[Watcher]] = {}
        self.listeners: list[Callable[[WatchEvent], None]] = []

    def publish(self, event: WatchEvent) -> None:
        history = self._history.get(event.resource)
        if history is None:
            history = self._history[event.resource] = deque()
        history.append(event)
        if len(history) > self.history_size:
            dropped = history.popleft()
            self._compacted[event.resource] = dropped.rv
        for watcher in list(self._watchers.get(event.resource, ())):
            watcher.offer(event)
        for listener in self.listeners:
            listener(event)

    def subscribe(
        self,
        resource: str,
        namespace: str | None,
        translate: Translator,
        since: int | None,
        initial: Iterable[tuple[str, dict[str, Any], int]] = (),
    ) -> Watcher:
        """Register a watcher; replay history after ``since`` (410 if it is gone).

        ``initial`` events (synthetic ADDEDs of the current state) go first.
        """
        if since is not None:
            compacted = self._compacted.get(resource, 0)
            if since < compacted:
                raise gone(f"too old resource version: {since} ({compacted + 1})")
        watcher = Watcher(resource, namespace, translate)
        for item in initial:
            watcher.queue.put_nowait(item)
        if since is not None:
            for event in self._history.get(resource, ()):
                if event.rv > since:
                    watcher.offer(event)
        self._watchers.setdefault(resource, set()).add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        watcher.close()
        self._watchers.get(watcher.resource, set()).discard(watcher)

    def check_not_compacted(self, resource: str, rv: int) -> None:
        """410 when a list or continue asks for a version older than the retained window."""
        compacted = self._compacted.get(resource, 0)
        if rv < compacted:
            raise gone(f"too old resource version: {rv} ({compacted + 1})")

    def expire(self, current_rv: int) -> None:
        """Forget all history: any watch resumed from an older version gets 410."""
        for resource in set(self._history) | set(self._watchers):
            self._compacted[resource] = current_rv
        self._history.clear()

    def drop_all(self) -> int:
        """Close every open subscription (as a server restart or network cut would)."""
        count = 0
        for watchers in self._watchers.values():
            for watcher in list(watchers):
                watcher.close()
                count += 1
            watchers.clear()
        return count

    def watcher_count(self) -> int:
        return sum(len(w) for w in self._watchers.values())
