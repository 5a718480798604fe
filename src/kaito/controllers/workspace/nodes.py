"""Which nodes a workspace runs on, and whether their GPUs are usable.

A pure survey of what the cache holds: qualified existing nodes are used
first (preferred nodes, then nodes the workspace already used, then nodes its
own claims produced), claims are asked for only to cover the shortfall, and a
node counts only when it is Ready, labelled ``accelerator=nvidia`` and reports
``nvidia.com/gpu`` capacity. A node stuck without GPUs past the deadline is
named in a message that says what is probably wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kaito.api.core import Node
from kaito.api.karpenter import Machine, NodeClaim
from kaito.api.timestamps import parse_time
from kaito.api.wellknown import (
    ACCELERATOR_NVIDIA,
    LABEL_ACCELERATOR,
    LABEL_INSTANCE_TYPE,
    RESOURCE_NVIDIA_GPU,
    ConditionStatus,
)
from kaito.api.workspace import Workspace
from kaito.kube.labels import matches


@dataclass(frozen=True)
class NodeFacts:
    name: str
    labels: dict[str, str]
    ready: bool
    ready_since: datetime | None
    gpus: int
    deleting: bool

    @property
    def accelerator_labelled(self) -> bool:
        return self.labels.get(LABEL_ACCELERATOR) == ACCELERATOR_NVIDIA

    @property
    def gpu_ready(self) -> bool:
        return self.ready and self.accelerator_labelled and self.gpus > 0


def selects(workspace: Workspace, labels: dict[str, str]) -> bool:
    """Whether the workspace's label selector picks a node with these labels (no selector: none)."""
    selector = workspace.resource.label_selector if workspace.resource else None
    return selector is not None and matches(selector, labels)


def node_facts(node: Node) -> NodeFacts:
    status = node.status or {}
    ready_condition = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    ready = ready_condition is not None and ready_condition.get("status") == ConditionStatus.TRUE
    ready_since = None
    if ready and ready_condition is not None and ready_condition.get("lastTransitionTime"):
        try:
            ready_since = parse_time(ready_condition["lastTransitionTime"])
        except ValueError:
            ready_since = None
    capacity = status.get("capacity") or {}
    try:
        gpus = int(str(capacity.get(RESOURCE_NVIDIA_GPU, "0")))
    except ValueError:
        gpus = 0
    return NodeFacts(
        name=node.name,
        labels=dict(node.metadata.labels or {}),
        ready=ready,
        ready_since=ready_since,
        gpus=gpus,
        deleting=node.metadata.deletion_timestamp is not None,
    )


@dataclass(frozen=True)
class NodeSurvey:
    selected: list[str]  # the nodes the workload is pinned to, at most the target
    usable: list[str]  # selected nodes whose GPUs are ready
    unlabelled: list[str]  # selected nodes still missing accelerator=nvidia
    claims_needed: int  # node requests this workspace should have
    problems: list[str] = field(default_factory=list)  # nodes stuck past the GPU deadline
    # Seconds until a selected node without GPUs reaches the deadline: look again then.
    recheck_after: float | None = None

    def ready(self, target: int) -> bool:
        return len(self.usable) >= target


def survey_nodes(
    workspace: Workspace,
    nodes: Sequence[Node],
    requests: Sequence[NodeClaim | Machine],
    target: int,
    now: datetime,
    gpu_deadline_seconds: float,
) -> NodeSurvey:
    resource = workspace.resource
    instance_type = resource.instance_type if resource else None
    preferred = set(resource.preferred_nodes or []) if resource else set()
    previous = set(workspace.status.worker_nodes or []) if workspace.status else set()
    claimed = {r.node_name for r in requests if r.node_name and not r.is_deleting}

    def qualifies(node: NodeFacts) -> bool:
        if node.deleting or not node.ready:
            return False
        if not selects(workspace, node.labels):
            return False
        if node.name in preferred or node.name in claimed:
            return True
        return instance_type is None or node.labels.get(LABEL_INSTANCE_TYPE) == instance_type

    facts = [node_facts(n) for n in nodes]
    qualified = sorted(
        (n for n in facts if qualifies(n)),
        key=lambda n: (n.name not in preferred, n.name not in previous, n.name not in claimed, n.name),
    )
    selected = qualified[:target]
    external = [n for n in selected if n.name not in claimed]
    problems = []
    waits = []
    for node in selected:
        if node.gpus > 0 or node.ready_since is None:
            continue
        waited = (now - node.ready_since).total_seconds()
        if waited >= gpu_deadline_seconds:
            problems.append(
                f"node {node.name} is Ready but reports 0 {RESOURCE_NVIDIA_GPU} after "
                f"{_duration(waited)}; is the NVIDIA device plugin running on it?"
            )
        else:
            waits.append(gpu_deadline_seconds - waited)
    return NodeSurvey(
        selected=sorted(n.name for n in selected),
        usable=sorted(n.name for n in selected if n.gpu_ready),
        unlabelled=sorted(n.name for n in selected if not n.accelerator_labelled),
        claims_needed=max(0, target - len(external)),
        problems=problems,
        recheck_after=min(waits) if waits else None,
    )


def _duration(seconds: float) -> str:
    value, unit = (int(seconds // 60), "minute") if seconds >= 60 else (int(seconds), "second")
    return f"{value} {unit}{'s' if value != 1 else ''}"
