"""An argparse parser that raises :class:`UsageError`, so the CLI owns how errors are printed."""

from __future__ import annotations

import argparse
from typing import NoReturn

from kaito_runtime.errors import UsageError


class RaisingArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)
