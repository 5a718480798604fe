"""Test infrastructure: a Kubernetes API emulator, KWOK-style simulated
cluster agents, a fake node provisioner and the sandbox that serves them."""

from kaito.testing.agents import FAILURE_ANNOTATION, Failure, SimulatedCluster, Timings
from kaito.testing.emulator import (
    ApiError,
    FaultRule,
    Faults,
    KubeEmulator,
    LocalClient,
    RequestLog,
    RequestRecord,
)
from kaito.testing.sandbox import Sandbox

__all__ = [
    "FAILURE_ANNOTATION",
    "ApiError",
    "Failure",
    "FaultRule",
    "Faults",
    "KubeEmulator",
    "LocalClient",
    "RequestLog",
    "RequestRecord",
    "Sandbox",
    "SimulatedCluster",
    "Timings",
]
