"""Fault injection and the request log (emulator only by nature)."""

from __future__ import annotations

import asyncio
import time

import pytest

from helpers.restclient import RestClient
from kaito_sim import KubeEmulator

pytestmark = pytest.mark.emulator_only


async def test_injected_429_carries_retry_after(cluster: RestClient, emu: KubeEmulator) -> None:
    emu.faults.inject(429, verbs={"list"}, resources={"configmaps"}, retry_after=3)
    resp = await cluster.request("GET", cluster.cm())
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "3"
    assert resp.body["reason"] == "TooManyRequests" and resp.body["details"]["retryAfterSeconds"] == 3
    assert (await cluster.request("GET", cluster.ns_path("secrets"))).status == 200
    emu.faults.clear()
    assert (await cluster.request("GET", cluster.cm())).status == 200


async def test_injected_conflicts_are_seeded_and_deterministic(
    cluster: RestClient, emu: KubeEmulator
) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})

    async def run(seed: int) -> list[int]:
        emu.faults.clear()
        emu.faults.inject(409, rate=0.5, verbs={"update"}, resources={"configmaps"}, seed=seed)
        statuses = []
        for i in range(20):
            resp = await cluster.request(
                "PUT", cluster.cm("a"), {"metadata": {"name": "a"}, "data": {"i": str(i)}}
            )
            statuses.append(resp.status)
        return statuses

    first, again = await run(7), await run(7)
    assert first == again
    assert set(first) == {200, 409}
    conflict = await cluster.request("PUT", cluster.cm("a"), {"metadata": {"name": "a"}})
    if conflict.status == 409:
        assert conflict.body["reason"] == "Conflict"


async def test_injected_500_for_a_subresource(cluster: RestClient, emu: KubeEmulator) -> None:
    await cluster.ok(
        "POST",
        cluster.widgets(),
        {
            "apiVersion": "test.kaito.sh/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": "small"},
        },
    )
    rule = emu.faults.inject(500, resources={"widgets/status"}, count=1)
    resp = await cluster.request(
        "PATCH",
        cluster.widgets("w") + "/status",
        {"status": {"phase": "x"}},
        content_type="application/merge-patch+json",
    )
    assert resp.status == 500 and resp.body["reason"] == "InternalError"
    assert rule.fired == 1
    again = await cluster.request(
        "PATCH",
        cluster.widgets("w") + "/status",
        {"status": {"phase": "x"}},
        content_type="application/merge-patch+json",
    )
    assert again.status == 200


async def test_latency(cluster: RestClient, emu: KubeEmulator) -> None:
    emu.faults.set_latency(0.3, verbs={"get"})
    started = time.monotonic()
    await cluster.request("GET", cluster.cm("missing"))
    assert time.monotonic() - started >= 0.3


async def test_drop_watches_cuts_open_streams(cluster: RestClient, emu: KubeEmulator) -> None:
    received: list[str] = []

    async def watch() -> None:
        async for event in cluster.watch(cluster.cm(), {"resourceVersion": "0"}):
            received.append(event["type"])

    task = asyncio.create_task(watch())
    while not emu.store.hub.watcher_count():
        await asyncio.sleep(0.01)
    assert emu.faults.drop_watches() == 1
    with pytest.raises(Exception):  # noqa: B017 - the client sees a broken connection, whatever its type
        await asyncio.wait_for(task, 10)
    assert emu.store.hub.watcher_count() == 0


async def test_request_log_records_calls(cluster: RestClient, emu: KubeEmulator) -> None:
    before = len(emu.requests)
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    await cluster.ok("GET", cluster.cm("a"))
    await cluster.request("GET", cluster.cm("b"))
    mine = emu.requests.filter(user_agent="kaito-conformance-tests")[before:]
    assert [(r.verb, r.resource, r.name, r.status) for r in mine] == [
        ("create", "configmaps", "", 201),
        ("get", "configmaps", "a", 200),
        ("get", "configmaps", "b", 404),
    ]
    assert all(r.namespace == cluster.namespace for r in mine)
    assert len(emu.requests.filter(verb="get", status=404)) >= 1
