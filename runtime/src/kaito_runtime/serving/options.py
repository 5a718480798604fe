"""The runtime-level options of ``kaito-runtime serve``; everything else on the line is an engine argument."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kaito_runtime.argparser import RaisingArgumentParser

RuntimeName = Literal["vllm", "transformers"]
RUNTIMES: tuple[RuntimeName, ...] = ("vllm", "transformers")

DEFAULT_PORT = 5000
DEFAULT_ADAPTERS_DIR = Path("/mnt/adapter")

# How many requests may wait in the engine queue before new ones get 429.
# "auto" ties the bound to the engine's own concurrency (vLLM max-num-seqs,
# transformers max-batch-size), as upstream KAITO does; None turns the guard off.
WaitingBound = int | Literal["auto"] | None


@dataclass(frozen=True)
class ServeOptions:
    """What the controller decides for every runtime; engine arguments stay as raw tokens."""

    runtime: RuntimeName
    model: str
    revision: str | None = None
    served_model_name: str | None = None
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    config_path: Path | None = None
    adapters_dir: Path = DEFAULT_ADAPTERS_DIR
    max_waiting_requests: WaitingBound = "auto"
    engine_args: tuple[str, ...] = field(default_factory=tuple)

    @property
    def model_name(self) -> str:
        """The id clients use in ``"model"``: the served name, else the model path or repo."""
        return self.served_model_name or self.model


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be an integer, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"--port must be between 1 and 65535, got {value}")
    return value


def _waiting_bound(text: str) -> WaitingBound:
    lowered = text.strip().lower()
    if lowered == "auto":
        return "auto"
    if lowered in ("off", "none", "disabled"):
        return None
    try:
        value = int(lowered)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--max-waiting-requests must be a non-negative integer, 'auto' or 'off', got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--max-waiting-requests must not be negative, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser for the runtime options (used for ``--help`` too)."""
    parser = RaisingArgumentParser(
        prog="kaito-runtime serve",
        description=(
            "Serve a model over an OpenAI-compatible HTTP API. Arguments not listed here are engine "
            "arguments: forwarded to vLLM's own parser (--runtime vllm) or to the transformers "
            "server's options (--runtime transformers; see its --help section below)."
        ),
        allow_abbrev=False,
        add_help=False,
    )
    parser.add_argument("--runtime", choices=RUNTIMES, required=True, help="inference engine")
    parser.add_argument("--model", required=True, help="local weights directory or Hugging Face repo id")
    parser.add_argument("--revision", default=None, help="model revision (branch, tag or commit)")
    parser.add_argument("--served-model-name", default=None, help="model id clients use; defaults to --model")
    parser.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="listen port (default 5000)")
    parser.add_argument(
        "--config",
        dest="config_path",
        type=Path,
        default=None,
        help="inference_config.yaml; its 'vllm:' or 'transformers:' map overrides engine arguments",
    )
    parser.add_argument(
        "--adapters-dir",
        type=Path,
        default=DEFAULT_ADAPTERS_DIR,
        help="sub-folders holding an adapter_config.json are LoRA adapters (default /mnt/adapter)",
    )
    parser.add_argument(
        "--max-waiting-requests",
        type=_waiting_bound,
        default="auto",
        help=(
            "answer 429 once more requests than this wait in the engine queue; 'auto' (default) uses "
            "the engine's concurrency (vLLM max-num-seqs, transformers max-batch-size), 'off' disables"
        ),
    )
    return parser


def parse_serve_args(argv: list[str]) -> ServeOptions:
    """Split ``argv`` into runtime options and engine arguments (kept in order, verbatim)."""
    namespace, engine_args = build_parser().parse_known_args(argv)
    return ServeOptions(
        runtime=namespace.runtime,
        model=namespace.model,
        revision=namespace.revision,
        served_model_name=namespace.served_model_name,
        host=namespace.host,
        port=namespace.port,
        config_path=namespace.config_path,
        adapters_dir=namespace.adapters_dir,
        max_waiting_requests=namespace.max_waiting_requests,
        engine_args=tuple(engine_args),
    )
