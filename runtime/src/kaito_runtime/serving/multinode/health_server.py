"""The worker pods' HTTP endpoint: ``/health`` for the probes, nothing else.

Every pod of the StatefulSet gets the same probes on the inference port; on a worker they must
track its Ray node, which is all a worker runs. The standard library's server is enough for
one probe every few seconds and starts instantly.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.openai_errors import error_body

logger = logging.getLogger(__name__)

HEALTH_PATH = "/health"
NOT_SERVED = "this pod is a Ray worker of a multi-node workspace; the API is served by rank 0"


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != HEALTH_PATH:
            self._reply(404, NOT_SERVED)
        elif self.server.is_healthy():
            self._reply(200, "ok")
        else:
            self._reply(503, self.server.unhealthy_reason())

    def _reply(self, status: int, message: str) -> None:
        body = json.dumps({"status": "ok"} if status == 200 else error_body(status, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


class HealthServer(ThreadingHTTPServer):
    """Answers ``GET /health`` with 200 while ``is_healthy()``, else 503 with ``unhealthy_reason()``."""

    daemon_threads = True

    def __init__(
        self, host: str, port: int, is_healthy: Callable[[], bool], unhealthy_reason: Callable[[], str]
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), _Handler)
        except OSError as error:
            raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        self.is_healthy = is_healthy
        self.unhealthy_reason = unhealthy_reason
        self._thread = threading.Thread(target=self.serve_forever, name="health-server", daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        logger.info("answering %s on %s:%d", HEALTH_PATH, *self.server_address[:2])
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()
