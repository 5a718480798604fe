"""``kubectl apply`` for the sandbox: create each manifest, or replace it when it exists."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from kaito.api.manifests import Document, object_ref
from kaito.api.meta import KubeObject
from kaito.api.scheme import decode
from kaito.kube.client import Client
from kaito.kube.errors import AlreadyExists, ApiError
from kaito.validation.structural import schema_errors


@dataclass(frozen=True)
class Applied:
    document: Document
    obj: KubeObject | None  # what the server answered, None when refused
    action: str  # "created", "configured", or the error

    def __str__(self) -> str:
        content = self.document.content
        kind = self.obj.kind if self.obj else (content.get("kind") if isinstance(content, dict) else None)
        where = f"{self.document.source}:{self.document.line}"
        return f"{where}: {str(kind or 'object').lower()}/{object_ref(content)}: {self.action}"


async def apply_document(client: Client, document: Document) -> Applied:
    content = document.content
    if not isinstance(content, dict):
        return Applied(document, None, "error: not a Kubernetes object (expected a mapping)")
    try:
        obj = decode(content)
    except KeyError as err:  # a kind kaito has no model for
        return Applied(document, None, f"error: {err.args[0]}")
    except ValidationError as err:
        return Applied(document, None, "error: " + "; ".join(str(e) for e in schema_errors(err)))
    if obj.RESOURCE.namespaced and not obj.metadata.namespace:
        obj.metadata.namespace = "default"
    try:
        try:
            return Applied(document, await client.create(obj), "created")
        except AlreadyExists:
            current = await client.get(type(obj), obj.name, obj.metadata.namespace)
            obj.metadata.resource_version = current.metadata.resource_version
            return Applied(document, await client.update(obj), "configured")
    except ApiError as err:
        return Applied(document, None, f"error: {err.message}")
