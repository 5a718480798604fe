"""KWOK-style simulated cluster: scheduler, kubelet, workload controllers and
a node provisioner, acting on the emulator's store in-process."""

from kaito.testing.agents.cluster import SimulatedCluster
from kaito.testing.agents.failures import FAILURE_ANNOTATION, Failure, FailureScripts
from kaito.testing.agents.provisioner import NodeProvisioner
from kaito.testing.agents.timings import Timings

__all__ = [
    "FAILURE_ANNOTATION",
    "Failure",
    "FailureScripts",
    "NodeProvisioner",
    "SimulatedCluster",
    "Timings",
]
