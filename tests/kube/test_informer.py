"""The informer against the API emulator: sync, events, selectors, indexes, resync, and recovery
from dropped watch streams and expired history without losing a single delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from kaito.api.core import ConfigMap
from kaito.api.karpenter import NodeClaim
from kaito.api.meta import ObjectMeta
from kaito.api.resources import CONFIGMAP, SECRET
from kaito.api.wellknown import LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE
from kaito.kube.backoff import Backoff
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.informer import Informer
from kaito.kube.store import index_by_owner_labels

FAST = Backoff(initial=0.01, maximum=0.1, jitter=0.0)

OWNER_INDEX = "owner"


@dataclass
class Recorder:
    """Keeps the event stream an informer delivered, and the state it implies."""

    events: list[tuple[str, str]] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # key -> resourceVersion, as events tell it
    initial: list[bool] = field(default_factory=list)

    def on_add(self, obj: ConfigMap, is_in_initial_list: bool) -> None:
        self.events.append(("add", obj.key))
        self.initial.append(is_in_initial_list)
        assert obj.key not in self.state, f"add for {obj.key} which the handler already had"
        self.state[obj.key] = obj.metadata.resource_version or ""

    def on_update(self, old: ConfigMap, new: ConfigMap) -> None:
        self.events.append(("update", new.key))
        assert old.key in self.state
        self.state[new.key] = new.metadata.resource_version or ""

    def on_delete(self, obj: ConfigMap) -> None:
        self.events.append(("delete", obj.key))
        assert self.state.pop(obj.key, None) is not None, f"delete for {obj.key} never added"


def cm(name: str, value: str = "1", namespace: str = "default", **labels: str) -> ConfigMap:
    return ConfigMap(
        metadata=ObjectMeta(name=name, namespace=namespace, labels=labels or None), data={"v": value}
    )


@asynccontextmanager
async def running(informer: Informer[Any]) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.wait_for_sync(), timeout=30)
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def server_state(emulator: Any, namespace: str = "default") -> dict[str, str]:
    """What the server holds, read in-process so the request log only shows the informer's calls."""
    return {
        f"{obj['metadata']['namespace']}/{obj['metadata']['name']}": obj["metadata"]["resourceVersion"]
        for obj in emulator.client.list(CONFIGMAP, namespace)
    }


async def drop_open_watches(emulator: Any, timeout: float = 30.0) -> None:
    """Cut the informer's watch stream once it is open."""
    async with asyncio.timeout(timeout):
        while emulator.faults.drop_watches() == 0:
            await asyncio.sleep(0.01)


def list_requests(emulator: Any) -> int:
    return len(emulator.requests.filter(verb="list", resource="configmaps"))


async def test_initial_list_syncs_the_store_and_delivers_adds(
    emulator: Any, client: Client, eventually
) -> None:
    for i in range(3):
        await client.create(cm(f"pre{i}"))
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST, page_size=2)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    assert not informer.has_synced
    async with running(informer):
        assert informer.has_synced
        assert sorted(informer.store.list_keys()) == ["default/pre0", "default/pre1", "default/pre2"]
        assert recorder.initial == [True, True, True]
        assert informer.last_sync_resource_version
        pages = emulator.requests.filter(verb="list", resource="configmaps")
        assert [r.query.get("limit") for r in pages] == ["2", "2"] and "continue" in pages[1].query

        await client.create(cm("new"))
        await eventually(lambda: ("add", "default/new") in recorder.events)
        assert recorder.initial[-1] is False
        current = await client.get(ConfigMap, "pre0", "default")
        current.data = {"v": "2"}
        await client.update(current)
        await eventually(lambda: ("update", "default/pre0") in recorder.events)
        await client.delete(ConfigMap, "pre1", "default")
        await eventually(lambda: ("delete", "default/pre1") in recorder.events)
        assert recorder.state == server_state(emulator)

        copy = informer.get("pre0", "default")
        assert copy is not None and copy.data == {"v": "2"}
        copy.data = {"v": "mutated"}
        again = informer.get("pre0", "default")
        assert again is not None and again.data == {"v": "2"}, "readers get copies"


async def test_dropped_streams_resume_from_the_last_version_without_losing_deletes(
    emulator: Any, client: Client, eventually
) -> None:
    for i in range(5):
        await client.create(cm(f"o{i}"))
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    async with running(informer):
        for round_ in range(3):
            await drop_open_watches(emulator)
            # Changes made while the informer is reconnecting.
            await client.delete(ConfigMap, f"o{round_}", "default")
            await client.create(cm(f"n{round_}"))
            await eventually(lambda: recorder.state == informer_state(informer))
            server = server_state(emulator)
            await eventually(lambda s=server: recorder.state == s, what="handler state matches the server")
        assert [e for e in recorder.events if e[0] == "delete"] == [
            ("delete", f"default/o{i}") for i in range(3)
        ]
        assert list_requests(emulator) == 1, "a dropped stream is resumed by watching, not by listing again"


def informer_state(informer: Informer[ConfigMap]) -> dict[str, str]:
    return {obj.key: obj.metadata.resource_version or "" for obj in informer.store.list()}


async def test_410_gone_relists_and_delivers_the_difference_as_events(
    emulator: Any, client: Client, eventually
) -> None:
    for name in ("keep", "change", "remove", "recreate"):
        await client.create(cm(name))
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    async with running(informer):
        # Cut the stream and, before it reconnects, change everything and expire the history:
        # the resumed watch gets 410 Gone and only a new list can tell what happened.
        emulator.faults.set_latency(0.3, verbs={"watch"}, resources={"configmaps"})
        await drop_open_watches(emulator)
        changed = await client.get(ConfigMap, "change", "default")
        changed.data = {"v": "2"}
        await client.update(changed)
        await client.delete(ConfigMap, "remove", "default")
        await client.delete(ConfigMap, "recreate", "default")
        await client.create(cm("recreate", "fresh"))
        await client.create(cm("added"))
        emulator.faults.expire_history()
        emulator.faults.clear()
        await eventually(lambda: list_requests(emulator) >= 2, what="a second list after 410")
        server = server_state(emulator)
        await eventually(lambda: recorder.state == server, what="handler state matches the server")
        tail = recorder.events[4:]
        assert ("delete", "default/remove") in tail
        assert ("update", "default/change") in tail
        assert ("add", "default/added") in tail
        # Same name, new uid: the old object is deleted, the new one added.
        assert tail.index(("delete", "default/recreate")) < tail.index(("add", "default/recreate"))
        assert ("update", "default/keep") not in tail, "unchanged objects produce no event"


async def test_list_failures_back_off_and_recover(emulator: Any, client: Client) -> None:
    await client.create(cm("a"))
    emulator.faults.inject(500, verbs={"list"}, resources={"configmaps"}, count=3)
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    async with running(informer):
        assert informer.store.list_keys() == ["default/a"]
    assert list_requests(emulator) >= 2


async def test_selectors_scope_what_is_cached(client: Client) -> None:
    await client.create(cm("mine", app="kaito"))
    await client.create(cm("theirs", app="other"))
    await client.create(cm("elsewhere", namespace="kube-system", app="kaito"))
    by_label = Informer(client, ConfigMap, label_selector={"app": "kaito"}, backoff=FAST)
    by_field = Informer(client, ConfigMap, field_selector={"metadata.name": "theirs"}, backoff=FAST)
    async with running(by_label), running(by_field):
        assert sorted(by_label.store.list_keys()) == ["default/mine", "kube-system/elsewhere"]
        assert by_field.store.list_keys() == ["default/theirs"]
        assert [o.name for o in by_label.list(namespace="kube-system")] == ["elsewhere"]
        assert [o.name for o in by_label.list(label_selector={"app": "other"})] == []


def nodeclaim(name: str, workspace: str, namespace: str) -> NodeClaim:
    return NodeClaim.model_validate(
        {
            "metadata": {
                "name": name,
                "labels": {LABEL_WORKSPACE: workspace, LABEL_WORKSPACE_NAMESPACE: namespace},
            },
            "spec": {
                "requirements": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["x"]}
                ],
                "nodeClassRef": {"group": "karpenter.azure.com", "kind": "AKSNodeClass", "name": "default"},
            },
        }
    )


async def test_nodeclaims_indexed_by_workspace(client: Client, eventually) -> None:
    await client.create(nodeclaim("nc-a", "ws1", "team"))
    await client.create(nodeclaim("nc-b", "ws1", "team"))
    await client.create(nodeclaim("nc-c", "ws2", "team"))
    informer = Informer(client, NodeClaim, indexers={OWNER_INDEX: index_by_owner_labels(LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE)}, backoff=FAST)
    async with running(informer):
        assert [o.name for o in informer.by_index(OWNER_INDEX, "team/ws1")] == ["nc-a", "nc-b"]
        await client.delete(NodeClaim, "nc-a")
        await eventually(lambda: [o.name for o in informer.by_index(OWNER_INDEX, "team/ws1")] == ["nc-b"])


async def test_periodic_resync_redelivers_cached_objects_as_updates(client: Client, eventually) -> None:
    await client.create(cm("a"))
    informer = Informer(client, ConfigMap, namespace="default", resync_period=0.05, backoff=FAST)
    recorder = Recorder()
    informer.add_event_handler(recorder)
    async with running(informer):
        await eventually(lambda: recorder.events.count(("update", "default/a")) >= 2)


async def test_handlers_added_late_get_the_cache_replayed(client: Client) -> None:
    await client.create(cm("a"))
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    async with running(informer):
        late = Recorder()
        informer.add_event_handler(late)
        assert late.events == [("add", "default/a")]
        informer.remove_event_handler(late)


async def test_a_failing_handler_does_not_stop_the_others(client: Client, eventually) -> None:
    class Broken(Recorder):
        def on_add(self, obj: ConfigMap, is_in_initial_list: bool) -> None:
            raise RuntimeError("handler bug")

    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    good = Recorder()
    informer.add_event_handler(Broken())
    informer.add_event_handler(good)
    async with running(informer):
        await client.create(cm("a"))
        await eventually(lambda: ("add", "default/a") in good.events)


async def test_assumed_writes_are_read_back_until_the_watch_catches_up(client: Client, eventually) -> None:
    original = await client.create(cm("a"))
    informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
    recorder = Recorder()
    informer.add_event_handler(recorder)

    def data() -> dict[str, str] | None:
        obj = informer.get("a", "default")
        return obj.data if obj is not None else None

    async with running(informer):
        current = informer.get("a", "default")
        assert current is not None
        current.data = {"v": "written"}
        written = await client.update(current)
        informer.assume(written)
        assert data() == {"v": "written"}, "a reconcile reads its own write at once"
        informer.assume(original)  # older than what is known: ignored
        assert data() == {"v": "written"}
        await eventually(
            lambda: ("update", "default/a") in recorder.events, what="handlers still see the write"
        )

        await client.patch(ConfigMap, "a", {"data": {"v": "by someone else"}}, namespace="default")
        await eventually(
            lambda: data() == {"v": "by someone else"}, what="newer versions win over assumed ones"
        )

        await client.delete(ConfigMap, "a", "default")
        await eventually(lambda: data() is None)
        informer.assume(written)
        assert data() is None, "a write older than a seen delete does not resurrect the object"


async def test_bookmarks_advance_the_resume_version_of_a_quiet_watch(eventually) -> None:
    from kaito_sim import KubeEmulator

    async with KubeEmulator(bookmark_interval=0.05) as emu:
        config = await load_rest_config(str(emu.kubeconfig_path))
        async with Client(config, qps=None) as client:
            informer = Informer(client, ConfigMap, namespace="default", backoff=FAST)
            async with running(informer):
                synced_at = int(informer.last_sync_resource_version)
                # Writes to another kind move the server's resourceVersion; only bookmarks tell the informer.
                for i in range(3):
                    emu.client.create(SECRET, {"metadata": {"name": f"s{i}", "namespace": "default"}})
                await eventually(lambda: int(informer.last_sync_resource_version) > synced_at)
                assert informer.store.list_keys() == []
