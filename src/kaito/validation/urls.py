"""Data-source URLs: http(s) only, and never an address inside the cluster's trust boundary.

A tuning job downloads these URLs from inside the cluster, so a URL naming a
loopback, private, link-local or cloud-metadata address would let a workspace
author read internal services. Hosts written as numbers in any of the forms
``curl`` accepts (``2130706433``, ``0x7f.1``, ``127.1``) are decoded first.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.google",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.azure.internal",
    }
)


def data_source_url_errors(url: str) -> list[str]:
    """Why ``url`` may not be used as a data source; empty when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as err:
        return [f"not a valid URL: {err}"]
    if parts.scheme.lower() not in ("http", "https"):
        return ["data source URL must use HTTP or HTTPS"]
    if not host:
        return ["data source URL must name a host"]
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost") or host in _METADATA_HOSTS:
        return ["data source URL must not target a local or metadata endpoint"]
    address = _host_address(host)
    if address is not None and not address.is_global:
        return [f"data source URL must not target a loopback, private, or link-local address ({address})"]
    return []


def _host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host literal denotes, or None for a DNS name."""
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = _legacy_ipv4(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Decode inet_aton forms (decimal, octal, hex, shortened) that HTTP clients still honour."""
    if not all(part and part.isalnum() for part in host.split(".")) or host.split(".")[-1].isalpha():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
