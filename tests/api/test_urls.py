"""Data-source URLs: scheme, host, and the internal addresses they must never reach."""

from __future__ import annotations

import pytest

from kaito.validation.urls import data_source_url_errors


@pytest.mark.parametrize(
    "url",
    [
        "https://huggingface.co/datasets/philschmid/dolly-15k-oai-style/resolve/main/data/train.parquet?download=true",
        "http://example.com/data.jsonl",
        "https://8.8.8.8/x",
        "https://[2001:4860:4860::8888]/x",
        "https://example.com.:8443/a",
    ],
)
def test_public_http_urls_are_accepted(url: str) -> None:
    assert data_source_url_errors(url) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "must use HTTP or HTTPS"),
        ("file:///etc/passwd", "must use HTTP or HTTPS"),
        ("example.com/x", "must use HTTP or HTTPS"),
        ("http:///x", "must name a host"),
        ("http://example.com:port/", "not a valid URL"),
        ("http://localhost:8080/x", "local or metadata endpoint"),
        ("http://api.localhost/x", "local or metadata endpoint"),
        ("http://metadata.google.internal/computeMetadata/v1/", "local or metadata endpoint"),
        ("http://instance-data.ec2.internal/", "local or metadata endpoint"),
        ("http://127.0.0.1/", "loopback, private, or link-local address (127.0.0.1)"),
        ("http://127.1/", "(127.0.0.1)"),
        ("http://2130706433/", "(127.0.0.1)"),
        ("http://0x7f000001/", "(127.0.0.1)"),
        ("http://0177.0.0.1/", "(127.0.0.1)"),
        ("http://0/", "(0.0.0.0)"),
        ("http://10.1.2.3/", "(10.1.2.3)"),
        ("http://172.16.0.9/", "(172.16.0.9)"),
        ("http://192.168.1.1/", "(192.168.1.1)"),
        ("http://100.64.0.1/", "(100.64.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "(169.254.169.254)"),
        ("http://[::1]/", "(::1)"),
        ("http://[fe80::1]/", "(fe80::1)"),
        ("http://[fd00:ec2::254]/", "(fd00:ec2::254)"),
        ("http://[::ffff:169.254.169.254]/", "(169.254.169.254)"),
    ],
)
def test_unsafe_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    errors = data_source_url_errors(url)
    assert len(errors) == 1 and message in errors[0], errors
