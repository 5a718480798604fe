"""Server-side apply, approximated: the applied configuration is merged
into the live object (maps recursively; lists by ``x-kubernetes-list-map-keys``
or patch merge key, sets by value, others replaced), and fields this field
manager applied last time but no longer does are removed.

Field ownership conflicts between managers are not tracked: every apply
behaves as ``--force-conflicts``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kaito_sim.emulator import errors
from kaito_sim.emulator.schema import Schema

if TYPE_CHECKING:
    from kaito_sim.emulator.apiserver import Apiserver, WriteOptions, WriteResult
    from kaito_sim.emulator.pending import PendingWrite
    from kaito_sim.emulator.registry import Resource

Obj = dict[str, Any]


def _child(schema: Schema | None, key: str) -> Schema | None:
    if not schema:
        return None
    props = schema.get("properties") or {}
    if key in props:
        child: Schema = props[key]
        return child
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _list_keys(schema: Schema | None) -> tuple[str, list[str]]:
    """("map", keys) / ("set", []) / ("atomic", [])."""
    if not schema:
        return "atomic", []
    if schema.get("x-kubernetes-list-type") == "map":
        return "map", list(schema.get("x-kubernetes-list-map-keys") or [])
    if schema.get("x-kubernetes-list-type") == "set":
        return "set", []
    if "merge" in str(schema.get("x-kubernetes-patch-strategy", "")):
        key = schema.get("x-kubernetes-patch-merge-key")
        return ("map", [key]) if key else ("set", [])
    return "atomic", []


def merge_applied(live: Any, applied: Any, previous: Any, schema: Schema | None) -> Any:
    if isinstance(applied, dict) and isinstance(live, dict):
        result = dict(live)
        if isinstance(previous, dict):
            for key in previous:
                if key not in applied:
                    result.pop(key, None)
        for key, value in applied.items():
            prev = previous.get(key) if isinstance(previous, dict) else None
            result[key] = merge_applied(live.get(key), value, prev, _child(schema, key))
        return result
    if isinstance(applied, list) and isinstance(live, list):
        kind, keys = _list_keys(schema)
        if kind == "set":
            dropped = [v for v in previous or [] if v not in applied] if isinstance(previous, list) else []
            out = [v for v in live if v not in dropped]
            out.extend(v for v in applied if v not in out)
            return out
        if kind == "map" and keys:
            return _merge_map_list(
                live, applied, previous if isinstance(previous, list) else [], schema, keys
            )
    return copy.deepcopy(applied)


def _merge_map_list(
    live: list[Any], applied: list[Any], previous: list[Any], schema: Schema | None, keys: list[str]
) -> list[Any]:
    def ident(item: Any) -> tuple[Any, ...] | None:
        return tuple(item.get(k) for k in keys) if isinstance(item, dict) else None

    applied_ids = {ident(a) for a in applied}
    previous_by_id = {ident(p): p for p in previous}
    items_schema = (schema or {}).get("items")
    out = [item for item in live if not (ident(item) in previous_by_id and ident(item) not in applied_ids)]
    for item in applied:
        index = next((i for i, existing in enumerate(out) if ident(existing) == ident(item)), None)
        if index is None:
            out.append(copy.deepcopy(item))
        else:
            out[index] = merge_applied(out[index], item, previous_by_id.get(ident(item)), items_schema)
    return out


def server_side_apply(
    api: Apiserver,
    res: Resource,
    version: str,
    namespace: str | None,
    name: str,
    applied: Any,
    opts: WriteOptions,
    subresource: str | None,
) -> PendingWrite[WriteResult]:
    if not opts.field_manager:
        raise errors.bad_request(
            "PATCH request is missing fieldManager: fieldManager is required for apply requests"
        )
    if not isinstance(applied, dict):
        raise errors.bad_request("error decoding YAML: the apply configuration must be an object")
    applied_name = (applied.get("metadata") or {}).get("name")
    if applied_name != name:
        raise errors.bad_request(
            f"the name of the object ({applied_name}) does not match the name on the URL ({name})"
        )
    current = api.store.get(res.key, (namespace or "") if res.namespaced else "", name)
    if current is None:
        if subresource:
            raise errors.not_found(res.plural, res.group, name)

        def remember_created(result: WriteResult) -> WriteResult:
            api.applied.setdefault(result.obj["metadata"]["uid"], {})[opts.field_manager] = applied
            return result

        pending = api.prepare_create(res, version, namespace, copy.deepcopy(applied), opts, "PatchOptions")
        return pending.then(remember_created)
    uid = current["metadata"]["uid"]
    previous = api.applied.get(uid, {}).get(opts.field_manager, {})
    live = copy.deepcopy(api.view(res, current, version))
    merged = merge_applied(live, applied, previous, res.schema(version))
    meta = merged.setdefault("metadata", {})
    if not (applied.get("metadata") or {}).get("resourceVersion"):
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]

    def remember(result: WriteResult) -> WriteResult:
        api.applied.setdefault(uid, {})[opts.field_manager] = applied
        return result

    pending = api.prepare_write_update(res, version, current, merged, opts, subresource, "PatchOptions")
    return pending.then(remember)
