"""The manager end to end against the API emulator: a parent/child controller converging, probes and
metrics over HTTP, graceful shutdown, leader election between two managers, and event recording."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from kaito.api.core import ConfigMap, Event
from kaito.api.meta import ObjectMeta, OwnerReference
from kaito.api.resources import CONFIGMAP, LEASE
from kaito.kube import errors
from kaito.kube.client import Client
from kaito.kube.config import RestConfig
from kaito.kube.controller import Controller
from kaito.kube.events import EventBroadcaster
from kaito.kube.handlers import EnqueueRequestForOwner
from kaito.kube.informer import Informer
from kaito.kube.leaderelection import LeaderElectionConfig, LeaderElectionLost
from kaito.kube.manager import Manager, ManagerOptions
from kaito.kube.predicates import ResourceVersionChanged
from kaito.kube.reconcile import Request, Result

PARENT = {"role": "parent"}


class ParentReconciler:
    """Each parent ConfigMap gets a child ConfigMap it owns and a ``synced`` annotation naming it."""

    def __init__(self, client: Client, parents: Informer[ConfigMap], children: Informer[ConfigMap]) -> None:
        self.client = client
        self.parents = parents
        self.children = children
        self.gate: asyncio.Event | None = None
        self.calls = 0
        self.finished = 0
        self.acting: list[float] = []

    async def reconcile(self, request: Request) -> Result:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        parent = self.parents.get(request.name, request.namespace)
        if parent is None:
            return Result()
        child_name = f"{parent.name}-child"
        if self.children.get(child_name, parent.namespace) is None:
            owner = OwnerReference(
                api_version="v1",
                kind="ConfigMap",
                name=parent.name,
                uid=parent.metadata.uid or "",
                controller=True,
            )
            child = ConfigMap(
                metadata=ObjectMeta(name=child_name, namespace=parent.namespace, owner_references=[owner]),
                data=dict(parent.data or {}),
            )
            with contextlib.suppress(errors.AlreadyExists):
                await self.client.create(child)
        if (parent.metadata.annotations or {}).get("synced") != child_name:
            await self.client.patch(
                ConfigMap,
                parent.name,
                {"metadata": {"annotations": {"synced": child_name}}},
                namespace=parent.namespace,
            )
        self.finished += 1
        return Result()


def parent_controller(manager: Manager, name: str, workers: int = 2) -> tuple[Controller, ParentReconciler]:
    parents = manager.informer(ConfigMap, namespace="default", label_selector=PARENT)
    children = manager.informer(ConfigMap, namespace="default")
    reconciler = ParentReconciler(manager.client, parents, children)
    controller = Controller(name, reconciler, max_concurrent_reconciles=workers)
    controller.watches(parents, None, ResourceVersionChanged())
    controller.watches(children, EnqueueRequestForOwner(ConfigMap))
    manager.add(controller)
    return controller, reconciler


def parent(name: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace="default", labels=PARENT), data={"v": name})


def converged(emulator: Any, names: list[str]) -> bool:
    for name in names:
        obj = emulator.client.try_get(CONFIGMAP, name, "default")
        child = emulator.client.try_get(CONFIGMAP, f"{name}-child", "default")
        if obj is None or child is None:
            return False
        if (obj["metadata"].get("annotations") or {}).get("synced") != child["metadata"]["name"]:
            return False
    return True


@asynccontextmanager
async def running(manager: Manager) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(manager.run())
    try:
        yield task
    finally:
        manager.stop()
        await asyncio.wait({task}, timeout=30)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def http_get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


LOCAL = ManagerOptions(metrics_bind_address="127.0.0.1:0", health_probe_bind_address="127.0.0.1:0")


async def test_controller_converges_and_endpoints_serve_health_and_metrics(
    emulator: Any, client: Client, unique_name: str, eventually
) -> None:
    names = [f"p{i}" for i in range(20)]
    for name in names[:10]:
        await client.create(parent(name))
    manager = Manager(client, LOCAL)
    _, reconciler = parent_controller(manager, unique_name)
    async with running(manager) as task:
        await eventually(
            lambda: manager.health_server.port is not None and manager.metrics_server.port is not None
        )
        for name in names[10:]:
            await client.create(parent(name))
        await eventually(lambda: converged(emulator, names), what="every parent has its child and annotation")
        health = f"http://127.0.0.1:{manager.health_server.port}"
        assert await http_get(f"{health}/healthz") == (200, "ok")
        assert await http_get(f"{health}/readyz") == (200, "ok")
        status, metrics = await http_get(f"http://127.0.0.1:{manager.metrics_server.port}/metrics")
        assert status == 200
        for series in (
            f'controller_runtime_reconcile_total{{controller="{unique_name}",result="success"}}',
            f'controller_runtime_reconcile_errors_total{{controller="{unique_name}"}}',
            f'controller_runtime_reconcile_time_seconds_bucket{{controller="{unique_name}",le="0.005"}}',
            f'workqueue_depth{{name="{unique_name}"}}',
            f'workqueue_adds_total{{name="{unique_name}"}}',
            f'workqueue_queue_duration_seconds_count{{name="{unique_name}"}}',
            f'workqueue_work_duration_seconds_count{{name="{unique_name}"}}',
            f'workqueue_retries_total{{name="{unique_name}"}}',
            f'workqueue_unfinished_work_seconds{{name="{unique_name}"}}',
            f'workqueue_longest_running_processor_seconds{{name="{unique_name}"}}',
            'rest_client_requests_total{code="201",host=',
            "process_resident_memory_bytes",
        ):
            assert series in metrics, series
        assert "_created" not in metrics
        assert not task.done()
    assert task.done() and task.exception() is None
    assert reconciler.finished >= 20


async def test_readyz_fails_until_caches_sync_and_controllers_wait_for_it(
    emulator: Any, client: Client, unique_name: str, eventually
) -> None:
    await client.create(parent("p"))
    emulator.faults.inject(500, verbs={"list"}, resources={"configmaps"})
    manager = Manager(client, LOCAL)
    _, reconciler = parent_controller(manager, unique_name)
    async with running(manager):
        await eventually(lambda: manager.health_server.port is not None)
        url = f"http://127.0.0.1:{manager.health_server.port}/readyz"
        status, body = await http_get(url)
        assert status == 500 and "[-]informers-synced failed: informers not synced" in body
        assert await http_get(f"http://127.0.0.1:{manager.health_server.port}/healthz") == (200, "ok")
        await asyncio.sleep(0.2)
        assert reconciler.calls == 0, "no reconcile before the caches are complete"
        emulator.faults.clear()
        await eventually(lambda: converged(emulator, ["p"]))
        assert (await http_get(url))[0] == 200


async def test_graceful_shutdown_lets_reconciles_in_flight_finish(
    emulator: Any, client: Client, unique_name: str, eventually
) -> None:
    await client.create(parent("p"))
    manager = Manager(client, ManagerOptions(metrics_bind_address="0", health_probe_bind_address="0"))
    _, reconciler = parent_controller(manager, unique_name)
    reconciler.gate = asyncio.Event()
    task = asyncio.create_task(manager.run())
    await eventually(lambda: reconciler.calls == 1)
    manager.stop()
    await asyncio.sleep(0.2)
    assert not task.done(), "the manager waits for the reconcile in flight"
    reconciler.gate.set()
    await asyncio.wait_for(task, timeout=30)
    assert reconciler.finished == 1 and converged(emulator, ["p"])


async def test_graceful_shutdown_gives_up_after_the_timeout(
    client: Client, unique_name: str, eventually
) -> None:
    await client.create(parent("p"))
    options = ManagerOptions(
        metrics_bind_address="0", health_probe_bind_address="0", graceful_shutdown_timeout=0.2
    )
    manager = Manager(client, options)
    _, reconciler = parent_controller(manager, unique_name)
    reconciler.gate = asyncio.Event()
    task = asyncio.create_task(manager.run())
    await eventually(lambda: reconciler.calls == 1)
    manager.stop()
    await asyncio.wait_for(task, timeout=30)
    assert reconciler.finished == 0


@dataclass
class Replica:
    """One operator replica: its own client, manager and a leader-only runnable recording when it acts."""

    identity: str
    manager: Manager
    reconciler: ParentReconciler
    acting: list[list[float]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


def replica(
    rest_config: RestConfig, identity: str, controller_name: str, lease: LeaderElectionConfig
) -> Replica:
    client = Client(rest_config, qps=None)
    options = ManagerOptions(
        metrics_bind_address="0",
        health_probe_bind_address="127.0.0.1:0",
        leader_election=LeaderElectionConfig(
            name=lease.name,
            identity=identity,
            lease_duration=lease.lease_duration,
            renew_deadline=lease.renew_deadline,
            retry_period=lease.retry_period,
        ),
        leader_election_namespace="default",
    )
    manager = Manager(client, options)
    _, reconciler = parent_controller(manager, controller_name)
    result = Replica(identity, manager, reconciler)

    async def act() -> None:
        loop = asyncio.get_running_loop()
        span = [loop.time(), float("inf")]
        result.acting.append(span)
        try:
            await asyncio.Event().wait()
        finally:
            span[1] = loop.time()

    manager.add_runnable("acting", act, needs_leader=True)
    return result


def is_acting(r: Replica) -> bool:
    return bool(r.acting) and r.acting[-1][1] == float("inf")


def holder(emulator: Any, name: str) -> str:
    lease = emulator.client.try_get(LEASE, name, "default")
    return ((lease or {}).get("spec") or {}).get("holderIdentity", "")


SHORT_LEASE = LeaderElectionConfig(
    name="kaito-test-lease", lease_duration=2.0, renew_deadline=1.5, retry_period=0.25
)


async def test_two_managers_one_leader_and_takeover_after_the_leader_dies(
    emulator: Any, rest_config: RestConfig, unique_name: str, eventually
) -> None:
    a = replica(rest_config, "replica-a", unique_name, SHORT_LEASE)
    b = replica(rest_config, "replica-b", unique_name + "-b", SHORT_LEASE)
    try:
        a.task = asyncio.create_task(a.manager.run())
        await eventually(lambda: is_acting(a))
        b.task = asyncio.create_task(b.manager.run())
        await asyncio.sleep(1.0)
        assert not b.acting and holder(emulator, SHORT_LEASE.name) == "replica-a"
        await eventually(lambda: b.manager.health_server.port is not None)
        status, _ = await http_get(f"http://127.0.0.1:{b.manager.health_server.port}/readyz")
        assert status == 200, "a standby's caches are warm: it is ready"

        loop = asyncio.get_running_loop()
        a.task.cancel()  # the leader dies without releasing its lease
        killed_at = loop.time()
        await asyncio.gather(a.task, return_exceptions=True)
        await eventually(lambda: is_acting(b), timeout=30)
        took_over = b.acting[0][0] - killed_at
        assert took_over <= SHORT_LEASE.lease_duration + 2 * SHORT_LEASE.retry_period + 1.0
        assert holder(emulator, SHORT_LEASE.name) == "replica-b"
        spans = sorted(a.acting + b.acting)
        assert spans[0][1] <= spans[1][0], "never two leaders acting at once"

        # The new leader does the work.
        await b.manager.client.create(parent("after-takeover"))
        await eventually(lambda: converged(emulator, ["after-takeover"]))
    finally:
        for r in (a, b):
            r.manager.stop()
            if r.task is not None:
                await asyncio.wait({r.task}, timeout=30)
                await asyncio.gather(r.task, return_exceptions=True)
            await r.manager.client.close()


async def test_a_leader_stopping_gracefully_releases_the_lease_for_a_fast_handover(
    emulator: Any, rest_config: RestConfig, unique_name: str, eventually
) -> None:
    slow = LeaderElectionConfig(
        name="kaito-handover", lease_duration=20.0, renew_deadline=15.0, retry_period=0.25
    )
    a = replica(rest_config, "replica-a", unique_name, slow)
    b = replica(rest_config, "replica-b", unique_name + "-b", slow)
    try:
        a.task = asyncio.create_task(a.manager.run())
        await eventually(lambda: is_acting(a))
        b.task = asyncio.create_task(b.manager.run())
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        a.manager.stop()
        stopped_at = loop.time()
        await asyncio.wait_for(a.task, timeout=30)
        assert holder(emulator, slow.name) in ("", "replica-b")
        await eventually(lambda: is_acting(b), timeout=10)
        assert b.acting[0][0] - stopped_at < slow.lease_duration / 2, (
            "no need to wait for the lease to expire"
        )
        assert a.acting[0][1] <= b.acting[0][0]
    finally:
        for r in (a, b):
            r.manager.stop()
            if r.task is not None:
                await asyncio.wait({r.task}, timeout=30)
                await asyncio.gather(r.task, return_exceptions=True)
            await r.manager.client.close()


async def test_losing_the_lease_stops_the_controllers_and_fails_the_manager(
    emulator: Any, rest_config: RestConfig, unique_name: str, eventually
) -> None:
    a = replica(rest_config, "replica-a", unique_name, SHORT_LEASE)
    try:
        a.task = asyncio.create_task(a.manager.run())
        await eventually(lambda: is_acting(a))
        emulator.faults.inject(500, verbs={"update", "get"}, resources={"leases"})
        loop = asyncio.get_running_loop()
        cut_at = loop.time()
        with pytest.raises(LeaderElectionLost):
            await asyncio.wait_for(a.task, timeout=30)
        assert a.acting[0][1] - cut_at <= SHORT_LEASE.renew_deadline + 1.0
    finally:
        emulator.faults.clear()
        await a.manager.client.close()


async def test_event_recorder_writes_events_and_counts_repeats(client: Client, eventually) -> None:
    owner = await client.create(parent("subject"))
    broadcaster = EventBroadcaster(client, host="test-host")
    recorder = broadcaster.recorder("workspace-controller")
    writer = asyncio.create_task(broadcaster.run())
    try:
        recorder.normal(owner, "NodeClaimCreated", "Successfully created NodeClaim nc1 for workspace subject")
        recorder.normal(owner, "NodeClaimCreated", "Successfully created NodeClaim nc1 for workspace subject")
        recorder.warning(owner, "NodeClaimCreationFailed", "quota exceeded")
        await broadcaster.flush(30)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    events = sorted((await client.list(Event, "default")).items, key=lambda e: e.reason or "")
    assert [(e.reason, e.type, e.count) for e in events] == [
        ("NodeClaimCreated", "Normal", 2),
        ("NodeClaimCreationFailed", "Warning", 1),
    ]
    created = events[0]
    assert created.involved_object is not None
    assert created.involved_object["kind"] == "ConfigMap" and created.involved_object["name"] == "subject"
    assert created.involved_object["uid"] == owner.metadata.uid
    assert created.source == {"component": "workspace-controller", "host": "test-host"}
    assert created.first_timestamp and created.last_timestamp
    assert created.name.startswith("subject.")


async def test_a_repeat_of_an_expired_event_starts_a_new_one(client: Client) -> None:
    owner = await client.create(parent("subject"))
    broadcaster = EventBroadcaster(client)
    recorder = broadcaster.recorder("workspace-controller")
    writer = asyncio.create_task(broadcaster.run())
    try:
        recorder.warning(owner, "Failing", "same message")
        await broadcaster.flush(30)
        first = (await client.list(Event, "default")).items
        assert len(first) == 1
        await client.delete(Event, first[0].name, "default")  # events expire after an hour in a cluster
        recorder.warning(owner, "Failing", "same message")
        await broadcaster.flush(30)
    finally:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    events = (await client.list(Event, "default")).items
    assert [(e.reason, e.count) for e in events] == [("Failing", 1)]
    assert events[0].name != first[0].name
