"""The scheduler stand-in: binds pending pods to nodes that fit them
(readiness, nodeSelector, required node affinity, taints and tolerations,
cpu / memory / ``nvidia.com/gpu`` / pod-count requests against allocatable),
or marks them ``PodScheduled=False`` / ``Unschedulable`` with the real
scheduler's message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from kaito.api.resources import POD
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.failures import Failure, FailureScripts
from kaito_sim.agents.nodes import is_ready
from kaito_sim.agents.quantity import add_requests, parse_quantity
from kaito_sim.emulator import clock
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
SCHEDULER_NAME = "default-scheduler"
_NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
_UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def pod_requests(pod: Obj) -> dict[str, Decimal]:
    """Effective requests: containers summed, the largest init container as a floor; limits stand in for
    missing requests (as API defaulting does)."""
    spec = pod.get("spec") or {}

    def container_requests(container: Obj) -> dict[str, object]:
        resources = container.get("resources") or {}
        return {**(resources.get("limits") or {}), **(resources.get("requests") or {})}

    total: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        add_requests(total, container_requests(container))
    for container in spec.get("initContainers") or []:
        single: dict[str, Decimal] = {}
        add_requests(single, container_requests(container))
        for name, value in single.items():
            total[name] = max(total.get(name, Decimal(0)), value)
    return total


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration.get("key") == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and (toleration.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


def _expression_matches(expr: Obj, labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def matches_node_selection(pod: Obj, node: Obj) -> bool:
    spec = pod.get("spec") or {}
    labels = node["metadata"].get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    for term in terms:
        expressions_ok = all(_expression_matches(e, labels) for e in term.get("matchExpressions") or [])
        fields_ok = all(
            _expression_matches(e, {"metadata.name": node["metadata"]["name"]})
            for e in term.get("matchFields") or []
        )
        if expressions_ok and fields_ok and (term.get("matchExpressions") or term.get("matchFields")):
            return True
    return False


def _taint_text(taint: Obj) -> str:
    return f"{{{taint.get('key')}: {taint.get('value') or ''}}}"


class Scheduler(Agent):
    name = "scheduler"

    def __init__(self, store: Store, client: LocalClient, failures: FailureScripts) -> None:
        super().__init__(store, client)
        self.failures = failures
        self.events = EventRecorder(client, SCHEDULER_NAME)

    def _unbound_pods(self) -> Iterable[Obj]:
        for pod in self.store.items("pods"):
            if not (pod.get("spec") or {}).get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
                yield pod

    def initial_keys(self) -> Iterable[Key]:
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in self._unbound_pods()]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods" and event.type != "DELETED":
            if not (event.obj.get("spec") or {}).get("nodeName"):
                return [(event.namespace, event.obj["metadata"]["name"])]
            return []
        if event.resource == "nodes" or (event.resource == "pods" and event.type == "DELETED"):
            return self.initial_keys()
        return []

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        pod = self.store.get("pods", namespace, name)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return None
        if (pod.get("spec") or {}).get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME:
            return None
        nodes = list(self.store.items("nodes"))
        if self.failures.for_pod(pod) == Failure.UNSCHEDULABLE:
            count = len(nodes)
            message = (
                f"0/{count} nodes are available: {count} Insufficient nvidia.com/gpu. preemption: "
                f"0/{count} nodes are available: {count} No preemption victims found for incoming pod."
            )
            self._unschedulable(pod, message)
            return None
        reasons: Counter[str] = Counter()
        preemption_helps = 0
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            failed = self._fit(pod, node)
            if not failed:
                self.client.bind(namespace, name, node["metadata"]["name"])
                self.events.record(
                    pod,
                    "Normal",
                    "Scheduled",
                    f"Successfully assigned {namespace}/{name} to {node['metadata']['name']}",
                )
                return None
            reasons.update(failed)
            if all(f.startswith("Insufficient") or f == "Too many pods" for f in failed):
                preemption_helps += 1
        self._unschedulable(pod, self._message(len(nodes), reasons, preemption_helps))
        return None

    def _fit(self, pod: Obj, node: Obj) -> list[str]:
        spec = pod.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        if (node.get("spec") or {}).get("unschedulable") and not tolerates(tolerations, _UNSCHEDULABLE_TAINT):
            return ["node(s) were unschedulable"]
        if not is_ready(node) and not tolerates(tolerations, _NOT_READY_TAINT):
            return [f"node(s) had untolerated taint {_taint_text(_NOT_READY_TAINT)}"]
        if not matches_node_selection(pod, node):
            return ["node(s) didn't match Pod's node affinity/selector"]
        for taint in (node.get("spec") or {}).get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
                return [f"node(s) had untolerated taint {_taint_text(taint)}"]
        return self._insufficient(pod, node)

    def _insufficient(self, pod: Obj, node: Obj) -> list[str]:
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        used: dict[str, Decimal] = {}
        count = 0
        node_name = node["metadata"]["name"]
        for other in self.store.items("pods"):
            other_spec = other.get("spec") or {}
            if other_spec.get("nodeName") != node_name:
                continue
            if (other.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            count += 1
            for resource, value in pod_requests(other).items():
                used[resource] = used.get(resource, Decimal(0)) + value
        failed = []
        if count + 1 > int(parse_quantity(allocatable.get("pods", "110"))):
            failed.append("Too many pods")
        for resource, wanted in sorted(pod_requests(pod).items()):
            if wanted <= 0:
                continue
            have = parse_quantity(allocatable[resource]) if resource in allocatable else Decimal(0)
            if used.get(resource, Decimal(0)) + wanted > have:
                failed.append(f"Insufficient {resource}")
        return failed

    @staticmethod
    def _message(total: int, reasons: Counter[str], preemption_helps: int) -> str:
        if total == 0:
            return "no nodes available to schedule pods"
        parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
        preemption = []
        if preemption_helps:
            preemption.append(f"{preemption_helps} No preemption victims found for incoming pod")
        if total - preemption_helps:
            preemption.append(f"{total - preemption_helps} Preemption is not helpful for scheduling")
        return (
            f"0/{total} nodes are available: {', '.join(parts)}. preemption: 0/{total} nodes are available: "
            f"{', '.join(sorted(preemption))}."
        )

    def _unschedulable(self, pod: Obj, message: str) -> None:
        status = dict(pod.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        previous = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if previous and previous.get("reason") == "Unschedulable" and previous.get("message") == message:
            return
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": clock.now(),
            }
        )
        status["conditions"] = conditions
        self.client.update(POD, {**pod, "status": status}, status=True)
        self.events.record(pod, "Warning", "FailedScheduling", message)
