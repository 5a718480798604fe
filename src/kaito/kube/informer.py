"""An informer: a local, indexed, always-current copy of one kind, plus change notifications.

It lists, then watches from the list's resourceVersion (with bookmarks, so a
quiet watch still advances). A stream the server closes, or that breaks, is
re-opened from the last version seen, so nothing in between is missed. When
the server no longer has that version (410 Gone), or any other failure, the
informer lists again after a backoff and delivers the difference against its
cache as add / update / delete events: an object deleted while the informer
was not watching still produces a delete. That is client-go's reflector and
shared informer, on asyncio.

Handlers run synchronously in the informer's task; they are meant to be
cheap (enqueue a key) and an exception in one is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import builtins
import random
from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

import aiohttp
import structlog

from kaito.api.meta import KubeObject
from kaito.kube import errors
from kaito.kube.backoff import Backoff
from kaito.kube.client import Bookmark, Client, WatchEvent
from kaito.kube.clock import Clock, RealClock
from kaito.kube.labels import Selector, matches
from kaito.kube.store import IndexFunc, Store

T = TypeVar("T", bound=KubeObject)
T_contra = TypeVar("T_contra", bound=KubeObject, contravariant=True)

log = structlog.get_logger("kaito.informer")

# client-go's reflector: watches end after 5-10 minutes, lists come in pages of 500.
_WATCH_TIMEOUT_RANGE = (300, 600)
_PAGE_SIZE = 500


class ResourceEventHandler(Protocol[T_contra]):
    def on_add(self, obj: T_contra, is_in_initial_list: bool) -> None: ...

    def on_update(self, old: T_contra, new: T_contra) -> None: ...

    def on_delete(self, obj: T_contra) -> None: ...


class Informer(Generic[T]):
    """Keeps ``store`` in step with the server's objects of ``model`` that match the selectors."""

    def __init__(
        self,
        client: Client,
        model: type[T],
        *,
        namespace: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        resync_period: float | None = None,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
        page_size: int = _PAGE_SIZE,
    ) -> None:
        self.client = client
        self.model = model
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.store: Store[T] = Store(indexers)
        self.page_size = page_size
        self._backoff = backoff or Backoff()
        self._clock = clock or RealClock()
        self._handlers: list[ResourceEventHandler[T]] = []
        self._synced = asyncio.Event()
        self._resource_version = ""
        self._assumed: dict[str, T] = {}
        self._log = log.bind(kind=model.RESOURCE.kind, namespace=namespace or "")

    def __repr__(self) -> str:
        kind = self.model.RESOURCE.kind
        return f"Informer({kind}, namespace={self.namespace!r}, labels={self.label_selector!r})"

    # Reading the cache.

    @property
    def has_synced(self) -> bool:
        """True once the first complete list is in the store and handlers have seen it."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    @property
    def last_sync_resource_version(self) -> str:
        return self._resource_version

    def get(self, name: str, namespace: str | None = None) -> T | None:
        """A copy of the cached object (or of a newer one ``assume``d), safe to modify."""
        key = f"{namespace}/{name}" if namespace else name
        obj = self._assumed.get(key) or self.store.get(key)
        return obj.model_copy(deep=True) if obj is not None else None

    def assume(self, written: T) -> None:
        """Read your own write: ``get`` (not ``list`` or the indexes) returns ``written``, what a
        write just returned, until the watch delivers that version or a newer one.

        Without this, a reconcile triggered right after a write (by the child it
        created, say) can read the older cached object and repeat the write. Like
        client-go's mutation cache, it compares resourceVersions as integers, and
        ignores objects whose versions are not.
        """
        key = written.key
        current = self.store.get(key)
        if current is not None and current.metadata.uid != written.metadata.uid:
            return
        if current is None and not _newer(written, self._resource_version or None):
            return  # the stream is past this version and the object is gone: it was deleted
        if _newer(written, current):
            self._assumed[key] = written

    def list(self, namespace: str | None = None, label_selector: Selector | None = None) -> builtins.list[T]:
        """Copies of the cached objects, optionally in one namespace and matching labels."""
        objs = self.store.list()
        return [
            obj.model_copy(deep=True)
            for obj in objs
            if (namespace is None or obj.namespace == namespace)
            and (label_selector is None or matches(label_selector, obj.metadata.labels))
        ]

    def by_index(self, index: str, value: str) -> builtins.list[T]:
        """Copies of the cached objects under ``value`` in the named index."""
        return [obj.model_copy(deep=True) for obj in self.store.by_index(index, value)]

    # Handlers.

    def add_event_handler(self, handler: ResourceEventHandler[T]) -> None:
        """Register ``handler``; objects already cached are delivered to it as adds at once."""
        self._handlers.append(handler)
        for obj in self.store.list():
            self._call(handler.on_add, obj, True)

    def remove_event_handler(self, handler: ResourceEventHandler[T]) -> None:
        self._handlers.remove(handler)

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]]) -> None:
        self.store.add_indexers(indexers)

    # Running.

    async def run(self) -> None:
        """List and watch until cancelled, recovering from every failure by listing again."""
        resync = asyncio.create_task(self._resync_loop()) if self.resync_period else None
        try:
            while True:
                try:
                    await self._list_and_watch()
                except Exception as err:  # whatever failed, a fresh list recovers
                    delay = self._backoff.next()
                    self._log.warning("list/watch failed, listing again", error=str(err), retry_in=delay)
                    await self._clock.sleep(delay)
        finally:
            if resync is not None:
                resync.cancel()

    async def _list_and_watch(self) -> None:
        await self._relist()
        watch_backoff = Backoff(self._backoff.initial, self._backoff.maximum, jitter=self._backoff.jitter)
        delivered = 0
        while True:
            try:
                started = self._clock.now()
                events = await self._watch()
                delivered += events
                if events == 0 and self._clock.now() - started < 1.0:
                    # Closed at once without a single event: do not spin re-opening it.
                    await self._clock.sleep(watch_backoff.next())
                else:
                    watch_backoff.reset()
                    self._backoff.reset()
            except errors.Gone:
                self._log.info("watch history expired, listing again", since=self._resource_version)
                if not delivered:
                    # Stale as soon as it was listed: back off rather than list in a tight loop.
                    await self._clock.sleep(self._backoff.next())
                return
            except (aiohttp.ClientError, TimeoutError, errors.ServerError, errors.TooManyRequests) as err:
                delay = watch_backoff.next()
                self._log.info("watch broke, watching again", error=str(err), retry_in=delay)
                await self._clock.sleep(delay)

    async def _list_pages(self) -> tuple[builtins.list[T], str]:
        items: builtins.list[T] = []
        continue_token: str | None = None
        while True:
            try:
                page = await self.client.list(
                    self.model,
                    self.namespace,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    limit=self.page_size,
                    continue_token=continue_token,
                )
            except errors.Gone:
                if continue_token is None:
                    raise
                # The continue token expired between pages: take one consistent unpaged list.
                page = await self.client.list(
                    self.model,
                    self.namespace,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                )
                return page.items, page.resource_version
            items.extend(page.items)
            if not page.continue_token:
                return items, page.resource_version
            continue_token = page.continue_token

    async def _relist(self) -> None:
        items, resource_version = await self._list_pages()
        initial = not self.has_synced
        seen: set[str] = set()
        for obj in items:
            seen.add(obj.key)
            self._forget_assumed(obj)
            self._apply_upsert(obj, initial)
        for key in self.store.list_keys():
            if key not in seen:
                self._assumed.pop(key, None)
                gone = self.store.delete(key)
                if gone is not None:
                    self._dispatch_delete(gone)
        self._resource_version = resource_version
        if initial:
            self._log.debug("synced", objects=len(self.store), resource_version=resource_version)
            self._synced.set()

    async def _watch(self) -> int:
        """Follow one watch stream to its end; returns how many events it carried."""
        timeout = random.randint(*_WATCH_TIMEOUT_RANGE)
        count = 0
        async with self.client.watch(
            self.model,
            self.namespace,
            resource_version=self._resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=timeout,
        ) as events:
            async for event in events:
                count += 1
                if isinstance(event, Bookmark):
                    self._resource_version = event.resource_version or self._resource_version
                    continue
                self._apply(event)
        return count

    def _apply(self, event: WatchEvent[T]) -> None:
        obj = event.object
        self._forget_assumed(obj)
        if event.type == "DELETED":
            old = self.store.delete(obj.key)
            if old is not None:
                self._dispatch_delete(obj)
        else:
            self._apply_upsert(obj, False)
        self._resource_version = obj.metadata.resource_version or self._resource_version

    def _forget_assumed(self, seen: T) -> None:
        """Drop an assumed object once the server's stream has caught up with it."""
        assumed = self._assumed.get(seen.key)
        if assumed is not None and (assumed.metadata.uid != seen.metadata.uid or not _newer(assumed, seen)):
            del self._assumed[seen.key]

    def _apply_upsert(self, obj: T, initial: bool) -> None:
        old = self.store.upsert(obj)
        if old is None:
            self._dispatch_add(obj, initial)
        elif old.metadata.uid != obj.metadata.uid:
            # Deleted and re-created under the same name while we were not looking.
            self._dispatch_delete(old)
            self._dispatch_add(obj, initial)
        elif old.metadata.resource_version != obj.metadata.resource_version:
            for handler in list(self._handlers):
                self._call(handler.on_update, old, obj)

    def _dispatch_add(self, obj: T, initial: bool) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_add, obj, initial)

    def _dispatch_delete(self, obj: T) -> None:
        for handler in list(self._handlers):
            self._call(handler.on_delete, obj)

    async def _resync_loop(self) -> None:
        assert self.resync_period is not None
        await self._synced.wait()
        while True:
            await self._clock.sleep(self.resync_period)
            for obj in self.store.list():
                for handler in list(self._handlers):
                    self._call(handler.on_update, obj, obj)

    def _call(self, func: Callable[..., None], *args: object) -> None:
        try:
            func(*args)
        except Exception:
            self._log.exception("event handler failed", handler=getattr(func, "__qualname__", repr(func)))


def _version(version: str | None) -> int | None:
    try:
        return int(version or "")
    except ValueError:
        return None


def _newer(candidate: KubeObject, than: KubeObject | str | None) -> bool:
    """Whether ``candidate``'s resourceVersion is later than ``than`` (an object or a version; None: none)."""
    mine = _version(candidate.metadata.resource_version)
    if mine is None:
        return False
    if than is None:
        return True
    theirs = _version(than if isinstance(than, str) else than.metadata.resource_version)
    return theirs is not None and mine > theirs
