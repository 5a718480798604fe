"""Rules on the workspace's name and annotations."""

from __future__ import annotations

from kaito.api.meta import ObjectMeta
from kaito.api.names import dns1035_label_errors
from kaito.api.wellknown import (
    ANNOTATION_NODE_IMAGE_FAMILY,
    ANNOTATION_RUNTIME,
    NODE_IMAGE_FAMILIES,
    Runtime,
)
from kaito.validation.errors import FieldError

# The StatefulSet named after the workspace labels its pods with
# ``<name>-<10-char revision hash>``, which must fit a 63-character label value.
MAX_WORKSPACE_NAME_LENGTH = 52


def metadata_errors(metadata: ObjectMeta) -> list[FieldError]:
    return [*_name_errors(metadata), *_annotation_errors(metadata.annotations or {})]


def _name_errors(metadata: ObjectMeta) -> list[FieldError]:
    if metadata.name is None:
        if metadata.generate_name:
            return []
        return [FieldError("metadata.name", "Required value: name or generateName is required")]
    name = metadata.name
    # The workspace's Service carries its name, so the stricter DNS-1035 rule applies.
    errors = [
        FieldError("metadata.name", f"Invalid value: {name!r}: {e}") for e in dns1035_label_errors(name)
    ]
    if len(name) > MAX_WORKSPACE_NAME_LENGTH:
        errors.append(
            FieldError(
                "metadata.name",
                f"Invalid value: {name!r}: must be no more than {MAX_WORKSPACE_NAME_LENGTH} characters "
                "(the workload, its Services and pod labels are named after the workspace)",
            )
        )
    return errors


def _annotation_errors(annotations: dict[str, str]) -> list[FieldError]:
    errors = []
    runtime = annotations.get(ANNOTATION_RUNTIME)
    if runtime is not None and runtime not in set(Runtime):
        supported = ", ".join(f'"{r.value}"' for r in Runtime)
        errors.append(
            FieldError(
                f"metadata.annotations[{ANNOTATION_RUNTIME}]",
                f'Unsupported value: "{runtime}": supported values: {supported}',
            )
        )
    family = annotations.get(ANNOTATION_NODE_IMAGE_FAMILY)
    if family is not None and family not in NODE_IMAGE_FAMILIES:
        errors.append(
            FieldError(
                f"metadata.annotations[{ANNOTATION_NODE_IMAGE_FAMILY}]",
                f'unsupported node image family "{family}", '
                f"supported values are {', '.join(NODE_IMAGE_FAMILIES)}",
            )
        )
    return errors
