"""The webhook as part of the operator process: certificate, registration, HTTPS server.

It runs on every replica (not only the leader): the API server may call any
of them through the Service.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from kaito.api.core import ConfigMap
from kaito.api.wellknown import NodeProvisioner
from kaito.kube.informer import Informer
from kaito.kube.manager import Manager
from kaito.validation import ValidationContext
from kaito.webhook.bootstrap import WebhookTarget, ensure_certificate, ensure_webhook_configuration
from kaito.webhook.server import serve

log = structlog.get_logger("kaito.webhook")


@dataclass(frozen=True)
class WebhookOptions:
    target: WebhookTarget
    host: str = ""  # listen on every address
    node_provisioner: NodeProvisioner = NodeProvisioner.NODECLAIM
    cloud: str = "azure"


def add_webhook(manager: Manager, options: WebhookOptions) -> None:
    config_maps: Informer[ConfigMap] = manager.informer(ConfigMap)

    def lookup(namespace: str, name: str) -> ConfigMap | None:
        return config_maps.get(name, namespace)

    def context() -> ValidationContext:
        # Before the cache has synced, a missing ConfigMap proves nothing: leave those checks out.
        return ValidationContext(
            node_provisioner=options.node_provisioner,
            cloud=options.cloud,
            config_maps=lookup if config_maps.has_synced else None,
        )

    async def run() -> None:
        bundle = await ensure_certificate(manager.client, options.target)
        await ensure_webhook_configuration(manager.client, options.target, bundle.ca_cert)
        await serve(options.host, options.target.port, bundle, context)

    manager.add_runnable("validating-webhook", run, needs_leader=False)
