"""The indexed store, event handlers (mapping objects to owners), predicates and label selectors."""

from __future__ import annotations

import pytest

from kaito.api.core import ConfigMap, Deployment, Node
from kaito.api.karpenter import NodeClaim
from kaito.api.meta import LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference
from kaito.api.wellknown import LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE
from kaito.api.workspace import Workspace
from kaito.kube import labels
from kaito.kube.handlers import (
    EnqueueRequestForLabelledOwner,
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
)
from kaito.kube.predicates import (
    AnnotationsChanged,
    Funcs,
    GenerationChanged,
    LabelsChanged,
    LabelSelectorMatches,
    Not,
    Or,
    ResourceVersionChanged,
)
from kaito.kube.reconcile import Request
from kaito.kube.store import (
    NAMESPACE_INDEX,
    Store,
    index_by_label,
    index_by_namespace,
    index_by_owner_labels,
)
from kaito.kube.workqueue import Queue

OWNER_INDEX = "owner"


def cm(name: str, namespace: str = "ns", **meta: object) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, namespace=namespace, **meta))  # type: ignore[arg-type]


def nodeclaim(name: str, workspace: str | None = None, namespace: str = "default") -> NodeClaim:
    lbls = {LABEL_WORKSPACE: workspace, LABEL_WORKSPACE_NAMESPACE: namespace} if workspace else {}
    return NodeClaim.model_validate(
        {
            "metadata": {"name": name, "labels": lbls},
            "spec": {"requirements": [], "nodeClassRef": {"group": "g", "kind": "k", "name": "n"}},
        }
    )


async def drain(queue: Queue[Request]) -> set[Request]:
    items: set[Request] = set()
    while len(queue):
        item = await queue.get()
        queue.done(item)
        items.add(item)
    return items


# The store.


def test_store_indexes_by_namespace_label_and_workspace() -> None:
    store: Store[NodeClaim] = Store(
        {
            NAMESPACE_INDEX: index_by_namespace,
            "pool": index_by_label("pool"),
            OWNER_INDEX: index_by_owner_labels(LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE),
        }
    )
    a = nodeclaim("a", "ws1")
    b = nodeclaim("b", "ws1")
    c = nodeclaim("c", "ws2", namespace="team")
    d = nodeclaim("d")
    for obj in (a, b, c, d):
        store.upsert(obj)
    assert [o.name for o in store.by_index(OWNER_INDEX, "default/ws1")] == ["a", "b"]
    assert [o.name for o in store.by_index(OWNER_INDEX, "team/ws2")] == ["c"]
    assert store.index_values(OWNER_INDEX) == ["default/ws1", "team/ws2"]
    assert len(store.by_index(NAMESPACE_INDEX, "")) == 4
    assert store.by_index("pool", "x") == []

    # Moving an object between owners re-indexes it; deleting removes empty index entries.
    moved = nodeclaim("b", "ws2", namespace="team")
    assert store.upsert(moved) is b
    assert store.index_keys(OWNER_INDEX, "default/ws1") == ["a"]
    assert store.index_keys(OWNER_INDEX, "team/ws2") == ["b", "c"]
    assert store.delete("a") is a
    assert store.index_values(OWNER_INDEX) == ["team/ws2"]
    assert store.delete("a") is None
    assert len(store) == 3 and "b" in store and store.get("b") is moved


def test_indexers_added_later_index_what_is_stored_and_names_are_unique() -> None:
    store: Store[ConfigMap] = Store()
    store.upsert(cm("a", labels={"app": "x"}))
    store.upsert(cm("b", labels={"app": "y"}))
    store.add_indexers({"app": index_by_label("app")})
    assert [o.name for o in store.by_index("app", "x")] == ["a"]
    with pytest.raises(ValueError):
        store.add_indexers({"app": index_by_label("app")})
    with pytest.raises(KeyError):
        store.by_index("missing", "x")


# Handlers.


async def test_enqueue_for_object_uses_namespace_and_name() -> None:
    q: Queue[Request] = Queue()
    EnqueueRequestForObject().create(cm("a"), q)
    EnqueueRequestForObject().delete(nodeclaim("n"), q)
    assert await drain(q) == {Request("a", "ns"), Request("n")}


def owned(
    name: str, owner: str, *, controller: bool = True, api_version: str = "kaito.sh/v1beta1"
) -> Deployment:
    ref = OwnerReference(
        api_version=api_version, kind="Workspace", name=owner, uid="u", controller=controller
    )
    return Deployment(metadata=ObjectMeta(name=name, namespace="ns", owner_references=[ref]))


async def test_enqueue_for_owner_follows_the_controller_reference_of_the_owner_kind() -> None:
    q: Queue[Request] = Queue()
    handler = EnqueueRequestForOwner(Workspace)
    handler.create(owned("d", "ws"), q)
    handler.create(owned("d2", "other", controller=False), q)  # not the controller: ignored
    handler.create(owned("d3", "old", api_version="kaito.sh/v1alpha1"), q)  # any version of the group
    handler.create(Deployment(metadata=ObjectMeta(name="x", namespace="ns")), q)
    assert await drain(q) == {Request("ws", "ns"), Request("old", "ns")}
    EnqueueRequestForOwner(Workspace, only_controller=False).create(owned("d2", "other", controller=False), q)
    assert await drain(q) == {Request("other", "ns")}


async def test_update_enqueues_the_owners_of_both_old_and_new() -> None:
    q: Queue[Request] = Queue()
    EnqueueRequestForOwner(Workspace).update(owned("d", "before"), owned("d", "after"), q)
    assert await drain(q) == {Request("before", "ns"), Request("after", "ns")}


async def test_labelled_owner_maps_cluster_scoped_objects_to_their_workspace() -> None:
    q: Queue[Request] = Queue()
    handler = EnqueueRequestForLabelledOwner(LABEL_WORKSPACE, LABEL_WORKSPACE_NAMESPACE)
    handler.create(nodeclaim("nc1", "ws", "team"), q)
    handler.create(nodeclaim("stray"), q)
    node = Node(
        metadata=ObjectMeta(name="n1", labels={LABEL_WORKSPACE: "ws2", LABEL_WORKSPACE_NAMESPACE: "t2"})
    )
    handler.delete(node, q)
    assert await drain(q) == {Request("ws", "team"), Request("ws2", "t2")}


async def test_map_func_handler() -> None:
    q: Queue[Request] = Queue()
    handler = EnqueueRequestsFromMapFunc(
        lambda obj: [Request(obj.name + "-a", "x"), Request(obj.name + "-b", "x")]
    )
    handler.generic(cm("o"), q)
    assert await drain(q) == {Request("o-a", "x"), Request("o-b", "x")}


# Predicates.


def test_generation_resource_version_label_and_annotation_predicates() -> None:
    old = cm("a", generation=1, resource_version="1", labels={"a": "1"}, annotations={"n": "1"})
    status_only = cm("a", generation=1, resource_version="2", labels={"a": "1"}, annotations={"n": "1"})
    spec_change = cm("a", generation=2, resource_version="3", labels={"a": "1"}, annotations={"n": "1"})
    relabel = cm("a", generation=1, resource_version="4", labels={"a": "2"}, annotations={"n": "2"})
    assert not GenerationChanged().update(old, status_only)
    assert GenerationChanged().update(old, spec_change)
    assert (
        GenerationChanged().create(old)
        and GenerationChanged().delete(old)
        and GenerationChanged().generic(old)
    )
    assert not ResourceVersionChanged().update(old, old)
    assert ResourceVersionChanged().update(old, status_only)
    assert LabelsChanged().update(old, relabel) and not LabelsChanged().update(old, spec_change)
    assert AnnotationsChanged().update(old, relabel) and not AnnotationsChanged().update(old, status_only)


def test_label_selector_predicate_and_combinators() -> None:
    match = LabelSelectorMatches({"app": "x"})
    yes, no = cm("a", labels={"app": "x", "z": "1"}), cm("b", labels={"app": "y"})
    assert match.create(yes) and not match.create(no)
    assert match.update(no, yes) and not match.update(yes, no)
    assert not Not(match).delete(yes) and Not(match).generic(no)
    either = Or(GenerationChanged(), LabelsChanged())
    assert either.update(cm("a", generation=1), cm("a", generation=2))
    assert not either.update(cm("a", generation=1), cm("a", generation=1))
    ignore_deletes: Funcs[ConfigMap] = Funcs(on_delete=lambda obj: False)
    assert ignore_deletes.create(yes) and ignore_deletes.update(yes, no) and not ignore_deletes.delete(yes)


# Label selectors.


def test_label_selector_matching_and_query_string() -> None:
    sel = LabelSelector(
        match_labels={"app": "llm"},
        match_expressions=[
            LabelSelectorRequirement(key="tier", operator="In", values=["gpu", "cpu"]),
            LabelSelectorRequirement(key="zone", operator="NotIn", values=["z9"]),
            LabelSelectorRequirement(key="owned", operator="Exists"),
            LabelSelectorRequirement(key="legacy", operator="DoesNotExist"),
        ],
    )
    assert labels.matches(sel, {"app": "llm", "tier": "gpu", "owned": ""})
    assert not labels.matches(sel, {"app": "llm", "tier": "tpu", "owned": ""})
    assert not labels.matches(sel, {"app": "llm", "tier": "gpu", "owned": "", "zone": "z9"})
    assert not labels.matches(sel, {"app": "llm", "tier": "gpu", "owned": "", "legacy": "1"})
    assert not labels.matches(sel, None)
    assert labels.matches({}, None)
    assert labels.format_selector(sel) == "app=llm,tier in (cpu,gpu),zone notin (z9),owned,!legacy"
    assert labels.selector_query({"b": "2", "a": "1"}) == "a=1,b=2"
    assert labels.field_selector_query({"spec.nodeName": "n1"}) == "spec.nodeName=n1"
    with pytest.raises(ValueError):
        labels.matches(
            LabelSelector(match_expressions=[LabelSelectorRequirement(key="k", operator="Near")]), {}
        )
