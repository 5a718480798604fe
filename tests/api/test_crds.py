"""The generated CRDs: valid apiextensions.k8s.io/v1 objects with structural schemas, and committed fresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kaito.api.crds import all_crds, crd_file_name, render_yaml
from kaito.cli import main

DEPLOY_CRDS = Path(__file__).resolve().parents[2] / "deploy" / "crds"


def structural_problems(node: dict[str, Any], path: str = "") -> list[str]:
    """The rules kube-apiserver applies to a CRD schema (apiextensions structural schema)."""
    problems = []
    if "$ref" in node or "anyOf" in node or "oneOf" in node or "allOf" in node:
        problems.append(f"{path}: $ref/anyOf/oneOf/allOf are not structural")
    preserves = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "type" not in node and not preserves and not node.get("x-kubernetes-int-or-string"):
        problems.append(f"{path}: missing type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: properties and additionalProperties together")
    if (
        node.get("type") == "object"
        and "additionalProperties" in node
        and not isinstance(node["additionalProperties"], dict)
    ):
        problems.append(f"{path}: additionalProperties must be a schema")
    for name, sub in node.get("properties", {}).items():
        problems += structural_problems(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        problems += structural_problems(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        problems += structural_problems(node["additionalProperties"], f"{path}{{}}")
    if node.get("x-kubernetes-list-type") == "map":
        required = set(node["items"].get("required", []))
        missing = set(node.get("x-kubernetes-list-map-keys", [])) - required
        if missing:
            problems.append(f"{path}: list-map keys {missing} must be required")
    for rule in node.get("x-kubernetes-validations", []):
        if set(rule) - {"rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"}:
            problems.append(f"{path}: unknown keys in validation rule {rule}")
    return problems


@pytest.mark.parametrize("crd", all_crds(), ids=lambda crd: crd["metadata"]["name"])
def test_crds_are_apiextensions_v1_with_structural_schemas(crd: dict[str, Any]) -> None:
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    spec = crd["spec"]
    assert crd["metadata"]["name"] == f"{spec['names']['plural']}.{spec['group']}"
    assert sum(v["storage"] for v in spec["versions"]) == 1
    for version in spec["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert schema["type"] == "object"
        assert structural_problems(schema) == []
        assert version["subresources"] == {"status": {}}
        for column in version["additionalPrinterColumns"]:
            assert column["type"] in {"string", "integer", "number", "boolean", "date"}
            assert column["jsonPath"].startswith(".")


def test_workspace_crd_matches_upstream_shape() -> None:
    crd = all_crds()[0]
    spec = crd["spec"]
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["shortNames"] == ["wk", "wks"]
    versions = {v["name"]: v for v in spec["versions"]}
    assert versions["v1beta1"]["storage"] and not versions["v1alpha1"]["storage"]
    assert [c["name"] for c in versions["v1alpha1"]["additionalPrinterColumns"]] == [
        "Instance",
        "ResourceReady",
        "InferenceReady",
        "JobStarted",
        "WorkspaceSucceeded",
        "Age",
    ]
    assert [c["name"] for c in versions["v1beta1"]["additionalPrinterColumns"]] == [
        "Instance",
        "ResourceReady",
        "InferenceReady",
        "JobStarted",
        "WorkspaceSucceeded",
        "TargetNodeCount",
        "State",
        "Age",
    ]
    schema = versions["v1beta1"]["schema"]["openAPIV3Schema"]
    props = schema["properties"]
    assert props["resource"]["properties"]["count"]["default"] == 1
    assert props["inference"]["properties"]["preset"]["properties"]["accessMode"]["default"] == "public"
    assert props["inference"]["properties"]["template"]["x-kubernetes-preserve-unknown-fields"] is True
    source = props["inference"]["properties"]["adapters"]["items"]["properties"]["source"]
    assert source["properties"]["volumeSource"]["x-kubernetes-preserve-unknown-fields"] is True
    assert {r["message"] for r in schema["x-kubernetes-validations"]} >= {
        "Either Inference or Tuning must be specified, not neither",
        "Either Inference or Tuning must be specified, but not both",
    }
    # Both versions share one schema: the API server converts between them without loss.
    assert versions["v1alpha1"]["schema"] == versions["v1beta1"]["schema"]


def test_nodeclaim_and_machine_crds_are_cluster_scoped_with_immutable_spec() -> None:
    by_kind = {crd["spec"]["names"]["kind"]: crd for crd in all_crds()}
    for kind, version in (("NodeClaim", "v1"), ("Machine", "v1alpha5")):
        spec = by_kind[kind]["spec"]
        assert spec["group"] == "karpenter.sh" and spec["scope"] == "Cluster"
        (served,) = spec["versions"]
        assert served["name"] == version
        schema = served["schema"]["openAPIV3Schema"]
        assert "spec" in schema["required"]
        assert {"rule": "self == oldSelf", "message": "spec is immutable"} in schema["properties"]["spec"][
            "x-kubernetes-validations"
        ]


def test_committed_crd_files_are_fresh() -> None:
    for crd in all_crds():
        path = DEPLOY_CRDS / crd_file_name(crd)
        assert path.exists(), f"{path} is missing: run `kaito crds --output-dir deploy/crds`"
        assert path.read_text() == render_yaml(crd), (
            f"{path} is stale: run `kaito crds --output-dir deploy/crds`"
        )
    assert sorted(p.name for p in DEPLOY_CRDS.glob("*.yaml")) == sorted(crd_file_name(c) for c in all_crds())


def test_kaito_crds_prints_every_crd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crds"]) == 0
    printed = list(yaml.safe_load_all(capsys.readouterr().out))
    assert printed == all_crds()


def test_kaito_crds_writes_files(tmp_path: Path) -> None:
    assert main(["crds", "--output-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(crd_file_name(c) for c in all_crds())
