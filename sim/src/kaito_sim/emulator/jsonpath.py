"""The JSONPath dialect of kubectl and CRD printer columns:
``.a.b``, ``.a\\.b`` (escaped dot), ``['key']``, ``[0]``, ``[-1]``, ``[*]``,
``[1:3]``, ``..name`` and filters ``[?(@.type=="Ready")]``."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Step = Callable[[list[Any]], list[Any]]


class JSONPathError(ValueError):
    pass


def _field(name: str) -> Step:
    def step(values: list[Any]) -> list[Any]:
        if name == "*":
            out: list[Any] = []
            for v in values:
                out.extend(v.values() if isinstance(v, dict) else v if isinstance(v, list) else [])
            return out
        return [v[name] for v in values if isinstance(v, dict) and name in v]

    return step


def _recursive(name: str) -> Step:
    def walk(value: Any, out: list[Any]) -> None:
        if isinstance(value, dict):
            if name in value:
                out.append(value[name])
            for child in value.values():
                walk(child, out)
        elif isinstance(value, list):
            for child in value:
                walk(child, out)

    def step(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            walk(v, out)
        return out

    return step


def _index(spec: str) -> Step:
    def step(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            if not isinstance(v, list):
                continue
            if spec == "*":
                out.extend(v)
            elif ":" in spec:
                parts = [int(p) if p.strip() else None for p in spec.split(":")[:2]]
                out.extend(v[parts[0] : parts[1]])
            else:
                i = int(spec)
                if -len(v) <= i < len(v):
                    out.append(v[i])
        return out

    return step


_FILTER = re.compile(r"^\?\(\s*@((?:\.[^=!<>\s]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$")


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _filter(spec: str) -> Step:
    m = _FILTER.match(spec)
    if not m:
        raise JSONPathError(f"unsupported filter: [{spec}]")
    path = compile_path(m.group(1)) if m.group(1) else None
    op, literal = m.group(2), _literal(m.group(3)) if m.group(3) is not None else None

    def test(item: Any) -> bool:
        found = path([item]) if path else [item]
        if op is None:
            return bool(found)
        if not found:
            return False
        value = found[0]
        if op == "==":
            return bool(value == literal or str(value) == str(literal))
        if op == "!=":
            return bool(value != literal and str(value) != str(literal))
        try:
            return bool(
                {"<": value < literal, ">": value > literal, "<=": value <= literal, ">=": value >= literal}[
                    op
                ]
            )
        except TypeError:
            return False

    def step(values: list[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            out.extend(item for item in (v if isinstance(v, list) else []) if test(item))
        return out

    return step


def _tokens(path: str) -> list[Step]:
    steps: list[Step] = []
    i = 0
    while i < len(path):
        ch = path[i]
        if path.startswith("..", i):
            i += 2
            name, i = _read_name(path, i)
            steps.append(_recursive(name))
        elif ch == ".":
            i += 1
            if i < len(path) and path[i] not in ".[":
                name, i = _read_name(path, i)
                steps.append(_field(name))
        elif ch == "[":
            end = _matching_bracket(path, i)
            inner = path[i + 1 : end].strip()
            i = end + 1
            if inner.startswith("?"):
                steps.append(_filter(inner))
            elif inner[:1] in "'\"":
                steps.append(_field(inner[1:-1]))
            else:
                steps.append(_index(inner))
        else:
            name, i = _read_name(path, i)
            steps.append(_field(name))
    return steps


def _read_name(path: str, i: int) -> tuple[str, int]:
    chars: list[str] = []
    while i < len(path) and path[i] not in ".[":
        if path[i] == "\\" and i + 1 < len(path):
            chars.append(path[i + 1])
            i += 2
            continue
        chars.append(path[i])
        i += 1
    return "".join(chars), i


def _matching_bracket(path: str, start: int) -> int:
    depth, quote = 0, ""
    for i in range(start, len(path)):
        ch = path[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
    raise JSONPathError(f"unclosed bracket in {path!r}")


@lru_cache(maxsize=1024)
def compile_path(path: str) -> Callable[[list[Any]], list[Any]]:
    """Compile a path (with or without ``{...}`` braces) into a function over a list of roots."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.strip()
    if text.startswith("$"):
        text = text[1:]
    steps = _tokens(text)

    def run(values: list[Any]) -> list[Any]:
        for step in steps:
            values = step(values)
        return values

    return run


def find(obj: Any, path: str) -> list[Any]:
    return compile_path(path)([obj])


def go_format(value: Any) -> str:
    """How Go's fmt prints a decoded JSON value (what kubectl shows for non-string results)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)
