"""Watch: events from a resourceVersion, initial state, selectors, bookmarks, 410 Gone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helpers.restclient import RestClient
from kaito_sim import KubeEmulator


async def _collect(
    cluster: RestClient, path: str, params: dict[str, str], count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async for event in cluster.watch(path, params):
            events.append(event)
            if len(events) >= count:
                return

    await asyncio.wait_for(run(), timeout)
    return events


async def test_watch_from_resource_version(cluster: RestClient) -> None:
    listed = await cluster.ok("GET", cluster.cm())
    watcher = asyncio.create_task(
        _collect(cluster, cluster.cm(), {"resourceVersion": listed["metadata"]["resourceVersion"]}, 3)
    )
    created = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"n": "1"}})
    await cluster.ok("PUT", cluster.cm("a"), {**created, "data": {"n": "2"}})
    await cluster.ok("DELETE", cluster.cm("a"))
    events = await watcher
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["data"] == {"n": "2"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)


async def test_watch_from_zero_starts_with_current_state(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "b"}})
    events = await _collect(cluster, cluster.cm(), {"resourceVersion": "0"}, 2)
    assert sorted((e["type"], e["object"]["metadata"]["name"]) for e in events) == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


async def test_objects_leaving_a_label_selector_are_deleted_for_the_watcher(cluster: RestClient) -> None:
    listed = await cluster.ok("GET", cluster.cm())
    params = {"resourceVersion": listed["metadata"]["resourceVersion"], "labelSelector": "app=x"}
    watcher = asyncio.create_task(_collect(cluster, cluster.cm(), params, 3))
    created = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a", "labels": {"app": "x"}}})
    created = await cluster.ok("PUT", cluster.cm("a"), {**created, "data": {"k": "v"}})
    await cluster.ok("PUT", cluster.cm("a"), {**created, "metadata": {**created["metadata"], "labels": {}}})
    events = await watcher
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


async def test_watch_times_out(cluster: RestClient) -> None:
    events = [e async for e in cluster.watch(cluster.cm(), {"timeoutSeconds": "1", "resourceVersion": "0"})]
    assert all(e["type"] in ("ADDED", "BOOKMARK") for e in events)


@pytest.mark.emulator_only
async def test_bookmarks(cluster: RestClient, emu: KubeEmulator) -> None:
    listed = await cluster.ok("GET", cluster.cm())
    params = {
        "resourceVersion": listed["metadata"]["resourceVersion"],
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "1",
    }
    events = [e async for e in cluster.watch(cluster.cm(), params)]
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert len(bookmarks) >= 2  # periodic (interval 0.2 s in these tests) and one at the timeout
    assert bookmarks[-1]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(
        listed["metadata"]["resourceVersion"]
    )


@pytest.mark.emulator_only
async def test_send_initial_events_ends_with_marked_bookmark(cluster: RestClient, emu: KubeEmulator) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    params = {
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
    }
    events = await _collect(cluster, cluster.cm(), params, 2)
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


@pytest.mark.emulator_only
async def test_expired_history_gives_410(cluster: RestClient, emu: KubeEmulator) -> None:
    listed = await cluster.ok("GET", cluster.cm())
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    emu.faults.expire_history()
    events = await _collect(
        cluster, cluster.cm(), {"resourceVersion": listed["metadata"]["resourceVersion"]}, 1
    )
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["code"] == 410 and status["reason"] == "Expired"
    assert status["message"].startswith(
        f"too old resource version: {listed['metadata']['resourceVersion']} ("
    )


@pytest.mark.emulator_only
async def test_bounded_history(cluster: RestClient) -> None:
    async with (
        KubeEmulator(history_size=3) as small,
        RestClient(small.url, {}, False, "default", small) as client,
    ):
        start = (await client.ok("GET", client.cm()))["metadata"]["resourceVersion"]
        for i in range(5):
            await client.ok("POST", client.cm(), {"metadata": {"name": f"c{i}"}})
        events = await _collect(client, client.cm(), {"resourceVersion": start}, 1)
        assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410
        recent = str(int(start) + 3)
        events = await _collect(client, client.cm(), {"resourceVersion": recent}, 2)
        assert [e["object"]["metadata"]["name"] for e in events] == ["c3", "c4"]
