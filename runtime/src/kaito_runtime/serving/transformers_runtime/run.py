"""Entry point of ``kaito-runtime serve --runtime transformers``."""

from __future__ import annotations

import logging
import os

import uvicorn

from kaito_runtime.serving.adapters import adapter_strengths, discover_adapters
from kaito_runtime.serving.config_file import InferenceConfig
from kaito_runtime.serving.engine_args import (
    ArgSpec,
    config_section_args,
    merge_engine_args,
    parse_engine_tokens,
    render_engine_args,
)
from kaito_runtime.serving.options import ServeOptions
from kaito_runtime.serving.transformers_runtime.options import (
    TransformersOptions,
    parse_transformers_options,
    transformers_parser,
)

logger = logging.getLogger(__name__)


def resolve_options(options: ServeOptions, config: InferenceConfig | None) -> TransformersOptions:
    """Engine arguments with the config file's ``transformers:`` entries on top (the file wins)."""
    parser = transformers_parser()
    spec = ArgSpec(parser, runtime="transformers", dotted_keys=False)
    args = parse_engine_tokens(options.engine_args, spec)
    if config is not None:
        where = f"--config {options.config_path}: transformers"
        args = merge_engine_args(args, config_section_args(config.transformers, spec, where))
    return parse_transformers_options(parser, render_engine_args(args))


def run_transformers(options: ServeOptions, config: InferenceConfig | None) -> None:
    """Validate everything, load the model, then serve until SIGTERM/SIGINT."""
    engine_options = resolve_options(options, config)
    adapters = discover_adapters(options.adapters_dir)
    strengths = adapter_strengths(adapters, os.environ)
    # torch and transformers load only once the command line is known to be valid.
    from kaito_runtime.serving.transformers_runtime.app import build_app
    from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine
    from kaito_runtime.serving.transformers_runtime.loading import load_model

    loaded = load_model(options.model, options.revision, engine_options, adapters, strengths)
    engine = BatchingEngine(loaded, engine_options.max_batch_size)
    app = build_app(
        loaded,
        engine,
        model_name=options.model_name,
        model_root=options.model,
        bound=options.max_waiting_requests,
    )
    uvicorn.run(app, host=options.host, port=options.port, log_level="info")
