"""The REST client against the API emulator: typed CRUD, status, patches, errors, retries, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kaito.api.core import ConfigMap, Deployment
from kaito.api.meta import ObjectMeta
from kaito.api.workspace import Workspace, WorkspaceStatus
from kaito.kube import errors
from kaito.kube.client import (
    Bookmark,
    Client,
    PatchType,
    Preconditions,
    RetryPolicy,
    WatchEvent,
)
from kaito.kube.clock import RealClock
from kaito.kube.config import USER_AGENT, RestConfig, load_rest_config
from kaito.kube.metrics import REGISTRY


class InstantClock(RealClock):
    """Real time, but sleeps return at once and are recorded: retry waits become assertable."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        await asyncio.sleep(0)


def configmap(name: str, namespace: str = "default", **labels: str) -> ConfigMap:
    return ConfigMap(
        metadata=ObjectMeta(name=name, namespace=namespace, labels=labels or None), data={"k": "v"}
    )


async def test_typed_create_get_list_update_delete(client: Client) -> None:
    created = await client.create(configmap("a", app="x"))
    assert isinstance(created, ConfigMap)
    assert created.metadata.uid and created.metadata.resource_version and created.data == {"k": "v"}
    await client.create(configmap("b", app="y"))

    fetched = await client.get(ConfigMap, "a", "default")
    assert fetched == created

    page = await client.list(ConfigMap, "default", label_selector={"app": "x"})
    assert [cm.name for cm in page.items] == ["a"]
    assert all(isinstance(cm, ConfigMap) and cm.kind == "ConfigMap" for cm in page.items)
    assert page.resource_version

    fetched.data = {"k": "changed"}
    updated = await client.update(fetched)
    assert updated.data == {"k": "changed"}
    assert updated.metadata.resource_version != created.metadata.resource_version

    await client.delete(ConfigMap, "a", "default")
    with pytest.raises(errors.NotFound):
        await client.get(ConfigMap, "a", "default")


async def test_stale_update_is_a_conflict_and_duplicate_create_already_exists(client: Client) -> None:
    first = await client.create(configmap("a"))
    with pytest.raises(errors.AlreadyExists):
        await client.create(configmap("a"))
    first.data = {"k": "1"}
    await client.update(first)
    first.data = {"k": "2"}
    with pytest.raises(errors.Conflict) as caught:
        await client.update(first)  # still carries the old resourceVersion
    assert caught.value.status == 409 and caught.value.message


async def test_merge_json_and_strategic_merge_patches(client: Client) -> None:
    await client.create(configmap("a"))
    merged = await client.patch(ConfigMap, "a", {"data": {"extra": "1"}}, namespace="default")
    assert merged.data == {"k": "v", "extra": "1"}
    patched = await client.patch(
        ConfigMap,
        "a",
        [{"op": "remove", "path": "/data/k"}],
        namespace="default",
        patch_type=PatchType.JSON,
    )
    assert patched.data == {"extra": "1"}

    deployment = Deployment.model_validate(
        {
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {
                    "metadata": {"labels": {"app": "d"}},
                    "spec": {"containers": [{"name": "main", "image": "busybox:1"}]},
                },
            },
        }
    )
    await client.create(deployment)
    sidecar = {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox:2"}]}}}}
    result = await client.patch(
        Deployment, "d", sidecar, namespace="default", patch_type=PatchType.STRATEGIC_MERGE
    )
    assert result.spec is not None
    names = [c["name"] for c in result.spec["template"]["spec"]["containers"]]
    assert sorted(names) == ["main", "side"], "strategic merge merges lists by their merge key"
    with pytest.raises(ValueError):
        await client.patch(Workspace, "w", {}, namespace="default", patch_type=PatchType.STRATEGIC_MERGE)


async def test_status_subresource_writes_only_status(
    client: Client, make_workspace: Callable[..., Workspace]
) -> None:
    ws = await client.create(make_workspace("ws"))
    assert ws.metadata.generation == 1
    ws.status = WorkspaceStatus(worker_nodes=["node-1"])
    assert ws.resource is not None
    ws.resource.instance_type = "Standard_NC6s_v3"  # ignored by a status write
    after = await client.update_status(ws)
    assert after.status is not None and after.status.worker_nodes == ["node-1"]
    assert after.resource is not None and after.resource.instance_type == "Standard_NC24ads_A100_v4"
    assert after.metadata.generation == 1, "a status write does not bump the generation"

    patched = await client.patch_status(
        Workspace, "ws", {"status": {"workerNodes": ["n2"]}}, namespace="default"
    )
    assert patched.status is not None and patched.status.worker_nodes == ["n2"]


async def test_invalid_objects_carry_the_servers_message_and_causes(
    client: Client, make_workspace: Callable[..., Workspace]
) -> None:
    bad = make_workspace("bad")
    assert bad.resource is not None
    bad.resource.count = 0  # the CRD says minimum 1
    with pytest.raises(errors.Invalid) as caught:
        await client.create(bad)
    assert caught.value.status == 422
    assert "count" in caught.value.message
    assert any("count" in cause.field for cause in caught.value.causes)


async def test_delete_preconditions_and_propagation(client: Client) -> None:
    created = await client.create(configmap("a"))
    with pytest.raises(errors.Conflict):
        await client.delete(ConfigMap, "a", "default", preconditions=Preconditions(uid="not-the-uid"))
    await client.delete(
        ConfigMap,
        "a",
        "default",
        propagation_policy="Foreground",
        preconditions=Preconditions(
            uid=created.metadata.uid, resource_version=created.metadata.resource_version
        ),
    )
    with pytest.raises(errors.NotFound):
        await client.delete(ConfigMap, "a", "default")


async def test_deleting_an_object_with_finalizers_returns_it(client: Client) -> None:
    cm = configmap("held")
    cm.metadata.finalizers = ["example.com/hold"]
    await client.create(cm)
    pending = await client.delete(ConfigMap, "held", "default")
    assert pending is not None and pending.metadata.deletion_timestamp
    await client.patch(ConfigMap, "held", {"metadata": {"finalizers": None}}, namespace="default")
    with pytest.raises(errors.NotFound):
        await client.get(ConfigMap, "held", "default")


async def test_429_and_5xx_are_retried_honouring_retry_after(emulator, rest_config: RestConfig) -> None:
    clock = InstantClock()
    async with Client(rest_config, qps=None, clock=clock, retry=RetryPolicy(max_retries=5)) as client:
        emulator.faults.inject(429, verbs={"create"}, resources={"configmaps"}, retry_after=3, count=2)
        created = await client.create(configmap("a"))
        assert created.name == "a"
        assert clock.sleeps == [3.0, 3.0], "the server's Retry-After decides the wait"

        clock.sleeps.clear()
        emulator.faults.clear()
        emulator.faults.inject(500, verbs={"get"}, resources={"configmaps"}, count=3)
        await client.get(ConfigMap, "a", "default")
        assert len(clock.sleeps) == 3
        assert all(s <= 10.0 for s in clock.sleeps)


async def test_retries_are_bounded(emulator, rest_config: RestConfig) -> None:
    clock = InstantClock()
    policy = RetryPolicy(max_retries=2, max_delay=5.0)
    async with Client(rest_config, qps=None, clock=clock, retry=policy) as client:
        emulator.faults.inject(429, verbs={"get"}, resources={"configmaps"}, retry_after=60)
        before = len(emulator.requests.filter(verb="get", resource="configmaps"))
        with pytest.raises(errors.TooManyRequests):
            await client.get(ConfigMap, "x", "default")
        assert len(emulator.requests.filter(verb="get", resource="configmaps")) - before == 3
        assert clock.sleeps == [5.0, 5.0], "Retry-After is capped at max_delay"


async def test_conflicts_are_not_retried(emulator, client: Client) -> None:
    await client.create(configmap("a"))
    emulator.faults.inject(409, verbs={"update"}, resources={"configmaps"}, count=1)
    current = await client.get(ConfigMap, "a", "default")
    with pytest.raises(errors.Conflict):
        await client.update(current)
    assert (await client.update(current)).name == "a"


async def test_requests_carry_the_user_agent_and_are_counted(emulator, client: Client) -> None:
    host = client.config.host.split("://", 1)[1]

    def count(code: str, method: str) -> float:
        return (
            REGISTRY.get_sample_value(
                "rest_client_requests_total", {"code": code, "method": method, "host": host}
            )
            or 0.0
        )

    created_before, missing_before = count("201", "POST"), count("404", "GET")
    await client.create(configmap("a"))
    with pytest.raises(errors.NotFound):
        await client.get(ConfigMap, "nope", "default")
    assert count("201", "POST") == created_before + 1
    assert count("404", "GET") == missing_before + 1
    assert USER_AGENT.startswith("kaito-controller/")
    assert {r.user_agent for r in emulator.requests.filter(resource="configmaps")} == {USER_AGENT}


async def test_client_side_rate_limit_paces_requests(rest_config: RestConfig) -> None:
    clock = InstantClock()
    async with Client(rest_config, qps=5.0, burst=2, clock=clock) as client:
        for i in range(4):
            await client.create(configmap(f"cm{i}"))
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] == pytest.approx(0.2, abs=0.05)
    assert clock.sleeps[1] == pytest.approx(0.4, abs=0.05)


async def test_watch_streams_typed_events_and_410_when_history_is_gone(emulator, client: Client) -> None:
    start = await client.list(ConfigMap, "default")
    events: list[WatchEvent[ConfigMap] | Bookmark] = []
    async with client.watch(ConfigMap, "default", resource_version=start.resource_version) as stream:
        await client.create(configmap("w"))
        await client.delete(ConfigMap, "w", "default")
        async for event in stream:
            events.append(event)
            if isinstance(event, WatchEvent) and event.type == "DELETED":
                break
    typed = [e for e in events if isinstance(e, WatchEvent)]
    assert [(e.type, e.object.name) for e in typed] == [("ADDED", "w"), ("DELETED", "w")]
    assert isinstance(typed[0].object, ConfigMap)

    emulator.faults.expire_history()
    with pytest.raises(errors.Gone):
        async with client.watch(ConfigMap, "default", resource_version=start.resource_version) as stream:
            async for _ in stream:
                pass


async def test_kubeconfig_bearer_token_authenticates(monkeypatch: pytest.MonkeyPatch) -> None:
    from kaito_sim import KubeEmulator

    async with KubeEmulator(token="s3cret") as emu:
        monkeypatch.setenv("KUBECONFIG", str(emu.kubeconfig_path))
        config = await load_rest_config()  # found through $KUBECONFIG
        assert config.host == emu.url
        async with Client(config, qps=None) as authenticated:
            await authenticated.list(ConfigMap, "default")
        async with Client(RestConfig(host=emu.url), qps=None) as anonymous:
            with pytest.raises(errors.Unauthorized):
                await anonymous.list(ConfigMap, "default")
