"""Validate a Workspace document: the one entry point for the CLI and the admission webhook.

Order matters: the schema checks a cluster would make come first (a document
the API server would refuse is reported as such), then the semantic rules,
then, on update, what may not change. The validator never raises: every input,
however malformed, ends as a list of field errors (empty when valid).
"""

from __future__ import annotations

from typing import Any

from kaito.api.wellknown import (
    ANNOTATION_BYPASS_RESOURCE_CHECKS,
    ANNOTATION_NODE_IMAGE_FAMILY,
    ANNOTATION_RUNTIME,
    GROUP,
)
from kaito.api.workspace import WORKSPACE_VERSIONS, Workspace
from kaito.validation.context import ValidationContext
from kaito.validation.errors import FieldError
from kaito.validation.inference import inference_errors
from kaito.validation.metadata import metadata_errors
from kaito.validation.resource import resource_errors
from kaito.validation.structural import parse
from kaito.validation.tuning import tuning_errors
from kaito.validation.update import update_errors

# Annotations that change what the create rules conclude.
_SEMANTIC_ANNOTATIONS = (ANNOTATION_RUNTIME, ANNOTATION_BYPASS_RESOURCE_CHECKS, ANNOTATION_NODE_IMAGE_FAMILY)
SERVED_API_VERSIONS = tuple(version.RESOURCE.api_version for version in WORKSPACE_VERSIONS)
_DEFAULT_CONTEXT = ValidationContext()


def is_workspace_document(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.get("kind") == "Workspace"
        and str(document.get("apiVersion", "")).startswith(f"{GROUP}/")
    )


def validate_workspace(
    document: Any,
    old: Any = None,
    context: ValidationContext = _DEFAULT_CONTEXT,
) -> list[FieldError]:
    """Every problem with ``document`` (a create) or with changing ``old`` into it (an update)."""
    header = _header_errors(document)
    if header:
        return header
    workspace, errors = parse(Workspace, document)
    if workspace is None or errors:
        return errors
    old_workspace = None
    if old is not None:
        old_workspace, old_errors = parse(Workspace, old)
        if old_workspace is None:
            return [FieldError(f"(previous object) {e.path}", e.message) for e in old_errors]
    if workspace.metadata.deletion_timestamp is not None:
        # Finalizer removal must always go through, whatever has changed since.
        return []
    errors = []
    if old_workspace is not None:
        errors += update_errors(workspace, old_workspace)
        if _same_spec(workspace, old_workspace):
            return errors
    return errors + semantic_errors(workspace, context)


def semantic_errors(workspace: Workspace, context: ValidationContext) -> list[FieldError]:
    errors = metadata_errors(workspace.metadata)
    if workspace.inference is None and workspace.tuning is None:
        return [*errors, FieldError("", "Either Inference or Tuning must be specified, not neither")]
    if workspace.inference is not None and workspace.tuning is not None:
        return [*errors, FieldError("", "Either Inference or Tuning must be specified, but not both")]
    errors += resource_errors(workspace.resource, context)
    if workspace.inference is not None:
        errors += inference_errors(workspace, context)
    else:
        errors += tuning_errors(workspace, context)
    return _deduplicated(errors)


def _header_errors(document: Any) -> list[FieldError]:
    if not isinstance(document, dict):
        return [FieldError("", "a Workspace must be a YAML/JSON object")]
    api_version = document.get("apiVersion")
    if api_version not in SERVED_API_VERSIONS:
        served = ", ".join(SERVED_API_VERSIONS)
        return [FieldError("apiVersion", f"Unsupported value: {api_version!r}: supported values: {served}")]
    if document.get("kind") != "Workspace":
        return [FieldError("kind", f"Unsupported value: {document.get('kind')!r}: expected Workspace")]
    return []


def _same_spec(new: Workspace, old: Workspace) -> bool:
    """Metadata- or status-only writes (the controller's own) skip the create rules."""
    new_annotations, old_annotations = new.annotations, old.annotations
    return (new.resource, new.inference, new.tuning) == (old.resource, old.inference, old.tuning) and all(
        new_annotations.get(key) == old_annotations.get(key) for key in _SEMANTIC_ANNOTATIONS
    )


def _deduplicated(errors: list[FieldError]) -> list[FieldError]:
    return list(dict.fromkeys(errors))
