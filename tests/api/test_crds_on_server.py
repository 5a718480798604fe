"""The generated CRDs installed in an API server: defaults applied, structural rules enforced by CEL
even with no webhook running, status a subresource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kaito.api.crds import all_crds
from kaito.api.karpenter import NodeClaim
from kaito.api.workspace import Workspace
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.errors import Invalid
from kaito_sim import KubeEmulator


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    kubeconfig = tmp_path / "kubeconfig"
    async with (
        KubeEmulator(crds=all_crds(), kubeconfig_path=kubeconfig),
        Client(await load_rest_config(str(kubeconfig)), qps=None) as api,
    ):
        yield api


def workspace(**body: Any) -> Workspace:
    return Workspace.model_validate(
        {
            "metadata": {"name": "w", "namespace": "default"},
            "resource": {"instanceType": "Standard_NC6s_v3", "labelSelector": {"matchLabels": {"a": "b"}}},
            **body,
        }
    )


async def test_schema_defaults_are_applied(client: Client) -> None:
    created = await client.create(workspace(inference={"preset": {"name": "phi-3-mini-4k-instruct"}}))
    assert created.resource is not None and created.resource.count == 1
    assert created.inference is not None and created.inference.preset is not None
    assert created.inference.preset.access_mode == "public"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Either Inference or Tuning must be specified, not neither"),
        (
            {"inference": {"preset": {"name": "p"}}, "tuning": {"preset": {"name": "p"}, "method": "lora"}},
            "Either Inference or Tuning must be specified, but not both",
        ),
        ({"inference": {}}, "Preset or Template must be specified"),
        (
            {"inference": {"preset": {"name": "p"}, "template": {"spec": {}}}},
            "Preset and Template cannot be set at the same time",
        ),
        (
            {
                "tuning": {
                    "preset": {"name": "p"},
                    "method": "lora",
                    "input": {"urls": ["https://x.io/d"], "image": "r/d:1"},
                    "output": {"image": "r/o:1", "imagePushSecret": "s"},
                }
            },
            "Exactly one of URLs, Volume, or Image must be specified",
        ),
        (
            {
                "tuning": {
                    "preset": {"name": "p"},
                    "method": "lora",
                    "input": {"urls": ["https://x.io/d"]},
                    "output": {"image": "r/o:1"},
                }
            },
            "Must specify imagePushSecret with destination image",
        ),
    ],
)
async def test_structural_rules_are_enforced_without_the_webhook(
    client: Client, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(Invalid) as refused:
        await client.create(workspace(**body))
    assert message in str(refused.value)


async def test_inference_cannot_be_toggled_to_tuning(client: Client) -> None:
    created = await client.create(workspace(inference={"preset": {"name": "p"}}))
    created.inference = None
    created.tuning = Workspace.model_validate({"tuning": {"preset": {"name": "p"}, "method": "lora"}}).tuning
    with pytest.raises(Invalid) as refused:
        await client.update(created)
    assert "Inference field cannot be toggled once set" in str(refused.value)


async def test_nodeclaim_spec_is_immutable(client: Client) -> None:
    claim = NodeClaim.model_validate(
        {
            "metadata": {"name": "ws0000000001"},
            "spec": {
                "requirements": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["x"]}
                ],
                "nodeClassRef": {"group": "kaito.sh", "kind": "KaitoNodeClass", "name": "default"},
            },
        }
    )
    created = await client.create(claim)
    created.spec.requirements[0].values = ["y"]
    with pytest.raises(Invalid) as refused:
        await client.update(created)
    assert "spec is immutable" in str(refused.value)
    claim.metadata.name = "ws0000000002"
    claim.spec.requirements[0].values = []
    with pytest.raises(Invalid) as refused:
        await client.create(claim)
    assert "requirements with operator 'In' must have a value defined" in str(refused.value)
