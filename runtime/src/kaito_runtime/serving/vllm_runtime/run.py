"""Entry point of ``kaito-runtime serve --runtime vllm``."""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass

from kaito_runtime.serving.adapters import discover_adapters
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.engine_args import ArgSpec
from kaito_runtime.serving.options import ServeOptions, WaitingBound
from kaito_runtime.serving.vllm_runtime.arguments import (
    parse_vllm_args,
    supported_lora_ranks,
    vllm_argv,
    vllm_parser,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedVllm:
    """vLLM's validated argument namespace and the admission bound: everything serving needs."""

    args: argparse.Namespace
    bound: WaitingBound


def prepare_vllm(options: ServeOptions, config: InferenceConfig | None) -> PreparedVllm:
    """Resolve and validate vLLM's arguments (bad ones are a UsageError before anything starts)."""
    # vLLM's CLI does the same: worker processes are spawned, never forked from a
    # process that has already started threads.
    os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    from vllm.logger import configure_logging_from_args

    adapters = discover_adapters(options.adapters_dir)
    parser = vllm_parser()
    spec = ArgSpec(parser, runtime="vllm", dotted_keys=True)
    argv = vllm_argv(options, config, adapters, spec, supported_lora_ranks())
    args = parse_vllm_args(parser, argv)
    configure_logging_from_args(args)
    if adapters:
        logger.info("LoRA adapters: %s", ", ".join(adapter.name for adapter in adapters))
    return PreparedVllm(args, options.max_waiting_requests)


def serve_vllm(prepared: PreparedVllm) -> None:
    """Load the model and serve until the process is told to stop."""
    import uvloop

    from kaito_runtime.serving.vllm_runtime.server import serve

    uvloop.run(serve(prepared.args, prepared.bound))


def run_vllm(options: ServeOptions, config: InferenceConfig | None) -> None:
    """Resolve vLLM's arguments and serve until the process is told to stop."""
    serve_vllm(prepare_vllm(options, config))
