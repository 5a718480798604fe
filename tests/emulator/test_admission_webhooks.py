"""Validating admission webhooks: which writes call them, what they are sent,
and how their answers (or failures to answer) become the API's response.

Each test serves a webhook over HTTPS from the test process. A real API
server could not reach it there, so these tests are emulator-only, except
the configuration checks, which are plain API semantics.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from helpers.restclient import RestClient
from kaito.api.resources import ResourceType
from kaito.webhook.certs import issue, service_dns_names
from kaito.webhook.server import ssl_context
from kaito_sim import KubeEmulator

Obj = dict[str, Any]
Decide = Callable[[Obj], "Obj | web.StreamResponse | Awaitable[Obj | web.StreamResponse]"]
CONFIGURATIONS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MERGE = "application/merge-patch+json"
WIDGET = ResourceType("test.kaito.sh", "v1", "Widget", "widgets", True)
emulator_only = pytest.mark.emulator_only


def answer(request: Obj, allowed: bool = True, **fields: Any) -> Obj:
    """An AdmissionReview response to ``request`` (the review's ``request``)."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": request["uid"], "allowed": allowed, **fields},
    }


class FakeWebhook:
    """An HTTPS admission webhook: answers with ``decide`` and keeps every review it was sent."""

    def __init__(self, dns_names: list[str] | None = None) -> None:
        self.bundle = issue(dns_names or ["localhost"])
        self.decide: Decide = answer
        self.reviews: list[Obj] = []
        self.seen: list[tuple[str, str]] = []  # (query string, Host header) of each call
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> FakeWebhook:
        app = web.Application()
        app.router.add_post("/validate", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context(self.bundle))
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        review = await request.json()
        self.reviews.append(review)
        self.seen.append((request.query_string, request.headers.get("Host", "")))
        result = self.decide(review["request"])
        if inspect.isawaitable(result):
            result = await result
        return result if isinstance(result, web.StreamResponse) else web.json_response(result)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/validate"

    @property
    def ca(self) -> str:
        return base64.b64encode(self.bundle.ca_cert).decode()

    def requests(self, operation: str | None = None) -> list[Obj]:
        return [r["request"] for r in self.reviews if operation in (None, r["request"]["operation"])]


@pytest.fixture
async def webhook() -> AsyncIterator[FakeWebhook]:
    hook = await FakeWebhook().start()
    yield hook
    await hook.stop()


def widget_rule(operations: tuple[str, ...] = ("CREATE", "UPDATE"), **fields: Any) -> Obj:
    return {
        "apiGroups": ["test.kaito.sh"],
        "apiVersions": ["v1"],
        "operations": list(operations),
        "resources": ["widgets"],
        **fields,
    }


def configuration(
    name: str, client_config: Obj, namespace: str, rules: list[Obj] | None = None, **fields: Any
) -> Obj:
    """One webhook ``<name>.test.kaito.sh``, limited to the test's namespace unless told otherwise."""
    hook = {
        "name": f"{name}.test.kaito.sh",
        "clientConfig": client_config,
        "rules": rules or [widget_rule()],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        **fields,
    }
    return {"metadata": {"name": f"{name}-{namespace}"}, "webhooks": [hook]}


async def register(cluster: RestClient, hook: FakeWebhook, name: str = "check", **fields: Any) -> Obj:
    config = configuration(name, {"url": hook.url, "caBundle": hook.ca}, cluster.namespace, **fields)
    created: Obj = await cluster.ok("POST", CONFIGURATIONS, config)
    return created


def widget(name: str = "w", size: str = "small", **meta: Any) -> Obj:
    return {
        "apiVersion": "test.kaito.sh/v1",
        "kind": "Widget",
        "metadata": {"name": name, **meta},
        "spec": {"size": size},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# ---------------------------------------------------------------------------------------- allow / deny


@emulator_only
async def test_allowed_create_sends_the_admission_review(
    cluster: RestClient, emu: KubeEmulator, webhook: FakeWebhook
) -> None:
    await register(cluster, webhook)
    created = await cluster.ok("POST", cluster.widgets(), widget(), params={"fieldManager": "tester"})
    assert created["spec"] == {"size": "small", "replicas": 1, "maxReplicas": 5, "color": "blue"}

    [request] = webhook.requests()
    assert request["uid"]
    assert request["kind"] == {"group": "test.kaito.sh", "version": "v1", "kind": "Widget"}
    assert request["resource"] == {"group": "test.kaito.sh", "version": "v1", "resource": "widgets"}
    assert request["requestKind"] == request["kind"]
    assert request["requestResource"] == request["resource"]
    assert "subResource" not in request
    assert (request["name"], request["namespace"], request["operation"]) == ("w", cluster.namespace, "CREATE")
    assert request["userInfo"]["username"] == "system:admin"
    assert request["dryRun"] is False
    assert request["options"] == {
        "kind": "CreateOptions",
        "apiVersion": "meta.k8s.io/v1",
        "fieldManager": "tester",
    }
    assert request["oldObject"] is None
    # The object as it will be stored: defaulted, with the server's metadata.
    assert request["object"]["spec"] == created["spec"]
    assert request["object"]["metadata"]["uid"] == created["metadata"]["uid"]
    assert webhook.seen == [("timeout=10s", f"127.0.0.1:{webhook.port}")]
    [call] = emu.webhook_calls
    assert (call.webhook, call.outcome, call.operation, call.resource) == (
        "check.test.kaito.sh",
        "allowed",
        "CREATE",
        "widgets",
    )
    assert call.url == webhook.url


@emulator_only
@pytest.mark.parametrize(
    ("status", "code", "reason", "message"),
    [
        (
            {"code": 403, "reason": "Forbidden", "message": "widgets must be large"},
            403,
            "Forbidden",
            'admission webhook "check.test.kaito.sh" denied the request: widgets must be large',
        ),
        (
            {"message": "no code given"},
            400,
            None,
            'admission webhook "check.test.kaito.sh" denied the request: no code given',
        ),
        (
            {"code": 200, "reason": "NotAllowed"},
            400,
            "NotAllowed",
            'admission webhook "check.test.kaito.sh" denied the request: NotAllowed',
        ),
        (None, 400, None, 'admission webhook "check.test.kaito.sh" denied the request without explanation'),
    ],
)
async def test_denied_create_returns_the_webhooks_status(
    cluster: RestClient,
    webhook: FakeWebhook,
    status: Obj | None,
    code: int,
    reason: str | None,
    message: str,
) -> None:
    webhook.decide = lambda request: answer(request, False, **({"status": status} if status else {}))
    await register(cluster, webhook)
    resp = await cluster.request("POST", cluster.widgets(), widget())
    assert resp.status == code
    assert resp.body["code"] == code
    assert resp.body["status"] == "Failure"
    assert resp.body["message"] == message
    assert resp.body.get("reason") == reason
    assert (await cluster.request("GET", cluster.widgets("w"))).status == 404


@emulator_only
async def test_denial_details_are_passed_through(cluster: RestClient, webhook: FakeWebhook) -> None:
    details = {"name": "w", "kind": "widgets", "causes": [{"field": "spec.size", "message": "too small"}]}
    webhook.decide = lambda request: answer(
        request, False, status={"code": 422, "reason": "Invalid", "message": "bad", "details": details}
    )
    await register(cluster, webhook)
    resp = await cluster.request("POST", cluster.widgets(), widget())
    assert (resp.status, resp.body["reason"], resp.body["details"]) == (422, "Invalid", details)


@emulator_only
async def test_denied_update_and_patch_keep_the_stored_object(
    cluster: RestClient, webhook: FakeWebhook
) -> None:
    def at_most_two(request: Obj) -> Obj:
        if request["object"]["spec"]["replicas"] > 2:
            return answer(request, False, status={"code": 422, "reason": "Invalid", "message": "too many"})
        return answer(request)

    webhook.decide = at_most_two
    await register(cluster, webhook)
    created = await cluster.ok("POST", cluster.widgets(), widget())

    replaced = {**created, "spec": {**created["spec"], "replicas": 3}}
    resp = await cluster.request("PUT", cluster.widgets("w"), replaced)
    assert resp.status == 422
    assert resp.body["message"] == 'admission webhook "check.test.kaito.sh" denied the request: too many'
    resp = await cluster.request("PATCH", cluster.widgets("w"), {"spec": {"replicas": 4}}, content_type=MERGE)
    assert resp.status == 422

    update, patch = webhook.requests("UPDATE")
    assert update["oldObject"]["spec"]["replicas"] == 1
    assert update["object"]["spec"]["replicas"] == 3
    assert update["options"]["kind"] == "UpdateOptions"
    assert patch["object"]["spec"]["replicas"] == 4
    assert patch["options"]["kind"] == "PatchOptions"
    stored = await cluster.ok("GET", cluster.widgets("w"))
    assert stored["spec"]["replicas"] == 1
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    allowed = await cluster.ok("PATCH", cluster.widgets("w"), {"spec": {"replicas": 2}}, content_type=MERGE)
    assert allowed["spec"]["replicas"] == 2


@emulator_only
async def test_warnings_reach_the_client_allowed_or_denied(cluster: RestClient, webhook: FakeWebhook) -> None:
    def warn(request: Obj) -> Obj:
        allowed = request["object"]["spec"]["size"] != "large"
        return answer(request, allowed, warnings=["first", 'second "quoted"'])

    webhook.decide = warn
    await register(cluster, webhook)
    created = await cluster.request("POST", cluster.widgets(), widget())
    assert created.status == 201
    assert created.headers["Warning"] == '299 - "first", 299 - "second \\"quoted\\""'
    denied = await cluster.request("POST", cluster.widgets(), widget("big", "large"))
    assert denied.status == 400
    assert denied.headers["Warning"] == '299 - "first", 299 - "second \\"quoted\\""'


@emulator_only
async def test_webhooks_that_only_speak_v1beta1_get_v1beta1_reviews(
    cluster: RestClient, webhook: FakeWebhook
) -> None:
    webhook.decide = lambda request: {"response": {"allowed": True}}  # v1beta1 answers were never checked
    await register(cluster, webhook, admissionReviewVersions=["v1beta1"])
    await cluster.ok("POST", cluster.widgets(), widget())
    [sent] = webhook.reviews
    assert (sent["apiVersion"], sent["kind"]) == ("admission.k8s.io/v1beta1", "AdmissionReview")


@emulator_only
async def test_several_webhooks_are_all_called(cluster: RestClient, webhook: FakeWebhook) -> None:
    other = await FakeWebhook().start()
    try:
        other.decide = lambda request: answer(request, False, status={"message": "second says no"})
        await register(cluster, webhook, "first")
        await register(cluster, other, "second")
        resp = await cluster.request("POST", cluster.widgets(), widget())
        assert resp.status == 400
        assert (
            resp.body["message"]
            == 'admission webhook "second.test.kaito.sh" denied the request: second says no'
        )
        assert len(webhook.reviews) == len(other.reviews) == 1
    finally:
        await other.stop()


# ---------------------------------------------------------------------------------------- matching


@emulator_only
async def test_unmatched_writes_call_nothing(
    cluster: RestClient, emu: KubeEmulator, webhook: FakeWebhook
) -> None:
    await register(cluster, webhook, rules=[widget_rule(("CREATE",))])
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    created = await cluster.ok("POST", cluster.widgets(), widget())
    await cluster.ok("PUT", cluster.widgets("w"), {**created, "spec": {**created["spec"], "replicas": 2}})
    await cluster.ok("DELETE", cluster.widgets("w"))
    assert [r["operation"] for r in webhook.requests()] == ["CREATE"]
    assert len(emu.webhook_calls) == 1


@emulator_only
async def test_subresources_only_when_a_rule_names_them(cluster: RestClient, webhook: FakeWebhook) -> None:
    await register(cluster, webhook, rules=[widget_rule(("UPDATE",))])
    created = await cluster.ok("POST", cluster.widgets(), widget())
    status = {**created, "status": {"phase": "Ready"}}
    await cluster.ok("PUT", cluster.widgets("w") + "/status", status)
    assert webhook.reviews == []

    await register(cluster, webhook, "status", rules=[widget_rule(("UPDATE",), resources=["widgets/status"])])
    current = await cluster.ok("GET", cluster.widgets("w"))
    await cluster.ok("PUT", cluster.widgets("w") + "/status", {**current, "status": {"phase": "Done"}})
    [request] = webhook.requests()
    assert (request["subResource"], request["requestSubResource"]) == ("status", "status")
    assert request["object"]["status"] == {"phase": "Done"}
    assert request["oldObject"]["status"] == {"phase": "Ready"}

    # A write of the main resource calls the first configuration only.
    await cluster.ok("PATCH", cluster.widgets("w"), {"spec": {"replicas": 2}}, content_type=MERGE)
    assert len(webhook.reviews) == 2
    assert "subResource" not in webhook.requests()[-1]


@emulator_only
async def test_namespace_selector(cluster: RestClient, webhook: FakeWebhook) -> None:
    await register(cluster, webhook, namespaceSelector={"matchLabels": {"admission": "checked"}})
    await cluster.ok("POST", cluster.widgets(), widget("before"))
    assert webhook.reviews == []
    await cluster.ok(
        "PATCH",
        f"/api/v1/namespaces/{cluster.namespace}",
        {"metadata": {"labels": {"admission": "checked"}}},
        content_type=MERGE,
    )
    await cluster.ok("POST", cluster.widgets(), widget("after"))
    assert [r["name"] for r in webhook.requests()] == ["after"]


@emulator_only
async def test_object_selector_matches_new_or_old_labels(cluster: RestClient, webhook: FakeWebhook) -> None:
    await register(cluster, webhook, objectSelector={"matchLabels": {"checked": "yes"}})
    await cluster.ok("POST", cluster.widgets(), widget("plain"))
    await cluster.ok("POST", cluster.widgets(), widget("labelled", labels={"checked": "yes"}))
    assert [r["name"] for r in webhook.requests()] == ["labelled"]
    # Removing the label is still seen: the old object matches.
    await cluster.ok("PATCH", cluster.widgets("labelled"), {"metadata": {"labels": None}}, content_type=MERGE)
    assert [r["operation"] for r in webhook.requests()] == ["CREATE", "UPDATE"]


@emulator_only
async def test_scope_and_requests_for_namespaces_themselves(
    cluster: RestClient, webhook: FakeWebhook
) -> None:
    namespaces = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"]}
    namespaces["resources"] = ["namespaces"]
    await register(
        cluster, webhook, "namespaced", rules=[{**namespaces, "scope": "Namespaced"}], namespaceSelector={}
    )
    # For a namespace, the namespace selector looks at the namespace being written.
    team = {"matchLabels": {"team": "a"}}
    await register(
        cluster, webhook, "cluster", rules=[{**namespaces, "scope": "Cluster"}], namespaceSelector=team
    )
    labelled, plain = f"{cluster.namespace}-a", f"{cluster.namespace}-b"
    await cluster.ok("POST", "/api/v1/namespaces", {"metadata": {"name": labelled, "labels": {"team": "a"}}})
    await cluster.ok("POST", "/api/v1/namespaces", {"metadata": {"name": plain}})
    [created] = webhook.requests()
    assert (created["name"], "namespace" in created) == (labelled, False)
    assert created["resource"] == {"group": "", "version": "v1", "resource": "namespaces"}

    # Requests for an existing namespace carry its name as their namespace.
    patch = {"metadata": {"annotations": {"note": "x"}}}
    await cluster.ok("PATCH", f"/api/v1/namespaces/{labelled}", patch, content_type=MERGE)
    assert (webhook.requests()[-1]["operation"], webhook.requests()[-1]["namespace"]) == ("UPDATE", labelled)
    assert all(r["kind"]["kind"] == "Namespace" for r in webhook.requests())
    assert len(webhook.reviews) == 2


@emulator_only
async def test_equivalent_version_matches_and_exact_does_not(
    cluster: RestClient, webhook: FakeWebhook
) -> None:
    beta = widget_rule(("CREATE",), apiVersions=["v1beta1"])
    await register(cluster, webhook, "exact", rules=[beta], matchPolicy="Exact")
    await cluster.ok("POST", cluster.widgets(), widget("one"))
    assert webhook.reviews == []

    await register(cluster, webhook, "equivalent", rules=[beta])  # matchPolicy defaults to Equivalent
    await cluster.ok("POST", cluster.widgets(), widget("two"))
    [request] = webhook.requests()
    assert request["kind"] == {"group": "test.kaito.sh", "version": "v1beta1", "kind": "Widget"}
    assert request["resource"] == {"group": "test.kaito.sh", "version": "v1beta1", "resource": "widgets"}
    assert request["requestKind"] == {"group": "test.kaito.sh", "version": "v1", "kind": "Widget"}
    assert request["requestResource"]["version"] == "v1"
    assert request["object"]["apiVersion"] == "test.kaito.sh/v1beta1"


@emulator_only
async def test_match_conditions(cluster: RestClient, webhook: FakeWebhook) -> None:
    conditions = [
        {"name": "large-only", "expression": "object.spec.size == 'large'"},
        {"name": "creates", "expression": "request.operation == 'CREATE'"},
    ]
    await register(cluster, webhook, matchConditions=conditions)
    await cluster.ok("POST", cluster.widgets(), widget("small"))
    await cluster.ok("POST", cluster.widgets(), widget("large", "large"))
    assert [r["name"] for r in webhook.requests()] == ["large"]

    broken = [{"name": "broken", "expression": "object.spec.missing == 'x'"}]
    await register(cluster, webhook, "ignored", matchConditions=broken, failurePolicy="Ignore")
    await cluster.ok("POST", cluster.widgets(), widget("third"))
    await register(cluster, webhook, "failing", matchConditions=broken)
    resp = await cluster.request("POST", cluster.widgets(), widget("fourth"))
    assert resp.status == 403
    assert resp.body["reason"] == "Forbidden"
    assert resp.body["message"] == 'widgets.test.kaito.sh "fourth" is forbidden: no such key: missing'
    assert [r["name"] for r in webhook.requests()] == ["large"]


# ---------------------------------------------------------------------------------------- other operations


@emulator_only
async def test_delete_is_admitted_when_the_rules_ask(cluster: RestClient, webhook: FakeWebhook) -> None:
    webhook.decide = lambda request: answer(
        request, request["oldObject"]["metadata"]["name"] != "keep", status={"code": 403, "message": "kept"}
    )
    await register(cluster, webhook, rules=[widget_rule(("DELETE",))])
    for name in ("keep", "drop", "also"):
        await cluster.ok("POST", cluster.widgets(), widget(name))

    resp = await cluster.request("DELETE", cluster.widgets("keep"), {"propagationPolicy": "Foreground"})
    assert (resp.status, resp.body["message"]) == (
        403,
        'admission webhook "check.test.kaito.sh" denied the request: kept',
    )
    [request] = webhook.requests("DELETE")
    assert request["object"] is None
    assert request["oldObject"]["metadata"]["name"] == "keep"
    assert request["options"] == {
        "kind": "DeleteOptions",
        "apiVersion": "meta.k8s.io/v1",
        "propagationPolicy": "Foreground",
    }
    await cluster.ok("DELETE", cluster.widgets("drop"))
    assert (await cluster.request("GET", cluster.widgets("drop"))).status == 404

    # A collection delete admits each object on its own, and stops at the first refusal.
    resp = await cluster.request("DELETE", cluster.widgets())
    assert resp.status == 403
    names = [r["oldObject"]["metadata"]["name"] for r in webhook.requests("DELETE")]
    assert names == ["keep", "drop", "also", "keep"]
    remaining = await cluster.ok("GET", cluster.widgets())
    assert [w["metadata"]["name"] for w in remaining["items"]] == ["keep"]


@emulator_only
async def test_dry_run_is_admitted_and_stores_nothing(cluster: RestClient, webhook: FakeWebhook) -> None:
    await register(cluster, webhook)
    await cluster.ok("POST", cluster.widgets(), widget(), params={"dryRun": "All"})
    [request] = webhook.requests()
    assert request["dryRun"] is True
    assert request["options"]["dryRun"] == ["All"]
    assert (await cluster.request("GET", cluster.widgets("w"))).status == 404


@emulator_only
async def test_pod_binding_is_a_create_of_the_binding(cluster: RestClient, webhook: FakeWebhook) -> None:
    rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods/binding"]}
    webhook.decide = lambda request: answer(request, False, status={"code": 403, "message": "not there"})
    await register(cluster, webhook, rules=[rule])
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    await cluster.ok("POST", cluster.ns_path("pods"), pod)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"kind": "Node", "name": "n1"},
    }
    resp = await cluster.request("POST", cluster.ns_path("pods", "p") + "/binding", binding)
    assert resp.status == 403
    [request] = webhook.requests()
    assert request["kind"] == {"group": "", "version": "v1", "kind": "Binding"}
    assert request["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert request["subResource"] == "binding"
    assert request["object"]["target"] == {"kind": "Node", "name": "n1"}
    stored = await cluster.ok("GET", cluster.ns_path("pods", "p"))
    assert "nodeName" not in stored["spec"]


# ---------------------------------------------------------------------------------------- failures


@emulator_only
async def test_unreachable_webhook_follows_the_failure_policy(cluster: RestClient, emu: KubeEmulator) -> None:
    port = free_port()
    url = f"https://127.0.0.1:{port}/validate"
    config = await cluster.ok("POST", CONFIGURATIONS, configuration("down", {"url": url}, cluster.namespace))
    resp = await cluster.request("POST", cluster.widgets(), widget())
    reason = (
        f'failed calling webhook "down.test.kaito.sh": failed to call webhook: Post "{url}?timeout=10s": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )
    assert resp.status == 500
    assert resp.body["reason"] == "InternalError"
    assert resp.body["message"] == f"Internal error occurred: {reason}"
    assert resp.body["details"] == {"causes": [{"message": reason}]}

    config["webhooks"][0]["failurePolicy"] = "Ignore"
    await cluster.ok("PUT", f"{CONFIGURATIONS}/{config['metadata']['name']}", config)
    await cluster.ok("POST", cluster.widgets(), widget())
    assert [(c.outcome, c.failure_policy) for c in emu.webhook_calls] == [
        ("failed", "Fail"),
        ("failed", "Ignore"),
    ]


@emulator_only
async def test_slow_webhook_times_out(cluster: RestClient, webhook: FakeWebhook) -> None:
    release = asyncio.Event()

    async def stall(request: Obj) -> Obj:
        await release.wait()
        return answer(request)

    webhook.decide = stall
    try:
        await register(cluster, webhook, timeoutSeconds=1)
        started = time.monotonic()
        resp = await cluster.request("POST", cluster.widgets(), widget())
        elapsed = time.monotonic() - started
        assert resp.status == 500
        assert resp.body["message"] == (
            'Internal error occurred: failed calling webhook "check.test.kaito.sh": failed to call webhook: '
            f'Post "{webhook.url}?timeout=1s": context deadline exceeded'
        )
        assert 0.9 <= elapsed < 8
        assert webhook.seen[0][0] == "timeout=1s"

        await register(cluster, webhook, "lenient", timeoutSeconds=1, failurePolicy="Ignore")
        await cluster.request("DELETE", f"{CONFIGURATIONS}/check-{cluster.namespace}")
        resp = await cluster.request("POST", cluster.widgets(), widget())
        assert resp.status == 201
    finally:
        release.set()


@emulator_only
async def test_wrong_ca_bundle_fails_tls(cluster: RestClient, webhook: FakeWebhook) -> None:
    stranger = base64.b64encode(issue(["localhost"]).ca_cert).decode()
    config = configuration("tls", {"url": webhook.url, "caBundle": stranger}, cluster.namespace)
    await cluster.ok("POST", CONFIGURATIONS, config)
    resp = await cluster.request("POST", cluster.widgets(), widget())
    assert resp.status == 500
    assert resp.body["message"] == (
        'Internal error occurred: failed calling webhook "tls.test.kaito.sh": failed to call webhook: '
        f'Post "{webhook.url}?timeout=10s": tls: failed to verify certificate: '
        "x509: certificate signed by unknown authority"
    )
    assert webhook.reviews == []


@emulator_only
async def test_certificate_for_another_name_fails_tls(cluster: RestClient) -> None:
    hook = await FakeWebhook(["webhook.example.com"]).start()
    try:
        url = f"https://localhost:{hook.port}/validate"
        await cluster.ok(
            "POST",
            CONFIGURATIONS,
            configuration("named", {"url": url, "caBundle": hook.ca}, cluster.namespace),
        )
        resp = await cluster.request("POST", cluster.widgets(), widget())
        assert resp.status == 500
        assert resp.body["message"].endswith(
            "tls: failed to verify certificate: x509: certificate is valid for webhook.example.com, not localhost"
        )
        assert hook.reviews == []
    finally:
        await hook.stop()


@emulator_only
@pytest.mark.parametrize(
    ("respond", "reason"),
    [
        (
            lambda request: {**answer(request), "response": {"uid": "someone-else", "allowed": True}},
            'received invalid webhook response: expected response.uid="{uid}", got "someone-else"',
        ),
        (
            lambda request: {"response": {"uid": request["uid"], "allowed": True}},
            "received invalid webhook response: expected webhook response of admission.k8s.io/v1, "
            "Kind=AdmissionReview, got /, Kind=",
        ),
        (
            lambda request: answer(request, patchType="JSONPatch", patch="W10="),
            "received invalid webhook response: validating webhook may not return response.patch",
        ),
        (
            lambda request: web.Response(status=500, text="boom"),
            'failed to call webhook: an error on the server ("boom") has prevented the request from succeeding',
        ),
        (
            lambda request: web.json_response({"error": "bad"}, status=400),
            "failed to call webhook: the server rejected our request for an unknown reason",
        ),
        (
            lambda request: web.Response(text="allowed"),
            "failed to call webhook: serializer for text/plain; charset=utf-8 doesn't exist",
        ),
    ],
)
async def test_invalid_answers_are_failed_calls(
    cluster: RestClient, webhook: FakeWebhook, respond: Decide, reason: str
) -> None:
    webhook.decide = respond
    await register(cluster, webhook)
    resp = await cluster.request("POST", cluster.widgets(), widget())
    uid = webhook.requests()[0]["uid"]
    assert resp.status == 500
    assert resp.body["message"] == (
        'Internal error occurred: failed calling webhook "check.test.kaito.sh": ' + reason.format(uid=uid)
    )


# ---------------------------------------------------------------------------------------- services


@emulator_only
async def test_service_reference_is_reached_through_a_route(cluster: RestClient, emu: KubeEmulator) -> None:
    hook = await FakeWebhook(service_dns_names("hook", cluster.namespace)).start()
    try:
        service_ref = {"namespace": cluster.namespace, "name": "hook", "path": "/validate"}
        config = configuration("svc", {"service": service_ref, "caBundle": hook.ca}, cluster.namespace)
        await cluster.ok("POST", CONFIGURATIONS, config)
        url = f"https://hook.{cluster.namespace}.svc:443/validate?timeout=10s"

        resp = await cluster.request("POST", cluster.widgets(), widget())
        assert resp.body["message"].endswith(f'Post "{url}": service "hook" not found')

        service = {"metadata": {"name": "hook"}, "spec": {"ports": [{"port": 443, "targetPort": 9443}]}}
        created = await cluster.ok("POST", cluster.ns_path("services"), service)
        resp = await cluster.request("POST", cluster.widgets(), widget())
        assert resp.body["message"].endswith(
            f'Post "{url}": dial tcp {created["spec"]["clusterIP"]}:443: connect: connection refused'
        )

        emu.route_service(cluster.namespace, "hook", "127.0.0.1", hook.port)
        await cluster.ok("POST", cluster.widgets(), widget())
        assert hook.seen == [("timeout=10s", f"hook.{cluster.namespace}.svc:443")]
        assert emu.webhook_calls[-1].url == f"https://hook.{cluster.namespace}.svc:443/validate"
    finally:
        await hook.stop()


# ---------------------------------------------------------------------------------------- concurrency


@emulator_only
async def test_slow_webhook_does_not_block_other_requests(cluster: RestClient, webhook: FakeWebhook) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold(request: Obj) -> Obj:
        entered.set()
        await release.wait()
        return answer(request)

    webhook.decide = hold
    await register(cluster, webhook)
    create = asyncio.create_task(cluster.request("POST", cluster.widgets(), widget()))
    try:
        await asyncio.wait_for(entered.wait(), 20)
        await asyncio.wait_for(cluster.ok("POST", cluster.cm(), {"metadata": {"name": "meanwhile"}}), 10)
        listed = await asyncio.wait_for(cluster.ok("GET", cluster.widgets()), 10)
        assert listed["items"] == []
        assert not create.done()
    finally:
        release.set()
    assert (await create).status == 201


@emulator_only
async def test_object_changed_while_the_webhook_ran_starts_over(
    cluster: RestClient, emu: KubeEmulator, webhook: FakeWebhook
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold_first_update(request: Obj) -> Obj:
        if request["operation"] == "UPDATE" and not entered.is_set():
            entered.set()
            await release.wait()
        return answer(request)

    webhook.decide = hold_first_update
    await register(cluster, webhook)
    created = await cluster.ok("POST", cluster.widgets(), widget())

    patch = asyncio.create_task(
        cluster.request("PATCH", cluster.widgets("w"), {"spec": {"replicas": 2}}, content_type=MERGE)
    )
    await asyncio.wait_for(entered.wait(), 20)
    emu.client.patch(WIDGET, "w", {"spec": {"color": "red"}}, cluster.namespace)  # in-process: not admitted
    release.set()
    resp = await patch
    assert resp.status == 200
    assert (resp.body["spec"]["replicas"], resp.body["spec"]["color"]) == (2, "red")
    first, second = webhook.requests("UPDATE")
    assert first["oldObject"]["spec"]["color"] == "blue"
    assert second["oldObject"]["spec"]["color"] == "red"

    # An update that names the resourceVersion it read conflicts instead.
    entered.clear()
    release.clear()
    current = await cluster.ok("GET", cluster.widgets("w"))
    put = asyncio.create_task(
        cluster.request("PUT", cluster.widgets("w"), {**current, "spec": {**current["spec"], "replicas": 3}})
    )
    await asyncio.wait_for(entered.wait(), 20)
    emu.client.patch(WIDGET, "w", {"spec": {"color": "green"}}, cluster.namespace)
    release.set()
    resp = await put
    assert (resp.status, resp.body["reason"]) == (409, "Conflict")
    stored = await cluster.ok("GET", cluster.widgets("w"))
    assert (stored["spec"]["replicas"], stored["spec"]["color"]) == (2, "green")
    assert stored["metadata"]["uid"] == created["metadata"]["uid"]


# ---------------------------------------------------------------------------------------- configurations


async def test_configuration_defaults_and_validation(cluster: RestClient) -> None:
    """Plain API semantics: also runs against a real cluster."""
    name = f"defaults-{cluster.namespace}"
    hook = {
        "name": "defaults.test.kaito.sh",
        "clientConfig": {"service": {"namespace": cluster.namespace, "name": "nowhere"}},
        "rules": [widget_rule()],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        # Never called: it matches no namespace.
        "namespaceSelector": {"matchLabels": {"kaito-test": "never"}},
    }
    created = await cluster.ok("POST", CONFIGURATIONS, {"metadata": {"name": name}, "webhooks": [hook]})
    try:
        [stored] = created["webhooks"]
        assert stored["failurePolicy"] == "Fail"
        assert stored["matchPolicy"] == "Equivalent"
        assert stored["timeoutSeconds"] == 10
        assert stored["objectSelector"] == {}
        assert stored["rules"][0]["scope"] == "*"
        assert stored["clientConfig"]["service"]["port"] == 443
    finally:
        await cluster.request("DELETE", f"{CONFIGURATIONS}/{name}")

    bad = {
        "name": "bad.test.kaito.sh",
        "clientConfig": {"url": "http://127.0.0.1/validate"},
        "rules": [widget_rule()],
        "admissionReviewVersions": ["v1"],
    }
    resp = await cluster.request(
        "POST", CONFIGURATIONS, {"metadata": {"name": f"bad-{cluster.namespace}"}, "webhooks": [bad]}
    )
    assert resp.status == 422
    causes = {(c["field"], c["message"]) for c in resp.body["details"]["causes"]}
    assert ("webhooks[0].sideEffects", "Required value: must specify one of None, NoneOnDryRun") in causes
    assert (
        "webhooks[0].clientConfig.url",
        "Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
    ) in causes


@emulator_only
async def test_configuration_changes_take_effect_at_once(cluster: RestClient, webhook: FakeWebhook) -> None:
    config = await register(cluster, webhook)
    await cluster.ok("POST", cluster.widgets(), widget("one"))
    config["webhooks"][0]["rules"] = [widget_rule(("UPDATE",))]
    await cluster.ok("PUT", f"{CONFIGURATIONS}/{config['metadata']['name']}", config)
    await cluster.ok("POST", cluster.widgets(), widget("two"))
    await cluster.ok("DELETE", f"{CONFIGURATIONS}/{config['metadata']['name']}")
    await cluster.ok("PATCH", cluster.widgets("two"), {"spec": {"replicas": 2}}, content_type=MERGE)
    assert [r["name"] for r in webhook.requests()] == ["one"]
