"""Strategic merge patch, driven by the same OpenAPI extensions the real
server reads: ``x-kubernetes-patch-strategy`` (``merge``, ``retainKeys``)
and ``x-kubernetes-patch-merge-key`` on the schema of each list.

Directives handled: ``$patch: replace|delete|merge`` in maps and list
elements, ``$retainKeys``, ``$deleteFromPrimitiveList/<field>`` and
``$setElementOrder/<field>`` (all of which ``kubectl apply`` emits).
"""

from __future__ import annotations

import copy
from typing import Any

from kaito_sim.emulator.errors import bad_request

Schema = dict[str, Any]

_DELETE = object()
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


def _child(schema: Schema | None, key: str) -> Schema | None:
    if not schema:
        return None
    props = schema.get("properties")
    if props and key in props:
        child: Schema = props[key]
        return child
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not (k.startswith("$patch") or k == "$retainKeys" or k.startswith("$"))
        }
    if isinstance(value, list):
        return [
            _strip_directives(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "replace")
        ]
    return copy.deepcopy(value)


def strategic_merge_patch(original: Any, patch: Any, schema: Schema | None) -> Any:
    """Apply ``patch`` to ``original`` (neither is mutated)."""
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch must be a JSON object")
    result = _merge_map(original if isinstance(original, dict) else {}, patch, schema)
    return {} if result is _DELETE else result


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return _strip_directives(patch)
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch type: {directive}")
    result = dict(original)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith(_SET_ORDER):
            orders[key[len(_SET_ORDER) :]] = value
            continue
        if key.startswith(_DELETE_PRIMITIVE):
            field = key[len(_DELETE_PRIMITIVE) :]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        child_schema = _child(schema, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(result[key] if isinstance(result.get(key), dict) else {}, value, child_schema)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, child_schema)
        else:
            result[key] = value
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _apply_order(result[field], order, _merge_key(_child(schema, field)))
    return result


def _merge_key(schema: Schema | None) -> str | None:
    if not schema:
        return None
    key = schema.get("x-kubernetes-patch-merge-key")
    return key if isinstance(key, str) else None


def _is_merge_list(schema: Schema | None) -> bool:
    return bool(schema) and "merge" in str((schema or {}).get("x-kubernetes-patch-strategy", "")).split(",")


def _merge_list(original: Any, patch: list[Any], schema: Schema | None) -> list[Any]:
    if not _is_merge_list(schema) or any(isinstance(v, dict) and v.get("$patch") == "replace" for v in patch):
        return [
            _strip_directives(v) for v in patch if not (isinstance(v, dict) and v.get("$patch") == "replace")
        ]
    current = list(original) if isinstance(original, list) else []
    key = _merge_key(schema)
    items_schema = (schema or {}).get("items")
    if key is None:
        for value in patch:
            if value not in current:
                current.append(copy.deepcopy(value))
        return current
    for element in patch:
        if not isinstance(element, dict) or key not in element:
            raise bad_request(f"map: {element} does not contain declared merge key: {key}")
        index = next(
            (i for i, c in enumerate(current) if isinstance(c, dict) and c.get(key) == element[key]), None
        )
        if element.get("$patch") == "delete":
            current = [c for c in current if not (isinstance(c, dict) and c.get(key) == element[key])]
        elif index is None:
            current.append(_strip_directives(element))
        else:
            merged = _merge_map(current[index], element, items_schema)
            if merged is _DELETE:
                del current[index]
            else:
                current[index] = merged
    return current


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Put items named in ``order`` first, in that order; the rest keep their relative order."""

    def identity(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(o) for o in order]
    ranked = {w: i for i, w in enumerate(wanted) if isinstance(w, (str, int, float, bool))}
    head = sorted((i for i in items if identity(i) in ranked), key=lambda i: ranked[identity(i)])
    tail = [i for i in items if identity(i) not in ranked]
    return head + tail
