"""Timestamps as the API server writes them: RFC 3339, UTC, whole seconds."""

from __future__ import annotations

import datetime as dt


def now() -> str:
    return format_time(dt.datetime.now(dt.UTC))


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def seconds_from_now(seconds: float) -> str:
    return format_time(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))
