"""Engine arguments: command-line parsing, config-file overrides (the file wins) and rendering."""

from __future__ import annotations

import argparse

import pytest

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.engine_args import (
    ArgSpec,
    config_section_args,
    merge_engine_args,
    parse_engine_tokens,
    render_engine_args,
)


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    """One option of every kind vLLM's parser has."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-model-len")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--trust-remote-code", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--disable-log-stats", action="store_true")
    parser.add_argument("--served-model-name", nargs="+")
    parser.add_argument("--middleware", action="append", default=[])
    parser.add_argument("--compilation-config")
    return parser


@pytest.fixture
def spec(parser: argparse.ArgumentParser) -> ArgSpec:
    return ArgSpec(parser, runtime="vllm", dotted_keys=True)


def roundtrip(parser: argparse.ArgumentParser, tokens: list[str]) -> argparse.Namespace:
    return parser.parse_args(tokens)


def test_both_spellings_and_bare_flags_are_understood(parser: argparse.ArgumentParser, spec: ArgSpec) -> None:
    tokens = ["--max-model-len=4096", "--dtype", "float16", "--trust-remote-code", "--disable-log-stats"]
    rendered = render_engine_args(parse_engine_tokens(tokens, spec))
    assert rendered == [
        "--max-model-len=4096",
        "--dtype=float16",
        "--trust-remote-code",
        "--disable-log-stats",
    ]
    namespace = roundtrip(parser, rendered)
    assert (namespace.max_model_len, namespace.dtype, namespace.trust_remote_code) == (
        "4096",
        "float16",
        True,
    )


def test_underscores_lists_appends_and_dotted_keys(parser: argparse.ArgumentParser, spec: ArgSpec) -> None:
    tokens = [
        "--max_model_len", "128",
        "--served-model-name", "a", "b",
        "--middleware=x.Y", "--middleware", "z.W",
        "--compilation-config.pass_config.fuse_allreduce_rms=False",
    ]  # fmt: skip
    rendered = render_engine_args(parse_engine_tokens(tokens, spec))
    assert rendered == [
        "--max-model-len=128",
        "--served-model-name", "a", "b",
        "--middleware=x.Y", "--middleware=z.W",
        "--compilation-config.pass_config.fuse_allreduce_rms=False",
    ]  # fmt: skip


def test_later_occurrence_wins_on_the_command_line(spec: ArgSpec) -> None:
    rendered = render_engine_args(
        parse_engine_tokens(["--dtype=half", "--no-trust-remote-code", "--dtype=bf16"], spec)
    )
    assert rendered == ["--no-trust-remote-code", "--dtype=bf16"]


def test_config_file_values_replace_command_line_values(
    parser: argparse.ArgumentParser, spec: ArgSpec
) -> None:
    cli = parse_engine_tokens(["--max-model-len=4096", "--trust-remote-code", "--disable-log-stats"], spec)
    section = {
        "max-model-len": 1024,
        "trust-remote-code": False,
        "disable-log-stats": False,
        "dtype": "float32",
    }
    merged = merge_engine_args(cli, config_section_args(section, spec, "--config f.yaml: vllm"))
    rendered = render_engine_args(merged)
    assert rendered == ["--max-model-len=1024", "--no-trust-remote-code", "--dtype=float32"]
    namespace = roundtrip(parser, rendered)
    assert (namespace.max_model_len, namespace.trust_remote_code, namespace.disable_log_stats) == (
        "1024",
        False,
        False,
    )


def test_config_file_structures_and_null(spec: ArgSpec) -> None:
    cli = parse_engine_tokens(["--dtype=float16", "--max-model-len=64"], spec)
    section = {
        "dtype": None,
        "served_model_name": ["m1", "m2"],
        "compilation-config": {"mode": 0},
        "compilation-config.pass_config.fuse_allreduce_rms": False,
        "trust-remote-code": "yes",
    }
    rendered = render_engine_args(merge_engine_args(cli, config_section_args(section, spec, "vllm")))
    assert rendered == [
        "--max-model-len=64",
        "--served-model-name", "m1", "m2",
        '--compilation-config={"mode": 0}',
        "--compilation-config.pass_config.fuse_allreduce_rms=false",
        "--trust-remote-code",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["--no-such-option=1"], "unknown engine argument '--no-such-option' for the vllm runtime"),
        (["--dtype"], "engine argument --dtype needs a value"),
        (["--dtype", "--trust-remote-code"], "engine argument --dtype needs a value"),
        (["float16"], "unexpected engine argument 'float16'"),
        (["--trust-remote-code=maybe"], "expected true or false"),
        (["--trust-remote-code.x=1"], "unknown engine argument '--trust-remote-code.x'"),
    ],
)
def test_bad_command_line_engine_arguments(spec: ArgSpec, tokens: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_engine_tokens(tokens, spec)


def test_config_file_errors_name_the_field(spec: ArgSpec) -> None:
    with pytest.raises(UsageError, match=r"--config c.yaml: vllm.bogus: unknown vllm option"):
        config_section_args({"bogus": 1}, spec, "--config c.yaml: vllm")
    with pytest.raises(UsageError, match=r"vllm.trust-remote-code: expected true or false, got 'sometimes'"):
        config_section_args({"trust-remote-code": "sometimes"}, spec, "vllm")


def test_dotted_keys_only_where_the_engine_accepts_them(parser: argparse.ArgumentParser) -> None:
    strict = ArgSpec(parser, runtime="transformers", dotted_keys=False)
    with pytest.raises(UsageError, match=r"unknown engine argument '--compilation-config\.mode'"):
        parse_engine_tokens(["--compilation-config.mode=3"], strict)
