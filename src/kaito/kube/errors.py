"""API errors as typed exceptions, chosen from the server's ``Status`` reason and HTTP code.

Callers branch with ``except NotFound`` / ``except Conflict`` instead of
comparing numbers, and an ``Invalid`` keeps the server's message and the
field-level causes so a status condition can say exactly what was refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class StatusCause:
    """One reason a request failed (a field that did not validate, say)."""

    type: str = ""
    message: str = ""
    field: str = ""


class ApiError(Exception):
    """A request the API server refused; ``status`` is the HTTP code."""

    REASONS: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        status: int,
        reason: str = "",
        message: str = "",
        *,
        causes: tuple[StatusCause, ...] = (),
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or reason or f"HTTP {status}")
        self.status = status
        self.reason = reason
        self.message = message
        self.causes = causes
        self.details = details or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"{self.status} {self.reason or 'error'}: {self.message}"
        if self.causes:
            causes = (f"{c.field}: {c.message}" if c.field else c.message for c in self.causes)
            text += " (" + "; ".join(causes) + ")"
        return text


class BadRequest(ApiError):
    REASONS = frozenset({"BadRequest"})


class Unauthorized(ApiError):
    REASONS = frozenset({"Unauthorized"})


class Forbidden(ApiError):
    REASONS = frozenset({"Forbidden"})


class NotFound(ApiError):
    REASONS = frozenset({"NotFound"})


class Conflict(ApiError):
    """An update against a stale resourceVersion (or a failed precondition): re-read and retry."""

    REASONS = frozenset({"Conflict"})


class AlreadyExists(ApiError):
    REASONS = frozenset({"AlreadyExists"})


class Gone(ApiError):
    """The requested resourceVersion is too old for the server's history: list again."""

    REASONS = frozenset({"Gone", "Expired"})


class Invalid(ApiError):
    REASONS = frozenset({"Invalid"})


class TooManyRequests(ApiError):
    REASONS = frozenset({"TooManyRequests"})


class ServerError(ApiError):
    """5xx: the server failed, timed out or is unavailable; worth retrying."""

    REASONS = frozenset({"InternalError", "ServiceUnavailable", "ServerTimeout", "Timeout"})


_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}
_BY_REASON: dict[str, type[ApiError]] = {
    reason: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, AlreadyExists, Gone, Invalid,
                TooManyRequests, ServerError)
    for reason in cls.REASONS
}  # fmt: skip


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: the API server never sends one
    return max(0.0, seconds)


def from_status(
    status: int, body: bytes | str | dict[str, Any] | None, retry_after: str | None = None
) -> ApiError:
    """The exception for an error response: by ``Status.reason`` first, then by HTTP code."""
    data: dict[str, Any] = {}
    if isinstance(body, dict):
        data = body
    elif body:
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            data = parsed
        else:
            data = {"message": body.decode(errors="replace") if isinstance(body, bytes) else body}
    raw_code = data.get("code")
    code = raw_code if isinstance(raw_code, int) and raw_code > 0 else status
    reason = str(data.get("reason") or "")
    raw_details = data.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    causes = tuple(
        StatusCause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
        for c in details.get("causes") or []
        if isinstance(c, dict)
    )
    retry = _parse_retry_after(retry_after)
    if retry is None and isinstance(details.get("retryAfterSeconds"), int):
        retry = float(details["retryAfterSeconds"])
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code) or (ServerError if code >= 500 else ApiError)
    message = str(data.get("message") or "")
    return cls(code, reason, message, causes=causes, details=details, retry_after=retry)
