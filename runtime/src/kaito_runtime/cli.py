"""``kaito-runtime``: the command model images run."""

from __future__ import annotations

import logging
import os
import sys

from kaito_runtime import __version__
from kaito_runtime.errors import StartupError, UsageError

USAGE = """usage: kaito-runtime COMMAND [ARGS]

commands:
  serve      serve a model over an OpenAI-compatible HTTP API (kaito-runtime serve --help)
  version    print the runtime version
"""


def _configure_logging() -> None:
    """INFO (DEBUG with ``DEBUG_MODE=true``, as upstream images use) for the runtime's own loggers.

    The level is set on the ``kaito_runtime`` logger itself because libraries imported later
    (vLLM's SageMaker integration) raise the root logger's level.
    """
    level = logging.DEBUG if os.environ.get("DEBUG_MODE", "").lower() == "true" else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kaito_runtime").setLevel(level)


def _serve_help() -> str:
    from kaito_runtime.serving.multinode.environment import ENVIRONMENT_HELP
    from kaito_runtime.serving.options import build_parser
    from kaito_runtime.serving.transformers_runtime.options import transformers_parser

    engine_help = transformers_parser().format_help().strip()
    return (
        build_parser().format_help() + "\nvLLM engine arguments: any option of vLLM's own server"
        " (python -m vllm.entrypoints.openai.api_server --help).\n\n"
        + engine_help
        + "\n\n"
        + ENVIRONMENT_HELP
    )


def serve(argv: list[str]) -> int:
    """Parse, validate, then hand over to the chosen runtime; returns the exit status."""
    if any(token in ("-h", "--help") for token in argv):
        print(_serve_help())
        return 0
    _configure_logging()
    from kaito_runtime.serving.config_file import load_inference_config
    from kaito_runtime.serving.multinode.environment import parse_node_environment
    from kaito_runtime.serving.options import parse_serve_args

    try:
        options = parse_serve_args(argv)
        nodes = parse_node_environment(os.environ)
        config = load_inference_config(options.config_path) if options.config_path is not None else None
        if nodes is not None:
            from kaito_runtime.serving.multinode.run import serve_multinode

            serve_multinode(options, config, nodes)
        elif options.runtime == "vllm":
            from kaito_runtime.serving.vllm_runtime.run import run_vllm

            run_vllm(options, config)
        else:
            from kaito_runtime.serving.transformers_runtime.run import run_transformers

            run_transformers(options, config)
    except (UsageError, StartupError) as error:
        print(f"kaito-runtime serve: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "serve":
        return serve(rest)
    if command == "version":
        print(__version__)
        return 0
    print(f"kaito-runtime: error: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2
