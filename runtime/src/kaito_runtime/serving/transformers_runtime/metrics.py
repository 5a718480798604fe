"""Prometheus metrics of the transformers runtime, in a registry owned by one server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import monotonic

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaito_runtime.serving.admission import rejected_counter

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServerMetrics:
    """Requests, latency, time to first token, token counts and queue sizes."""

    def __init__(self, running: Callable[[], int], waiting: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kaito_runtime_requests",
            "HTTP requests to the inference API by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kaito_runtime_request_duration_seconds",
            "Time from request to the last byte of the response",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.time_to_first_token = Histogram(
            "kaito_runtime_time_to_first_token_seconds",
            "Time from request to its first generated token",
            buckets=_TTFT_BUCKETS,
            registry=self.registry,
        )
        self.prompt_tokens = Counter(
            "kaito_runtime_prompt_tokens", "Prompt tokens processed", registry=self.registry
        )
        self.generation_tokens = Counter(
            "kaito_runtime_generation_tokens", "Tokens generated", registry=self.registry
        )
        Gauge(
            "kaito_runtime_num_requests_running", "Requests in the running batch", registry=self.registry
        ).set_function(lambda: float(running()))
        Gauge(
            "kaito_runtime_num_requests_waiting", "Requests waiting to join the batch", registry=self.registry
        ).set_function(lambda: float(waiting()))
        self.rejected = rejected_counter(self.registry)


class RequestMetricsMiddleware:
    """Counts requests and measures latency of the API routes, including streamed bodies."""

    def __init__(self, app: ASGIApp, *, metrics: ServerMetrics, routes: Iterable[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.routes:
            await self.app(scope, receive, send)
            return
        started = monotonic()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope["path"]
            self.metrics.requests.labels(route=route, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(monotonic() - started)
