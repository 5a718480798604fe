"""A ``ray start --block`` child: started, watched, and stopped with the runtime."""

from __future__ import annotations

import contextlib
import logging
import shlex
import signal
import subprocess
from collections.abc import Sequence

from kaito_runtime.errors import StartupError

logger = logging.getLogger(__name__)

# `ray start --block` drains its node for up to 30 s on SIGTERM before stopping Ray's processes.
STOP_GRACE_SECONDS = 40.0


class ChildProcess:
    """One supervised child sharing the runtime's stdout/stderr (so its log is the pod's log)."""

    def __init__(self, name: str, command: Sequence[str]) -> None:
        self.name = name
        self.command = list(command)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        logger.info("starting %s: %s", self.name, shlex.join(self.command))
        try:
            self._process = subprocess.Popen(self.command)
        except OSError as error:
            raise StartupError(f"cannot start {self.name} ({self.command[0]}): {error}") from None
        return self

    @property
    def returncode(self) -> int | None:
        """None while the child runs (or was never started), else its exit status."""
        return None if self._process is None else self._process.poll()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        assert self._process is not None, "wait() before start()"
        return self._process.wait(timeout)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM (Ray stops its own processes), then SIGKILL if it lingers."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %.0fs; killing it", self.name, grace)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
