"""``/openapi/v3``: one OpenAPI 3 document per group-version.

kubectl reads it to decide whether the server does field validation (the
``fieldValidation`` parameter on each kind's PATCH operation) and for
``kubectl explain``. Built-in kinds do not advertise strategic merge patch
here, so ``kubectl apply`` computes patches from its compiled-in types,
exactly as it does against servers without OpenAPI merge metadata.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from kaito_sim.emulator.registry import Registry, Resource

Obj = dict[str, Any]

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")


def _definition_name(res: Resource, version: str) -> str:
    if res.model is not None:
        package = {"": "core", "apiextensions.k8s.io": "apiextensions"}.get(
            res.group, res.group.split(".")[0]
        )
        prefix = (
            "io.k8s.apiextensions-apiserver.pkg.apis" if res.group == "apiextensions.k8s.io" else "io.k8s.api"
        )
        return f"{prefix}.{package}.{version}.{res.kind}"
    reversed_group = ".".join(reversed(res.group.split(".")))
    return f"{reversed_group}.{version}.{res.kind}"


def _gvk(res: Resource, version: str) -> Obj:
    return {"group": res.group, "version": version, "kind": res.kind}


def _kind_schema(res: Resource, version: str) -> Obj:
    schema = dict(res.schema(version) or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    if res.is_crd:
        props = dict(schema.get("properties") or {})
        props.setdefault(
            "apiVersion",
            {
                "type": "string",
                "description": "APIVersion defines the versioned schema of this representation of an object.",
            },
        )
        props.setdefault(
            "kind",
            {
                "type": "string",
                "description": "Kind is a string value representing the REST "
                "resource this object represents.",
            },
        )
        props["metadata"] = {"type": "object", "description": "Standard object's metadata."}
        schema["properties"] = props
    schema["x-kubernetes-group-version-kind"] = [_gvk(res, version)]
    return schema


def _operations(res: Resource, version: str, ref: str) -> Obj:
    body = {"schema": {"$ref": ref}}
    params = [
        {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for p in _QUERY_PARAMS
    ]
    ok = {"200": {"description": "OK", "content": {"application/json": body}}}
    ext = {"x-kubernetes-group-version-kind": _gvk(res, version)}
    return {
        "get": {"operationId": f"read{res.kind}", "responses": ok, "x-kubernetes-action": "get", **ext},
        "put": {
            "operationId": f"replace{res.kind}",
            "parameters": params,
            "requestBody": {"content": {"application/json": body}},
            "responses": ok,
            "x-kubernetes-action": "put",
            **ext,
        },
        "patch": {
            "operationId": f"patch{res.kind}",
            "parameters": params,
            "requestBody": {"content": {t: {"schema": {"type": "object"}} for t in _PATCH_TYPES}},
            "responses": ok,
            "x-kubernetes-action": "patch",
            **ext,
        },
        "delete": {
            "operationId": f"delete{res.kind}",
            "responses": ok,
            "x-kubernetes-action": "delete",
            **ext,
        },
    }


def group_version_document(registry: Registry, group: str, version: str) -> Obj | None:
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths: Obj = {}
    schemas: Obj = {}
    for res in sorted(resources, key=lambda r: r.plural):
        name = _definition_name(res, version)
        schemas[name] = _kind_schema(res, version)
        ref = f"#/components/schemas/{name}"
        item = (
            f"{prefix}/namespaces/{{namespace}}/{res.plural}/{{name}}"
            if res.namespaced
            else f"{prefix}/{res.plural}/{{name}}"
        )
        paths[item] = _operations(res, version, ref)
        if "status" in res.versions[version].subresources:
            paths[f"{item}/status"] = _operations(res, version, ref)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


class OpenAPIv3:
    """Documents are cached until the registry changes (a CRD is added, changed or removed)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._generation = -1
        self._docs: dict[str, bytes] = {}
        self._nonce = uuid.uuid4().hex

    def _refresh(self) -> None:
        if self._generation == self.registry.generation:
            return
        self._docs.clear()
        self._generation = self.registry.generation

    def _key_parts(self, key: str) -> tuple[str, str]:
        parts = key.split("/")
        return ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])

    def index(self) -> Obj:
        self._refresh()
        keys = ["api/v1"] + [
            f"apis/{g}/{v}" for g, versions in self.registry.groups().items() for v in versions
        ]
        return {"paths": {k: {"serverRelativeURL": f"/openapi/v3/{k}?hash={self._hash(k)}"} for k in keys}}

    def _hash(self, key: str) -> str:
        """Changes whenever the registry does (and per emulator instance), without building the document."""
        return hashlib.sha512(f"{self._nonce}/{self._generation}/{key}".encode()).hexdigest().upper()

    def document(self, key: str) -> bytes | None:
        self._refresh()
        if key not in self._docs:
            try:
                group, version = self._key_parts(key)
            except IndexError:
                return None
            doc = group_version_document(self.registry, group, version)
            if doc is None:
                return None
            self._docs[key] = json.dumps(doc, separators=(",", ":")).encode()
        return self._docs[key]
