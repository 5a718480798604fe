"""vLLM's argument namespace from the runtime options, engine arguments, adapters and config file."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.adapters import Adapter
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.engine_args import (
    ArgSpec,
    EngineArg,
    config_section_args,
    merge_engine_args,
    parse_engine_tokens,
    render_engine_args,
)
from kaito_runtime.serving.options import ServeOptions


def vllm_parser() -> argparse.ArgumentParser:
    """vLLM's own ``serve`` parser (its option table decides how engine arguments are read)."""
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser: argparse.ArgumentParser = make_arg_parser(
        FlexibleArgumentParser(prog="kaito-runtime serve --runtime vllm")
    )
    return parser


def supported_lora_ranks() -> tuple[int, ...]:
    """The ``--max-lora-rank`` values this vLLM accepts."""
    from vllm.config.lora import MaxLoRARanks

    return tuple(sorted(typing.get_args(MaxLoRARanks)))


def lora_args(
    adapters: Sequence[Adapter], present: set[str], spec: ArgSpec, ranks: Sequence[int]
) -> list[EngineArg]:
    """Register every adapter as a LoRA module named after its folder, sized to the largest rank.

    Options already set on the command line are kept, and an explicit ``--lora-modules``
    (or ``--no-enable-lora``) means the operator manages LoRA and nothing is added.
    """
    if not adapters or "lora_modules" in present:
        return []
    needed = max(adapter.rank for adapter in adapters)
    fitting = [rank for rank in ranks if rank >= needed]
    if not fitting:
        largest = max(adapters, key=lambda adapter: adapter.rank)
        raise UsageError(
            f"adapter '{largest.name}' has LoRA rank {needed}; vLLM supports ranks up to {max(ranks)}"
        )
    added = [
        spec.arg("--enable-lora", True),
        spec.arg("--lora-modules", tuple(f"{adapter.name}={adapter.path}" for adapter in adapters)),
        spec.arg("--max-lora-rank", str(fitting[0])),
        spec.arg("--max-loras", str(len(adapters))),
    ]
    return [arg for arg in added if arg.key not in present]


def vllm_argv(
    options: ServeOptions,
    config: InferenceConfig | None,
    adapters: Sequence[Adapter],
    spec: ArgSpec,
    ranks: Sequence[int],
) -> list[str]:
    """The command line handed to vLLM's parser: config-file entries win over everything else."""
    args = [
        spec.arg("--model", options.model),
        spec.arg("--host", options.host),
        spec.arg("--port", str(options.port)),
    ]
    if options.revision is not None:
        args.append(spec.arg("--revision", options.revision))
    if options.served_model_name is not None:
        args.append(spec.arg("--served-model-name", (options.served_model_name,)))
    args = merge_engine_args(args, list(parse_engine_tokens(options.engine_args, spec)))
    present = {arg.key for arg in args}
    if not any(arg.key == "enable_lora" and arg.value is False for arg in args):
        args.extend(lora_args(adapters, present, spec, ranks))
    if config is not None:
        where = f"--config {options.config_path}: vllm"
        args = merge_engine_args(args, config_section_args(config.vllm, spec, where))
    return render_engine_args(args)


def parse_vllm_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse and validate with vLLM's own code; the in-process server runs one API server."""
    from vllm.entrypoints.launchers.cli_args import validate_parsed_serve_args

    namespace = parser.parse_args(argv)
    try:
        validate_parsed_serve_args(namespace)
    except (TypeError, ValueError, KeyError) as error:
        raise UsageError(f"invalid vLLM arguments: {error}") from None
    if namespace.headless:
        raise UsageError("--headless is not supported: kaito-runtime serves the HTTP API in this process")
    if namespace.api_server_count not in (None, 1):
        raise UsageError(
            f"--api-server-count={namespace.api_server_count} is not supported; kaito-runtime runs one"
        )
    namespace.api_server_count = 1
    return namespace
