"""AdmissionReview v1 handling: allowed, denied with the validation messages, warnings, bad requests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kaito.validation import ValidationContext
from kaito.webhook.admission import BadAdmissionReview, review

WORKSPACE: dict[str, Any] = {
    "apiVersion": "kaito.sh/v1alpha1",
    "kind": "Workspace",
    "metadata": {"name": "workspace-phi-3-mini"},
    "resource": {"instanceType": "Standard_NC6s_v3", "labelSelector": {"matchLabels": {"apps": "phi-3"}}},
    "inference": {"preset": {"name": "phi-3-mini-4k-instruct"}},
}


def admission_review(operation: str, obj: Any, old: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "kaito.sh", "version": "v1alpha1", "kind": "Workspace"},
        "resource": {"group": "kaito.sh", "version": "v1alpha1", "resource": "workspaces"},
        "namespace": "team-a",
        "operation": operation,
        "object": obj,
    }
    if old is not None:
        request["oldObject"] = old
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def test_valid_create_is_allowed() -> None:
    response = review(admission_review("CREATE", WORKSPACE), ValidationContext())
    assert response == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": True},
    }


def test_invalid_create_is_denied_with_every_message() -> None:
    bad = copy.deepcopy(WORKSPACE)
    bad["resource"]["instanceType"] = "Standard_Bad"
    bad["inference"]["adapters"] = [{"source": {"name": "a", "image": "BAD:1"}, "strength": "3"}]
    response = review(admission_review("CREATE", bad), ValidationContext())["response"]
    assert response["allowed"] is False
    assert response["status"]["code"] == 400 and response["status"]["reason"] == "BadRequest"
    message = response["status"]["message"]
    assert "resource.instanceType: Unsupported instance type Standard_Bad" in message
    assert "inference.adapters[0].source.image: Unable to parse adapter image reference" in message
    assert "inference.adapters[0].strength: Strength value for Adapter 'a' must be between 0 and 1" in message


def test_update_rules_use_the_old_object() -> None:
    new = copy.deepcopy(WORKSPACE)
    new["resource"]["count"] = 3
    response = review(admission_review("UPDATE", new, WORKSPACE), ValidationContext())["response"]
    assert not response["allowed"]
    assert "resource.count: field is immutable" in response["status"]["message"]


def test_warnings_are_returned_with_an_allowed_answer() -> None:
    warned = copy.deepcopy(WORKSPACE)
    warned["resource"]["instanceType"] = "Standard_NC99_future"
    response = review(admission_review("CREATE", warned), ValidationContext())["response"]
    assert response["allowed"] is True
    assert response["warnings"][0].startswith(
        "resource.instanceType: instance type Standard_NC99_future"
    )


def test_the_request_namespace_is_used_for_config_map_lookups() -> None:
    with_config = copy.deepcopy(WORKSPACE)
    with_config["inference"]["config"] = "params"
    seen: list[tuple[str, str]] = []

    def lookup(namespace: str, name: str) -> None:
        seen.append((namespace, name))

    response = review(admission_review("CREATE", with_config), ValidationContext(config_maps=lookup))[
        "response"
    ]
    assert seen == [("team-a", "params")]
    assert "not found in namespace 'team-a'" in response["status"]["message"]


def test_delete_and_connect_are_allowed_without_looking() -> None:
    assert review(admission_review("DELETE", None), ValidationContext())["response"]["allowed"] is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected an AdmissionReview object"),
        ({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1beta1", "request": {}}, "expected v1"),
        ({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}, "has no request"),
    ],
)
def test_malformed_reviews_are_rejected(body: Any, message: str) -> None:
    with pytest.raises(BadAdmissionReview, match=message):
        review(body, ValidationContext())


def test_a_malformed_object_is_denied_not_crashed() -> None:
    response = review(
        admission_review(
            "CREATE", {"apiVersion": "kaito.sh/v1beta1", "kind": "Workspace", "resource": "nope"}
        ),
        ValidationContext(),
    )["response"]
    assert not response["allowed"]
    assert "resource: Invalid value" in response["status"]["message"]
