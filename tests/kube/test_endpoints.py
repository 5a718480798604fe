"""Health probes, the metrics exposition, bind addresses, API error mapping and log setup."""

from __future__ import annotations

import io
import json
import logging

import aiohttp
import pytest
import structlog

from kaito.kube import errors
from kaito.kube.clock import FakeClock
from kaito.kube.health import Checks
from kaito.kube.httpserver import HTTPServer, parse_bind_address
from kaito.kube.logging import configure_logging
from kaito.kube.metrics import REGISTRY, QueueMetrics, exposition


def test_bind_addresses_parse_like_controller_runtime_flags() -> None:
    assert parse_bind_address(":8080") == (None, 8080)
    assert parse_bind_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_bind_address("[::1]:9443") == ("::1", 9443)
    assert parse_bind_address("0") is None
    for bad in ("8080", "host:port", ":70000"):
        with pytest.raises(ValueError):
            parse_bind_address(bad)


async def test_probes_report_ok_failures_verbose_and_single_checks() -> None:
    ready = {"cache": False}

    def cache_synced() -> None:
        if not ready["cache"]:
            raise RuntimeError("informers not synced")

    async def always() -> None:
        return None

    checks = Checks("readyz")
    checks.add("ping", always)
    checks.add("cache", cache_synced)
    with pytest.raises(ValueError):
        checks.add("ping", always)
    server = HTTPServer("127.0.0.1:0", checks.routes())
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 500
                assert (
                    await resp.text()
                    == "[+]ping ok\n[-]cache failed: informers not synced\nreadyz check failed\n"
                )
            async with http.get(f"{base}/readyz/ping") as resp:
                assert (resp.status, await resp.text()) == (200, "ok")
            async with http.get(f"{base}/readyz/nope") as resp:
                assert resp.status == 404
            ready["cache"] = True
            async with http.get(f"{base}/readyz") as resp:
                assert (resp.status, await resp.text()) == (200, "ok")
            async with http.get(f"{base}/readyz?verbose") as resp:
                assert await resp.text() == "[+]ping ok\n[+]cache ok\nreadyz check passed\n"
    finally:
        await server.stop()


async def test_disabled_server_binds_nothing() -> None:
    server = HTTPServer("0", {})
    await server.start()
    assert server.bind is None and server.port is None
    await server.stop()


def test_exposition_uses_controller_runtime_names_without_created_series(unique_name: str) -> None:
    clock = FakeClock()
    queue = QueueMetrics(unique_name, clock)
    queue.add("a")
    clock.advance(2.0)
    queue.get("a")
    clock.advance(3.0)
    body, content_type = exposition()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert "_created" not in text
    for family in (
        "workqueue_depth",
        "workqueue_adds_total",
        "workqueue_queue_duration_seconds",
        "workqueue_work_duration_seconds",
        "workqueue_retries_total",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
        "controller_runtime_reconcile_total",
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_reconcile_time_seconds",
        "rest_client_requests_total",
        "leader_election_master_status",
    ):
        assert f"# TYPE {family} " in text, family
    assert f'workqueue_unfinished_work_seconds{{name="{unique_name}"}} 3.0' in text
    assert f'workqueue_longest_running_processor_seconds{{name="{unique_name}"}} 3.0' in text
    assert REGISTRY.get_sample_value("workqueue_queue_duration_seconds_sum", {"name": unique_name}) == 2.0
    queue.done("a")
    assert REGISTRY.get_sample_value("workqueue_work_duration_seconds_sum", {"name": unique_name}) == 3.0
    assert f'workqueue_unfinished_work_seconds{{name="{unique_name}"}} 0.0' in exposition()[0].decode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            404,
            {"kind": "Status", "reason": "NotFound", "code": 404, "message": "x not found"},
            errors.NotFound,
        ),
        (409, {"reason": "AlreadyExists", "code": 409}, errors.AlreadyExists),
        (409, {"reason": "Conflict", "code": 409}, errors.Conflict),
        (410, {"reason": "Expired", "code": 410}, errors.Gone),
        (403, {"reason": "Forbidden", "code": 403}, errors.Forbidden),
        (429, {"reason": "TooManyRequests", "code": 429}, errors.TooManyRequests),
        (503, {"reason": "ServiceUnavailable", "code": 503}, errors.ServerError),
        (500, b"plain text failure", errors.ServerError),
        (418, None, errors.ApiError),
    ],
)
def test_error_responses_map_to_typed_exceptions(status: int, body: object, expected: type) -> None:
    err = errors.from_status(status, body)  # type: ignore[arg-type]
    assert type(err) is expected
    assert err.status == status


def test_invalid_keeps_the_servers_message_and_causes() -> None:
    body = {
        "kind": "Status",
        "code": 422,
        "reason": "Invalid",
        "message": 'Workspace.kaito.sh "w" is invalid: resource.count: Invalid value: 0',
        "details": {
            "causes": [{"reason": "FieldValueInvalid", "message": "must be >= 1", "field": "resource.count"}],
            "retryAfterSeconds": 3,
        },
    }
    err = errors.from_status(422, json.dumps(body).encode())
    assert isinstance(err, errors.Invalid)
    assert err.message.startswith('Workspace.kaito.sh "w" is invalid')
    assert err.causes == (errors.StatusCause("FieldValueInvalid", "must be >= 1", "resource.count"),)
    assert err.retry_after == 3.0
    assert "resource.count: must be >= 1" in str(err)
    assert errors.from_status(429, None, retry_after="7").retry_after == 7.0


def test_json_logs_carry_bound_context_and_stdlib_records() -> None:
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    try:
        with structlog.contextvars.bound_contextvars(controller="workspace", name="ws", namespace="ns"):
            structlog.get_logger("kaito.test").info("reconciled", changed=2)
        logging.getLogger("aiohttp.client").warning("stdlib says hi")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert lines[0]["event"] == "reconciled" and lines[0]["controller"] == "workspace"
        assert lines[0]["level"] == "info" and lines[0]["changed"] == 2 and "timestamp" in lines[0]
        assert lines[1]["event"] == "stdlib says hi" and lines[1]["logger"] == "aiohttp.client"
        with pytest.raises(ValueError):
            configure_logging("json", "loud")
    finally:
        configure_logging("console", "info")


def test_console_logs_are_readable_and_filtered_by_level() -> None:
    stream = io.StringIO()
    configure_logging("console", "warning", stream)
    try:
        log = structlog.get_logger("kaito.test2")
        log.info("hidden")
        log.warning("shown", key="value")
        text = stream.getvalue()
        assert "hidden" not in text
        assert "shown" in text and "key=value" in text and not text.startswith("{")
    finally:
        configure_logging("console", "info")
