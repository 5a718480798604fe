"""Start an HTTP model server as a child process and wait until its ``/health`` answers 200."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

# Environment every test/benchmark server runs with: nothing is downloaded, and vLLM's CPU
# backend gets a small KV cache so it starts quickly next to other processes.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def kaito_runtime_serve(*args: str) -> list[str]:
    """``kaito-runtime serve ...`` through this interpreter (works in any virtualenv)."""
    return [sys.executable, "-m", "kaito_runtime", "serve", *args]


class ServerFailed(RuntimeError):
    """The server exited or never became healthy; the message ends with its log."""


class ServerProcess:
    """A server in its own process group, logging to a file; use as a context manager."""

    def __init__(
        self, command: Sequence[str], port: int, log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.env = {**os.environ, **OFFLINE_ENV, **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def pid(self) -> int:
        assert self._process is not None, "the server was not launched"
        return self._process.pid

    def launch(self) -> ServerProcess:
        """Start the process without waiting for it (see :meth:`wait_healthy`)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # A process group of its own (to stop vLLM's engine processes with it), but the same
            # session: a new session would put the server in its own scheduler autogroup, where
            # it competes for CPU as one unit against its own clients.
            self._process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env, process_group=0
            )
        return self

    def start(self, ready_timeout: float) -> ServerProcess:
        """Launch and block until healthy, or raise :class:`ServerFailed` (stopping the process)."""
        return self.launch().wait_healthy(ready_timeout)

    def wait_healthy(self, timeout: float) -> ServerProcess:
        """Block until ``/health`` answers 200, or raise :class:`ServerFailed` (stopping the process)."""
        self._wait_until(lambda: self.health_status() == 200, timeout, "healthy")
        return self

    def wait_for_log(self, text: str, timeout: float) -> None:
        """Block until ``text`` appears in the log while the process runs, or raise :class:`ServerFailed`."""
        self._wait_until(
            lambda: text in self.log_path.read_text(errors="replace"), timeout, f"logging {text!r}"
        )

    def _wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        assert self._process is not None, "the server was not launched"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                tail = self.log_tail()
                raise ServerFailed(f"server exited with status {code} before it was {what}:\n{tail}")
            if condition():
                return
            time.sleep(0.5)
        self.stop()
        raise ServerFailed(f"server not {what} after {timeout:.0f}s:\n{self.log_tail()}")

    def wait_exit(self, timeout: float) -> int:
        """The exit status, once the process ends by itself within ``timeout`` (else ServerFailed)."""
        assert self._process is not None, "the server was not launched"
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise ServerFailed(f"server still running after {timeout:.0f}s:\n{self.log_tail()}") from None

    def health_status(self) -> int | None:
        """The status ``GET /health`` answers now, None when nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return None

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL to the whole process group if it lingers."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ProcessLookupError):  # engine helpers vLLM spawned into the group
            os.killpg(process.pid, signal.SIGKILL)
        return process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


# A fixture that starts ``kaito-runtime serve`` with the given arguments and returns the ready server.
ServerFactory = Callable[..., ServerProcess]
