"""The ``kaito`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds a parser whose ``func`` default is a
callable ``(argparse.Namespace) -> int``. ``COMMANDS`` lists them explicitly:
the help shows them in this order, and a module that fails to import fails
loudly instead of silently dropping its command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kaito.cli import controller, crds, estimate, presets, validate
from kaito.cli.sandbox import command as sandbox

COMMANDS = (controller, sandbox, validate, estimate, presets, crds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kaito",
        description="Kubernetes AI Toolchain Operator: run and fine-tune open LLMs on Kubernetes.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        return 0
    return result
