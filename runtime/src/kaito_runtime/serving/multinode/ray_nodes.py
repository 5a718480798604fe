"""Counting the alive nodes of the Ray cluster, through a Ray driver connection from this process.

``ray.init`` changes process-wide state (the SIGTERM handler, ``PYTHONBREAKPOINT`` and other
variables) that vLLM's processes, started later from this one, must not inherit: it is put back
when the connection closes.
"""

from __future__ import annotations

import logging
import os
import signal
from types import TracebackType
from typing import Any, Protocol


class ClusterQueryError(Exception):
    """The cluster could not be asked (not up yet, or gone); the caller decides whether to retry."""


class NodeCounter(Protocol):
    """The seam the leader's wait goes through: how many nodes are alive, and letting go of the cluster."""

    def __call__(self) -> int:
        """Alive nodes; raises :class:`ClusterQueryError` when it cannot tell."""
        ...

    def close(self) -> None: ...


class RayNodeCounter:
    """A :class:`NodeCounter` that connects on first use and disconnects on ``close``."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._ray: Any = None
        self._saved_environ: dict[str, str] | None = None
        self._saved_sigterm: Any = None

    def _connect(self) -> Any:
        import ray

        self._saved_environ = dict(os.environ)
        self._saved_sigterm = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(
                address=self.address,
                logging_level=logging.WARNING,
                log_to_driver=False,
                namespace="kaito-runtime-bootstrap",
            )
        except Exception as error:  # Ray raises ConnectionError, RuntimeError, TimeoutError, ...
            self.close()
            raise ClusterQueryError(f"cannot connect to the Ray cluster at {self.address}: {error}") from None
        finally:
            signal.signal(signal.SIGTERM, self._saved_sigterm)
        self._ray = ray
        return ray

    def __call__(self) -> int:
        ray = self._ray or self._connect()
        try:
            nodes: list[dict[str, Any]] = ray.nodes()
        except Exception as error:
            raise ClusterQueryError(f"cannot list the nodes of the Ray cluster: {error}") from None
        return sum(1 for node in nodes if node.get("Alive"))

    def close(self) -> None:
        """Disconnect and put back what connecting changed; safe to call more than once."""
        if self._saved_environ is None:
            return
        import ray

        ray.shutdown()
        self._ray = None
        for name in set(os.environ) - set(self._saved_environ):
            del os.environ[name]
        os.environ.update(self._saved_environ)
        signal.signal(signal.SIGTERM, self._saved_sigterm)
        self._saved_environ = None

    def __enter__(self) -> RayNodeCounter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
