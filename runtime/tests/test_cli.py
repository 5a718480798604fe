"""``kaito-runtime`` command-line errors: a clear message and exit status 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kaito_runtime.testing.server_process import OFFLINE_ENV


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kaito_runtime", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**OFFLINE_ENV, "PATH": "/usr/bin:/bin", **(env or {})},
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_runtime_and_engine_options() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    for option in (
        "--runtime",
        "--served-model-name",
        "--adapters-dir",
        "--max-waiting-requests",
        "--max-batch-size",
    ):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "usage: kaito-runtime COMMAND"),
        (("train",), "unknown command 'train'"),
        (("serve", "--model", "m"), "the following arguments are required: --runtime"),
        (("serve", "--runtime", "tgi", "--model", "m"), "argument --runtime: invalid choice: 'tgi'"),
        (("serve", "--runtime", "vllm", "--model", "m", "--port", "http"), "--port must be an integer"),
        (("serve", "--runtime", "vllm", "--model", "m", "--max-waiting-requests=-3"), "must not be negative"),
    ],
)
def test_bad_command_lines(args: tuple[str, ...], message: str) -> None:
    assert_usage_error(run(*args), message)


def test_unknown_transformers_engine_argument(tiny_model: Path) -> None:
    result = run("serve", "--runtime=transformers", f"--model={tiny_model}", "--tensor-parallel-size=2")
    assert_usage_error(
        result, "unknown engine argument '--tensor-parallel-size' for the transformers runtime"
    )


def test_bad_transformers_engine_value(tiny_model: Path) -> None:
    result = run("serve", "--runtime=transformers", f"--model={tiny_model}", "--max-batch-size", "0")
    assert_usage_error(result, "--max-batch-size must be at least 1")


@pytest.mark.parametrize("runtime", ["vllm", "transformers"])
def test_missing_config_file(runtime: str, tmp_path: Path) -> None:
    missing = tmp_path / "inference_config.yaml"
    result = run("serve", f"--runtime={runtime}", "--model=/nowhere", f"--config={missing}")
    assert_usage_error(result, f"--config {missing}: file not found")


def test_malformed_config_file(tmp_path: Path) -> None:
    config = tmp_path / "inference_config.yaml"
    config.write_text("vllm:\n  max-model-len: [1024\n")
    result = run("serve", "--runtime=vllm", "--model=/nowhere", f"--config={config}")
    assert_usage_error(result, f"--config {config}: not valid YAML at line 3")


def test_config_entry_that_is_not_an_engine_option(tiny_model: Path, tmp_path: Path) -> None:
    config = tmp_path / "inference_config.yaml"
    config.write_text("transformers:\n  speculative-model: foo\n")
    result = run("serve", "--runtime=transformers", f"--model={tiny_model}", f"--config={config}")
    assert_usage_error(
        result, f"--config {config}: transformers.speculative-model: unknown transformers option"
    )


def test_adapter_strength_must_be_between_zero_and_one(tiny_model: Path, tmp_path: Path) -> None:
    adapter = tmp_path / "my-adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 4}))
    result = run(
        "serve", "--runtime=transformers", f"--model={tiny_model}", f"--adapters-dir={tmp_path}",
        env={"my-adapter": "2"},
    )  # fmt: skip
    assert_usage_error(result, "environment variable my-adapter='2': the strength of adapter 'my-adapter'")


def test_missing_model_is_a_clear_startup_error(tmp_path: Path) -> None:
    result = run("serve", "--runtime=transformers", f"--model={tmp_path / 'absent'}", "--device=cpu")
    assert result.returncode == 1
    assert f"--model {tmp_path / 'absent'}: cannot load the model" in result.stderr
    assert "Traceback" not in result.stderr


def test_vllm_engine_argument_errors(tiny_model: Path) -> None:
    unknown = run("serve", "--runtime=vllm", f"--model={tiny_model}", "--no-such-flag")
    assert_usage_error(unknown, "unknown engine argument '--no-such-flag' for the vllm runtime")
    bad_value = run("serve", "--runtime=vllm", f"--model={tiny_model}", "--max-model-len=lots")
    assert_usage_error(bad_value, "argument --max-model-len: invalid")


def test_vllm_rejecting_the_configuration_is_a_clear_startup_error(tiny_model: Path) -> None:
    result = run(
        "serve", "--runtime=vllm", f"--model={tiny_model}", "--max-model-len=100000", "--dtype=float32"
    )
    assert result.returncode == 1
    assert f"kaito-runtime serve: error: vLLM cannot serve {tiny_model} with these arguments" in result.stderr
    assert "max_model_len (100000)" in result.stderr
    assert "Traceback" not in result.stderr
