"""Keep the webhook's certificate in a Secret, and its CA in the webhook configuration.

Every replica runs this; the first to create the Secret wins and the others
read it, so all serve the same certificate. The caBundle patch is idempotent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from kaito.api.core import Secret, ValidatingWebhookConfiguration
from kaito.api.meta import ObjectMeta
from kaito.kube.client import Client
from kaito.kube.errors import AlreadyExists, Conflict, NotFound
from kaito.webhook.admission import WEBHOOK_NAME, WEBHOOK_PATH
from kaito.webhook.certs import CertificateBundle, issue, needs_renewal, service_dns_names

SECRET_NAME = "workspace-webhook-cert"
CONFIGURATION_NAME = WEBHOOK_NAME


@dataclass(frozen=True)
class WebhookTarget:
    """Where the API server reaches the webhook: a Service in the cluster, or a URL (local sandbox)."""

    namespace: str
    service: str = "kaito-webhook"
    port: int = 9443
    url: str | None = None

    @property
    def dns_names(self) -> list[str]:
        return service_dns_names(self.service, self.namespace)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bundle(secret: Secret) -> CertificateBundle:
    data = secret.data or {}
    return CertificateBundle(
        ca_cert=base64.b64decode(data.get("ca.crt", "")),
        tls_cert=base64.b64decode(data.get("tls.crt", "")),
        tls_key=base64.b64decode(data.get("tls.key", "")),
    )


def _secret_data(bundle: CertificateBundle) -> dict[str, str]:
    return {"ca.crt": _b64(bundle.ca_cert), "tls.crt": _b64(bundle.tls_cert), "tls.key": _b64(bundle.tls_key)}


async def ensure_certificate(client: Client, target: WebhookTarget) -> CertificateBundle:
    """The serving certificate from the Secret, issued (or renewed) when missing or due."""
    for _ in range(3):
        try:
            secret = await client.get(Secret, SECRET_NAME, target.namespace)
        except NotFound:
            bundle = issue(target.dns_names)
            fresh = Secret(
                metadata=ObjectMeta(name=SECRET_NAME, namespace=target.namespace),
                type="kubernetes.io/tls",
                data=_secret_data(bundle),
            )
            try:
                await client.create(fresh)
            except AlreadyExists:
                continue  # another replica won: read theirs
            return bundle
        bundle = _bundle(secret)
        if not needs_renewal(bundle, target.dns_names):
            return bundle
        renewed = issue(target.dns_names)
        secret.data = _secret_data(renewed)
        secret.type = secret.type or "kubernetes.io/tls"
        try:
            await client.update(secret)
        except Conflict:
            continue  # renewed concurrently: read it again
        return renewed
    raise RuntimeError(f"could not settle the webhook certificate in Secret {target.namespace}/{SECRET_NAME}")


def webhook_configuration(target: WebhookTarget, ca_bundle: bytes) -> ValidatingWebhookConfiguration:
    """The admission registration: CREATE and UPDATE of Workspaces in every served version."""
    if target.url is not None:
        client_config: dict[str, object] = {"url": target.url.rstrip("/") + WEBHOOK_PATH}
    else:
        client_config = {
            "service": {
                "name": target.service,
                "namespace": target.namespace,
                "path": WEBHOOK_PATH,
                "port": target.port,
            }
        }
    client_config["caBundle"] = _b64(ca_bundle)
    return ValidatingWebhookConfiguration(
        metadata=ObjectMeta(name=CONFIGURATION_NAME),
        webhooks=[
            {
                "name": WEBHOOK_NAME,
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "timeoutSeconds": 10,
                "clientConfig": client_config,
                "rules": [
                    {
                        "apiGroups": ["kaito.sh"],
                        "apiVersions": ["v1alpha1", "v1beta1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["workspaces"],
                        "scope": "Namespaced",
                    }
                ],
            }
        ],
    )


async def ensure_webhook_configuration(client: Client, target: WebhookTarget, ca_bundle: bytes) -> None:
    """Register the webhook, or point an existing registration (the Helm chart's) at our CA."""
    desired = webhook_configuration(target, ca_bundle)
    try:
        existing = await client.get(ValidatingWebhookConfiguration, CONFIGURATION_NAME)
    except NotFound:
        try:
            await client.create(desired)
            return
        except AlreadyExists:
            existing = await client.get(ValidatingWebhookConfiguration, CONFIGURATION_NAME)
    bundle = _b64(ca_bundle)
    webhooks = existing.webhooks or []
    if webhooks and all(w.get("clientConfig", {}).get("caBundle") == bundle for w in webhooks):
        return
    for webhook in webhooks:
        webhook.setdefault("clientConfig", {})["caBundle"] = bundle
    existing.webhooks = webhooks or desired.webhooks
    await client.update(existing)
