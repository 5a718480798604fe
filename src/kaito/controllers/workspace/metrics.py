"""Workspace metrics beyond controller-runtime's: how long apply-to-ready takes, and how many
workspaces are in each phase."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kaito.api.conditions import get_condition
from kaito.api.wellknown import ConditionStatus, ConditionType, Reason
from kaito.api.workspace import Workspace
from kaito.kube.metrics import REGISTRY

TIME_TO_READY = Histogram(
    "kaito_workspace_time_to_ready_seconds",
    "Seconds from a workspace's creation until its inference first became ready",
    ["preset"],
    buckets=(30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, float("inf")),
    registry=REGISTRY,
)
PHASES = ("succeeded", "error", "pending", "deleting")


def phase(workspace: Workspace) -> str:
    if workspace.metadata.deletion_timestamp is not None:
        return "deleting"
    conditions = workspace.status.conditions if workspace.status else None
    succeeded = get_condition(conditions, ConditionType.WORKSPACE_SUCCEEDED)
    if succeeded is not None and succeeded.status == ConditionStatus.TRUE:
        return "succeeded"
    if succeeded is not None and succeeded.reason == Reason.WORKSPACE_FAILED:
        return "error"
    return "pending"


class WorkspaceCountCollector(Collector):
    """``kaito_workspace_count{phase}``, counted from the cache at scrape time (never stale)."""

    def __init__(self) -> None:
        self._sources: list[Callable[[], Iterable[Workspace]]] = []

    def watch(self, source: Callable[[], Iterable[Workspace]]) -> Callable[[], None]:
        """Count ``source()`` at every scrape until the returned function is called."""
        self._sources.append(source)
        return lambda: self._sources.remove(source)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict.fromkeys(PHASES, 0)
        for source in self._sources:
            for workspace in source():
                counts[phase(workspace)] += 1
        family = GaugeMetricFamily("kaito_workspace_count", "Number of workspaces by phase", labels=["phase"])
        for name, count in counts.items():
            family.add_metric([name], count)
        yield family


WORKSPACE_COUNT = WorkspaceCountCollector()
REGISTRY.register(WORKSPACE_COUNT)


def observe_time_to_ready(workspace: Workspace, ready: datetime, created: datetime) -> None:
    preset = workspace.preset.name if workspace.preset else "template"
    TIME_TO_READY.labels(preset).observe(max((ready - created).total_seconds(), 0.0))
