"""Make one desired object so: create it, or rewrite it when what kaito wants changed.

The desired-hash annotation says whether an update is due, so converged
objects cost no writes. An object of the same name that this workspace does
not own is left alone and reported, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from kaito.api.meta import KubeObject
from kaito.controllers.workspace.workload import ANNOTATION_DESIRED_HASH
from kaito.kube.client import Client
from kaito.kube.errors import AlreadyExists
from kaito.kube.informer import Informer

T = TypeVar("T", bound=KubeObject)


class Change(StrEnum):
    CREATED = "Created"
    UPDATED = "Updated"


class NotOwned(Exception):
    """An object with the name kaito needs belongs to something else."""


async def apply(
    client: Client,
    cache: Informer[T],
    desired: T,
    owner_uid: str,
    keep: Callable[[T, T], None] | None = None,
) -> tuple[T, Change | None]:
    """The object as it now stands and what was done to it; ``keep(existing, desired)`` copies
    server-assigned fields (a Service's cluster IP, say) into ``desired`` before an update."""
    existing = cache.get(desired.name, desired.namespace)
    if existing is None:
        try:
            created = await client.create(desired)
        except AlreadyExists:
            existing = await client.get(type(desired), desired.name, desired.namespace)
        else:
            cache.assume(created)
            return created, Change.CREATED
    if not any(ref.uid == owner_uid for ref in existing.metadata.owner_references or []):
        raise NotOwned(f"{existing.RESOURCE.kind} {existing.key} exists and is not owned by this workspace")
    wanted = (desired.metadata.annotations or {}).get(ANNOTATION_DESIRED_HASH)
    if (existing.metadata.annotations or {}).get(ANNOTATION_DESIRED_HASH) == wanted:
        return existing, None
    desired.metadata.resource_version = existing.metadata.resource_version
    desired.metadata.labels = {**(existing.metadata.labels or {}), **(desired.metadata.labels or {})}
    desired.metadata.annotations = {
        **(existing.metadata.annotations or {}),
        **(desired.metadata.annotations or {}),
    }
    if keep is not None:
        keep(existing, desired)
    updated = await client.update(desired)
    cache.assume(updated)
    return updated, Change.UPDATED
