"""A Kubernetes API server emulator (kube-apiserver semantics on aiohttp)."""

from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.faults import FaultRule, Faults
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.requestlog import RequestLog, RequestRecord
from kaito_sim.emulator.server import KubeEmulator
from kaito_sim.emulator.webhooklog import WebhookCall, WebhookLog

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
