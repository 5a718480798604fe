"""``kubectl apply`` for the sandbox: create each manifest, or replace it when it exists."""

from __future__ import annotations

from dataclasses import dataclass

from kaito.api.manifests import Document, object_ref
from kaito.api.meta import KubeObject
from kaito.api.scheme import decode
from kaito.controllers.runtime.client import Client
from kaito.controllers.runtime.errors import AlreadyExists, ApiError


@dataclass(frozen=True)
class Applied:
    document: Document
    obj: KubeObject | None  # what the server answered, None when refused
    action: str  # "created", "configured", or the error

    def __str__(self) -> str:
        kind = self.obj.kind if self.obj else (self.document.content or {}).get("kind", "object")
        return (
            f"{self.document.source}: {str(kind).lower()}/{object_ref(self.document.content)}: {self.action}"
        )


async def apply_document(client: Client, document: Document) -> Applied:
    content = document.content
    try:
        obj = decode(content)
    except (KeyError, ValueError) as err:
        return Applied(document, None, f"error: {err}")
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
