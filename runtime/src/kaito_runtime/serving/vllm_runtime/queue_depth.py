"""vLLM's waiting-queue length, read from its Prometheus gauge in this process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

WAITING_METRIC = "vllm:num_requests_waiting"


def waiting_requests(registry: CollectorRegistry) -> int:
    """Sum of ``vllm:num_requests_waiting`` over all engines (0 before the engine reports)."""
    total = 0.0
    for metric in registry.restricted_registry([WAITING_METRIC]).collect():
        total += sum(sample.value for sample in metric.samples if sample.name == WAITING_METRIC)
    return int(total)
