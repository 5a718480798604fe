"""How long simulated things take. Tests use the fast defaults; the sandbox
slows them down so people can watch objects progress."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    image_pull: float = 0.2  # bound -> containers created (Pending -> Running)
    init_container: float = 0.1  # each init container's run time
    ready: float = 0.2  # Running -> Ready
    job_run: float = 0.5  # a Job pod's run time before it exits
    crash_after: float = 0.3  # a crash-looping container's time running before it dies
    backoff: float = 0.5  # time in back-off before a restart
    termination: float = 0.1  # deletionTimestamp -> gone, for pods on a node
    node_launch: float = 0.3  # NodeClaim created -> Launched
    node_register: float = 0.2  # Launched -> Node registered
    node_ready: float = 0.2  # Node registered -> Ready / Initialized
    device_plugin: float = 0.1  # Node Ready -> nvidia.com/gpu reported

    @classmethod
    def sandbox(cls) -> Timings:
        """Human-scale delays for the sandbox."""
        return cls(
            image_pull=2.0,
            init_container=1.0,
            ready=3.0,
            job_run=10.0,
            crash_after=3.0,
            backoff=10.0,
            termination=1.0,
            node_launch=5.0,
            node_register=3.0,
            node_ready=3.0,
            device_plugin=2.0,
        )
