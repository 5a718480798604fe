"""Errors that end the process with a clear message instead of a traceback."""


class UsageError(Exception):
    """Bad command line, config file or environment: exits with status 2 like argparse."""

    exit_code = 2


class StartupError(Exception):
    """The inputs were valid but the server could not start (e.g. weights missing): exit status 1."""

    exit_code = 1
