"""Server-side Table output (what ``kubectl get`` prints)."""

from __future__ import annotations

from helpers.restclient import TABLE, RestClient


async def test_custom_resource_printer_columns(cluster: RestClient) -> None:
    await cluster.ok(
        "POST",
        cluster.widgets(),
        {
            "apiVersion": "test.kaito.sh/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": "medium", "replicas": 2},
        },
    )
    await cluster.ok(
        "PATCH",
        cluster.widgets("w") + "/status",
        {
            "status": {
                "conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True"}]
            }
        },
        content_type="application/merge-patch+json",
    )
    table = await cluster.ok("GET", cluster.widgets(), accept=TABLE)
    assert table["kind"] == "Table"
    columns = [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", "string", 0),
        ("Size", "string", 0),
        ("Replicas", "integer", 0),
        ("Ready", "string", 0),
        ("Color", "string", 1),
        ("Age", "date", 0),
    ]
    cells = table["rows"][0]["cells"]
    assert cells[:5] == ["w", "medium", 2, "True", "blue"]
    assert cells[5].endswith("s")
    assert table["rows"][0]["object"]["metadata"]["name"] == "w"


async def test_builtin_printers(cluster: RestClient) -> None:
    await cluster.ok(
        "POST",
        cluster.ns_path("services"),
        {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    )
    table = await cluster.ok("GET", cluster.ns_path("services"), accept=TABLE)
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:6] == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"]
    cells = table["rows"][0]["cells"]
    assert cells[0] == "web" and cells[1] == "ClusterIP" and cells[3] == "<none>" and cells[4] == "80/TCP"
    await cluster.ok(
        "POST",
        cluster.ns_path("pods"),
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    )
    pods = await cluster.ok("GET", cluster.ns_path("pods", "p"), accept=TABLE)
    assert [c["name"] for c in pods["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert pods["rows"][0]["cells"][:4] == ["p", "0/1", "Pending", "0"]
