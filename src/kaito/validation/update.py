"""What may not change once a workspace exists."""

from __future__ import annotations

from kaito.api.workspace import Workspace
from kaito.validation.errors import FieldError

_IMMUTABLE = "field is immutable"


def update_errors(new: Workspace, old: Workspace) -> list[FieldError]:
    errors = []
    if (new.inference is None) != (old.inference is None):
        errors.append(FieldError("inference", "Inference field cannot be toggled once set"))
    if (new.tuning is None) != (old.tuning is None):
        errors.append(FieldError("tuning", "Tuning field cannot be toggled once set"))
    errors += _resource_errors(new, old)
    if new.inference is not None and old.inference is not None:
        if (new.inference.template is None) != (old.inference.template is None):
            errors.append(FieldError("inference.template", "field cannot be unset/set if it was set/unset"))
        if new.inference.preset != old.inference.preset:
            errors.append(FieldError("inference.preset", _IMMUTABLE))
    if new.tuning is not None and old.tuning is not None:
        if new.tuning.preset != old.tuning.preset:
            errors.append(FieldError("tuning.preset", "Preset cannot be changed"))
        if new.tuning.method != old.tuning.method:
            errors.append(FieldError("tuning.method", "Method cannot be changed"))
        new_input_name = new.tuning.input.name if new.tuning.input else None
        old_input_name = old.tuning.input.name if old.tuning.input else None
        if old_input_name is not None and new_input_name != old_input_name:
            errors.append(
                FieldError("tuning.input.name", "During tuning Name field cannot be changed once set")
            )
    return errors


def _resource_errors(new: Workspace, old: Workspace) -> list[FieldError]:
    new_resource, old_resource = new.resource, old.resource
    errors = []
    if (new_resource.count if new_resource else None) != (old_resource.count if old_resource else None):
        errors.append(FieldError("resource.count", _IMMUTABLE))
    if (new_resource.instance_type if new_resource else None) != (
        old_resource.instance_type if old_resource else None
    ):
        errors.append(FieldError("resource.instanceType", "instanceType cannot be changed once set"))
    new_labels = new_resource.label_selector.as_map() if new_resource and new_resource.label_selector else {}
    old_labels = old_resource.label_selector.as_map() if old_resource and old_resource.label_selector else {}
    if new_labels != old_labels:
        errors.append(FieldError("resource.labelSelector", _IMMUTABLE))
    return errors
