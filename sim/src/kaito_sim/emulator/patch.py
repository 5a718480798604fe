"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

Both work on plain JSON values and never mutate their input. A malformed
patch document is a 400; a well-formed patch that cannot be applied (a
missing path, a failed ``test``) is a 422, as kube-apiserver answers.
"""

from __future__ import annotations

import copy
from typing import Any

from kaito_sim.emulator.errors import ApiError, bad_request


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _decode_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise bad_request(f'invalid JSON pointer "{pointer}": must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _list_index(container: list[Any], token: str, op: str, pointer: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _unprocessable(
            f'{op} operation does not apply: doc is missing path: "{pointer}": invalid index'
        )
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise _unprocessable(
            f'{op} operation does not apply: doc is missing path: "{pointer}": index out of range'
        )
    return index


def _parent(doc: Any, tokens: list[str], op: str, pointer: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_list_index(node, token, op, pointer, allow_end=False)]
        else:
            raise _unprocessable(
                f'{op} operation does not apply: doc is missing path: "{pointer}": missing value'
            )
    return node


def _get(doc: Any, pointer: str, op: str) -> Any:
    tokens = _decode_pointer(pointer)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, op, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(
                f"{op} operation does not apply: doc is missing key: {pointer}: missing value"
            )
        return parent[last]
    if isinstance(parent, list):
        return parent[_list_index(parent, last, op, pointer, allow_end=False)]
    raise _unprocessable(f'{op} operation does not apply: doc is missing path: "{pointer}": missing value')


def _add(doc: Any, pointer: str, value: Any, op: str = "add") -> Any:
    tokens = _decode_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens, op, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, last, op, pointer, allow_end=True), value)
    else:
        raise _unprocessable(
            f'{op} operation does not apply: doc is missing path: "{pointer}": missing value'
        )
    return doc


def _remove(doc: Any, pointer: str, op: str = "remove") -> Any:
    tokens = _decode_pointer(pointer)
    if not tokens:
        raise _unprocessable(f"{op} operation does not apply: cannot remove the whole document")
    parent = _parent(doc, tokens, op, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(
                f"{op} operation does not apply: doc is missing key: {pointer}: missing value"
            )
        del parent[last]
    elif isinstance(parent, list):
        del parent[_list_index(parent, last, op, pointer, allow_end=False)]
    else:
        raise _unprocessable(
            f'{op} operation does not apply: doc is missing path: "{pointer}": missing value'
        )
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: apply each operation in order to a copy of ``target``."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise bad_request("invalid JSON patch operation: missing 'op'")
        op = operation["op"]
        path = operation.get("path")
        if not isinstance(path, str):
            raise bad_request(f"invalid JSON patch operation {op!r}: missing 'path'")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise bad_request(f"invalid JSON patch operation {op!r}: missing 'value'")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path, "replace")
            doc = (
                _add(_remove(doc, path, "replace"), path, copy.deepcopy(operation["value"]), "replace")
                if _decode_pointer(path)
                else copy.deepcopy(operation["value"])
            )
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise bad_request(f"invalid JSON patch operation {op!r}: missing 'from'")
            value = copy.deepcopy(_get(doc, source, op))
            if op == "move":
                doc = _remove(doc, source, op)
            doc = _add(doc, path, value, op)
        elif op == "test":
            if _get(doc, path, "test") != operation["value"]:
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {op}")
    return doc
