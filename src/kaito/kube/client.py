"""One typed async client for every resource kaito touches.

The model class says where an object lives (``Model.RESOURCE``) and what comes
back: ``await client.get(Workspace, "ws", "default")`` is a ``Workspace``.
Every request passes the process's token bucket (client-go's QPS / burst),
is counted in ``rest_client_requests_total`` and timed, and is retried with
backoff on 429 and 5xx, honouring the server's Retry-After up to a bound.
Error responses become the typed exceptions of ``errors``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import aiohttp
import structlog

from kaito.api.meta import KubeObject
from kaito.api.resources import BUILTIN_RESOURCES
from kaito.kube import errors
from kaito.kube.clock import Clock, RealClock
from kaito.kube.config import RestConfig
from kaito.kube.labels import Selector, field_selector_query, selector_query
from kaito.kube.metrics import REST_LATENCY, REST_REQUESTS
from kaito.kube.ratelimit import DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_QPS, TokenBucket

T = TypeVar("T", bound=KubeObject)

log = structlog.get_logger("kaito.client")

_JSON = "application/json"
# Watch events carry whole objects; etcd's request limit is 1.5 MiB.
_READ_BUFFER = 2**21


class PatchType(StrEnum):
    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC_MERGE = "application/strategic-merge-patch+json"


@dataclass(frozen=True, slots=True)
class ObjectList(Generic[T]):
    items: list[T]
    resource_version: str
    continue_token: str | None = None


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    type: Literal["ADDED", "MODIFIED", "DELETED"]
    object: T


@dataclass(frozen=True, slots=True)
class Bookmark:
    """The server's note that the watch has seen everything up to ``resource_version``."""

    resource_version: str


@dataclass(frozen=True, slots=True)
class Preconditions:
    """Delete only if the object still has this uid / resourceVersion (else ``Conflict``)."""

    uid: str | None = None
    resource_version: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of 429 / 5xx (and of requests that never reached the server).

    The wait is the server's Retry-After when given, else ``base_delay`` doubling,
    never more than ``max_delay``.
    """

    max_retries: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** min(attempt, 30)
        return min(wanted, self.max_delay)


PropagationPolicy = Literal["Foreground", "Background", "Orphan"]


class Client:
    """An API client bound to one server; create one per process and share it."""

    def __init__(
        self,
        config: RestConfig,
        *,
        qps: float | None = DEFAULT_CLIENT_QPS,
        burst: int = DEFAULT_CLIENT_BURST,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._clock = clock or RealClock()
        self.rate_limiter = TokenBucket(qps, burst, self._clock) if qps is not None else None
        self.retry = retry or RetryPolicy()
        self._host = urlsplit(config.host).netloc
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # Reads.

    async def get(self, model: type[T], name: str, namespace: str | None = None) -> T:
        data = await self._request("GET", model.RESOURCE.object_path(name, namespace))
        return model.model_validate(data)

    async def list(
        self,
        model: type[T],
        namespace: str | None = None,
        *,
        label_selector: Selector | str | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
    ) -> ObjectList[T]:
        params = {
            "labelSelector": selector_query(label_selector),
            "fieldSelector": field_selector_query(field_selector),
            "limit": str(limit) if limit else None,
            "continue": continue_token,
            "resourceVersion": resource_version,
        }
        data = await self._request("GET", model.RESOURCE.collection_path(namespace), params=params)
        meta = data.get("metadata") or {}
        return ObjectList(
            items=[model.model_validate(item) for item in data.get("items") or []],
            resource_version=str(meta.get("resourceVersion", "")),
            continue_token=meta.get("continue") or None,
        )

    @asynccontextmanager
    async def watch(
        self,
        model: type[T],
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | Mapping[str, str] | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[AsyncIterator[WatchEvent[T] | Bookmark]]:
        """A watch stream: ``async with client.watch(M, rv=...) as events: async for e in events``.

        An ``ERROR`` event (410 Gone when ``resource_version`` is too old) is
        raised from the iterator as the matching ``ApiError``. The stream ends
        when the server closes it (after ``timeout_seconds``).
        """
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "labelSelector": selector_query(label_selector),
            "fieldSelector": field_selector_query(field_selector),
            "timeoutSeconds": str(timeout_seconds) if timeout_seconds else None,
            "allowWatchBookmarks": "true" if allow_bookmarks else None,
        }
        path = model.RESOURCE.collection_path(namespace)
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire()
        started = self._clock.now()
        try:
            # A silently dead connection must not hang the watch: the server ends it after
            # timeout_seconds, so a read idle well past that means the peer is gone.
            read_timeout = timeout_seconds + 30.0 if timeout_seconds else None
            response = await self._send(
                "GET", path, params, None, None, timeout=None, read_timeout=read_timeout
            )
        except (aiohttp.ClientError, TimeoutError):
            self._observe("WATCH", "GET", "<error>", started)
            raise
        self._observe("WATCH", "GET", str(response.status), started)
        try:
            if response.status >= 400:
                body = await response.read()
                raise errors.from_status(response.status, body, response.headers.get("Retry-After"))
            yield self._events(model, response)
        finally:
            response.release()
            response.close()

    async def _events(
        self, model: type[T], response: aiohttp.ClientResponse
    ) -> AsyncIterator[WatchEvent[T] | Bookmark]:
        while True:
            line = await response.content.readline()
            if not line:
                return
            if not line.strip():
                continue
            event = json.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "BOOKMARK":
                yield Bookmark(str((obj.get("metadata") or {}).get("resourceVersion", "")))
            elif kind == "ERROR":
                raise errors.from_status(int(obj.get("code") or 500), obj)
            elif kind in ("ADDED", "MODIFIED", "DELETED"):
                yield WatchEvent(kind, model.model_validate(obj))

    # Writes.

    async def create(self, obj: T) -> T:
        path = type(obj).RESOURCE.collection_path(obj.metadata.namespace)
        data = await self._request("POST", path, body=obj.to_dict())
        return type(obj).model_validate(data)

    async def update(self, obj: T) -> T:
        """Replace the object; its ``resourceVersion`` makes a stale write a ``Conflict``."""
        return await self._put(obj, None)

    async def update_status(self, obj: T) -> T:
        """Replace the status subresource only (spec changes in ``obj`` are ignored by the server)."""
        return await self._put(obj, "status")

    async def _put(self, obj: T, subresource: str | None) -> T:
        path = type(obj).RESOURCE.object_path(obj.name, obj.metadata.namespace, subresource)
        data = await self._request("PUT", path, body=obj.to_dict())
        return type(obj).model_validate(data)

    async def patch(
        self,
        model: type[T],
        name: str,
        patch: Mapping[str, Any] | builtins.list[dict[str, Any]],
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.MERGE,
        subresource: str | None = None,
    ) -> T:
        """Patch the object (merge patch by default; strategic merge for built-in kinds only)."""
        if patch_type is PatchType.STRATEGIC_MERGE and model.RESOURCE not in BUILTIN_RESOURCES:
            raise ValueError(f"strategic merge patch is not supported for custom kind {model.RESOURCE.kind}")
        path = model.RESOURCE.object_path(name, namespace, subresource)
        data = await self._request("PATCH", path, body=patch, content_type=patch_type.value)
        return model.model_validate(data)

    async def patch_status(
        self,
        model: type[T],
        name: str,
        patch: Mapping[str, Any] | builtins.list[dict[str, Any]],
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.MERGE,
    ) -> T:
        return await self.patch(
            model, name, patch, namespace=namespace, patch_type=patch_type, subresource="status"
        )

    async def delete(
        self,
        model: type[T],
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: PropagationPolicy | None = None,
        preconditions: Preconditions | None = None,
        grace_period_seconds: int | None = None,
    ) -> T | None:
        """Delete the object; returns what the server answered with: the object (with a
        ``deletionTimestamp`` while finalizers hold it), or None for a bare ``Status``."""
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions is not None:
            fields = {"uid": preconditions.uid, "resourceVersion": preconditions.resource_version}
            options["preconditions"] = {k: v for k, v in fields.items() if v}
        data = await self._request("DELETE", model.RESOURCE.object_path(name, namespace), body=options)
        if data.get("kind") == model.RESOURCE.kind:
            return model.model_validate(data)
        return None

    # Transport.

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ssl=self.config.ssl),
                read_bufsize=_READ_BUFFER,
            )
        return self._session

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | None] | None,
        body: bytes | None,
        content_type: str | None,
        *,
        timeout: float | None,
        read_timeout: float | None = None,
    ) -> aiohttp.ClientResponse:
        headers = {"Accept": _JSON, "User-Agent": self.config.user_agent, **await self.config.auth_headers()}
        if content_type:
            headers["Content-Type"] = content_type
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return await self._session_for_loop().request(
            method,
            self.config.host + path,
            params=query,
            data=body,
            headers=headers,
            server_hostname=self.config.server_hostname,
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=30, sock_read=read_timeout),
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | None] | None = None,
        body: Any = None,
        content_type: str = _JSON,
    ) -> dict[str, Any]:
        payload = json.dumps(body).encode() if body is not None else None
        attempt = 0
        while True:
            if self.rate_limiter is not None:
                await self.rate_limiter.acquire()
            started = self._clock.now()
            try:
                response = await self._send(
                    method,
                    path,
                    params,
                    payload,
                    content_type if payload is not None else None,
                    timeout=self.config.request_timeout,
                )
                async with response:
                    status, data = response.status, await response.read()
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as err:
                self._observe(method, method, "<error>", started)
                # A request that never connected is safe to repeat; a read may be repeated too.
                repeatable = isinstance(err, aiohttp.ClientConnectorError) or method == "GET"
                if not repeatable or attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, None)
                log.debug("request failed, retrying", method=method, path=path, error=str(err), delay=delay)
            else:
                self._observe(method, method, str(status), started)
                log.debug("request", method=method, path=path, code=status, attempt=attempt)
                if status < 400:
                    return json.loads(data) if data else {}
                error = errors.from_status(status, data, retry_after)
                if not isinstance(error, errors.TooManyRequests | errors.ServerError):
                    raise error
                if attempt >= self.retry.max_retries:
                    raise error
                delay = self.retry.delay(attempt, error.retry_after)
                log.debug("request throttled or failed, retrying", method=method, path=path, code=status,
                          delay=delay)  # fmt: skip
            attempt += 1
            await self._clock.sleep(delay)

    def _observe(self, verb: str, method: str, code: str, started: float) -> None:
        REST_REQUESTS.labels(code, method, self._host).inc()
        REST_LATENCY.labels(verb, self._host).observe(self._clock.now() - started)
