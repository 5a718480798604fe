"""The AdmissionReview wire format: the request kube-apiserver sends a
webhook (``CreateAdmissionObjects``), the checks it applies to the answer
(``VerifyAdmissionResponse``) and the error a denial becomes (``ToStatusErr``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.pending import AdmissionAttributes
from kaito_sim.emulator.webhookrules import GVK, GVR, Invocation, Webhook, kind_for

Obj = dict[str, Any]
GROUP = "admission.k8s.io"
# The emulator authenticates nobody: every request is the cluster admin's, as through the loopback client.
USER_INFO: Obj = {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}


class ResponseError(ValueError):
    """The webhook answered, but not with an AdmissionReview kube-apiserver accepts."""


def review_version(hook: Webhook) -> str | None:
    """The first of the webhook's ``admissionReviewVersions`` this server speaks."""
    return next((v for v in hook.review_versions if v in ("v1", "v1beta1")), None)


def _gvk(gvk: GVK) -> Obj:
    return {"group": gvk[0], "version": gvk[1], "kind": gvk[2]}


def _gvr(gvr: GVR) -> Obj:
    return {"group": gvr[0], "version": gvr[1], "resource": gvr[2]}


def _versioned(obj: Obj | None, attrs: AdmissionAttributes, invocation: Invocation) -> Obj | None:
    """The object as the invocation's version serves it (CRD conversion None: only apiVersion changes)."""
    if obj is None or invocation.resource[1] == attrs.version or invocation.kind[2] != attrs.resource.kind:
        return obj
    return {**obj, "apiVersion": attrs.resource.api_version(invocation.resource[1])}


def admission_request(invocation: Invocation, attrs: AdmissionAttributes, uid: str = "") -> Obj:
    """``request`` of an AdmissionReview (also the ``request`` variable of match conditions)."""
    res = attrs.resource
    request: Obj = {
        "uid": uid,
        "kind": _gvk(invocation.kind),
        "resource": _gvr(invocation.resource),
        "subResource": invocation.subresource,
        "requestKind": _gvk(kind_for(res, attrs.version, attrs.subresource)),
        "requestResource": _gvr((res.group, attrs.version, res.plural)),
        "requestSubResource": attrs.subresource,
        "name": attrs.name,
        "namespace": attrs.namespace,
        "operation": attrs.operation,
        "userInfo": USER_INFO,
        "object": _versioned(attrs.obj, attrs, invocation),
        "oldObject": _versioned(attrs.old, attrs, invocation),
        "dryRun": attrs.dry_run,
        "options": attrs.options,
    }
    for key in ("subResource", "requestSubResource", "name", "namespace"):  # omitempty upstream
        if not request[key]:
            del request[key]
    return request


def review(invocation: Invocation, attrs: AdmissionAttributes, uid: str, version: str) -> Obj:
    return {
        "kind": "AdmissionReview",
        "apiVersion": f"{GROUP}/{version}",
        "request": admission_request(invocation, attrs, uid),
    }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    status: Obj | None
    warnings: tuple[str, ...]


def decode(body: bytes) -> Obj:
    """The response body as the API server's decoder reads it; ValueError with the decoder's complaint."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"couldn't get version/kind; json parse error: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"json: cannot unmarshal {_json_type(doc)} into Go value of type struct")
    response = doc.get("response")
    if response is None:
        return doc
    _expect(response, dict, "response", "v1.AdmissionResponse")
    for field, kind, go in (
        ("uid", str, "types.UID"),
        ("allowed", bool, "bool"),
        ("status", dict, "v1.Status"),
        ("warnings", list, "[]string"),
        ("patchType", str, "v1.PatchType"),
    ):
        if response.get(field) is not None:
            _expect(response[field], kind, f"response.{field}", go)
    for warning in response.get("warnings") or []:
        _expect(warning, str, "response.warnings", "string")
    status = response.get("status") or {}
    if status.get("code") is not None:
        _expect(status["code"], int, "response.status.code", "int32")
    for field in ("message", "reason"):
        if status.get(field) is not None:
            _expect(status[field], str, f"response.status.{field}", "string")
    return doc


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _expect(value: Any, kind: type, field: str, go_type: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field AdmissionReview.{field} "
            f"of type {go_type}"
        )


def verify(uid: str, version: str, doc: Obj) -> Verdict:
    """VerifyAdmissionResponse for a validating webhook."""
    response = doc.get("response")
    if not isinstance(response, dict):
        raise ResponseError("webhook response was absent")
    if version == "v1":  # v1beta1 never checked the uid or the kind
        if response.get("uid", "") != uid:
            raise ResponseError(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
        group, _, api_version = str(doc.get("apiVersion") or "").rpartition("/")
        if (group, api_version, doc.get("kind")) != (GROUP, "v1", "AdmissionReview"):
            raise ResponseError(
                f"expected webhook response of {GROUP}/v1, Kind=AdmissionReview, got "
                f"{group}/{api_version}, Kind={doc.get('kind') or ''}"
            )
    if response.get("patch"):
        raise ResponseError("validating webhook may not return response.patch")
    if response.get("patchType"):
        raise ResponseError("validating webhook may not return response.patchType")
    return Verdict(
        allowed=bool(response.get("allowed")),
        status=response.get("status"),
        warnings=tuple(response.get("warnings") or ()),
    )


def denial(webhook: str, status: Obj | None) -> ApiError:
    """ToStatusErr: the webhook's own Status, its message prefixed with who denied the request."""
    status = status or {}
    denied_by = f'admission webhook "{webhook}" denied the request'
    code = status.get("code") or 0
    message, reason = str(status.get("message") or ""), str(status.get("reason") or "")
    if message:
        text = f"{denied_by}: {message}"
    elif reason:
        text = f"{denied_by}: {reason}"
    else:
        text = f"{denied_by} without explanation"
    details = status.get("details")
    return ApiError(max(int(code), 400), reason, text, details if isinstance(details, dict) else None)
