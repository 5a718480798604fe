"""Structural-schema processing of custom resources, in apiextensions order:
prune unknown fields, apply defaults, validate.

Messages copy kube-openapi's validator wording (``spec.x in body must be of
type integer: "string"``...) because users and tests match on them.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

from kaito.api.jsontypes import openapi_type
from kaito_sim.emulator.errors import Cause

Schema = dict[str, Any]

_ROOT_KEYS = ("apiVersion", "kind", "metadata")


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(obj: Any, schema: Schema, path: str = "", *, root: bool = True) -> list[str]:
    """Drop fields the schema does not declare (in place); return their paths.

    Nulls in non-nullable fields are dropped too (silently), so a default can
    take their place.
    """
    unknown: list[str] = []
    _prune(obj, schema, path, unknown, root or bool(schema.get("x-kubernetes-embedded-resource")))
    return unknown


def _prune(obj: Any, schema: Schema, path: str, unknown: list[str], keep_meta: bool) -> None:
    if isinstance(obj, dict):
        props: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key in list(obj):
            value = obj[key]
            if keep_meta and key in _ROOT_KEYS:
                continue
            child: Schema | None = props.get(key)
            if child is None and isinstance(extra, dict):
                child = extra
            if child is None:
                if not (_preserves(schema) or extra is True):
                    unknown.append(join(path, key))
                    del obj[key]
                continue
            if value is None and not child.get("nullable"):
                del obj[key]
                continue
            _prune(value, child, join(path, key), unknown, bool(child.get("x-kubernetes-embedded-resource")))
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(obj):
                _prune(
                    item, items, f"{path}[{i}]", unknown, bool(items.get("x-kubernetes-embedded-resource"))
                )


def apply_defaults(obj: Any, schema: Schema) -> None:
    """Fill absent fields from ``default`` (in place), recursing into what exists."""
    if isinstance(obj, dict):
        props: dict[str, Schema] = schema.get("properties") or {}
        for key, child in props.items():
            if key not in obj and "default" in child:
                obj[key] = copy.deepcopy(child["default"])
        for key, value in obj.items():
            child_schema = props.get(key)
            if child_schema is None and isinstance(schema.get("additionalProperties"), dict):
                child_schema = schema["additionalProperties"]
            if child_schema is not None:
                apply_defaults(value, child_schema)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(item, schema["items"])


def _type_ok(value: Any, type_: str) -> bool:
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if type_ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def quote(value: Any) -> str:
    """How apimachinery prints a value inside ``Invalid value: ...``."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return f'"{openapi_type(value)}"'


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def validate(value: Any, schema: Schema, path: str = "") -> list[Cause]:
    """Schema validation of a (pruned, defaulted) value; one Cause per violation."""
    causes: list[Cause] = []
    _validate(value, schema, path, causes)
    return causes


def _validate(value: Any, schema: Schema, path: str, causes: list[Cause]) -> None:
    where = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            causes.append(
                Cause(
                    "FieldValueTypeInvalid",
                    f'Invalid value: "null": {where} in body must be of type {schema["type"]}: "null"',
                    path,
                )
            )
        return
    int_or_string = schema.get("x-kubernetes-int-or-string")
    if int_or_string and (not isinstance(value, (int, str)) or isinstance(value, bool)):
        causes.append(
            Cause(
                "FieldValueTypeInvalid",
                f'Invalid value: "{openapi_type(value)}": {where} in body must be of '
                f'type integer,string: "{openapi_type(value)}"',
                path,
            )
        )
        return
    type_ = schema.get("type")
    if type_ and not _type_ok(value, type_):
        causes.append(
            Cause(
                "FieldValueTypeInvalid",
                f'Invalid value: "{openapi_type(value)}": {where} in body must be of type '
                f'{type_}: "{openapi_type(value)}"',
                path,
            )
        )
        return
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(quote(e) for e in enum)
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f"Unsupported value: {quote(value)}: supported values: {supported}",
                path,
            )
        )
    if isinstance(value, str):
        _validate_string(value, schema, path, where, causes)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _validate_number(value, schema, path, where, causes)
    elif isinstance(value, list):
        _validate_list(value, schema, path, where, causes)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, where, causes)


def _validate_string(value: str, schema: Schema, path: str, where: str, causes: list[Cause]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        causes.append(
            Cause("FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes", path)
        )
    if "minLength" in schema and len(value) < schema["minLength"]:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {quote(value)}: {where} in body should be at "
                f"least {schema['minLength']} chars long",
                path,
            )
        )
    pattern = schema.get("pattern")
    if pattern and not _pattern(pattern).search(value):
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {quote(value)}: {where} in body should match '{pattern}'",
                path,
            )
        )


def _validate_number(value: float, schema: Schema, path: str, where: str, causes: list[Cause]) -> None:
    if "minimum" in schema:
        low = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= low:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {_num(value)}: {where} in body should be greater than {_num(low)}",
                    path,
                )
            )
        elif value < low:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {_num(value)}: {where} in body should be "
                    f"greater than or equal to {_num(low)}",
                    path,
                )
            )
    if "maximum" in schema:
        high = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= high:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {_num(value)}: {where} in body should be less than {_num(high)}",
                    path,
                )
            )
        elif value > high:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {_num(value)}: {where} in body should be "
                    f"less than or equal to {_num(high)}",
                    path,
                )
            )
    if "multipleOf" in schema and schema["multipleOf"] and value % schema["multipleOf"]:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_num(value)}: {where} in body should be a "
                f"multiple of {_num(schema['multipleOf'])}",
                path,
            )
        )


def _validate_list(value: list[Any], schema: Schema, path: str, where: str, causes: list[Cause]) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        causes.append(
            Cause(
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                path,
            )
        )
    if "minItems" in schema and len(value) < schema["minItems"]:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {len(value)}: {where} in body should have at "
                f"least {schema['minItems']} items",
                path,
            )
        )
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set" or schema.get("uniqueItems"):
        seen: list[Any] = []
        for i, item in enumerate(value):
            if item in seen:
                causes.append(Cause("FieldValueDuplicate", f"Duplicate value: {quote(item)}", f"{path}[{i}]"))
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: set[tuple[Any, ...]] = set()
        for i, item in enumerate(value):
            if isinstance(item, dict):
                ident = tuple(str(item.get(k)) for k in keys)
                if ident in seen_keys:
                    shown = ", ".join(f'"{k}":{quote(item.get(k))}' for k in keys)
                    causes.append(
                        Cause(
                            "FieldValueDuplicate",
                            f"Duplicate value: map[string]interface {{}}{{{shown}}}",
                            f"{path}[{i}]",
                        )
                    )
                seen_keys.add(ident)
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{path}[{i}]", causes)


def _validate_object(
    value: dict[str, Any], schema: Schema, path: str, where: str, causes: list[Cause]
) -> None:
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(Cause("FieldValueRequired", "Required value", join(path, key)))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        causes.append(
            Cause(
                "FieldValueTooMany",
                f"Too many: {len(value)}: must have at most {schema['maxProperties']} items",
                path,
            )
        )
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {len(value)}: {where} in body should have at "
                f"least {schema['minProperties']} properties",
                path,
            )
        )
    props: dict[str, Schema] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, child_value in value.items():
        child = props.get(key)
        if child is None and isinstance(extra, dict):
            child = extra
        if child is not None and not (path == "" and key in _ROOT_KEYS and key not in props):
            _validate(child_value, child, join(path, key), causes)
