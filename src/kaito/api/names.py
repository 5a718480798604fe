"""Kubernetes name and label syntax, worded exactly as apimachinery words it.

One implementation for kaito's validation and for the API emulator, so a
name kaito refuses is refused with the text a real cluster would print.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_LABEL_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_QUALIFIED_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def _checked(value: str, limit: int, pattern: re.Pattern[str], message: str) -> list[str]:
    errors = []
    if len(value) > limit:
        errors.append(f"must be no more than {limit} characters")
    if not pattern.match(value):
        errors.append(message)
    return errors


def dns1123_label_errors(value: str) -> list[str]:
    return _checked(value, 63, _LABEL, DNS1123_LABEL_MESSAGE)


def dns1123_subdomain_errors(value: str) -> list[str]:
    return _checked(value, 253, _SUBDOMAIN, DNS1123_SUBDOMAIN_MESSAGE)


def dns1035_label_errors(value: str) -> list[str]:
    return _checked(value, 63, _DNS1035, DNS1035_LABEL_MESSAGE)


def label_key_errors(key: str) -> list[str]:
    """A label or annotation key: an optional DNS-subdomain prefix, then a name of at most 63 characters."""
    prefix, _, name = key.rpartition("/")
    errors = []
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errors.append(_QUALIFIED_NAME_MESSAGE)
    if "/" in key:
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {e}" for e in dns1123_subdomain_errors(prefix))
    return errors


def label_value_errors(value: str) -> list[str]:
    return _checked(value, 63, _LABEL_VALUE, _LABEL_VALUE_MESSAGE)
