"""The vLLM command line: runtime options, engine arguments, adapters and the config file, parsed by vLLM."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

import pytest

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.adapters import Adapter
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.engine_args import ArgSpec
from kaito_runtime.serving.options import parse_serve_args
from kaito_runtime.serving.vllm_runtime.arguments import (
    parse_vllm_args,
    supported_lora_ranks,
    vllm_argv,
    vllm_parser,
)

# What kaito's preset parameter builders put on the line for a vLLM workspace.
CONTROLLER_LINE = [
    "--runtime=vllm", "--model=/workspace/weights", "--served-model-name=phi-4-mini-instruct",
    "--config=/mnt/config/inference_config.yaml", "--tensor-parallel-size=1", "--pipeline-parallel-size=1",
    "--gpu-memory-utilization=0.84", "--max-model-len=4096", "--dtype=float16", "--trust-remote-code",
    "--enable-auto-tool-choice", "--tool-call-parser=hermes", "--download-dir=/workspace/weights",
]  # fmt: skip


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return vllm_parser()


@pytest.fixture(scope="module")
def spec(parser: argparse.ArgumentParser) -> ArgSpec:
    return ArgSpec(parser, runtime="vllm", dotted_keys=True)


def resolve(
    parser: argparse.ArgumentParser,
    spec: ArgSpec,
    line: list[str],
    config: Mapping[str, object] | None = None,
    adapters: list[Adapter] | None = None,
) -> argparse.Namespace:
    options = parse_serve_args(line)
    inference_config = InferenceConfig.model_validate({"vllm": config}) if config is not None else None
    argv = vllm_argv(options, inference_config, adapters or [], spec, supported_lora_ranks())
    return parse_vllm_args(parser, argv)


def test_controller_line_reaches_vllm(parser: argparse.ArgumentParser, spec: ArgSpec) -> None:
    args = resolve(parser, spec, CONTROLLER_LINE)
    assert args.model == "/workspace/weights"
    assert args.served_model_name == ["phi-4-mini-instruct"]
    assert (args.port, args.host) == (5000, "0.0.0.0")
    assert (args.max_model_len, args.dtype, args.trust_remote_code) == (4096, "float16", True)
    assert (args.gpu_memory_utilization, args.tool_call_parser, args.enable_auto_tool_choice) == (
        0.84,
        "hermes",
        True,
    )
    assert args.download_dir == "/workspace/weights"
    assert args.api_server_count == 1


def test_config_file_wins_including_booleans(parser: argparse.ArgumentParser, spec: ArgSpec) -> None:
    config = {
        "max-model-len": 1024,
        "trust-remote-code": False,
        "enable-prefix-caching": False,
        "cpu-offload-gb": 0,
    }
    args = resolve(parser, spec, CONTROLLER_LINE, config)
    assert args.max_model_len == 1024
    assert args.trust_remote_code is False
    assert args.enable_prefix_caching is False
    assert args.cpu_offload_gb == 0


def test_adapters_enable_lora_with_a_rank_vllm_accepts(
    parser: argparse.ArgumentParser, spec: ArgSpec, tmp_path: Path
) -> None:
    adapters = [Adapter("alpha", tmp_path / "alpha", 4), Adapter("beta", tmp_path / "beta", 12)]
    args = resolve(parser, spec, CONTROLLER_LINE, adapters=adapters)
    assert args.enable_lora is True
    assert [(module.name, module.path) for module in args.lora_modules] == [
        ("alpha", str(tmp_path / "alpha")),
        ("beta", str(tmp_path / "beta")),
    ]
    assert args.max_lora_rank == 16
    assert args.max_loras == 2


def test_explicit_lora_settings_are_kept(
    parser: argparse.ArgumentParser, spec: ArgSpec, tmp_path: Path
) -> None:
    adapters = [Adapter("alpha", tmp_path / "alpha", 4)]
    args = resolve(parser, spec, [*CONTROLLER_LINE, "--max-lora-rank=64"], adapters=adapters)
    assert args.max_lora_rank == 64
    manual = resolve(
        parser, spec, [*CONTROLLER_LINE, "--enable-lora", "--lora-modules", "x=/x"], adapters=adapters
    )
    assert [module.name for module in manual.lora_modules] == ["x"]
    disabled = resolve(parser, spec, [*CONTROLLER_LINE, "--no-enable-lora"], adapters=adapters)
    assert not disabled.enable_lora and disabled.lora_modules is None


def test_adapter_rank_beyond_vllm_limits_is_a_usage_error(
    parser: argparse.ArgumentParser, spec: ArgSpec, tmp_path: Path
) -> None:
    too_big = max(supported_lora_ranks()) + 1
    with pytest.raises(UsageError, match=f"adapter 'huge' has LoRA rank {too_big}"):
        resolve(parser, spec, CONTROLLER_LINE, adapters=[Adapter("huge", tmp_path, too_big)])


def test_several_api_servers_are_refused(parser: argparse.ArgumentParser, spec: ArgSpec) -> None:
    with pytest.raises(UsageError, match="--api-server-count=2 is not supported"):
        resolve(parser, spec, [*CONTROLLER_LINE, "--api-server-count=2"])
