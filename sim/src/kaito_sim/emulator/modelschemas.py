"""OpenAPI schemas for the built-in kinds, derived from kubernetes-asyncio's
generated models (their ``openapi_types``/``attribute_map`` mirror the Go
structs), plus the strategic-merge annotations the Go struct tags carry.

One source then serves strict field validation (unknown fields), pruning,
strategic merge patch, ``/openapi/v3`` and ``kubectl explain``.
"""

from __future__ import annotations

import inspect
import re
from functools import cache
from typing import Any

from kubernetes_asyncio.client import models

Schema = dict[str, Any]

# (model, json field) -> (x-kubernetes-patch-strategy, x-kubernetes-patch-merge-key), from the Go struct tags.
PATCH_META: dict[tuple[str, str], tuple[str, str | None]] = {
    ("V1ObjectMeta", "finalizers"): ("merge", None),
    ("V1ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("V1PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("V1PodSpec", "initContainers"): ("merge", "name"),
    ("V1PodSpec", "containers"): ("merge", "name"),
    ("V1PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("V1PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("V1PodSpec", "hostAliases"): ("merge", "ip"),
    ("V1PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("V1PodSpec", "schedulingGates"): ("merge", "name"),
    ("V1PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("V1Container", "ports"): ("merge", "containerPort"),
    ("V1Container", "env"): ("merge", "name"),
    ("V1Container", "volumeMounts"): ("merge", "mountPath"),
    ("V1Container", "volumeDevices"): ("merge", "devicePath"),
    ("V1EphemeralContainer", "ports"): ("merge", "containerPort"),
    ("V1EphemeralContainer", "env"): ("merge", "name"),
    ("V1EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    ("V1EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    ("V1PodStatus", "conditions"): ("merge", "type"),
    ("V1PodStatus", "podIPs"): ("merge", "ip"),
    ("V1PodStatus", "hostIPs"): ("merge", "ip"),
    ("V1ServiceSpec", "ports"): ("merge", "port"),
    ("V1NodeSpec", "podCIDRs"): ("merge", None),
    ("V1NodeStatus", "conditions"): ("merge", "type"),
    ("V1NodeStatus", "addresses"): ("merge", "type"),
    ("V1NamespaceStatus", "conditions"): ("merge", "type"),
    ("V1PersistentVolumeClaimStatus", "conditions"): ("merge", "type"),
    ("V1ServiceStatus", "conditions"): ("merge", "type"),
    ("V1DeploymentSpec", "strategy"): ("retainKeys", None),
    ("V1DeploymentStatus", "conditions"): ("merge", "type"),
    ("V1ReplicaSetStatus", "conditions"): ("merge", "type"),
    ("V1StatefulSetStatus", "conditions"): ("merge", "type"),
    ("V1DaemonSetStatus", "conditions"): ("merge", "type"),
    ("V1ValidatingWebhookConfiguration", "webhooks"): ("merge", "name"),
}

# Fields typed ``object`` in the generated models that are IntOrString in Go; other ``object``s are free-form.
_INT_OR_STRING = frozenset({"target_port", "max_surge", "max_unavailable", "port", "min_available"})

_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict\(str, (.+)\)$")
_PRIMITIVES: dict[str, Schema] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
}


def _description(model: type, attr: str) -> str:
    prop = getattr(model, attr, None)
    doc = inspect.getdoc(prop) if prop is not None else None
    if not doc:
        return ""
    parts = [p.strip() for p in doc.split("\n\n")]
    text = parts[1] if len(parts) > 2 else ""
    return text.replace("  # noqa: E501", "").strip()


def _type_schema(type_name: str, attr: str, stack: tuple[str, ...]) -> Schema:
    if type_name in _PRIMITIVES:
        return dict(_PRIMITIVES[type_name])
    if type_name == "object":
        if attr in _INT_OR_STRING:
            return {"x-kubernetes-int-or-string": True}
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    m = _LIST.match(type_name)
    if m:
        return {"type": "array", "items": _type_schema(m.group(1), attr, stack)}
    m = _DICT.match(type_name)
    if m:
        return {"type": "object", "additionalProperties": _type_schema(m.group(1), attr, stack)}
    return _model_schema(type_name, stack)


def _model_schema(model_name: str, stack: tuple[str, ...]) -> Schema:
    if model_name in stack:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    model = getattr(models, model_name)
    stack = (*stack, model_name)
    properties: Schema = {}
    for attr, type_name in model.openapi_types.items():
        json_name = model.attribute_map[attr]
        child = _type_schema(type_name, attr, stack)
        description = _description(model, attr)
        if description:
            child["description"] = description
        meta = PATCH_META.get((model_name, json_name))
        if meta:
            child["x-kubernetes-patch-strategy"] = meta[0]
            if meta[1]:
                child["x-kubernetes-patch-merge-key"] = meta[1]
        properties[json_name] = child
    return {"type": "object", "properties": properties}


@cache
def builtin_schema(model_name: str) -> Schema:
    """The full (ref-free) schema of a top-level model such as ``V1Pod``.

    Callers must treat the result as read-only: it is shared.
    """
    schema = _model_schema(model_name, ())
    doc = inspect.getdoc(getattr(models, model_name)) or ""
    if doc and not doc.startswith("NOTE:"):
        schema["description"] = doc
    return schema
