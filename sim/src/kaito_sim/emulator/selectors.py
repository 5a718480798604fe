"""Label and field selectors: the query-string syntax and the object form.

The label grammar is apimachinery's: ``a=b``, ``a==b``, ``a!=b``,
``a in (x,y)``, ``a notin (x,y)``, ``a``, ``!a``, comma-separated and ANDed.
Field selectors take ``=``, ``==`` and ``!=`` over the fields a resource
declares selectable; anything else is refused as the real server refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kaito_sim.emulator.errors import ApiError, bad_request

_KEY_CHARS = re.compile(r"[A-Za-z0-9_.\-/]+")
_VALUE_CHARS = re.compile(r"[A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("gt", "lt") and present:
            try:
                have, want = int(value or ""), int(next(iter(self.values)))
            except ValueError:
                return False
            return have > want if self.operator == "gt" else have < want
        return False


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)


EVERYTHING = LabelSelector()


class _LabelParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> ApiError:
        return bad_request(f"unable to parse requirement: {what}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.skip_ws()
        return self.text.startswith(token, self.pos)

    def take(self, pattern: re.Pattern[str]) -> str:
        self.skip_ws()
        m = pattern.match(self.text, self.pos)
        value = m.group(0) if m else ""
        self.pos += len(value)
        return value

    def word(self) -> str:
        self.skip_ws()
        m = re.compile(r"[A-Za-z]+").match(self.text, self.pos)
        return m.group(0) if m else ""

    def values_set(self) -> frozenset[str]:
        self.skip_ws()
        if not self.peek("("):
            raise self.error(f"found '{self.text[self.pos : self.pos + 1]}', expected: '('")
        self.pos += 1
        values: list[str] = []
        while True:
            values.append(self.take(_VALUE_CHARS))
            self.skip_ws()
            if self.peek(","):
                self.pos += 1
                continue
            if self.peek(")"):
                self.pos += 1
                return frozenset(values)
            raise self.error(f"found '{self.text[self.pos : self.pos + 1]}', expected: ',', ')'")

    def requirement(self) -> Requirement:
        if self.peek("!"):
            self.pos += 1
            key = self.take(_KEY_CHARS)
            if not key:
                raise self.error("found '', expected: identifier")
            return Requirement(key, "!")
        key = self.take(_KEY_CHARS)
        if not key:
            raise self.error(f"found '{self.text[self.pos : self.pos + 1]}', expected: !, identifier")
        self.skip_ws()
        if self.pos >= len(self.text) or self.peek(","):
            return Requirement(key, "exists")
        for op, name in (("==", "="), ("!=", "!="), ("=", "="), (">", "gt"), ("<", "lt")):
            if self.peek(op):
                self.pos += len(op)
                return Requirement(key, name, frozenset({self.take(_VALUE_CHARS)}))
        word = self.word()
        if word in ("in", "notin"):
            self.pos += len(word)
            return Requirement(key, word, self.values_set())
        raise self.error(f"found '{self.text[self.pos :]}', expected: in, notin, =, ==, !=, gt, lt")

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        self.skip_ws()
        if self.pos >= len(self.text):
            return EVERYTHING
        while True:
            requirements.append(self.requirement())
            self.skip_ws()
            if self.pos >= len(self.text):
                return LabelSelector(tuple(requirements))
            if not self.peek(","):
                raise self.error(f"found '{self.text[self.pos :]}', expected: ',' or 'end of string'")
            self.pos += 1


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a ``labelSelector`` query value; 400 BadRequest when malformed."""
    if not text:
        return EVERYTHING
    return _LabelParser(text).parse()


def from_label_selector(selector: Mapping[str, Any] | None) -> LabelSelector:
    """The object form (``matchLabels`` / ``matchExpressions``) of a selector."""
    if not selector:
        return EVERYTHING
    requirements = [
        Requirement(k, "=", frozenset({str(v)})) for k, v in (selector.get("matchLabels") or {}).items()
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        requirements.append(
            Requirement(expr["key"], ops[expr["operator"]], frozenset(expr.get("values") or ()))
        )
    return LabelSelector(tuple(requirements))


# Field selectors --------------------------------------------------------------------------------------

FieldGetter = Callable[[Mapping[str, Any]], str]


def field_path(*path: str) -> FieldGetter:
    """A getter for a nested field, rendering booleans and absence as the server does."""

    def get(obj: Mapping[str, Any]) -> str:
        value: Any = obj
        for part in path:
            if not isinstance(value, Mapping):
                return ""
            value = value.get(part)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return get


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    equal: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()
    getters: tuple[FieldGetter, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for req, get in zip(self.requirements, self.getters, strict=True):
            if (get(obj) == req.value) != req.equal:
                return False
        return True

    def value_of(self, field: str) -> str | None:
        """The value an ``=`` term pins ``field`` to, if any (used to narrow lookups)."""
        for req in self.requirements:
            if req.field == field and req.equal:
                return req.value
        return None


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _field_term(term: str) -> FieldRequirement | None:
    for op, equal in (("!=", False), ("==", True), ("=", True)):
        idx = term.find(op)
        if idx > 0:
            return FieldRequirement(term[:idx].strip(), equal, term[idx + len(op) :].strip())
    return None


def parse_field_selector(text: str | None, fields: Mapping[str, FieldGetter]) -> FieldSelector:
    """Parse a ``fieldSelector`` against the fields a resource supports."""
    if not text:
        return FieldSelector()
    requirements: list[FieldRequirement] = []
    getters: list[FieldGetter] = []
    for term in _split_unescaped(text, ","):
        term = term.strip()
        if not term:
            continue
        requirement = _field_term(term)
        if requirement is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        getter = fields.get(requirement.field)
        if getter is None:
            raise bad_request(f"field label not supported: {requirement.field}")
        requirements.append(requirement)
        getters.append(getter)
    return FieldSelector(tuple(requirements), tuple(getters))


COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": field_path("metadata", "name"),
    "metadata.namespace": field_path("metadata", "namespace"),
}
