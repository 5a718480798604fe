"""API errors, rendered as the ``Status`` objects kube-apiserver returns.

Clients branch on ``reason`` and ``code`` (client-go's ``IsNotFound``,
``IsConflict``...) and show ``message`` to people, so both follow the real
server's wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One ``details.causes`` entry: which field is wrong and why."""

    reason: str
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass
class ApiError(Exception):
    """An error answer: HTTP ``code``, machine ``reason``, human ``message``."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    causes: list[Cause] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # omitempty: a webhook's denial may carry no reason
            del body["reason"]
        details = dict(self.details or {})
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if details:
            body["details"] = details
        return body


def qualified_resource(plural: str, group: str) -> str:
    """``pods`` or ``workspaces.kaito.sh``: how messages name a resource."""
    return f"{plural}.{group}" if group else plural


def _details(plural: str, group: str, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return details


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{qualified_resource(plural, group)} "{name}" not found',
        _details(plural, group, name),
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified_resource(plural, group)} "{name}" already exists',
        _details(plural, group, name),
    )


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified_resource(plural, group)} "{name}": {why}',
        _details(plural, group, name),
    )


MODIFIED_CONFLICT = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid, worded like apimachinery's ``NewInvalid``."""
    qualified_kind = f"{kind}.{group}" if group else kind
    messages = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    text = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}', details, list(causes))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(plural: str, group: str, name: str, why: str) -> ApiError:
    verb_msg = f'{qualified_resource(plural, group)} "{name}" is forbidden: {why}'
    return ApiError(403, "Forbidden", verb_msg, _details(plural, group, name))


def method_not_allowed(verb: str, plural: str, group: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"{verb} is not supported on resources of kind {qualified_resource(plural, group)!r}",
        {"kind": plural, "group": group} if group else {"kind": plural},
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def not_acceptable(accepted: list[str]) -> ApiError:
    return ApiError(
        406, "NotAcceptable", f"only the following media types are accepted: {', '.join(accepted)}"
    )


def too_many_requests(retry_after_seconds: int) -> ApiError:
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after_seconds},
        headers={"Retry-After": str(retry_after_seconds)},
    )


def internal_error(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": []})


def internal_error_from(error: str) -> ApiError:
    """apimachinery's ``NewInternalError(err)``: the error's text is also the one cause."""
    return ApiError(
        500, "InternalError", f"Internal error occurred: {error}", {"causes": [{"message": error}]}
    )


def path_not_found(path: str) -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def timeout(message: str) -> ApiError:
    return ApiError(504, "Timeout", message)
