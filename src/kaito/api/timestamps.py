"""RFC 3339 timestamps as Kubernetes writes them (second precision, ``Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return format_time(datetime.now(UTC))


def parse_time(value: str) -> datetime:
    """Parse ``2024-01-02T03:04:05Z`` (fractions and offsets accepted); ValueError when malformed."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
