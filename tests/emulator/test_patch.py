"""Merge patch, JSON patch and strategic merge patch."""

from __future__ import annotations

from typing import Any

from helpers.restclient import RestClient

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


def deployment(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
        },
    }


async def test_merge_patch(cluster: RestClient) -> None:
    await cluster.ok(
        "POST", cluster.cm(), {"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"a": "1"}}
    )
    patched = await cluster.ok(
        "PATCH",
        cluster.cm("a"),
        {"metadata": {"labels": {"x": None, "y": "2"}}, "data": {"b": "2"}},
        content_type=MERGE,
    )
    assert patched["metadata"]["labels"] == {"y": "2"} and patched["data"] == {"a": "1", "b": "2"}


async def test_json_patch(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"a": "1"}})
    ops = [
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "replace", "path": "/data/a", "value": "9"},
        {"op": "test", "path": "/data/b", "value": "2"},
    ]
    patched = await cluster.ok("PATCH", cluster.cm("a"), ops, content_type=JSON_PATCH)
    assert patched["data"] == {"a": "9", "b": "2"}
    failing = await cluster.request(
        "PATCH", cluster.cm("a"), [{"op": "test", "path": "/data/a", "value": "0"}], content_type=JSON_PATCH
    )
    assert failing.status == 422
    missing = await cluster.request(
        "PATCH", cluster.cm("a"), [{"op": "remove", "path": "/data/zzz"}], content_type=JSON_PATCH
    )
    assert missing.status == 422


async def test_patch_with_stale_resource_version_conflicts(cluster: RestClient) -> None:
    created = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    await cluster.ok("PATCH", cluster.cm("a"), {"data": {"x": "1"}}, content_type=MERGE)
    stale = await cluster.request(
        "PATCH",
        cluster.cm("a"),
        {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"x": "2"}},
        content_type=MERGE,
    )
    assert stale.status == 409


async def test_strategic_merge_patch_merges_lists_by_key(cluster: RestClient) -> None:
    path = cluster.ns_path("deployments", group="apps")
    await cluster.ok(
        "POST",
        path,
        deployment(
            [
                {"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}]},
                {"name": "b", "image": "busybox:1"},
            ]
        ),
    )
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "nginx:2", "env": [{"name": "Y", "value": "2"}]},
                        {"name": "b", "$patch": "delete"},
                        {"name": "c", "image": "redis:7"},
                    ]
                }
            }
        }
    }
    patched = await cluster.ok("PATCH", f"{path}/web", patch, content_type=STRATEGIC)
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a", "c"]
    assert containers[0]["image"] == "nginx:2"
    assert containers[0]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]
    assert patched["metadata"]["generation"] == 2


async def test_strategic_merge_patch_replaces_lists_without_merge_key(cluster: RestClient) -> None:
    path = cluster.ns_path("deployments", group="apps")
    base = deployment([{"name": "a", "image": "nginx:1", "args": ["x", "y"]}])
    await cluster.ok("POST", path, base)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "a", "args": ["z"]}]}}}}
    patched = await cluster.ok("PATCH", f"{path}/web", patch, content_type=STRATEGIC)
    assert patched["spec"]["template"]["spec"]["containers"][0]["args"] == ["z"]


async def test_status_patch(cluster: RestClient) -> None:
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
    patched = await cluster.ok(
        "PATCH",
        cluster.widgets("w") + "/status",
        {"status": {"phase": "Ready"}, "spec": {"size": "large"}},
        content_type=MERGE,
    )
    assert patched["status"] == {"phase": "Ready"} and patched["spec"]["size"] == "small"
