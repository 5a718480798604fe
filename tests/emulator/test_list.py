"""List: label and field selectors, pagination."""

from __future__ import annotations

from helpers.restclient import RestClient


async def _names(cluster: RestClient, path: str, **params: str) -> list[str]:
    return [i["metadata"]["name"] for i in (await cluster.ok("GET", path, params=params))["items"]]


async def test_label_selectors(cluster: RestClient) -> None:
    for name, labels in (("a", {"env": "prod", "tier": "web"}), ("b", {"env": "dev"}), ("c", {"tier": "db"})):
        await cluster.ok("POST", cluster.cm(), {"metadata": {"name": name, "labels": labels}})
    cases = {
        "env=prod": ["a"],
        "env==dev": ["b"],
        "env!=prod": ["b", "c"],
        "env in (prod,dev)": ["a", "b"],
        "env notin (prod)": ["b", "c"],
        "tier": ["a", "c"],
        "!tier": ["b"],
        "env=prod,tier=web": ["a"],
    }
    for selector, expected in cases.items():
        assert await _names(cluster, cluster.cm(), labelSelector=selector) == expected, selector


async def test_bad_label_selector_is_bad_request(cluster: RestClient) -> None:
    resp = await cluster.request("GET", cluster.cm(), params={"labelSelector": "a in b"})
    assert resp.status == 400 and resp.body["reason"] == "BadRequest"


async def test_field_selectors(cluster: RestClient) -> None:
    for name in ("a", "b"):
        await cluster.ok("POST", cluster.cm(), {"metadata": {"name": name}})
    assert await _names(cluster, cluster.cm(), fieldSelector="metadata.name=b") == ["b"]
    assert await _names(cluster, cluster.cm(), fieldSelector="metadata.name!=b") == ["a"]
    assert await _names(
        cluster, "/api/v1/configmaps", fieldSelector=f"metadata.namespace={cluster.namespace},metadata.name=a"
    ) == ["a"]
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], "nodeName": "no-such-node"},
    }
    await cluster.ok("POST", cluster.ns_path("pods"), pod)
    assert await _names(cluster, cluster.ns_path("pods"), fieldSelector="spec.nodeName=no-such-node") == ["p"]
    assert await _names(cluster, cluster.ns_path("pods"), fieldSelector="status.phase=Running") == []
    unsupported = await cluster.request("GET", cluster.cm(), params={"fieldSelector": "data.x=1"})
    assert unsupported.status == 400
    assert unsupported.body["message"] == "field label not supported: data.x"


async def test_event_involved_object_field_selectors(cluster: RestClient) -> None:
    cm = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    event = {
        "metadata": {"name": "a.1"},
        "reason": "Tested",
        "message": "hello",
        "type": "Normal",
        "involvedObject": {
            "kind": "ConfigMap",
            "namespace": cluster.namespace,
            "name": "a",
            "uid": cm["metadata"]["uid"],
            "apiVersion": "v1",
        },
    }
    await cluster.ok("POST", cluster.ns_path("events"), event)
    selector = (
        f"involvedObject.name=a,involvedObject.namespace={cluster.namespace},"
        f"involvedObject.kind=ConfigMap,involvedObject.uid={cm['metadata']['uid']}"
    )
    assert await _names(cluster, cluster.ns_path("events"), fieldSelector=selector) == ["a.1"]


async def test_pagination(cluster: RestClient) -> None:
    for i in range(7):
        await cluster.ok("POST", cluster.cm(), {"metadata": {"name": f"cm-{i}"}})
    seen: list[str] = []
    params = {"limit": "3"}
    versions = set()
    pages = 0
    while True:
        page = await cluster.ok("GET", cluster.cm(), params=params)
        pages += 1
        seen += [i["metadata"]["name"] for i in page["items"]]
        versions.add(page["metadata"]["resourceVersion"])
        token = page["metadata"].get("continue")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 7 - len(seen)
        params = {"limit": "3", "continue": token}
    assert seen == [f"cm-{i}" for i in range(7)] and pages == 3 and len(versions) == 1
