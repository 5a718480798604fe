"""Fixtures for the API conformance tests.

``cluster`` talks plain REST to a fresh emulator, or, when
``KAITO_TEST_KUBECONFIG`` names a kubeconfig, to that real cluster (tests
marked ``emulator_only`` are then deselected). Every test gets its own
namespace, removed afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from helpers.restclient import RestClient, connection_from_kubeconfig
from kaito_sim import KubeEmulator

REAL_CLUSTER = os.environ.get("KAITO_TEST_KUBECONFIG")
_HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator_only: needs the emulator (fault injection, simulated agents)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REAL_CLUSTER:
        return
    keep, drop = [], []
    for item in items:
        inside = _HERE in Path(str(item.fspath)).parents
        (drop if inside and item.get_closest_marker("emulator_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
async def emulator() -> AsyncIterator[KubeEmulator | None]:
    """A fresh emulator, or None when the tests run against a real cluster."""
    if REAL_CLUSTER:
        yield None
        return
    async with KubeEmulator(crds=[WIDGET_CRD], bookmark_interval=0.2) as emu:
        yield emu


@pytest.fixture
async def cluster(emulator: KubeEmulator | None) -> AsyncIterator[RestClient]:
    namespace = f"kaito-test-{uuid.uuid4().hex[:8]}"
    if emulator is not None:
        async with RestClient(emulator.url, {}, False, namespace, emulator) as client:
            await client.create_namespace()
            yield client
        return
    assert REAL_CLUSTER
    with tempfile.TemporaryDirectory() as tmp:
        url, headers, tls = connection_from_kubeconfig(REAL_CLUSTER, Path(tmp))
        async with RestClient(url, headers, tls, namespace, None) as client:
            await client.ensure_crd(WIDGET_CRD)
            await client.create_namespace()
            yield client
            await client.delete_namespace()


@pytest.fixture
def emu(emulator: KubeEmulator | None) -> KubeEmulator:
    """The emulator itself, for emulator-only tests."""
    assert emulator is not None, "emulator-only test ran against a real cluster"
    return emulator


def _widget_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["size"],
                "x-kubernetes-validations": [
                    {
                        "rule": "self.replicas <= self.maxReplicas",
                        "message": "replicas must not exceed maxReplicas",
                    },
                    {
                        "rule": "!has(oldSelf.owner) || self.owner == oldSelf.owner",
                        "message": "owner is immutable",
                    },
                ],
                "properties": {
                    "size": {"type": "string", "enum": ["small", "medium", "large"]},
                    "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                    "maxReplicas": {"type": "integer", "default": 5},
                    "color": {"type": "string", "pattern": "^[a-z]+$", "default": "blue"},
                    "owner": {"type": "string"},
                    "tags": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                        },
                    },
                },
            },
            "status": {
                "type": "object",
                "properties": {
                    "phase": {"type": "string"},
                    "conditions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "status": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    }


def _columns() -> list[dict[str, Any]]:
    return [
        {"name": "Size", "type": "string", "jsonPath": ".spec.size"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Color", "type": "string", "jsonPath": ".spec.color", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.kaito.sh"},
    "spec": {
        "group": "test.kaito.sh",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wg"],
            "categories": ["kaito-test"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": _widget_schema()},
                "subresources": {"status": {}},
                "additionalPrinterColumns": _columns(),
            },
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "schema": {"openAPIV3Schema": _widget_schema()},
                "subresources": {"status": {}},
                "additionalPrinterColumns": _columns(),
            },
        ],
    },
}
