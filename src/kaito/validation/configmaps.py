"""Rules on the ConfigMaps a workspace names: ``inference_config.yaml`` for
serving and ``training_config.yaml`` for tuning."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

import yaml

from kaito.api.core import ConfigMap
from kaito.api.wellknown import TuningMethod
from kaito.validation.errors import FieldError

INFERENCE_CONFIG_KEY = "inference_config.yaml"
TRAINING_CONFIG_KEY = "training_config.yaml"
_TRAINING_SECTIONS = frozenset(
    {"ModelConfig", "QuantizationConfig", "LoraConfig", "TrainingArguments", "DatasetConfig", "DataCollator"}
)


@dataclass(frozen=True)
class InferenceConfig:
    """What validation and sizing read from inference_config.yaml."""

    max_model_len: int | None


def _load_yaml_map(
    path: str, config_map: ConfigMap, key: str
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    name = config_map.metadata.name
    text = (config_map.data or {}).get(key)
    if text is None:
        return None, [FieldError(path, f"missing field(s): {key} in ConfigMap '{name}'")]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, [FieldError(path, f"{key} in ConfigMap '{name}' is not valid YAML{where}")]
    if document is None:
        return {}, []
    if not isinstance(document, dict):
        return None, [FieldError(path, f"{key} in ConfigMap '{name}' must be a mapping")]
    return document, []


def inference_config_errors(
    path: str, config_map: ConfigMap, max_context: int
) -> tuple[InferenceConfig, list[FieldError]]:
    """Check the serving config; ``max_context`` is the model's longest supported context."""
    document, errors = _load_yaml_map(path, config_map, INFERENCE_CONFIG_KEY)
    if document is None:
        return InferenceConfig(max_model_len=None), errors
    name = config_map.metadata.name
    max_model_len: int | None = None
    for section in ("vllm", "transformers"):
        values = document.get(section)
        if values is None:
            continue
        if not isinstance(values, dict):
            errors.append(
                FieldError(path, f"'{section}' in ConfigMap '{name}' must be a mapping of engine options")
            )
            continue
        raw = values.get("max-model-len")
        if raw is None or raw == "auto":
            continue
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            errors.append(FieldError(path, f"max-model-len in ConfigMap '{name}' must be a positive integer"))
        elif raw > max_context:
            errors.append(
                FieldError(
                    path,
                    f"max-model-len {raw} exceeds model's maximum supported context window {max_context} "
                    "(ModelTokenLimit)",
                )
            )
        else:
            max_model_len = raw
    return InferenceConfig(max_model_len=max_model_len), errors


def training_config_errors(path: str, config_map: ConfigMap, method: TuningMethod) -> list[FieldError]:
    document, errors = _load_yaml_map(path, config_map, TRAINING_CONFIG_KEY)
    if document is None:
        return errors
    name = config_map.metadata.name
    training = document.get("training_config")
    if not isinstance(training, dict):
        return [FieldError(path, "Expected 'training_config' key to contain a map")]
    for section in training:
        if section not in _TRAINING_SECTIONS:
            errors.append(FieldError(path, f"Unrecognized section: {section}"))
    errors += _quantization_errors(path, name, training.get("QuantizationConfig"), method)
    output_dir = (training.get("TrainingArguments") or {}).get("output_dir")
    if output_dir is not None and not _is_directory_under_mnt(output_dir):
        errors.append(
            FieldError(path, f"Invalid output_dir specified: '{output_dir}', must be a directory under /mnt")
        )
    return errors


def _quantization_errors(
    path: str, name: str | None, quantization: Any, method: TuningMethod
) -> list[FieldError]:
    if quantization is not None and not isinstance(quantization, dict):
        return [FieldError(path, f"QuantizationConfig in ConfigMap '{name}' must be a map")]
    flags = {}
    for key in ("load_in_4bit", "load_in_8bit"):
        value = (quantization or {}).get(key)
        if value is not None and not isinstance(value, bool):
            return [FieldError(path, f"'{key}' in ConfigMap '{name}' must be true or false")]
        flags[key] = bool(value)
    if flags["load_in_4bit"] and flags["load_in_8bit"]:
        return [
            FieldError(
                path, f"Cannot set both 'load_in_4bit' and 'load_in_8bit' to true in ConfigMap '{name}'"
            )
        ]
    quantized = flags["load_in_4bit"] or flags["load_in_8bit"]
    if method == TuningMethod.LORA and quantized:
        return [
            FieldError(
                path,
                f"For method 'lora', 'load_in_4bit' or 'load_in_8bit' in ConfigMap '{name}' must not be true",
            )
        ]
    if method == TuningMethod.QLORA and not quantized:
        return [
            FieldError(
                path,
                "For method 'qlora', either 'load_in_4bit' or 'load_in_8bit' must be true in "
                f"ConfigMap '{name}'",
            )
        ]
    return []


def _is_directory_under_mnt(output_dir: Any) -> bool:
    if not isinstance(output_dir, str) or not output_dir:
        return False
    normalized = posixpath.normpath(output_dir)
    return normalized.startswith("/mnt/") and normalized != "/mnt"
