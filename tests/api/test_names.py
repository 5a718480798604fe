"""Name and label syntax, as apimachinery defines it."""

from __future__ import annotations

import pytest

from kaito.api import names


@pytest.mark.parametrize("value", ["a", "my-name", "123-abc", "a" * 63])
def test_dns1123_labels(value: str) -> None:
    assert names.dns1123_label_errors(value) == []


@pytest.mark.parametrize("value", ["", "A", "-a", "a-", "a.b", "a_b", "a" * 64])
def test_bad_dns1123_labels(value: str) -> None:
    assert names.dns1123_label_errors(value)


def test_dns1035_labels_must_start_with_a_letter() -> None:
    assert names.dns1035_label_errors("abc-123") == []
    assert names.dns1035_label_errors("123-abc")


@pytest.mark.parametrize("value", ["a", "a.b.c", "my-secret.v1"])
def test_subdomains(value: str) -> None:
    assert names.dns1123_subdomain_errors(value) == []


@pytest.mark.parametrize("value", ["", ".a", "a..b", "A.b", "a" * 254])
def test_bad_subdomains(value: str) -> None:
    assert names.dns1123_subdomain_errors(value)


@pytest.mark.parametrize("key", ["app", "apps", "kaito.sh/workspace", "example.com/My_Key.1", "a" * 63])
def test_label_keys(key: str) -> None:
    assert names.label_key_errors(key) == []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("/a", "prefix part must be non-empty"),
        ("a/", "name part must be non-empty"),
        ("Bad_Prefix/a", "prefix part"),
        ("-a", "name part must consist"),
        ("a" * 64, "no more than 63"),
    ],
)
def test_bad_label_keys(key: str, message: str) -> None:
    assert any(message in e for e in names.label_key_errors(key))


@pytest.mark.parametrize("value", ["", "phi-3", "My_Value.1"])
def test_label_values(value: str) -> None:
    assert names.label_value_errors(value) == []


@pytest.mark.parametrize("value", ["-a", "a b", "a" * 64])
def test_bad_label_values(value: str) -> None:
    assert names.label_value_errors(value)
