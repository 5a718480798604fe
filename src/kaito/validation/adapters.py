"""Rules on ``inference.adapters``: LoRA adapters loaded next to the base model."""

from __future__ import annotations

import math

from kaito.api.names import dns1035_label_errors
from kaito.api.wellknown import ANNOTATION_RUNTIME, Runtime
from kaito.api.workspace import AdapterSpec
from kaito.validation.datasource import image_errors, secret_names_errors
from kaito.validation.errors import FieldError

MAX_ADAPTERS = 10
# The name becomes the init container ``adapter-<name>`` (63 characters at most)
# and the strength's environment variable, which must not start with a digit.
MAX_ADAPTER_NAME_LENGTH = 55


def adapters_errors(
    adapters: list[AdapterSpec], runtime: Runtime, unsupported_reason: str | None
) -> list[FieldError]:
    """``unsupported_reason`` says why this model on this runtime takes no adapters at all."""
    if not adapters:
        return []
    if len(adapters) > MAX_ADAPTERS:
        return [
            FieldError(
                "inference.adapters",
                f"Number of Adapters exceeds the maximum limit, maximum of {MAX_ADAPTERS} allowed",
            )
        ]
    errors = []
    if unsupported_reason is not None:
        errors.append(FieldError("inference.adapters", unsupported_reason))
    seen: set[str] = set()
    for index, adapter in enumerate(adapters):
        path = f"inference.adapters[{index}]"
        errors += _adapter_errors(path, adapter, runtime)
        name = adapter.source.name if adapter.source else None
        if name:
            if name in seen:
                errors.append(
                    FieldError(f"{path}.source.name", f"Duplicate adapter source name found: {name}")
                )
            seen.add(name)
    return errors


def _adapter_errors(path: str, adapter: AdapterSpec, runtime: Runtime) -> list[FieldError]:
    source = adapter.source
    if source is None:
        return [FieldError(f"{path}.source", "Required value")]
    errors = []
    if not source.name:
        errors.append(FieldError(f"{path}.source.name", "Name of Adapter field must be specified"))
    else:
        errors += [
            FieldError(f"{path}.source.name", f"Invalid value: {source.name!r}: {e}")
            for e in dns1035_label_errors(source.name)
        ]
        if len(source.name) > MAX_ADAPTER_NAME_LENGTH:
            errors.append(
                FieldError(
                    f"{path}.source.name",
                    f"Invalid value: {source.name!r}: must be no more than {MAX_ADAPTER_NAME_LENGTH} "
                    "characters (it names the init container adapter-<name>)",
                )
            )
    if source.urls is not None:
        errors.append(FieldError(f"{path}.source.urls", "URLs are not supported as adapter source"))
    if (source.image is None) == (source.volume_source is None):
        errors.append(
            FieldError(f"{path}.source", "Either Image or Volume must be specified for adapter source")
        )
    if source.image is not None:
        errors += image_errors(f"{path}.source.image", source.image, "adapter")
    errors += secret_names_errors(f"{path}.source.imagePullSecrets", source.image_pull_secrets or [])
    errors += _strength_errors(
        f"{path}.strength", source.name or "(unnamed)", adapter.effective_strength, runtime
    )
    return errors


def _strength_errors(path: str, name: str, strength: str, runtime: Runtime) -> list[FieldError]:
    try:
        value = float(strength)
    except ValueError:
        return [
            FieldError(path, f"Invalid strength value for Adapter '{name}': {strength!r} is not a number")
        ]
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        return [FieldError(path, f"Strength value for Adapter '{name}' must be between 0 and 1")]
    if runtime == Runtime.VLLM and value != 1.0:
        return [
            FieldError(
                path,
                f"vLLM does not support adapter strength: adapter '{name}' has strength {strength}; "
                "vLLM applies "
                f"every adapter at 1.0. Set annotation {ANNOTATION_RUNTIME}: transformers to weight adapters",
            )
        ]
    return []
