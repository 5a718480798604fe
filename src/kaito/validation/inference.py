"""Rules on ``inference``: which model, on which runtime, and whether it fits the GPUs."""

from __future__ import annotations

from typing import Any

from kaito.api.names import dns1123_label_errors
from kaito.api.wellknown import ANNOTATION_BYPASS_RESOURCE_CHECKS, ANNOTATION_RUNTIME, AccessMode
from kaito.api.workspace import PresetSpec, Workspace
from kaito.presets.catalog import ModelPreset, closest_preset_names, get_preset
from kaito.presets.compat import adapters_unsupported_reason, resolve_runtime, runtime_unsupported_reason
from kaito.presets.estimator import estimate
from kaito.presets.skus import lookup_sku
from kaito.validation.adapters import adapters_errors
from kaito.validation.configmaps import inference_config_errors
from kaito.validation.context import ValidationContext
from kaito.validation.datasource import image_errors, object_name_errors, secret_names_errors
from kaito.validation.errors import FieldError


def inference_errors(workspace: Workspace, context: ValidationContext) -> list[FieldError]:
    inference = workspace.inference
    assert inference is not None
    if inference.preset is None and inference.template is None:
        return [FieldError("inference", "Preset or Template must be specified")]
    if inference.preset is not None and inference.template is not None:
        return [FieldError("inference", "Preset and Template cannot be set at the same time")]
    errors = []
    if inference.config is not None:
        errors += object_name_errors("inference.config", inference.config)
    if inference.template is not None:
        errors += template_errors("inference.template", inference.template)
        if inference.adapters:
            errors.append(
                FieldError("inference.adapters", "adapters need a preset: a template's command is its own")
            )
        return errors
    assert inference.preset is not None
    preset = get_preset(inference.preset.name)
    if preset is None:
        return [*errors, unknown_preset_error("inference.preset.name", inference.preset.name, "inference")]
    errors += preset_options_errors("inference.preset", inference.preset, preset)
    return errors + _fit_errors(workspace, preset, context)


def unknown_preset_error(path: str, name: str, purpose: str) -> FieldError:
    closest = closest_preset_names(name)
    hint = f"; did you mean {', '.join(closest)}?" if closest else ""
    return FieldError(path, f"Unsupported {purpose} preset name {name}{hint}")


def preset_options_errors(path: str, spec: PresetSpec, preset: ModelPreset) -> list[FieldError]:
    options = spec.preset_options
    errors = []
    if spec.effective_access_mode == AccessMode.PRIVATE and not (options and options.image):
        errors.append(
            FieldError(
                f"{path}.presetOptions.image",
                "When AccessMode is private, an image must be provided in PresetOptions",
            )
        )
    if options is None:
        options_secret = None
    else:
        if options.image is not None:
            errors += image_errors(f"{path}.presetOptions.image", options.image, "model")
        errors += secret_names_errors(
            f"{path}.presetOptions.imagePullSecrets", options.image_pull_secrets or []
        )
        options_secret = options.model_access_secret
    if options_secret is not None:
        errors += object_name_errors(f"{path}.presetOptions.modelAccessSecret", options_secret)
    if preset.gated and not options_secret:
        errors.append(
            FieldError(
                f"{path}.presetOptions.modelAccessSecret",
                "This preset requires authentication and needs a modelAccessSecret with HF_TOKEN key under "
                "presetOptions to download the model",
            )
        )
    if options_secret and not preset.gated:
        errors.append(
            FieldError(
                f"{path}.presetOptions.modelAccessSecret",
                "This preset does not require a modelAccessSecret with HF_TOKEN key under presetOptions",
            )
        )
    return errors


def _fit_errors(workspace: Workspace, preset: ModelPreset, context: ValidationContext) -> list[FieldError]:
    """Runtime compatibility, adapters and GPU fit all depend on the GPUs, so they are judged together."""
    inference = workspace.inference
    assert inference is not None
    instance_type = workspace.resource.instance_type if workspace.resource else None
    gpu = lookup_sku(instance_type, context.cloud) if instance_type else None
    explicit_runtime = workspace.runtime_annotation
    try:
        runtime = resolve_runtime(explicit_runtime, gpu)
    except ValueError:
        return []  # an unknown runtime annotation is reported with the metadata rules
    reason = runtime_unsupported_reason(preset, runtime, gpu)
    if reason is not None:
        path = f"metadata.annotations[{ANNOTATION_RUNTIME}]" if explicit_runtime else "resource.instanceType"
        return [FieldError(path, reason)]
    errors = adapters_errors(inference.adapters or [], runtime, adapters_unsupported_reason(preset, runtime))
    max_model_len = None
    if inference.config is not None and context.config_maps is not None:
        config_map = context.config_maps(workspace.namespace or "default", inference.config)
        if config_map is None:
            errors.append(
                FieldError(
                    "inference.config",
                    f"ConfigMap '{inference.config}' specified in 'config' not found in namespace "
                    f"'{workspace.namespace or 'default'}'",
                )
            )
        else:
            config, config_errors = inference_config_errors(
                "inference.config", config_map, preset.architecture.max_context
            )
            errors += config_errors
            max_model_len = config.max_model_len
    if gpu is not None:
        result = estimate(preset, gpu, runtime, max_model_len=max_model_len)
        if not result.fits:
            bypass = ANNOTATION_BYPASS_RESOURCE_CHECKS in workspace.annotations
            errors.append(
                FieldError("resource.instanceType", result.reason or "the model does not fit", warning=bypass)
            )
    return errors


def template_errors(path: str, template: dict[str, Any]) -> list[FieldError]:
    """The API server keeps a template as written, so its essentials are checked here."""
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return [FieldError(f"{path}.spec", "Required value: a pod template needs a spec")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [FieldError(f"{path}.spec.containers", "Required value: at least one container")]
    errors = []
    for index, container in enumerate(containers):
        container_path = f"{path}.spec.containers[{index}]"
        if not isinstance(container, dict):
            errors.append(FieldError(container_path, "must be an object"))
            continue
        name = container.get("name")
        if not isinstance(name, str) or not name:
            errors.append(FieldError(f"{container_path}.name", "Required value"))
        else:
            errors += [
                FieldError(f"{container_path}.name", f"Invalid value: {name!r}: {e}")
                for e in dns1123_label_errors(name)
            ]
        image = container.get("image")
        if not isinstance(image, str) or not image:
            errors.append(FieldError(f"{container_path}.image", "Required value"))
        else:
            errors += image_errors(f"{container_path}.image", image, "container")
    return errors
