"""A Kubernetes API server emulator (kube-apiserver semantics on aiohttp)."""

from kaito.testing.emulator.errors import ApiError
from kaito.testing.emulator.faults import FaultRule, Faults
from kaito.testing.emulator.local import LocalClient
from kaito.testing.emulator.requestlog import RequestLog, RequestRecord
from kaito.testing.emulator.server import KubeEmulator
from kaito.testing.emulator.webhooklog import WebhookCall, WebhookLog

__all__ = [
    "ApiError",
    "FaultRule",
    "Faults",
    "KubeEmulator",
    "LocalClient",
    "RequestLog",
    "RequestRecord",
    "WebhookCall",
    "WebhookLog",
]
