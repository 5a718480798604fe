"""KWOK-style simulated cluster: scheduler, kubelet, workload controllers and
a node provisioner, acting on the emulator's store in-process."""

from kaito_sim.agents.cluster import SimulatedCluster
from kaito_sim.agents.failures import FAILURE_ANNOTATION, Failure, FailureScripts
from kaito_sim.agents.provisioner import NodeProvisioner
from kaito_sim.agents.timings import Timings

__all__ = [
    "FAILURE_ANNOTATION",
    "Failure",
    "FailureScripts",
    "NodeProvisioner",
    "SimulatedCluster",
    "Timings",
]
