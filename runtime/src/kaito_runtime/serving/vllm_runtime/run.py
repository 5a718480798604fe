"""Entry point of ``kaito-runtime serve --runtime vllm``."""

from __future__ import annotations

import logging
import os

from kaito_runtime.serving.adapters import discover_adapters
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.engine_args import ArgSpec
from kaito_runtime.serving.options import ServeOptions
from kaito_runtime.serving.vllm_runtime.arguments import (
    parse_vllm_args,
    supported_lora_ranks,
    vllm_argv,
    vllm_parser,
)

logger = logging.getLogger(__name__)


def run_vllm(options: ServeOptions, config: InferenceConfig | None) -> None:
    """Resolve vLLM's arguments and serve until the process is told to stop."""
    # vLLM's CLI does the same: worker processes are spawned, never forked from a
    # process that has already started threads.
    os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    import uvloop
    from vllm.logger import configure_logging_from_args

    from kaito_runtime.serving.vllm_runtime.server import serve

    adapters = discover_adapters(options.adapters_dir)
    parser = vllm_parser()
    spec = ArgSpec(parser, runtime="vllm", dotted_keys=True)
    argv = vllm_argv(options, config, adapters, spec, supported_lora_ranks())
    args = parse_vllm_args(parser, argv)
    configure_logging_from_args(args)
    if adapters:
        logger.info("LoRA adapters: %s", ", ".join(adapter.name for adapter in adapters))
    uvloop.run(serve(args, options.max_waiting_requests))
