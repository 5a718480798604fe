"""Structural OpenAPI v3 schemas from the pydantic models.

kube-apiserver only accepts *structural* schemas for CRDs: every node has a
type, no ``$ref``, no nullable ``anyOf`` unions, and ``properties`` never
together with ``additionalProperties``. Pydantic's JSON Schema is close; this
module closes the gap so the CRDs can be generated from the models and never
drift from them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DROPPED_KEYS = frozenset({"title", "$defs", "discriminator"})


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's schema as a structural OpenAPI v3 schema."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.get("$defs", {})
    return _convert(raw, definitions)


def _convert(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    node = _collapse(node, definitions)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS or (key == "default" and value is None):
            continue
        if key == "properties":
            out[key] = {name: _convert(sub, definitions) for name, sub in value.items()}
        elif key == "items":
            out[key] = _convert(value, definitions)
        elif key == "additionalProperties":
            if isinstance(value, dict):
                out[key] = _convert(value, definitions)
        else:
            out[key] = value
    if node.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        # dict[str, Any]: an opaque object (a pod template, a volume source) kept as written.
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def _collapse(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$ref`` and turn ``anyOf: [X, null]`` / single ``allOf`` into X, keeping sibling keys."""
    while True:
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        variants = node.get("anyOf")
        if variants is not None:
            non_null = [v for v in variants if v.get("type") != "null"]
            if len(non_null) != 1:
                raise ValueError(f"cannot express union {variants} in a structural schema")
            siblings = {k: v for k, v in node.items() if k != "anyOf"}
            node = {**non_null[0], **siblings}
            continue
        parts = node.get("allOf")
        if parts is not None and len(parts) == 1:
            siblings = {k: v for k, v in node.items() if k != "allOf"}
            node = {**parts[0], **siblings}
            continue
        return node
