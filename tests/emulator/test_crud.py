"""Create / read / update / delete semantics every client relies on."""

from __future__ import annotations

from helpers.restclient import RestClient


async def test_create_get_update_delete_bumps_resource_version(cluster: RestClient) -> None:
    created = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"k": "v"}})
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["namespace"] == cluster.namespace
    got = await cluster.ok("GET", cluster.cm("a"))
    assert got["data"] == {"k": "v"} and got["metadata"]["resourceVersion"] == meta["resourceVersion"]
    got["data"]["k"] = "w"
    updated = await cluster.ok("PUT", cluster.cm("a"), got)
    assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    listed = await cluster.ok("GET", cluster.cm())
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(updated["metadata"]["resourceVersion"])
    await cluster.ok("DELETE", cluster.cm("a"))
    gone = await cluster.request("GET", cluster.cm("a"))
    assert gone.status == 404
    assert gone.body["reason"] == "NotFound"
    assert gone.body["message"] == 'configmaps "a" not found'
    assert gone.body["details"] == {"name": "a", "kind": "configmaps"}


async def test_stale_update_conflicts(cluster: RestClient) -> None:
    first = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"n": "1"}})
    await cluster.ok("PUT", cluster.cm("a"), {**first, "data": {"n": "2"}})
    stale = await cluster.request("PUT", cluster.cm("a"), {**first, "data": {"n": "3"}})
    assert stale.status == 409
    assert stale.body["reason"] == "Conflict"
    assert stale.body["message"] == (
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your '
        "changes to the latest version and try again"
    )


async def test_update_without_resource_version_is_unconditional(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"n": "1"}})
    updated = await cluster.ok("PUT", cluster.cm("a"), {"metadata": {"name": "a"}, "data": {"n": "2"}})
    assert updated["data"] == {"n": "2"}


async def test_noop_update_keeps_resource_version(cluster: RestClient) -> None:
    created = await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}, "data": {"n": "1"}})
    same = await cluster.ok("PUT", cluster.cm("a"), created)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_already_exists(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.cm(), {"metadata": {"name": "a"}})
    again = await cluster.request("POST", cluster.cm(), {"metadata": {"name": "a"}})
    assert again.status == 409
    assert again.body["reason"] == "AlreadyExists"
    assert again.body["message"] == 'configmaps "a" already exists'


async def test_generate_name(cluster: RestClient) -> None:
    names = set()
    for _ in range(3):
        created = await cluster.ok("POST", cluster.cm(), {"metadata": {"generateName": "gen-"}})
        name = created["metadata"]["name"]
        assert name.startswith("gen-") and len(name) == len("gen-") + 5
        names.add(name)
    assert len(names) == 3


async def test_create_in_missing_namespace_is_not_found(cluster: RestClient) -> None:
    resp = await cluster.request(
        "POST", cluster.ns_path("configmaps", namespace="no-such-ns-kaito"), {"metadata": {"name": "a"}}
    )
    assert resp.status == 404
    assert resp.body["message"] == 'namespaces "no-such-ns-kaito" not found'
    assert resp.body["details"] == {"name": "no-such-ns-kaito", "kind": "namespaces"}


async def test_invalid_name_is_unprocessable_with_causes(cluster: RestClient) -> None:
    resp = await cluster.request("POST", cluster.cm(), {"metadata": {"name": "Bad_Name"}})
    assert resp.status == 422
    assert resp.body["reason"] == "Invalid"
    assert resp.body["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
        '"Bad_Name": a lowercase RFC 1123 subdomain'
    )
    causes = resp.body["details"]["causes"]
    assert causes[0]["field"] == "metadata.name" and causes[0]["reason"] == "FieldValueInvalid"


async def test_missing_name(cluster: RestClient) -> None:
    resp = await cluster.request("POST", cluster.cm(), {"metadata": {}})
    assert resp.status == 422
    assert "name or generateName is required" in resp.body["message"]


async def test_namespace_mismatch_is_bad_request(cluster: RestClient) -> None:
    resp = await cluster.request("POST", cluster.cm(), {"metadata": {"name": "a", "namespace": "other"}})
    assert resp.status == 400
    assert resp.body["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


async def test_service_cluster_ip_allocation(cluster: RestClient) -> None:
    svc = await cluster.ok(
        "POST",
        cluster.ns_path("services"),
        {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    )
    assert svc["spec"]["clusterIP"] not in ("", "None")
    assert svc["spec"]["clusterIPs"] == [svc["spec"]["clusterIP"]]
    assert svc["spec"]["ports"][0]["targetPort"] == 80 and svc["spec"]["ports"][0]["protocol"] == "TCP"
    headless = await cluster.ok(
        "POST",
        cluster.ns_path("services"),
        {
            "metadata": {"name": "web-headless"},
            "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )
    assert headless["spec"]["clusterIP"] == "None"


async def test_system_namespaces_exist(cluster: RestClient) -> None:
    listed = await cluster.ok("GET", "/api/v1/namespaces")
    names = {n["metadata"]["name"] for n in listed["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


async def test_discovery(cluster: RestClient) -> None:
    version = await cluster.ok("GET", "/version")
    assert version["major"] == "1"
    core = await cluster.ok("GET", "/api/v1")
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert (
        pods["namespaced"]
        and pods["kind"] == "Pod"
        and "watch" in pods["verbs"]
        and "po" in pods["shortNames"]
    )
    assert any(r["name"] == "pods/status" for r in core["resources"])
    groups = await cluster.ok("GET", "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "batch", "coordination.k8s.io", "test.kaito.sh"} <= names
    widgets = await cluster.ok("GET", "/apis/test.kaito.sh/v1")
    entry = next(r for r in widgets["resources"] if r["name"] == "widgets")
    assert entry["shortNames"] == ["wg"] and entry["categories"] == ["kaito-test"]
