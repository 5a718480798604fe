"""Name, label and annotation validation, with apimachinery's messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kaito.api.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_key_errors,
    label_value_errors,
)
from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.schema import quote


def path_segment(value: str) -> list[str]:
    """Names that only need to be usable in a URL path (Events, some others)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if labels is None:
        return causes
    if not isinstance(labels, Mapping):
        return [Cause("FieldValueTypeInvalid", "Invalid value: must be a map of strings", path)]
    for key, value in labels.items():
        for err in label_key_errors(str(key)):
            causes.append(Cause("FieldValueInvalid", f"Invalid value: {quote(key)}: {err}", path))
        if not isinstance(value, str):
            causes.append(
                Cause(
                    "FieldValueTypeInvalid",
                    f"Invalid value: {quote(value)}: must be a string",
                    f"{path}.{key}",
                )
            )
            continue
        for err in label_value_errors(value):
            causes.append(Cause("FieldValueInvalid", f"Invalid value: {quote(value)}: {err}", path))
    return causes


def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if annotations is None:
        return causes
    if not isinstance(annotations, Mapping):
        return [Cause("FieldValueTypeInvalid", "Invalid value: must be a map of strings", path)]
    total = 0
    for key, value in annotations.items():
        for err in label_key_errors(str(key).lower()):
            causes.append(Cause("FieldValueInvalid", f"Invalid value: {quote(key)}: {err}", path))
        if not isinstance(value, str):
            causes.append(
                Cause(
                    "FieldValueTypeInvalid",
                    f"Invalid value: {quote(value)}: must be a string",
                    f"{path}.{key}",
                )
            )
            continue
        total += len(key) + len(value)
    if total > 256 * 1024:
        causes.append(Cause("FieldValueTooLong", "Too long: must have at most 262144 bytes", path))
    return causes


def name_causes(name: str, check: str, path: str = "metadata.name") -> list[Cause]:
    """Causes for an invalid object name under the kind's naming rule."""
    rule = {"label": dns1123_label_errors, "subdomain": dns1123_subdomain_errors, "segment": path_segment}[
        check
    ]
    return [Cause("FieldValueInvalid", f"Invalid value: {quote(name)}: {err}", path) for err in rule(name)]
