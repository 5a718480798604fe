"""Workspace revisions: a hash of what the user asked for, and its history as ControllerRevisions.

The hash covers ``resource``, ``inference``, ``tuning`` and the runtime
annotation: everything that changes the workload. Each distinct hash gets a
ControllerRevision ``<workspace>-<hash[:5]>`` with an increasing revision
number; at most ``MAX_REVISION_HISTORY`` are kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from kaito.api.core import ControllerRevision
from kaito.api.meta import ObjectMeta, OwnerReference
from kaito.api.wellknown import ANNOTATION_HASH, ANNOTATION_RUNTIME, LABEL_REVISION_WORKSPACE
from kaito.api.workspace import Workspace

MAX_REVISION_HISTORY = 10


def revision_data(workspace: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, part in (
        ("resource", workspace.resource),
        ("inference", workspace.inference),
        ("tuning", workspace.tuning),
    ):
        if part is not None:
            data[key] = part.to_dict()
    runtime = workspace.annotations.get(ANNOTATION_RUNTIME)
    if runtime is not None:
        data["runtime"] = runtime
    return data


def spec_hash(workspace: Workspace) -> str:
    encoded = json.dumps(revision_data(workspace), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def owner_reference(workspace: Workspace) -> OwnerReference:
    return OwnerReference(
        api_version=workspace.RESOURCE.api_version,
        kind="Workspace",
        name=workspace.name,
        uid=workspace.metadata.uid or "",
        controller=True,
        block_owner_deletion=True,
    )


@dataclass(frozen=True)
class RevisionPlan:
    """What to write so the history records the current spec."""

    number: int
    hash: str
    create: ControllerRevision | None
    delete: list[str] = field(default_factory=list)


def plan_revision(workspace: Workspace, existing: list[ControllerRevision]) -> RevisionPlan:
    """Reuse the revision of an unchanged spec, or add the next one and trim the history."""
    digest = spec_hash(workspace)
    name = f"{workspace.name}-{digest[:5]}"
    history = sorted(existing, key=lambda r: r.revision)
    for revision in history:
        if revision.name == name:
            if (revision.metadata.annotations or {}).get(ANNOTATION_HASH) != digest:
                raise RevisionConflict(f"revision {name} exists with a different hash")
            return RevisionPlan(revision.revision, digest, create=None, delete=_overflow(history, 0))
    number = (history[-1].revision + 1) if history else 1
    revision = ControllerRevision(
        metadata=ObjectMeta(
            name=name,
            namespace=workspace.namespace,
            labels={LABEL_REVISION_WORKSPACE: workspace.name},
            annotations={ANNOTATION_HASH: digest},
            owner_references=[owner_reference(workspace)],
        ),
        data=revision_data(workspace),
        revision=number,
    )
    return RevisionPlan(number, digest, create=revision, delete=_overflow(history, 1))


def _overflow(history: list[ControllerRevision], adding: int) -> list[str]:
    excess = len(history) + adding - MAX_REVISION_HISTORY
    return [revision.name for revision in history[: max(excess, 0)]]


class RevisionConflict(Exception):
    """Two specs hash to the same 5-character prefix: refuse rather than mix histories."""
