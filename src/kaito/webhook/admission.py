"""AdmissionReview v1 in, AdmissionReview v1 out: the webhook's decision, with no I/O.

Both served Workspace versions arrive here; the verdict and its wording come
from the same validation module ``kaito validate`` uses.
"""

from __future__ import annotations

from typing import Any

from kaito.validation import FieldError, ValidationContext, validate_workspace

ADMISSION_API_VERSION = "admission.k8s.io/v1"
WEBHOOK_NAME = "validation.workspace.kaito.sh"
WEBHOOK_PATH = "/validate/workspace.kaito.sh"


class BadAdmissionReview(ValueError):
    """The request body is not an AdmissionReview this webhook can answer."""


def review(body: Any, context: ValidationContext) -> dict[str, Any]:
    """The AdmissionReview response for an AdmissionReview request."""
    request = _request(body)
    uid = request.get("uid", "")
    operation = request.get("operation")
    if operation not in ("CREATE", "UPDATE"):
        return _response(uid, allowed=True)
    document = request.get("object")
    if isinstance(document, dict):
        document = _with_namespace(document, request.get("namespace"))
    old = request.get("oldObject") if operation == "UPDATE" else None
    problems = validate_workspace(document, old, context)
    errors = [p for p in problems if not p.warning]
    # kubectl shows these after its own "Warning: " prefix.
    warnings = [f"{p.path}: {p.message}" for p in problems if p.warning]
    if not errors:
        return _response(uid, allowed=True, warnings=warnings)
    return _response(
        uid,
        allowed=False,
        warnings=warnings,
        # kubectl prints a 400 as "Error from server (BadRequest): ... denied the request: ...",
        # the form users of admission webhooks know.
        status={"code": 400, "reason": "BadRequest", "message": denial_message(errors)},
    )


def denial_message(errors: list[FieldError]) -> str:
    return "; ".join(str(error) for error in errors)


def _request(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("kind") != "AdmissionReview":
        raise BadAdmissionReview("expected an AdmissionReview object")
    if body.get("apiVersion") != ADMISSION_API_VERSION:
        raise BadAdmissionReview(
            f"unsupported AdmissionReview version {body.get('apiVersion')!r}; expected v1"
        )
    request = body.get("request")
    if not isinstance(request, dict):
        raise BadAdmissionReview("AdmissionReview has no request")
    return request


def _with_namespace(document: dict[str, Any], namespace: Any) -> dict[str, Any]:
    """On create the object may not carry its namespace yet; the request always does."""
    metadata = document.get("metadata")
    if isinstance(namespace, str) and isinstance(metadata, dict) and not metadata.get("namespace"):
        return {**document, "metadata": {**metadata, "namespace": namespace}}
    return document


def _response(
    uid: str, *, allowed: bool, warnings: list[str] | None = None, status: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if warnings:
        response["warnings"] = warnings
    if status is not None:
        response["status"] = status
    return {"apiVersion": ADMISSION_API_VERSION, "kind": "AdmissionReview", "response": response}
