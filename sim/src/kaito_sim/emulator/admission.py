"""Validating admission webhooks, run as kube-apiserver's ValidatingAdmissionWebhook
plugin runs them: once a write has passed defaulting and validation and before
it is stored, every matching webhook of every ValidatingWebhookConfiguration
is called, concurrently, with an AdmissionReview. A denial, or a failed call
under ``failurePolicy: Fail``, fails the request with the first such error to
arrive; webhooks' warnings reach the client as ``Warning`` headers.

Only writes through the HTTP API are admitted. In-process writes (the
simulated kubelet, scheduler and controllers, the garbage collector, tests'
``LocalClient``) are synchronous stand-ins for cluster components and bypass
webhooks. CONNECT is never admitted: the emulator serves no CONNECT
subresource.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from kaito_sim.emulator import errors
from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.pending import AdmissionAttributes
from kaito_sim.emulator.review import (
    ResponseError,
    admission_request,
    decode,
    denial,
    review,
    review_version,
    verify,
)
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.webhookclient import CallError, WebhookClient
from kaito_sim.emulator.webhooklog import WebhookCall, WebhookLog
from kaito_sim.emulator.webhookrules import (
    Invocation,
    WebhookConfigurations,
    exempt,
    should_call,
)

Obj = dict[str, Any]
logger = logging.getLogger(__name__)


class ValidatingAdmission:
    """The admission step of HTTP writes, with the call log (``log``) tests assert on."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.configurations = WebhookConfigurations(store)
        self.client = WebhookClient(store)
        self.log = WebhookLog()

    def route_service(self, namespace: str, name: str, host: str, port: int) -> None:
        """Reach webhooks behind Service ``namespace/name`` at ``host:port`` (see ``webhookclient``)."""
        self.client.route_service(namespace, name, host, port)

    async def close(self) -> None:
        await self.client.close()

    async def validate(self, attrs: AdmissionAttributes, warnings: list[str]) -> None:
        """Call every webhook the write matches; raise the first denial or failure.

        Webhooks' warnings are appended to ``warnings`` (once each), denied or not.
        """
        if exempt(attrs.resource):
            return
        hooks = self.configurations.current()
        if not hooks:
            return
        invocations = [
            invocation
            for hook in hooks
            if (
                invocation := should_call(
                    hook, attrs, self._namespace_labels, lambda inv: admission_request(inv, attrs)
                )
            )
            is not None
        ]
        if not invocations:
            return
        calls = [asyncio.ensure_future(self._call(invocation, attrs)) for invocation in invocations]
        first: ApiError | None = None
        try:
            for finished in asyncio.as_completed(calls):
                said, error = await finished
                for warning in said:
                    if warning not in warnings:  # kube-apiserver records each distinct warning once
                        warnings.append(warning)
                if first is None:
                    first = error
        finally:
            for call in calls:
                call.cancel()
        if first is not None:
            raise first

    def _namespace_labels(self, namespace: str) -> dict[str, str] | None:
        found = self._store.get("namespaces", "", namespace)
        if found is None:
            return None
        return dict(found["metadata"].get("labels") or {})

    async def _call(
        self, invocation: Invocation, attrs: AdmissionAttributes
    ) -> tuple[tuple[str, ...], ApiError | None]:
        """One webhook call: its warnings, and the error it makes the request fail with (if any)."""
        hook = invocation.webhook
        started = time.monotonic()
        uid = str(uuid.uuid4())
        request: Obj = {}
        answer: Obj | None = None

        def record(outcome: str, error: str = "", warnings: tuple[str, ...] = ()) -> None:
            self.log.append(
                WebhookCall(
                    webhook=hook.name,
                    configuration=hook.configuration,
                    url=self.client.url_of(hook),
                    operation=attrs.operation,
                    resource=f"{attrs.resource.plural}/{attrs.subresource}"
                    if attrs.subresource
                    else attrs.resource.plural,
                    namespace=attrs.namespace,
                    name=attrs.name,
                    outcome=outcome,
                    failure_policy=hook.failure_policy,
                    request=request,
                    response=answer,
                    error=error,
                    warnings=warnings,
                    seconds=time.monotonic() - started,
                )
            )

        try:
            version = review_version(hook)
            if version is None:
                raise CallError(
                    "could not create admission objects: "
                    "webhook does not accept known AdmissionReview versions"
                )
            body = json.dumps(review(invocation, attrs, uid, version), separators=(",", ":")).encode()
            request = json.loads(body)  # the log keeps what was sent, not live objects
            raw = await self.client.post(hook, body)
            try:
                answer = decode(raw)
            except ValueError as exc:
                raise CallError(f"failed to call webhook: {exc}") from None
            try:
                verdict = verify(uid, version, answer)
            except ResponseError as exc:
                raise CallError(f"received invalid webhook response: {exc}") from None
        except CallError as exc:
            message = f'failed calling webhook "{hook.name}": {exc}'
            record("failed", message)
            if hook.failure_policy == "Ignore":
                logger.warning("Failed calling webhook, failing open %s: %s", hook.name, message)
                return (), None
            return (), errors.internal_error_from(message)
        if verdict.allowed:
            record("allowed", warnings=verdict.warnings)
            return verdict.warnings, None
        rejection = denial(hook.name, verdict.status)
        record("denied", rejection.message, verdict.warnings)
        return verdict.warnings, rejection
