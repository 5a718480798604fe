"""The ``inference_config.yaml`` ConfigMap: per-runtime engine-argument overrides."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from kaito_runtime.errors import UsageError

logger = logging.getLogger(__name__)

# Top-level keys upstream KAITO reads but that have no effect here: the max-model-len
# probe was removed upstream and the LMCache CPU KV offload is not part of this runtime.
_IGNORED_KEYS = ("max_probe_steps", "kv_cache_cpu_memory_utilization")


class InferenceConfig(BaseModel):
    """Parsed config file. Each runtime section maps engine option names (without ``--``) to values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vllm: dict[str, Any] = {}
    transformers: dict[str, Any] = {}
    max_probe_steps: int | None = None
    kv_cache_cpu_memory_utilization: float | None = None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(
                f"unknown key '{where}' (expected vllm, transformers, {', '.join(_IGNORED_KEYS)})"
            )
        else:
            problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


def load_inference_config(path: Path) -> InferenceConfig:
    """Read and validate the file, raising :class:`UsageError` that names the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--config {path}: file not found") from None
    except IsADirectoryError:
        raise UsageError(f"--config {path}: is a directory, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--config {path}: cannot be read: {error}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise UsageError(f"--config {path}: not valid YAML{where}: {problem}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise UsageError(
            f"--config {path}: expected a mapping at the top level, got {type(document).__name__}"
        )
    try:
        config = InferenceConfig.model_validate(document)
    except ValidationError as error:
        raise UsageError(f"--config {path}: {_describe(error)}") from None
    for key in _IGNORED_KEYS:
        if getattr(config, key) is not None:
            logger.info("config file key %r is accepted for compatibility and has no effect", key)
    return config
