"""CustomResourceDefinitions generated from the models.

The files under ``deploy/crds/`` are this module's output (``kaito crds
--output-dir deploy/crds``); a test fails when they are stale, so the schema a
cluster enforces is always the one the Python code reads and writes.

Rules that are purely structural are also written as CEL
``x-kubernetes-validations``, so a cluster rejects such objects even while the
admission webhook is down.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from kaito.api import resources as r
from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.meta import KubeObject
from kaito.api.openapi import structural_schema
from kaito.api.resources import ResourceType
from kaito.api.workspace import Workspace

Rule = dict[str, str]


def _rule(rule: str, message: str) -> Rule:
    return {"rule": rule, "message": message}


def _condition_column(condition: str) -> dict[str, Any]:
    return {
        "name": condition,
        "type": "string",
        "jsonPath": f'.status.conditions[?(@.type=="{condition}")].status',
    }


_AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

# Rules checked by the API server itself, keyed by the schema path they sit on.
_WORKSPACE_RULES: dict[tuple[str, ...], list[Rule]] = {
    (): [
        _rule(
            "has(self.inference) || has(self.tuning)",
            "Either Inference or Tuning must be specified, not neither",
        ),
        _rule(
            "!(has(self.inference) && has(self.tuning))",
            "Either Inference or Tuning must be specified, but not both",
        ),
        _rule("has(self.inference) == has(oldSelf.inference)", "Inference field cannot be toggled once set"),
        _rule("has(self.tuning) == has(oldSelf.tuning)", "Tuning field cannot be toggled once set"),
    ],
    ("inference",): [
        _rule("has(self.preset) || has(self.template)", "Preset or Template must be specified"),
        _rule(
            "!(has(self.preset) && has(self.template))", "Preset and Template cannot be set at the same time"
        ),
    ],
    ("tuning", "input"): [
        _rule(
            "[has(self.urls), has(self.image), has(self.volumeSource)].filter(x, x).size() == 1",
            "Exactly one of URLs, Volume, or Image must be specified",
        ),
    ],
    ("tuning", "output"): [
        _rule(
            "has(self.image) != has(self.volumeSource)", "Exactly one of Volume or Image must be specified"
        ),
        _rule(
            "!has(self.image) || has(self.imagePushSecret)",
            "Must specify imagePushSecret with destination image",
        ),
    ],
}

_NODE_REQUEST_RULES: dict[tuple[str, ...], list[Rule]] = {
    ("spec",): [_rule("self == oldSelf", "spec is immutable")],
}

_NODECLAIM_REQUIREMENT_RULES = [
    _rule(
        "self.operator != 'In' || (has(self.values) && size(self.values) > 0)",
        "requirements with operator 'In' must have a value defined",
    ),
    _rule(
        "!(self.operator in ['Gt', 'Lt']) || (has(self.values) && size(self.values) == 1 "
        "&& self.values[0].matches('^[0-9]+$'))",
        "requirements with operator 'Gt' or 'Lt' must have a single positive integer value",
    ),
]


def _object_schema(model: type[KubeObject], rules: dict[tuple[str, ...], list[Rule]]) -> dict[str, Any]:
    schema = structural_schema(model)
    properties = schema["properties"]
    properties["apiVersion"] = {"type": "string", "description": "Versioned schema of this object."}
    properties["kind"] = {"type": "string", "description": "The REST resource this object represents."}
    properties["metadata"] = {"type": "object"}
    for path, path_rules in rules.items():
        node = schema
        for step in path:
            node = node["properties"][step]
        node["x-kubernetes-validations"] = path_rules
    return schema


def _crd(
    resource: ResourceType,
    versions: list[dict[str, Any]],
) -> dict[str, Any]:
    names: dict[str, Any] = {
        "kind": resource.kind,
        "listKind": f"{resource.kind}List",
        "plural": resource.plural,
        "singular": resource.singular,
    }
    if resource.short_names:
        names["shortNames"] = list(resource.short_names)
    if resource.categories:
        names["categories"] = list(resource.categories)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{resource.plural}.{resource.group}"},
        "spec": {
            "group": resource.group,
            "names": names,
            "scope": "Namespaced" if resource.namespaced else "Cluster",
            "versions": versions,
        },
    }


def _version(
    resource: ResourceType,
    schema: dict[str, Any],
    columns: list[dict[str, Any]],
    storage: bool,
) -> dict[str, Any]:
    return {
        "name": resource.version,
        "served": True,
        "storage": storage,
        "schema": {"openAPIV3Schema": copy.deepcopy(schema)},
        "subresources": {"status": {}},
        "additionalPrinterColumns": columns,
    }


def workspace_crd() -> dict[str, Any]:
    schema = _object_schema(Workspace, _WORKSPACE_RULES)
    schema["description"] = "Workspace runs or fine-tunes an open model on GPU nodes."
    v1alpha1_columns = [
        {"name": "Instance", "type": "string", "jsonPath": ".resource.instanceType"},
        _condition_column("ResourceReady"),
        _condition_column("InferenceReady"),
        _condition_column("JobStarted"),
        _condition_column("WorkspaceSucceeded"),
    ]
    v1beta1_columns = [
        *v1alpha1_columns,
        {"name": "TargetNodeCount", "type": "integer", "jsonPath": ".status.targetNodeCount"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
    ]
    return _crd(
        r.WORKSPACE_V1BETA1,
        [
            _version(r.WORKSPACE_V1ALPHA1, schema, [*v1alpha1_columns, _AGE_COLUMN], storage=False),
            _version(r.WORKSPACE_V1BETA1, schema, [*v1beta1_columns, _AGE_COLUMN], storage=True),
        ],
    )


def _node_request_columns(ready_condition: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "Type",
            "type": "string",
            "jsonPath": ".metadata.labels.node\\.kubernetes\\.io/instance-type",
        },
        {"name": "Node", "type": "string", "jsonPath": ".status.nodeName"},
        _condition_column(ready_condition),
        _AGE_COLUMN,
        {"name": "ID", "type": "string", "jsonPath": ".status.providerID", "priority": 1},
    ]


def nodeclaim_crd() -> dict[str, Any]:
    schema = _object_schema(NodeClaim, _NODE_REQUEST_RULES)
    schema["description"] = "NodeClaim asks a node provisioner for one node (Karpenter v1 API)."
    requirement = schema["properties"]["spec"]["properties"]["requirements"]["items"]
    requirement["x-kubernetes-validations"] = _NODECLAIM_REQUIREMENT_RULES
    return _crd(r.NODECLAIM, [_version(r.NODECLAIM, schema, _node_request_columns("Ready"), storage=True)])


def machine_crd() -> dict[str, Any]:
    schema = _object_schema(Machine, _NODE_REQUEST_RULES)
    schema["description"] = "Machine asks a node provisioner for one node (Karpenter v1alpha5 API)."
    return _crd(r.MACHINE, [_version(r.MACHINE, schema, _node_request_columns("Ready"), storage=True)])


def all_crds() -> list[dict[str, Any]]:
    """Every CRD kaito ships: Workspace, plus NodeClaim and Machine for clusters without Karpenter."""
    return [workspace_crd(), nodeclaim_crd(), machine_crd()]


def crd_file_name(crd: dict[str, Any]) -> str:
    """``<group>_<plural>.yaml``, the controller-gen naming users know."""
    spec = crd["spec"]
    return f"{spec['group']}_{spec['names']['plural']}.yaml"


class _NoAliasDumper(yaml.SafeDumper):
    """Writes shared sub-schemas out in full: CRD files are read by people, not only parsers."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml(crd: dict[str, Any]) -> str:
    header = "# Generated by `kaito crds` from src/kaito/api; do not edit.\n"
    return header + yaml.dump(crd, Dumper=_NoAliasDumper, sort_keys=False, width=120)
