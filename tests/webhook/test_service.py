"""The webhook in the operator: certificate Secret, registration with our CA, HTTPS verdicts."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from kaito.api.core import Secret, ValidatingWebhookConfiguration
from kaito.api.crds import all_crds
from kaito.api.resources import NAMESPACE
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.errors import NotFound
from kaito.kube.logging import configure_logging
from kaito.operator.controllers import SetupOptions
from kaito.operator.embedded import Operator
from kaito.webhook.admission import WEBHOOK_PATH
from kaito.webhook.bootstrap import (
    CONFIGURATION_NAME,
    SECRET_NAME,
    WebhookTarget,
    ensure_certificate,
    ensure_webhook_configuration,
    webhook_configuration,
)
from kaito.webhook.service import WebhookOptions
from kaito_sim import KubeEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    configure_logging("console", "warning")
    async with KubeEmulator(crds=all_crds(), kubeconfig_path=tmp_path / "kubeconfig") as emulator:
        emulator.client.create(NAMESPACE, {"metadata": {"name": "kaito-system"}})
        async with Client(await load_rest_config(str(emulator.kubeconfig_path)), qps=None) as api:
            yield api


async def test_the_certificate_is_issued_once_and_shared(client: Client) -> None:
    target = WebhookTarget("kaito-system")
    first = await ensure_certificate(client, target)
    again = await ensure_certificate(client, target)
    assert again == first
    secret = await client.get(Secret, SECRET_NAME, "kaito-system")
    assert secret.type == "kubernetes.io/tls"
    assert base64.b64decode((secret.data or {})["ca.crt"]) == first.ca_cert


async def test_a_certificate_for_other_names_is_renewed(client: Client) -> None:
    first = await ensure_certificate(client, WebhookTarget("kaito-system", service="old-name"))
    renewed = await ensure_certificate(client, WebhookTarget("kaito-system", service="kaito-webhook"))
    assert renewed.tls_cert != first.tls_cert


async def test_registration_is_created_then_only_its_ca_is_patched(client: Client) -> None:
    target = WebhookTarget("kaito-system")
    await ensure_webhook_configuration(client, target, b"first-ca")
    created = await client.get(ValidatingWebhookConfiguration, CONFIGURATION_NAME)
    (webhook,) = created.webhooks or []
    assert webhook["clientConfig"]["service"] == {
        "name": "kaito-webhook",
        "namespace": "kaito-system",
        "path": WEBHOOK_PATH,
        "port": 9443,
    }
    assert webhook["rules"][0]["apiVersions"] == ["v1alpha1", "v1beta1"]
    assert webhook["failurePolicy"] == "Fail" and webhook["sideEffects"] == "None"
    # An operator (or the Helm chart) changed the timeout: a CA rotation keeps that.
    created.webhooks[0]["timeoutSeconds"] = 5  # type: ignore[index]
    await client.update(created)
    await ensure_webhook_configuration(client, target, b"second-ca")
    patched = await client.get(ValidatingWebhookConfiguration, CONFIGURATION_NAME)
    (webhook,) = patched.webhooks or []
    assert webhook["timeoutSeconds"] == 5
    assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == b"second-ca"


def test_a_url_target_registers_the_url() -> None:
    config = webhook_configuration(WebhookTarget("ns", url="https://127.0.0.1:9443/"), b"ca")
    (webhook,) = config.webhooks or []
    assert webhook["clientConfig"]["url"] == f"https://127.0.0.1:9443{WEBHOOK_PATH}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_operator_serves_verdicts_over_https(client: Client, tmp_path: Path) -> None:
    port = _free_port()
    target = WebhookTarget("kaito-system", port=port, url=f"https://127.0.0.1:{port}")
    options = SetupOptions(webhook=WebhookOptions(target, host="127.0.0.1"))
    kubeconfig = tmp_path / "kubeconfig"
    async with Operator(kubeconfig, options):
        registration = None
        for _ in range(100):
            try:
                registration = await client.get(ValidatingWebhookConfiguration, CONFIGURATION_NAME)
                break
            except NotFound:
                await asyncio.sleep(0.05)
        assert registration is not None
        ca = base64.b64decode((registration.webhooks or [])[0]["clientConfig"]["caBundle"])
        context = ssl.create_default_context(cadata=ca.decode())
        bad = yaml.safe_load(
            (EXAMPLES / "inference" / "kaito_workspace_phi_3_with_adapters.yaml").read_text()
        )
        review = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {"uid": "u1", "operation": "CREATE", "namespace": "default", "object": bad},
        }
        url = f"https://127.0.0.1:{port}{WEBHOOK_PATH}"
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.post(url, json=review, ssl=context) as response:
                        body = await response.json()
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            assert body["response"]["allowed"] is False
            assert (
                "inference.adapters[0].source.image: Unable to parse adapter image reference"
                in body["response"]["status"]["message"]
            )
            async with session.post(url, data=b"not json", ssl=context) as response:
                assert response.status == 400
