"""``x-kubernetes-validations``: CEL rules on custom resources, evaluated
with cel-python. ``self`` is the value at the rule's node; on update,
``oldSelf`` is the same node in the stored object when it can be correlated
(object fields by name, ``list-type: map`` items by their keys), and rules
that mention ``oldSelf`` are skipped otherwise, as kube-apiserver does.

:func:`evaluate` serves other CEL uses (webhook ``matchConditions``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import celpy
from celpy.adapter import json_to_cel

from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.schema import Schema, join

_OLD_SELF = re.compile(r"\boldSelf\b")
_MISSING = object()


class RuleError(ValueError):
    """A rule that does not compile: the CRD carrying it is invalid."""


class EvaluationError(ValueError):
    """An expression that compiled but failed at run time (no such key, wrong type...)."""


@lru_cache(maxsize=1024)
def _program(rule: str) -> Any:
    env = celpy.Environment()
    try:
        return env.program(env.compile(rule))
    except Exception as exc:  # cel-python raises several unrelated types for syntax errors
        raise RuleError(f"compilation failed: {exc}") from None


def compile_expression(expression: str) -> None:
    """Raise :class:`RuleError` when ``expression`` does not compile."""
    _program(expression)


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """``expression`` evaluated with JSON-valued ``variables``; a CEL value (BoolType, StringType...)."""
    program = _program(expression)
    activation = {name: json_to_cel(value) for name, value in variables.items()}
    try:
        result = program.evaluate(activation)
    except Exception as exc:  # cel-python raises several unrelated types at run time
        raise EvaluationError(_error_text(exc)) from None
    if isinstance(result, Exception):
        raise EvaluationError(_error_text(result))
    return result


_NO_SUCH_MEMBER = re.compile(r"^no such member in mapping: '(.*)'$")


def _error_text(error: Exception) -> str:
    """cel-python's error in cel-go's words where they differ ("no such key: x"), without its dumps."""
    text = str(error.args[0]) if error.args else str(error)
    text = text.split(" (in activation", 1)[0]
    missing = _NO_SUCH_MEMBER.match(text)
    return f"no such key: {missing.group(1)}" if missing else text


def check_rules(schema: Schema, path: str = "") -> list[Cause]:
    """Compile every rule of a schema; a Cause for each that does not compile."""
    causes: list[Cause] = []
    for i, rule in enumerate(schema.get("x-kubernetes-validations") or []):
        try:
            _program(str(rule.get("rule", "")))
        except RuleError as exc:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: "{rule.get("rule")}": {exc}',
                    f"{path}.x-kubernetes-validations[{i}].rule",
                )
            )
    for key, child in (schema.get("properties") or {}).items():
        causes.extend(check_rules(child, f"{path}.properties[{key}]"))
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, dict):
            causes.extend(check_rules(child, f"{path}.{key}"))
    return causes


def _type_name(schema: Schema, value: Any) -> str:
    if schema.get("type"):
        return str(schema["type"])
    return "object" if isinstance(value, dict) else "string"


def _render(reason: str, message: str, type_name: str) -> str:
    if reason == "FieldValueForbidden":
        return f"Forbidden: {message}"
    if reason == "FieldValueRequired":
        return f"Required value: {message}"
    if reason == "FieldValueDuplicate":
        return f'Duplicate value: "{type_name}": {message}'
    return f'Invalid value: "{type_name}": {message}'


def _evaluate(rule: dict[str, Any], value: Any, old: Any, schema: Schema, path: str) -> Cause | None:
    text = str(rule.get("rule", ""))
    transition = bool(_OLD_SELF.search(text))
    if transition and old is _MISSING and not rule.get("optionalOldSelf"):
        return None
    activation: dict[str, Any] = {"self": json_to_cel(value)}
    if transition:
        activation["oldSelf"] = json_to_cel(None if old is _MISSING else old)
    reason = str(rule.get("reason") or "FieldValueInvalid")
    field = path
    if rule.get("fieldPath"):
        field = join(path, str(rule["fieldPath"]).lstrip("."))
    type_name = _type_name(schema, value)
    try:
        result = _program(text).evaluate(activation)
    except RuleError as exc:
        return Cause(reason, _render(reason, f"{exc} evaluating rule: {text}", type_name), field)
    except Exception as exc:  # an evaluation error is a failed rule, reported with the error
        return Cause(reason, _render(reason, f"{exc} evaluating rule: {text}", type_name), field)
    if isinstance(result, Exception):
        return Cause(reason, _render(reason, f"{result} evaluating rule: {text}", type_name), field)
    if bool(result):
        return None
    message = str(rule.get("message") or "")
    expression = rule.get("messageExpression")
    if expression:
        try:
            rendered = _program(str(expression)).evaluate(activation)
            if isinstance(rendered, str) and rendered.strip():
                message = rendered
        except Exception:  # a broken messageExpression falls back to the static message
            pass
    if not message:
        message = f"failed rule: {text}"
    return Cause(reason, _render(reason, message, type_name), field)


def validate_rules(value: Any, schema: Schema, old: Any = _MISSING, path: str = "") -> list[Cause]:
    """Evaluate every rule under ``schema`` against ``value`` (and ``old`` on update)."""
    causes: list[Cause] = []
    _walk(value, schema, old, path, causes)
    return causes


def no_old() -> Any:
    """The marker for "create": no stored object to correlate with."""
    return _MISSING


def _walk(value: Any, schema: Schema, old: Any, path: str, causes: list[Cause]) -> None:
    if value is None:
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        cause = _evaluate(rule, value, old, schema, path)
        if cause is not None:
            causes.append(cause)
    if isinstance(value, dict):
        props: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, child_value in value.items():
            child = props.get(key) or (extra if isinstance(extra, dict) else None)
            if child is None:
                continue
            child_old = old.get(key, _MISSING) if isinstance(old, dict) else _MISSING
            _walk(child_value, child, child_old, join(path, key), causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        items: Schema = schema["items"]
        keys = (
            schema.get("x-kubernetes-list-map-keys")
            if schema.get("x-kubernetes-list-type") == "map"
            else None
        )
        old_by_key: dict[tuple[Any, ...], Any] = {}
        if keys and isinstance(old, list):
            old_by_key = {tuple(str(o.get(k)) for k in keys): o for o in old if isinstance(o, dict)}
        for i, item in enumerate(value):
            item_old: Any = _MISSING
            if keys and isinstance(item, dict):
                item_old = old_by_key.get(tuple(str(item.get(k)) for k in keys), _MISSING)
            _walk(item, items, item_old, f"{path}[{i}]", causes)
