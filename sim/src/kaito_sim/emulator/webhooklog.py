"""The webhook call log: every admission webhook call the emulator made, with
what it sent and how it ended, for tests that assert on admission."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WebhookCall:
    webhook: str
    configuration: str
    url: str  # as kube-apiserver names it in errors: the service's DNS name for service references
    operation: str
    resource: str  # plural, with "/subresource" when there is one
    namespace: str
    name: str
    outcome: str  # "allowed", "denied", or "failed" (the call itself failed)
    failure_policy: str
    request: dict[str, Any]  # the AdmissionReview sent (empty when none could be built)
    response: dict[str, Any] | None  # the AdmissionReview received, when one was
    error: str = ""  # why a call failed, or the denial message
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class WebhookLog:
    calls: list[WebhookCall] = field(default_factory=list)

    def append(self, call: WebhookCall) -> None:
        self.calls.append(call)

    def __iter__(self) -> Iterator[WebhookCall]:
        return iter(list(self.calls))

    def __len__(self) -> int:
        return len(self.calls)

    def __getitem__(self, index: int) -> WebhookCall:
        return self.calls[index]

    def clear(self) -> None:
        self.calls.clear()

    def filter(
        self, *, webhook: str | None = None, operation: str | None = None, outcome: str | None = None
    ) -> list[WebhookCall]:
        return [
            c
            for c in self.calls
            if (webhook is None or c.webhook == webhook)
            and (operation is None or c.operation == operation)
            and (outcome is None or c.outcome == outcome)
        ]
