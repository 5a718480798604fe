"""Finalizers, deletionTimestamp, owner-reference garbage collection, namespace deletion."""

from __future__ import annotations

from typing import Any

from helpers.restclient import RestClient, wait_for

FINALIZER = "test.kaito.sh/hold"


async def _gone(cluster: RestClient, path: str) -> bool:
    return (await cluster.request("GET", path)).status == 404


def owned_by(
    owner: dict[str, Any], name: str, block: bool = False, finalizers: list[str] | None = None
) -> dict[str, Any]:
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if block:
        ref["blockOwnerDeletion"] = True
    meta: dict[str, Any] = {"name": name, "ownerReferences": [ref]}
    if finalizers:
        meta["finalizers"] = finalizers
    return {"metadata": meta}


async def test_finalizer_holds_object_until_removed(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a", "finalizers": [FINALIZER]}})
    deleting = await cluster.ok("DELETE", cluster.cm("a"))
    assert deleting["metadata"]["deletionTimestamp"]
    held = await cluster.ok("GET", cluster.cm("a"))
    assert held["metadata"]["finalizers"] == [FINALIZER] and held["metadata"]["deletionTimestamp"]
    added = await cluster.request(
        "PUT",
        cluster.cm("a"),
        {**held, "metadata": {**held["metadata"], "finalizers": [FINALIZER, "test.kaito.sh/other"]}},
    )
    assert added.status == 422
    assert "no new finalizers can be added if the object is being deleted" in added.body["message"]
    held["metadata"]["finalizers"] = []
    await cluster.ok("PUT", cluster.cm("a"), held)
    assert await _gone(cluster, cluster.cm("a"))


async def test_background_cascading_deletion(cluster: RestClient) -> None:
    owner = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "owner"}})
    for i in range(3):
        await cluster.ok("POST", cluster.cm(), owned_by(owner, f"child-{i}"))
    await cluster.ok("DELETE", cluster.cm("owner"), {"propagationPolicy": "Background"})

    async def children_gone() -> bool:
        items = (await cluster.ok("GET", cluster.cm()))["items"]
        return not [i for i in items if i["metadata"]["name"].startswith("child-")]

    await wait_for(children_gone, "dependents to be garbage collected")


async def test_foreground_deletion_waits_for_blocking_dependents(cluster: RestClient) -> None:
    owner = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "owner"}})
    await cluster.ok("POST", cluster.cm(), owned_by(owner, "child", block=True, finalizers=[FINALIZER]))
    await cluster.ok("DELETE", cluster.cm("owner"), {"propagationPolicy": "Foreground"})

    async def child_deleting() -> dict[str, Any] | None:
        child = await cluster.ok("GET", cluster.cm("child"))
        return child if child["metadata"].get("deletionTimestamp") else None

    child = await wait_for(child_deleting, "the dependent to be deleted")
    owner_now = await cluster.ok("GET", cluster.cm("owner"))
    assert "foregroundDeletion" in owner_now["metadata"]["finalizers"]
    assert owner_now["metadata"]["deletionTimestamp"]
    child["metadata"]["finalizers"] = []
    await cluster.ok("PUT", cluster.cm("child"), child)

    async def owner_gone() -> bool:
        return await _gone(cluster, cluster.cm("owner"))

    await wait_for(owner_gone, "the owner to go once its blocking dependent is gone")


async def test_orphan_deletion_keeps_dependents(cluster: RestClient) -> None:
    owner = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "owner"}})
    await cluster.ok("POST", cluster.cm(), owned_by(owner, "child"))
    await cluster.ok("DELETE", cluster.cm("owner"), {"propagationPolicy": "Orphan"})

    async def owner_gone() -> bool:
        return await _gone(cluster, cluster.cm("owner"))

    await wait_for(owner_gone, "the owner to be deleted")
    child = await cluster.ok("GET", cluster.cm("child"))
    assert not child["metadata"].get("ownerReferences")


async def test_delete_preconditions(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    resp = await cluster.request("DELETE", cluster.cm("a"), {"preconditions": {"uid": "not-the-uid"}})
    assert resp.status == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in resp.body["message"]


async def test_namespace_deletion_removes_its_objects(cluster: RestClient) -> None:
    namespace = f"{cluster.namespace}-x"
    await cluster.ok("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    await cluster.ok("POST", cluster.ns_path("configmaps", namespace=namespace), {"metadata": {"name": "a"}})
    deleting = await cluster.ok("DELETE", f"/api/v1/namespaces/{namespace}")
    assert deleting["metadata"]["deletionTimestamp"]

    async def gone() -> bool:
        return await _gone(cluster, f"/api/v1/namespaces/{namespace}")

    await wait_for(gone, "the namespace to be deleted", timeout=120)
    resp = await cluster.request("GET", cluster.ns_path("configmaps", "a", namespace=namespace))
    assert resp.status == 404
