"""The process's Prometheus metrics, named as controller-runtime and client-go name them.

Existing dashboards and alerts for Go operators (reconcile errors, queue
depth, API request codes) work unchanged against kaito. Everything lives in
one ``REGISTRY`` that the manager serves on ``/metrics``.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kaito.kube.clock import Clock

REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

# client-go's workqueue buckets: 10 ns .. 1000 s.
_QUEUE_BUCKETS = tuple(1e-8 * 10**i for i in range(12))
# controller-runtime's reconcile_time_seconds buckets.
_RECONCILE_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0, 20.0, 25.0, 30.0,
    40.0, 50.0, 60.0,
)  # fmt: skip
# client-go's rest_client_request_duration_seconds buckets.
_REST_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

# Work queues.
WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name"], registry=REGISTRY)
WORKQUEUE_ADDS = Counter(
    "workqueue_adds_total", "Total number of adds handled by workqueue", ["name"], registry=REGISTRY
)
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested",
    ["name"],
    buckets=_QUEUE_BUCKETS,
    registry=REGISTRY,
)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes",
    ["name"],
    buckets=_QUEUE_BUCKETS,
    registry=REGISTRY,
)
WORKQUEUE_RETRIES = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue", ["name"], registry=REGISTRY
)

# Controllers.
RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total",
    "Total number of reconciliations per controller",
    ["controller", "result"],
    registry=REGISTRY,
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total",
    "Total number of reconciliation errors per controller",
    ["controller"],
    registry=REGISTRY,
)
TERMINAL_RECONCILE_ERRORS = Counter(
    "controller_runtime_terminal_reconcile_errors_total",
    "Total number of terminal reconciliation errors per controller",
    ["controller"],
    registry=REGISTRY,
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Length of time per reconciliation per controller",
    ["controller"],
    buckets=_RECONCILE_BUCKETS,
    registry=REGISTRY,
)
MAX_CONCURRENT_RECONCILES = Gauge(
    "controller_runtime_max_concurrent_reconciles",
    "Maximum number of concurrent reconciles per controller",
    ["controller"],
    registry=REGISTRY,
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers",
    "Number of currently used workers per controller",
    ["controller"],
    registry=REGISTRY,
)

# The REST client.
REST_REQUESTS = Counter(
    "rest_client_requests_total",
    "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"],
    registry=REGISTRY,
)
REST_LATENCY = Histogram(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb, and host.",
    ["verb", "host"],
    buckets=_REST_BUCKETS,
    registry=REGISTRY,
)

# Leader election.
LEADER_ELECTION_STATUS = Gauge(
    "leader_election_master_status",
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, "
    "1 indicates master. 'name' is the string used to identify the lease.",
    ["name"],
    registry=REGISTRY,
)


class QueueMetrics:
    """What one named work queue reports: adds, depth, time queued, time in work, retries.

    Unfinished work and the longest-running processor are computed when scraped
    (by ``_InFlightCollector``) instead of by a ticking background task.
    """

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self._clock = clock
        self._added_at: dict[Hashable, float] = {}
        self._started_at: dict[Hashable, float] = {}
        self._depth = WORKQUEUE_DEPTH.labels(name)
        self._adds = WORKQUEUE_ADDS.labels(name)
        self._queue_duration = WORKQUEUE_QUEUE_DURATION.labels(name)
        self._work_duration = WORKQUEUE_WORK_DURATION.labels(name)
        self._retries = WORKQUEUE_RETRIES.labels(name)
        _IN_FLIGHT.track(self)

    def add(self, item: Hashable) -> None:
        self._adds.inc()
        self._depth.inc()
        self._added_at.setdefault(item, self._clock.now())

    def get(self, item: Hashable) -> None:
        self._depth.dec()
        now = self._clock.now()
        self._started_at[item] = now
        added = self._added_at.pop(item, None)
        if added is not None:
            self._queue_duration.observe(now - added)

    def done(self, item: Hashable) -> None:
        started = self._started_at.pop(item, None)
        if started is not None:
            self._work_duration.observe(self._clock.now() - started)

    def retry(self) -> None:
        self._retries.inc()

    def in_flight(self) -> tuple[float, float]:
        """(total seconds of work in progress, seconds the oldest item has been in progress)."""
        now = self._clock.now()
        ages = [now - started for started in self._started_at.values()]
        return sum(ages), max(ages, default=0.0)


class _InFlightCollector(Collector):
    """``workqueue_unfinished_work_seconds`` and ``workqueue_longest_running_processor_seconds``."""

    def __init__(self) -> None:
        self._queues: weakref.WeakSet[QueueMetrics] = weakref.WeakSet()

    def track(self, queue: QueueMetrics) -> None:
        self._queues.add(queue)

    def collect(self) -> Iterable[Metric]:
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed by "
            "work_duration. Large values indicate stuck threads. One can deduce the number of stuck "
            "threads by observing the rate at which this increases.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"],
        )
        for queue in list(self._queues):
            total, oldest = queue.in_flight()
            unfinished.add_metric([queue.name], total)
            longest.add_metric([queue.name], oldest)
        return [unfinished, longest]


_IN_FLIGHT = _InFlightCollector()
REGISTRY.register(_IN_FLIGHT)


class _WithoutCreated(Collector):
    """The registry minus prometheus-client's ``*_created`` series, which Go operators never expose."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The body and content type of a ``/metrics`` response."""
    return generate_latest(_WithoutCreated(registry)), CONTENT_TYPE_LATEST
