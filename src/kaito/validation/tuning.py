"""Rules on ``tuning``: which model, which method, where data comes from and goes."""

from __future__ import annotations

from kaito.api.wellknown import ANNOTATION_BYPASS_RESOURCE_CHECKS
from kaito.api.workspace import Workspace
from kaito.presets.catalog import get_preset
from kaito.presets.skus import lookup_sku
from kaito.presets.tuning import estimate_tuning
from kaito.validation.configmaps import training_config_errors
from kaito.validation.context import ValidationContext
from kaito.validation.datasource import object_name_errors, tuning_input_errors, tuning_output_errors
from kaito.validation.errors import FieldError
from kaito.validation.inference import preset_options_errors, unknown_preset_error


def tuning_errors(workspace: Workspace, context: ValidationContext) -> list[FieldError]:
    tuning = workspace.tuning
    assert tuning is not None
    errors = []
    if workspace.resource is not None and (workspace.resource.count or 1) > 1:
        errors.append(
            FieldError(
                "resource.count", "Tuning does not support multinode configurations; set the node count to 1"
            )
        )
    if tuning.method is None:
        errors.append(FieldError("tuning.method", 'Required value: "lora" or "qlora"'))
    if tuning.input is None:
        errors.append(FieldError("tuning.input", "Required value"))
    else:
        errors += tuning_input_errors("tuning.input", tuning.input)
    if tuning.output is None:
        errors.append(FieldError("tuning.output", "Required value"))
    else:
        errors += tuning_output_errors("tuning.output", tuning.output)
    if tuning.config is not None:
        errors += object_name_errors("tuning.config", tuning.config)
    if tuning.preset is None:
        return [*errors, FieldError("tuning.preset", "Required value")]
    preset = get_preset(tuning.preset.name)
    if preset is None:
        return [*errors, unknown_preset_error("tuning.preset.name", tuning.preset.name, "tuning")]
    errors += preset_options_errors("tuning.preset", tuning.preset, preset)
    if tuning.method is None:
        return errors
    if tuning.method not in preset.tuning:
        supported = ", ".join(preset.tuning) or "none"
        message = f"preset {preset.name} does not support {tuning.method} tuning (supported: {supported})"
        return [*errors, FieldError("tuning.method", message)]
    if tuning.config is not None and context.config_maps is not None:
        namespace = workspace.namespace or "default"
        config_map = context.config_maps(namespace, tuning.config)
        if config_map is None:
            errors.append(
                FieldError(
                    "tuning.config",
                    f"ConfigMap '{tuning.config}' specified in 'config' not found in namespace '{namespace}'",
                )
            )
        else:
            errors += training_config_errors("tuning.config", config_map, tuning.method)
    instance_type = workspace.resource.instance_type if workspace.resource else None
    gpu = lookup_sku(instance_type, context.cloud) if instance_type else None
    if gpu is not None:
        result = estimate_tuning(preset, gpu, tuning.method)
        if not result.fits:
            bypass = ANNOTATION_BYPASS_RESOURCE_CHECKS in workspace.annotations
            errors.append(
                FieldError("resource.instanceType", result.reason or "tuning does not fit", warning=bypass)
            )
    return errors
