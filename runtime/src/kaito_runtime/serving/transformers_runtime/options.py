"""Engine options of the transformers runtime (the engine arguments of ``--runtime transformers``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kaito_runtime.argparser import RaisingArgumentParser

Dtype = Literal["auto", "bfloat16", "float16", "float32"]
Device = Literal["auto", "cpu", "cuda"]

DEFAULT_MAX_BATCH_SIZE = 32


@dataclass(frozen=True)
class TransformersOptions:
    """How the model is loaded and batched."""

    dtype: Dtype = "auto"
    trust_remote_code: bool = False
    chat_template: str | None = None
    max_model_len: int | None = None
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    device: Device = "auto"


def _positive(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be at least 1, got {value}")
        return value

    return parse


def transformers_parser() -> argparse.ArgumentParser:
    """The option table of the transformers runtime (also rendered in ``kaito-runtime serve --help``)."""
    parser = RaisingArgumentParser(
        prog="kaito-runtime serve --runtime transformers",
        usage=argparse.SUPPRESS,
        add_help=False,
        allow_abbrev=False,
    )
    group = parser.add_argument_group("transformers engine arguments")
    group.add_argument(
        "--dtype",
        choices=("auto", "bfloat16", "float16", "float32"),
        default="auto",
        help="weight dtype; auto uses the checkpoint's",
    )
    group.add_argument(
        "--trust-remote-code",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="allow model code shipped with the checkpoint",
    )
    group.add_argument(
        "--chat-template",
        default=None,
        help="chat template file, or an inline Jinja template; defaults to the tokenizer's",
    )
    group.add_argument(
        "--max-model-len",
        type=_positive("--max-model-len"),
        default=None,
        help="context length (prompt + completion); defaults to the model's maximum",
    )
    group.add_argument(
        "--max-batch-size",
        type=_positive("--max-batch-size"),
        default=DEFAULT_MAX_BATCH_SIZE,
        help=f"requests decoded together in one forward pass (default {DEFAULT_MAX_BATCH_SIZE})",
    )
    group.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto picks CUDA when available (spread over all visible GPUs)",
    )
    return parser


def parse_transformers_options(parser: argparse.ArgumentParser, argv: list[str]) -> TransformersOptions:
    """Parse the merged engine arguments."""
    namespace = parser.parse_args(argv)
    return TransformersOptions(
        dtype=namespace.dtype,
        trust_remote_code=namespace.trust_remote_code,
        chat_template=namespace.chat_template,
        max_model_len=namespace.max_model_len,
        max_batch_size=namespace.max_batch_size,
        device=namespace.device,
    )
