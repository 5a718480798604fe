"""Name, label and annotation validation, with apimachinery's messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kaito.testing.emulator.errors import Cause
from kaito.testing.emulator.schema import quote

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def dns1123_label(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _LABEL.match(value):
        errors.append(DNS1123_LABEL_MSG)
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not _SUBDOMAIN.match(value):
        errors.append(DNS1123_SUBDOMAIN_MSG)
    return errors


def path_segment(value: str) -> list[str]:
    """Names that only need to be usable in a URL path (Events, some others)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def qualified_name(value: str) -> list[str]:
    """A label or annotation key: optional DNS-subdomain prefix, then a 63-char name."""
    prefix, _, name = value.rpartition("/")
    errors = []
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errors.append(_QUALIFIED_NAME_MSG)
    if "/" in value:
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {e}" for e in dns1123_subdomain(prefix))
    return errors


def label_value(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errors.append(_LABEL_VALUE_MSG)
    return errors


def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if labels is None:
        return causes
    if not isinstance(labels, Mapping):
        return [Cause("FieldValueTypeInvalid", "Invalid value: must be a map of strings", path)]
    for key, value in labels.items():
        for err in qualified_name(str(key)):
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
        for err in label_value(value):
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
        for err in qualified_name(str(key).lower()):
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
    rule = {"label": dns1123_label, "subdomain": dns1123_subdomain, "segment": path_segment}[check]
    return [Cause("FieldValueInvalid", f"Invalid value: {quote(name)}: {err}", path) for err in rule(name)]
