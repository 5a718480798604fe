"""Stopping the leader's server when its Ray head dies: vLLM's workers died with the cluster."""

from __future__ import annotations

import logging
import os
import signal
import threading

from kaito_runtime.serving.multinode.child_process import ChildProcess

logger = logging.getLogger(__name__)


class HeadWatch:
    """Sends this process SIGTERM (vLLM's graceful shutdown) if ``head`` exits while watched."""

    def __init__(self, head: ChildProcess, interval: float = 1.0) -> None:
        self.head = head
        self.interval = interval
        self.exit_status: int | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ray-head-watch", daemon=True)

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval):
            status = self.head.returncode
            if status is not None:
                self.exit_status = status
                logger.error("the Ray head exited with status %d; stopping the server", status)
                os.kill(os.getpid(), signal.SIGTERM)
                return

    def __enter__(self) -> HeadWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()
