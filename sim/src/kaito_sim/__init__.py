"""Test infrastructure: a Kubernetes API emulator, KWOK-style simulated
cluster agents, a fake node provisioner and the sandbox that serves them."""

from kaito_sim.agents import FAILURE_ANNOTATION, Failure, SimulatedCluster, Timings
from kaito_sim.cluster import Sandbox
from kaito_sim.emulator import (
    ApiError,
    FaultRule,
    Faults,
    KubeEmulator,
    LocalClient,
    RequestLog,
    RequestRecord,
)

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
