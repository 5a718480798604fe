"""Server-side ``Table`` output (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kaito_sim.emulator.jsonpath import JSONPathError, find, go_format
from kaito_sim.emulator.printers import AGE, NAME, PRINTERS, Cell, Column, age, since
from kaito_sim.emulator.registry import Resource

Obj = dict[str, Any]
Row = Callable[[Obj], list[Cell]]

_DEFAULT: tuple[list[Column], Row] = ([NAME, AGE], lambda obj: [obj["metadata"]["name"], age(obj)])


def _cell(type_: str, values: list[Any]) -> Cell:
    if not values:
        return None
    value = values[0]
    if type_ == "date":
        return since(value) if isinstance(value, str) else None
    if type_ == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if type_ == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if type_ == "boolean" and isinstance(value, bool):
        return value
    return value if isinstance(value, str) else go_format(value)


def _custom(res: Resource, version: str) -> tuple[list[Column], Row]:
    spec = res.versions.get(version)
    definitions = list(spec.columns if spec else ())
    if not definitions:
        return _DEFAULT
    columns = [NAME] + [
        Column(
            str(d.get("name", "")),
            str(d.get("type", "string")),
            str(d.get("format") or ""),
            int(d.get("priority") or 0),
            str(d.get("description") or ""),
        )
        for d in definitions
    ]

    def row(obj: Obj) -> list[Cell]:
        cells: list[Cell] = [obj["metadata"]["name"]]
        for definition in definitions:
            try:
                values = find(obj, str(definition.get("jsonPath", "")))
            except JSONPathError:
                values = []
            cells.append(_cell(str(definition.get("type", "string")), values))
        return cells

    return columns, row


def printer(res: Resource, version: str) -> tuple[list[Column], Row]:
    if res.is_crd:
        return _custom(res, version)
    return PRINTERS.get(res.key, _DEFAULT)


def row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(
    res: Resource,
    version: str,
    objects: list[Obj],
    resource_version: str,
    include: str = "Metadata",
    continue_token: str = "",
    headers: bool = True,
) -> Obj:
    columns, row = printer(res, version)
    metadata: Obj = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    rows = []
    for obj in objects:
        entry: Obj = {"cells": row(obj)}
        shown = row_object(obj, include)
        if shown is not None:
            entry["object"] = shown
        rows.append(entry)
    out: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "rows": rows}
    if headers:
        out["columnDefinitions"] = [c.to_dict() for c in columns]
    return out
