"""inference_config.yaml: valid files load, bad ones fail with the file name and the problem."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.config_file import load_inference_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inference_config.yaml"
    path.write_text(text)
    return path


def test_upstream_template_loads_and_ignored_keys_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(
        tmp_path,
        "max_probe_steps: 6\nkv_cache_cpu_memory_utilization: 0.5\n"
        "vllm:\n  cpu-offload-gb: 0\n  max-model-len: 2048\n",
    )
    with caplog.at_level(logging.INFO, logger="kaito_runtime"):
        config = load_inference_config(path)
    assert config.vllm == {"cpu-offload-gb": 0, "max-model-len": 2048}
    assert config.transformers == {}
    assert "'max_probe_steps' is accepted for compatibility and has no effect" in caplog.text
    assert "'kv_cache_cpu_memory_utilization' is accepted" in caplog.text


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_inference_config(write(tmp_path, ""))
    assert (config.vllm, config.transformers) == ({}, {})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("vllm: [1, 2\n", r"not valid YAML at line 2, column 1"),
        ("- a\n- b\n", r"expected a mapping at the top level, got list"),
        ("vllm: 3\n", r"vllm: Input should be a valid dictionary"),
        ("vllm: {}\nsglang: {}\n", r"unknown key 'sglang'"),
        ("max_probe_steps: many\n", r"max_probe_steps: Input should be a valid integer"),
    ],
)
def test_malformed_files_name_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=rf"^--config {path}: .*{problem}"):
        load_inference_config(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=rf"--config {tmp_path / 'nope.yaml'}: file not found"):
        load_inference_config(tmp_path / "nope.yaml")
    with pytest.raises(UsageError, match="is a directory"):
        load_inference_config(tmp_path)
