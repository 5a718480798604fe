"""Admission guard: answer 429 instead of queueing without bound when the engine is saturated.

The guard is an ASGI middleware that takes no arguments, so it can be installed by import path
(vLLM's ``--middleware`` hook) before the engine's limits are known; it reads its settings from
``app.state.kaito_admission`` and passes everything through until they are set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

from prometheus_client import CollectorRegistry, Counter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kaito_runtime.serving.openai_errors import error_body

REJECTED_METRIC = "kaito_ratelimit_rejected"  # exposed as kaito_ratelimit_rejected_total
STATE_ATTRIBUTE = "kaito_admission"
GUARD_IMPORT_PATH = "kaito_runtime.serving.admission.AdmissionGuard"


def rejected_counter(registry: CollectorRegistry) -> Counter:
    """The counter of rejected requests, registered where the runtime's /metrics reads."""
    return Counter(
        REJECTED_METRIC, "Requests rejected with 429 because the engine queue was full", registry=registry
    )


@dataclass
class Admission:
    """When to reject: more than ``max_waiting`` requests waiting in the engine's queue.

    ``engine_waiting`` reads the engine's own queue length. The engine refreshes it at its own
    pace, so a burst can outrun it; the requests in flight here beyond what the engine runs at
    once (``concurrency``) must be waiting too, and the larger of the two counts.
    """

    max_waiting: int
    concurrency: int
    engine_waiting: Callable[[], int]
    rejected: Counter
    guarded_paths: frozenset[str]
    in_flight: int = field(default=0, init=False)

    @classmethod
    def create(
        cls,
        *,
        max_waiting: int,
        concurrency: int,
        engine_waiting: Callable[[], int],
        rejected: Counter,
        guarded_paths: Iterable[str],
    ) -> Admission:
        return cls(max_waiting, concurrency, engine_waiting, rejected, frozenset(guarded_paths))

    def waiting(self) -> int:
        """Requests that would be queued ahead of a newly admitted one."""
        return max(self.engine_waiting(), self.in_flight + 1 - self.concurrency, 0)


class AdmissionGuard:
    """Guards generation routes; a streamed response counts as in flight until fully sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = _admission(scope)
        if admission is None or scope["method"] != "POST" or scope["path"] not in admission.guarded_paths:
            await self.app(scope, receive, send)
            return
        waiting = admission.waiting()
        if waiting > admission.max_waiting:
            admission.rejected.inc()
            message = (
                f"Too many requests: {waiting} requests are waiting, more than the limit of "
                f"{admission.max_waiting}. Retry later."
            )
            body = error_body(HTTPStatus.TOO_MANY_REQUESTS, message, code="rate_limit_exceeded")
            response = JSONResponse(
                body, status_code=HTTPStatus.TOO_MANY_REQUESTS, headers={"Retry-After": "1"}
            )
            await response(scope, receive, send)
            return
        admission.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            admission.in_flight -= 1


def _admission(scope: Scope) -> Admission | None:
    if scope["type"] != "http" or "app" not in scope:
        return None
    admission: Admission | None = getattr(scope["app"].state, STATE_ATTRIBUTE, None)
    return admission
