"""The HTTP face of the emulator: kube-apiserver's URL layout, verbs, content
negotiation (JSON always; Table and PartialObjectMetadata on request), watch
streaming with bookmarks, validating admission webhooks on writes, the
request log and fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from aiohttp import web

from kaito_sim.emulator import discovery, errors, protobuf, tables
from kaito_sim.emulator.admission import ValidatingAdmission
from kaito_sim.emulator.apiserver import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    Apiserver,
    DeleteOptions,
    WriteOptions,
)
from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.faults import Faults
from kaito_sim.emulator.openapi import OpenAPIv3
from kaito_sim.emulator.pending import AdmissionAttributes, PendingWrite, StaleWrite
from kaito_sim.emulator.registry import Resource
from kaito_sim.emulator.requestlog import RequestLog, RequestRecord
from kaito_sim.emulator.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from kaito_sim.emulator.watch import Watcher, WatchEvent

Obj = dict[str, Any]
T = TypeVar("T")
logger = logging.getLogger(__name__)
JSON_TYPE = "application/json"
PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf"
# How often a write starts over because its object changed while webhooks ran, before giving up.
MAX_ADMISSION_ATTEMPTS = 16


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None, content_type: str = JSON_TYPE
) -> web.Response:
    return web.Response(
        body=dumps(obj), status=status, headers={"Content-Type": content_type, **(headers or {})}
    )


def warning_value(text: str) -> str:
    """An RFC 7234 warning (code 299), quoted as kube-apiserver quotes it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def error_response(error: ApiError) -> web.Response:
    return json_response(error.status(), error.code, error.headers)


def warning_headers(warnings: list[str]) -> dict[str, str] | None:
    return {"Warning": ", ".join(warning_value(w) for w in warnings)} if warnings else None


@dataclass
class Target:
    """What a resource URL addresses."""

    group: str
    version: str
    namespace: str | None
    plural: str
    name: str
    subresource: str

    @property
    def resource_label(self) -> str:
        return f"{self.plural}/{self.subresource}" if self.subresource else self.plural


def parse_resource_path(parts: list[str]) -> Target | None:
    """``/api/v1/...`` or ``/apis/g/v/...`` split into its parts (None for discovery paths)."""
    if parts[0] == "api" and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    return Target(
        group, version, namespace, rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else ""
    )


@dataclass(frozen=True)
class Accept:
    table: bool
    partial: bool
    aggregated: bool

    @classmethod
    def parse(cls, header: str) -> Accept:
        table = partial = aggregated = False
        for entry in header.split(","):
            params = {
                p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip()
                for p in entry.split(";")[1:]
                if "=" in p
            }
            kind = params.get("as", "")
            if kind == "Table" and not (table or partial):
                table = True
            elif kind.startswith("PartialObjectMetadata") and not (table or partial):
                partial = True
            elif kind == "APIGroupDiscoveryList" and params.get("v") == "v2":
                aggregated = True
        return cls(table, partial, aggregated)


def _verb(method: str, target: Target, query: Any) -> str:
    if method == "GET":
        if target.name:
            return "get"
        return "watch" if str(query.get("watch", "")).lower() in ("1", "true") else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if target.name else "deletecollection",
    }.get(method, method.lower())


class HttpFrontend:
    def __init__(
        self,
        api: Apiserver,
        faults: Faults,
        log: RequestLog,
        token: str | None,
        bookmark_interval: float,
        server_address: str,
        admission: ValidatingAdmission,
    ) -> None:
        self.api = api
        self.admission = admission
        self.faults = faults
        self.log = log
        self.token = token
        self.bookmark_interval = bookmark_interval
        self.server_address = server_address
        self.openapi = OpenAPIv3(api.registry)
        self._watches: dict[int, web.BaseRequest] = {}

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def drop_watches(self) -> int:
        """Abort every watch connection (the transport is closed, not the chunked stream ended)."""
        dropped = 0
        for request in list(self._watches.values()):
            transport = request.transport
            if transport is not None:
                transport.abort()
                dropped += 1
        self.api.store.hub.drop_all()
        return dropped

    # ------------------------------------------------------------------ entry

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        parts = [p for p in request.path.split("/") if p]
        target = parse_resource_path(parts) if parts else None
        verb = _verb(request.method, target, request.query) if target else "discovery"
        status = 500
        try:
            if self.token is not None and request.headers.get("Authorization") != f"Bearer {self.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if target is not None:
                delay = self.faults.delay_for(verb, target.resource_label)
                if delay:
                    await asyncio.sleep(delay)
                injected = self.faults.error_for(verb, target.resource_label, target.name)
                if injected is not None:
                    raise injected
                response = await self._resource(request, target, verb)
            else:
                response = await self._non_resource(request, parts)
            status = response.status
            return response
        except ApiError as error:
            status = error.code
            return error_response(error)
        except Exception as exc:  # a bug in the emulator must still answer like an API server
            logger.exception("emulator: unhandled error for %s %s", request.method, request.path)
            internal = errors.internal_error(f"{type(exc).__name__}: {exc}")
            status = internal.code
            return error_response(internal)
        finally:
            self.log.append(
                RequestRecord(
                    verb=verb,
                    method=request.method,
                    path=request.path,
                    query=dict(request.query),
                    user_agent=request.headers.get("User-Agent", ""),
                    status=status,
                    timestamp=started,
                    resource=target.resource_label if target else "",
                    namespace=(target.namespace or "") if target else "",
                    name=target.name if target else "",
                )
            )

    async def _non_resource(self, request: web.Request, parts: list[str]) -> web.Response:
        if request.method != "GET":
            raise errors.method_not_allowed(request.method, "", "")
        registry = self.api.registry
        path = "/" + "/".join(parts)
        accept = Accept.parse(request.headers.get("Accept", ""))
        if path == "/version":
            return json_response(discovery.version_info())
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if path in ("/api", "/apis") and accept.aggregated:
            return json_response(
                discovery.aggregated(registry, path == "/api"), content_type=discovery.AGGREGATED_CONTENT_TYPE
            )
        if path == "/api":
            return json_response(discovery.core_versions(self.server_address))
        if path == "/apis":
            return json_response(discovery.group_list(registry))
        if path == "/openapi/v3":
            return json_response(self.openapi.index())
        if path.startswith("/openapi/v3/"):
            doc = self.openapi.document(path[len("/openapi/v3/") :])
            if doc is None:
                raise errors.path_not_found(path)
            return web.Response(body=doc, headers={"Content-Type": JSON_TYPE})
        if len(parts) == 2 and parts[0] == "apis":
            found = discovery.group(registry, parts[1])
            if found is not None:
                return json_response(found)
        if (len(parts) == 2 and parts[0] == "api") or (len(parts) == 3 and parts[0] == "apis"):
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            listing = discovery.resource_list(registry, group, version)
            if listing is not None and (group or version == "v1"):
                return json_response(listing)
        raise errors.path_not_found(path)

    # ------------------------------------------------------------------ resources

    async def _resource(self, request: web.Request, target: Target, verb: str) -> web.StreamResponse:
        res = self.api.registry.lookup(target.group, target.version, target.plural)
        if res is None:
            raise errors.path_not_found(request.path)
        if target.subresource and target.subresource not in res.versions[target.version].subresources:
            raise errors.path_not_found(request.path)
        if res.namespaced and target.name and target.namespace is None:
            raise errors.path_not_found(request.path)
        if not res.namespaced and target.namespace is not None:
            raise errors.path_not_found(request.path)
        query = request.query
        accept = Accept.parse(request.headers.get("Accept", ""))
        if target.subresource == "log":
            return self._pod_log(res, target, query)
        if target.subresource == "binding" and request.method != "POST":
            raise errors.method_not_allowed(request.method, target.plural, target.group)
        if verb == "watch":
            return await self._watch(request, res, target, accept)
        if verb == "list":
            return self._list(res, target, query, accept)
        if verb == "get":
            obj = self.api.get(res, target.version, target.namespace, target.name)
            return self._object_response(res, target, obj, accept)
        warnings: list[str] = []  # the webhooks': they reach the client on success and on failure alike
        try:
            return await self._write(request, res, target, verb, accept, warnings)
        except ApiError as error:
            headers = warning_headers(warnings)
            if headers is None:
                raise
            raise dataclasses.replace(error, headers={**error.headers, **headers}) from None

    async def _write(
        self,
        request: web.Request,
        res: Resource,
        target: Target,
        verb: str,
        accept: Accept,
        warnings: list[str],
    ) -> web.Response:
        query = request.query
        if target.subresource == "binding":
            return await self._bind(request, res, target, warnings)
        if verb in ("delete", "deletecollection"):
            options = DeleteOptions.from_body(
                await self._body(request, allow_empty=True),
                query.get("propagationPolicy"),
                query.get("gracePeriodSeconds"),
                bool(query.get("dryRun")),
            )
            if verb == "delete":
                obj = await self._admitted(
                    lambda: self.api.prepare_delete(
                        res, target.version, target.namespace, target.name, options
                    ),
                    warnings,
                )
                return self._object_response(res, target, obj, accept, warnings=warnings)
            return await self._delete_collection(request, res, target, options, warnings)
        opts = self._write_options(query)
        content_type = request.headers.get("Content-Type", "")
        raw = await request.read()
        if verb == "create":
            if res.namespaced and target.namespace is None:
                raise errors.method_not_allowed("POST", target.plural, target.group)
            result = await self._admitted(
                lambda: self.api.prepare_create(
                    res, target.version, target.namespace, self._parse(raw, content_type), opts
                ),
                warnings,
            )
            return self._object_response(res, target, result.obj, accept, 201, result.warnings + warnings)
        if verb == "update":
            result = await self._admitted(
                lambda: self.api.prepare_update(
                    res,
                    target.version,
                    target.namespace,
                    target.name,
                    self._parse(raw, content_type),
                    opts,
                    target.subresource or None,
                ),
                warnings,
            )
            return self._object_response(
                res, target, result.obj, accept, 201 if result.created else 200, result.warnings + warnings
            )
        if verb == "patch":
            patch_type = content_type.split(";")[0].strip()
            if patch_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
                raise errors.unsupported_media_type(
                    patch_type, [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]
                )
            if patch_type == STRATEGIC_PATCH and res.is_crd:
                raise errors.unsupported_media_type(patch_type, [JSON_PATCH, MERGE_PATCH, APPLY_PATCH])
            result = await self._admitted(
                lambda: self.api.prepare_patch(
                    res,
                    target.version,
                    target.namespace,
                    target.name,
                    patch_type,
                    self._parse(raw, content_type, yaml_ok=patch_type == APPLY_PATCH),
                    opts,
                    target.subresource or None,
                ),
                warnings,
            )
            return self._object_response(
                res, target, result.obj, accept, 201 if result.created else 200, result.warnings + warnings
            )
        raise errors.method_not_allowed(request.method, target.plural, target.group)

    async def _admitted(self, prepare: Callable[[], PendingWrite[T]], warnings: list[str]) -> T:
        """Prepare a write, run validating admission on it, commit it; start over when the object
        changed while the webhooks ran, as kube-apiserver's GuaranteedUpdate retries."""
        for _ in range(MAX_ADMISSION_ATTEMPTS):
            pending = prepare()
            await self.admission.validate(pending.attributes, warnings)
            try:
                return pending.commit()
            except StaleWrite:
                continue
        attrs = pending.attributes
        raise errors.conflict(
            attrs.resource.plural, attrs.resource.group, attrs.name, errors.MODIFIED_CONFLICT
        )

    async def _delete_collection(
        self, request: web.Request, res: Resource, target: Target, options: DeleteOptions, warnings: list[str]
    ) -> web.Response:
        """Each object is deleted (and admitted) on its own, as the registry's DeleteCollection does."""
        labels, fields = self._selectors(res, request.query)
        deleted: list[Obj] = []
        for item in self.api.list(res, target.version, target.namespace, labels, fields).items:
            namespace, name = item["metadata"].get("namespace"), item["metadata"]["name"]

            def prepare(namespace: str | None = namespace, name: str = name) -> PendingWrite[Obj]:
                return self.api.prepare_delete(res, target.version, namespace, name, options)

            try:
                deleted.append(await self._admitted(prepare, warnings))
            except ApiError as exc:
                if exc.code != 404:
                    raise
        return json_response(
            {
                "kind": res.list_kind,
                "apiVersion": res.api_version(target.version),
                "metadata": {"resourceVersion": str(self.api.store.resource_version)},
                "items": deleted,
            },
            headers=warning_headers(warnings),
        )

    async def _bind(
        self, request: web.Request, res: Resource, target: Target, warnings: list[str]
    ) -> web.Response:
        """``pods/binding``: admitted as a CREATE of the Binding, then the pod is assigned."""
        body = await self._body(request)
        binding = body if isinstance(body, dict) else {}
        namespace = target.namespace or ""
        obj: Obj = {
            "kind": "Binding",
            "apiVersion": "v1",
            **binding,
            "metadata": {**(binding.get("metadata") or {}), "namespace": namespace},
        }
        opts = self._write_options(request.query)
        attributes = AdmissionAttributes(
            operation="CREATE",
            resource=res,
            version=target.version,
            subresource="binding",
            namespace=namespace,
            name=target.name,
            obj=obj,
            old=None,
            options=opts.admission_options("CreateOptions"),
            dry_run=opts.dry_run,
        )
        await self.admission.validate(attributes, warnings)
        node = (binding.get("target") or {}).get("name", "")
        if not opts.dry_run:
            self.api.bind(namespace, target.name, node)
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
            201,
            warning_headers(warnings),
        )

    @staticmethod
    def _write_options(query: Any) -> WriteOptions:
        validation = query.get("fieldValidation") or ""
        if validation not in ("", "Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation: Unsupported value: "{validation}": supported values: '
                '"Ignore", "Strict", "Warn"'
            )
        dry_run = query.get("dryRun")
        if dry_run not in (None, "", "All"):
            raise errors.bad_request(f'dryRun: Unsupported value: "{dry_run}": supported values: "All"')
        return WriteOptions(
            dry_run=dry_run == "All",
            field_validation=validation,
            field_manager=query.get("fieldManager", ""),
            force=str(query.get("force", "")).lower() == "true",
        )

    @classmethod
    async def _body(cls, request: web.Request, allow_empty: bool = False, yaml_ok: bool = False) -> Any:
        return cls._parse(await request.read(), request.headers.get("Content-Type", ""), allow_empty, yaml_ok)

    @staticmethod
    def _parse(raw: bytes, content_type: str, allow_empty: bool = False, yaml_ok: bool = False) -> Any:
        """A request body decoded afresh (writes that start over must not see their last attempt's edits)."""
        if not raw.strip():
            if allow_empty:
                return None
            raise errors.bad_request("the body of the request was empty")
        if "protobuf" in content_type:
            return protobuf.decode(raw)
        if "cbor" in content_type:
            raise errors.unsupported_media_type(content_type, [JSON_TYPE, "application/yaml", PROTOBUF_TYPE])
        try:
            if yaml_ok or "yaml" in content_type:
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None

    def _selectors(self, res: Resource, query: Any) -> tuple[LabelSelector, FieldSelector]:
        return (
            parse_label_selector(query.get("labelSelector")),
            parse_field_selector(query.get("fieldSelector"), res.fields),
        )

    def _object_response(
        self,
        res: Resource,
        target: Target,
        obj: Obj,
        accept: Accept,
        status: int = 200,
        warnings: list[str] | None = None,
    ) -> web.Response:
        headers = {"Warning": ", ".join(warning_value(w) for w in warnings)} if warnings else None
        if accept.table:
            body = tables.table(res, target.version, [obj], obj["metadata"].get("resourceVersion", ""))
            return json_response(body, status, headers)
        if accept.partial:
            body = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
            return json_response(body, status, headers)
        return json_response(obj, status, headers)

    def _list(self, res: Resource, target: Target, query: Any, accept: Accept) -> web.Response:
        labels, fields = self._selectors(res, query)
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            raise errors.bad_request(f"invalid limit: {query.get('limit')}") from None
        result = self.api.list(
            res,
            target.version,
            target.namespace,
            labels,
            fields,
            limit,
            query.get("continue", ""),
            query.get("resourceVersion", ""),
            query.get("resourceVersionMatch", ""),
        )
        if accept.table:
            include = query.get("includeObject", "Metadata")
            return json_response(
                tables.table(
                    res, target.version, result.items, result.resource_version, include, result.continue_token
                )
            )
        meta: Obj = {"resourceVersion": result.resource_version}
        if result.continue_token:
            meta["continue"] = result.continue_token
            meta["remainingItemCount"] = result.remaining
        if accept.partial:
            items: list[Obj] = [
                {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
                for o in result.items
            ]
            return json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": items,
                }
            )
        return json_response(
            {
                "kind": res.list_kind,
                "apiVersion": res.api_version(target.version),
                "metadata": meta,
                "items": result.items,
            }
        )

    def _pod_log(self, res: Resource, target: Target, query: Any) -> web.Response:
        pod = self.api.get(res, target.version, target.namespace, target.name)
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        wanted = query.get("container") or (containers[0] if len(containers) == 1 else None)
        if wanted is None:
            raise errors.bad_request(
                f"a container name must be specified for pod {target.name}, choose one of: "
                f"[{' '.join(str(c) for c in containers)}]"
            )
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        status = statuses.get(wanted)
        if wanted not in containers:
            raise errors.bad_request(f"container {wanted} is not valid for pod {target.name}")
        state = (status or {}).get("state") or {}
        if status is None or "waiting" in state:
            reason = ((state.get("waiting") or {}).get("reason")) or "ContainerCreating"
            raise errors.bad_request(
                f'container "{wanted}" in pod "{target.name}" is waiting to start: {reason}'
            )
        started = (state.get("running") or state.get("terminated") or {}).get("startedAt", "")
        text = (
            f"{started} simulated container {wanted} (image {status.get('image')}) started on node "
            f"{(pod.get('spec') or {}).get('nodeName')}\n"
        )
        return web.Response(text=text, content_type="text/plain")

    # ------------------------------------------------------------------ watch

    def _translator(self, res: Resource, version: str, labels: LabelSelector, fields: FieldSelector) -> Any:
        plain = labels.empty and fields.empty

        def matches(obj: Obj | None) -> bool:
            return obj is not None and labels.matches(obj["metadata"].get("labels")) and fields.matches(obj)

        def translate(event: WatchEvent) -> tuple[str, Obj] | None:
            obj = self.api.view(res, event.obj, version)
            if plain:
                return event.type, obj
            new_ok = event.type != "DELETED" and matches(event.obj)
            old_ok = matches(event.old)
            if event.type == "DELETED":
                return ("DELETED", obj) if old_ok else None
            if new_ok:
                return ("MODIFIED" if old_ok and event.type == "MODIFIED" else "ADDED"), obj
            if old_ok:
                return "DELETED", obj
            return None

        return translate

    async def _watch(
        self, request: web.Request, res: Resource, target: Target, accept: Accept
    ) -> web.StreamResponse:
        query = request.query
        labels, fields = self._selectors(res, query)
        rv = query.get("resourceVersion", "")
        send_initial = str(query.get("sendInitialEvents", "")).lower() == "true"
        bookmarks = str(query.get("allowWatchBookmarks", "")).lower() == "true"
        try:
            timeout = float(query.get("timeoutSeconds") or 1800)
        except ValueError:
            raise errors.bad_request(f"invalid timeoutSeconds: {query.get('timeoutSeconds')}") from None
        store = self.api.store
        namespace = target.namespace if res.namespaced else None
        if target.name:
            fields = parse_field_selector(
                ",".join(filter(None, [f"metadata.name={target.name}", query.get("fieldSelector")])),
                res.fields,
            )
        initial: list[tuple[str, Obj, int]] = []
        since: int | None = None
        if rv in ("", "0") or send_initial:
            current = store.resource_version
            items = self.api.list(res, target.version, namespace, labels, fields).items
            initial = [("ADDED", obj, current) for obj in items]
            since = current
        else:
            try:
                since = int(rv)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {rv}") from None
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON_TYPE})
        response.enable_chunked_encoding()
        translate = self._translator(res, target.version, labels, fields)
        try:
            watcher = store.hub.subscribe(res.key, namespace, translate, since, initial)
        except ApiError as error:
            await response.prepare(request)
            await response.write(dumps({"type": "ERROR", "object": error.status()}) + b"\n")
            await response.write_eof()
            return response
        self._watches[id(request)] = request
        await response.prepare(request)
        try:
            await self._stream(
                request, response, watcher, res, target, accept, bookmarks, send_initial, timeout
            )
        except (ConnectionResetError, asyncio.CancelledError, RuntimeError):
            pass
        finally:
            store.hub.unsubscribe(watcher)
            self._watches.pop(id(request), None)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    async def _stream(
        self,
        request: web.Request,
        response: web.StreamResponse,
        watcher: Watcher,
        res: Resource,
        target: Target,
        accept: Accept,
        bookmarks: bool,
        send_initial: bool,
        timeout: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        next_bookmark = loop.time() + self.bookmark_interval
        first_table = True
        initial_pending = send_initial
        store = self.api.store

        async def emit(event_type: str, obj: Obj) -> None:
            nonlocal first_table
            if accept.table and event_type != "BOOKMARK":
                obj = tables.table(
                    res,
                    target.version,
                    [obj],
                    obj["metadata"].get("resourceVersion", ""),
                    request.query.get("includeObject", "Metadata"),
                    headers=first_table,
                )
                first_table = False
            await response.write(dumps({"type": event_type, "object": obj}) + b"\n")

        def bookmark(initial_end: bool = False) -> Obj:
            meta: Obj = {"resourceVersion": str(store.resource_version)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": res.kind, "apiVersion": res.api_version(target.version), "metadata": meta}

        while True:
            if initial_pending and watcher.queue.empty():
                initial_pending = False
                if bookmarks:
                    await emit("BOOKMARK", bookmark(initial_end=True))
            now = loop.time()
            if now >= deadline:
                if bookmarks and watcher.queue.empty():
                    await emit("BOOKMARK", bookmark())
                return
            wait = min(deadline - now, 1.0, max(0.0, next_bookmark - now) if bookmarks else 1.0)
            try:
                item = await asyncio.wait_for(watcher.queue.get(), timeout=max(wait, 0.001))
            except TimeoutError:
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                if bookmarks and loop.time() >= next_bookmark and watcher.queue.empty():
                    await emit("BOOKMARK", bookmark())
                    next_bookmark = loop.time() + self.bookmark_interval
                continue
            if item is None:
                return
            event_type, obj, _rv = item
            await emit(event_type, obj)
