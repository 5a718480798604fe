"""Schema-level checks: types, required fields, enums and unknown fields.

These are the checks kube-apiserver makes from the CRD schema (with strict
field validation, as ``kubectl apply`` asks for), worded the same way, so the
CLI refuses exactly what a cluster would refuse before any semantic rule runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kaito.api.jsontypes import openapi_type
from kaito.api.meta import KubeModel
from kaito.validation.errors import FieldError

M = TypeVar("M", bound=KubeModel)

_TYPE_NAMES = {
    "string_type": "string",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "bool_type": "boolean",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}


def parse(model: type[M], data: Any) -> tuple[M | None, list[FieldError]]:
    """The typed object and no errors, or None and every schema error found."""
    if not isinstance(data, dict):
        return None, [FieldError("", f"must be an object, got {openapi_type(data)}")]
    try:
        parsed = model.model_validate(data)
    except ValidationError as err:
        return None, schema_errors(err)
    return parsed, unknown_field_errors(parsed)


def schema_errors(err: ValidationError) -> list[FieldError]:
    """A pydantic error as the field errors kube-apiserver would report."""
    return [_field_error(detail) for detail in err.errors()]


def format_path(location: Sequence[str | int]) -> str:
    path = ""
    for step in location:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path += f".{step}" if path else step
    return path


def unknown_field_errors(obj: BaseModel, location: tuple[str | int, ...] = ()) -> list[FieldError]:
    """Fields the schema does not declare: kube-apiserver prunes them, so they would be silently lost."""
    errors = [
        FieldError(format_path(location), f'unknown field "{name}"') for name in sorted(obj.model_extra or {})
    ]
    for name, field in type(obj).model_fields.items():
        wire_name = field.alias or name
        value = getattr(obj, name)
        if isinstance(value, BaseModel):
            errors.extend(unknown_field_errors(value, (*location, wire_name)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    errors.extend(unknown_field_errors(item, (*location, wire_name, index)))
    return errors


def _field_error(detail: ErrorDetails) -> FieldError:
    path = format_path([step for step in detail["loc"] if isinstance(step, str | int)])
    kind = detail["type"]
    value = detail["input"]
    if kind == "missing":
        return FieldError(path, "Required value")
    if kind == "enum":
        expected = detail.get("ctx", {}).get("expected", "")
        return FieldError(path, f"Unsupported value: {_render(value)}: supported values: {expected}")
    if kind in _TYPE_NAMES:
        return FieldError(
            path,
            f"Invalid value: {_render(value)}: must be of type {_TYPE_NAMES[kind]}, "
            f"not {openapi_type(value)}",
        )
    return FieldError(path, f"Invalid value: {_render(value)}: {detail['msg']}")


def _render(value: Any) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
