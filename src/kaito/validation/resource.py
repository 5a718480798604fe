"""Rules on ``resource``: the GPU nodes a workspace runs on."""

from __future__ import annotations

from kaito.api.meta import LabelSelector
from kaito.api.names import dns1123_subdomain_errors, label_key_errors, label_value_errors
from kaito.api.wellknown import RESERVED_SELECTOR_KEYS, NodeProvisioner
from kaito.api.workspace import ResourceSpec
from kaito.presets.skus import closest_sku_names, lookup_sku
from kaito.validation.context import ValidationContext
from kaito.validation.errors import FieldError

# Azure VM families that may carry GPUs kaito's table does not list yet (as upstream allows).
_UNLISTED_AZURE_GPU_PREFIXES = ("Standard_N", "Standard_D")


def resource_errors(resource: ResourceSpec | None, context: ValidationContext) -> list[FieldError]:
    resource = resource or ResourceSpec()
    errors = []
    if resource.count is not None and resource.count < 1:
        errors.append(FieldError("resource.count", f"Invalid value: {resource.count}: must be at least 1"))
    errors += _instance_type_errors(resource.instance_type, context)
    errors += label_selector_errors("resource.labelSelector", resource.label_selector)
    for index, node in enumerate(resource.preferred_nodes or []):
        errors += [
            FieldError(f"resource.preferredNodes[{index}]", f"Invalid value: {node!r}: {e}")
            for e in dns1123_subdomain_errors(node)
        ]
    return errors


def _instance_type_errors(instance_type: str | None, context: ValidationContext) -> list[FieldError]:
    path = "resource.instanceType"
    if not instance_type:
        if context.node_provisioner == NodeProvisioner.BYO:
            return []
        return [
            FieldError(
                path, "Required value: instanceType is required when node auto-provisioning is enabled"
            )
        ]
    if lookup_sku(instance_type, context.cloud) is not None:
        return []
    closest = closest_sku_names(instance_type, context.cloud)
    hint = f"; did you mean {', '.join(closest)}?" if closest else ""
    if context.cloud == "azure" and instance_type.startswith(_UNLISTED_AZURE_GPU_PREFIXES):
        return [
            FieldError(
                path,
                f"instance type {instance_type} is not in kaito's SKU table: "
                "its GPU count and memory are unknown, "
                f"so whether the model fits cannot be checked{hint}",
                warning=True,
            )
        ]
    return [FieldError(path, f"Unsupported instance type {instance_type}{hint}")]


def label_selector_errors(path: str, selector: LabelSelector | None) -> list[FieldError]:
    """The selector is copied onto NodeClaims and pod affinity, so it must amount to a plain label map."""
    if selector is None:
        return [FieldError(path, "Required value")]
    errors = []
    for key, value in (selector.match_labels or {}).items():
        errors += _label_errors(f"{path}.matchLabels[{key}]", key, value)
    for index, expression in enumerate(selector.match_expressions or []):
        expression_path = f"{path}.matchExpressions[{index}]"
        if expression.operator != "In" or len(expression.values or []) != 1:
            errors.append(
                FieldError(
                    expression_path, "Only allow matchLabels or 'In' matchExpression with exactly one value"
                )
            )
        else:
            errors += _label_errors(expression_path, expression.key, (expression.values or [""])[0])
    if not any(key not in RESERVED_SELECTOR_KEYS for key in selector.as_map()):
        errors.append(
            FieldError(f"{path}.matchLabels", "matchLabels must contain at least one non-reserved label")
        )
    return errors


def _label_errors(path: str, key: str, value: str) -> list[FieldError]:
    errors = [FieldError(path, f"Invalid value: {key!r}: {e}") for e in label_key_errors(key)]
    errors += [FieldError(path, f"Invalid value: {value!r}: {e}") for e in label_value_errors(value)]
    if key in RESERVED_SELECTOR_KEYS:
        errors.append(FieldError(path, f"label {key} is reserved for the controller"))
    return errors
