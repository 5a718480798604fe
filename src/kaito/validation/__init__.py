"""Workspace validation, shared by ``kaito validate`` and the admission webhook."""

from kaito.validation.context import ConfigMapLookup, ValidationContext
from kaito.validation.errors import FieldError
from kaito.validation.workspace import is_workspace_document, validate_workspace

__all__ = [
    "ConfigMapLookup",
    "FieldError",
    "ValidationContext",
    "is_workspace_document",
    "validate_workspace",
]
