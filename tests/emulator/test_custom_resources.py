"""CRD-served resources: defaults, pruning, validation, CEL, versions, status subresource, generation."""

from __future__ import annotations

from typing import Any

from helpers.restclient import RestClient


def widget(name: str = "w", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.kaito.sh/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": "small", **spec},
    }


async def test_defaults_and_pruning(cluster: RestClient) -> None:
    body = widget(extra={"anything": {"goes": [1, 2]}})
    body["spec"]["unknownField"] = 1
    body["topLevelJunk"] = True
    created = await cluster.ok("POST", cluster.widgets(), body, params={"fieldValidation": "Ignore"})
    assert created["spec"] == {
        "size": "small",
        "replicas": 1,
        "maxReplicas": 5,
        "color": "blue",
        "extra": {"anything": {"goes": [1, 2]}},
    }
    assert "topLevelJunk" not in created


async def test_unknown_fields_warn_by_default_and_fail_when_strict(cluster: RestClient) -> None:
    body = widget()
    body["spec"]["bogus"] = 1
    warned = await cluster.request("POST", cluster.widgets(), body)
    assert warned.status == 201
    assert 'unknown field \\"spec.bogus\\"' in warned.headers.get("Warning", "")
    body["metadata"]["name"] = "w2"
    strict = await cluster.request("POST", cluster.widgets(), body, params={"fieldValidation": "Strict"})
    assert strict.status == 400
    assert strict.body["message"] == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding '
        'error: unknown field "spec.bogus"'
    )


async def test_schema_validation_causes(cluster: RestClient) -> None:
    body = widget(replicas=11, color="Red", tags=["a", "b", "c", "d"])
    body["spec"]["size"] = "huge"
    resp = await cluster.request("POST", cluster.widgets(), body)
    assert resp.status == 422
    assert resp.body["reason"] == "Invalid"
    assert resp.body["message"].startswith('Widget.test.kaito.sh "w" is invalid: [')
    causes = {c["field"]: c for c in resp.body["details"]["causes"]}
    assert causes["spec.size"]["reason"] == "FieldValueNotSupported"
    assert (
        causes["spec.size"]["message"]
        == 'Unsupported value: "huge": supported values: "small", "medium", "large"'
    )
    assert causes["spec.replicas"]["message"] == (
        "Invalid value: 11: spec.replicas in body should be less than or equal to 10"
    )
    assert (
        causes["spec.color"]["message"]
        == "Invalid value: \"Red\": spec.color in body should match '^[a-z]+$'"
    )
    assert causes["spec.tags"]["reason"] == "FieldValueTooMany"
    assert causes["spec.tags"]["message"] == "Too many: 4: must have at most 3 items"


async def test_type_and_required(cluster: RestClient) -> None:
    resp = await cluster.request(
        "POST",
        cluster.widgets(),
        {
            "apiVersion": "test.kaito.sh/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"replicas": "x"},
        },
    )
    assert resp.status == 422
    causes = {c["field"]: c for c in resp.body["details"]["causes"]}
    assert causes["spec.size"]["message"] == "Required value"
    assert causes["spec.replicas"]["message"] == (
        'Invalid value: "string": spec.replicas in body must be of type integer: "string"'
    )


async def test_cel_rules_and_transition_rules(cluster: RestClient) -> None:
    resp = await cluster.request("POST", cluster.widgets(), widget(replicas=6, maxReplicas=5))
    assert resp.status == 422
    assert resp.body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec",
            "message": 'Invalid value: "object": replicas must not exceed maxReplicas',
        }
    ]
    created = await cluster.ok("POST", cluster.widgets(), widget(owner="alice"))
    created["spec"]["owner"] = "bob"
    changed = await cluster.request("PUT", cluster.widgets("w"), created)
    assert changed.status == 422
    assert (
        changed.body["message"]
        == 'Widget.test.kaito.sh "w" is invalid: spec: Invalid value: "object": owner '
        "is immutable"
    )


async def test_served_in_every_version(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.widgets(), widget())
    as_beta = await cluster.ok("GET", cluster.widgets("w", version="v1beta1"))
    assert as_beta["apiVersion"] == "test.kaito.sh/v1beta1"
    as_beta["spec"]["replicas"] = 2
    await cluster.ok("PUT", cluster.widgets("w", version="v1beta1"), as_beta)
    as_v1 = await cluster.ok("GET", cluster.widgets("w"))
    assert as_v1["apiVersion"] == "test.kaito.sh/v1" and as_v1["spec"]["replicas"] == 2


async def test_generation_and_status_subresource(cluster: RestClient) -> None:
    created = await cluster.ok("POST", cluster.widgets(), {**widget(), "status": {"phase": "ignored"}})
    assert created["metadata"]["generation"] == 1 and "status" not in created
    created["metadata"]["labels"] = {"a": "b"}
    labelled = await cluster.ok("PUT", cluster.widgets("w"), created)
    assert labelled["metadata"]["generation"] == 1
    labelled["spec"]["replicas"] = 3
    labelled["status"] = {"phase": "main-write-ignores-status"}
    respec = await cluster.ok("PUT", cluster.widgets("w"), labelled)
    assert respec["metadata"]["generation"] == 2 and "status" not in respec
    respec["status"] = {"phase": "Ready"}
    respec["spec"]["replicas"] = 4
    status = await cluster.ok("PUT", cluster.widgets("w") + "/status", respec)
    assert status["status"] == {"phase": "Ready"}
    assert status["spec"]["replicas"] == 3 and status["metadata"]["generation"] == 2


async def test_strategic_merge_patch_is_refused_for_custom_resources(cluster: RestClient) -> None:
    await cluster.ok("POST", cluster.widgets(), widget())
    resp = await cluster.request(
        "PATCH",
        cluster.widgets("w"),
        {"spec": {"replicas": 2}},
        content_type="application/strategic-merge-patch+json",
    )
    assert resp.status == 415
    assert resp.body["reason"] == "UnsupportedMediaType"


async def test_crd_created_through_the_api_is_served_then_removed(cluster: RestClient) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gizmos{cluster.namespace[-8:]}.test.kaito.sh"},
        "spec": {
            "group": "test.kaito.sh",
            "scope": "Cluster",
            "names": {"plural": f"gizmos{cluster.namespace[-8:]}", "kind": f"Gizmo{cluster.namespace[-8:]}"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    plural = crd["spec"]["names"]["plural"]
    await cluster.ensure_crd(crd)
    path = f"/apis/test.kaito.sh/v1/{plural}"
    from helpers.restclient import wait_for

    async def creatable() -> bool:
        resp = await cluster.request(
            "POST",
            path,
            {
                "apiVersion": "test.kaito.sh/v1",
                "kind": crd["spec"]["names"]["kind"],
                "metadata": {"name": "g"},
                "anything": {"x": 1},
            },
        )
        return resp.status in (201, 409)

    await wait_for(creatable, "the new resource to be served")
    got = await cluster.ok("GET", f"{path}/g")
    assert got["anything"] == {"x": 1}
    await cluster.ok(
        "DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
    )

    async def unserved() -> bool:
        return (await cluster.request("GET", path)).status == 404

    await wait_for(unserved, "the resource to stop being served")
