"""The simulated cluster kaito is tested against and ``kaito sandbox`` serves (a test world, not
part of the operator): a Kubernetes API emulator judged against kube-apiserver, KWOK-style agents
(scheduler, kubelet, workload controllers) and ``cluster.Sandbox``, which serves both on localhost.
It depends only on ``kaito.api``."""

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
