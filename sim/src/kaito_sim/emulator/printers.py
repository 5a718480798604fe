"""Table printers for the built-in kinds: the columns and cell values of
kube-apiserver's printers (``pkg/printers/internalversion``), which is what
``kubectl get`` shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kaito_sim.emulator import clock

Obj = dict[str, Any]
Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    format: str = ""
    priority: int = 0
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column(
    "Age",
    description="CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        moment = clock.parse_time(timestamp)
    except ValueError:
        return "<invalid>"
    return human_duration((dt.datetime.now(dt.UTC) - moment).total_seconds())


def age(obj: Obj) -> str:
    return since(obj["metadata"].get("creationTimestamp"))


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _containers(template_spec: Obj) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def _selector(selector: Obj | None) -> str:
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        values = ",".join(expr.get("values") or [])
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(expr["key"])
        else:
            parts.append(f"!{expr['key']}")
    return ",".join(parts) or "<none>"


def _map_selector(selector: Obj | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items())) or "<none>"


# ---------------------------------------------------------------------------------------------- pods


def pod_status(pod: Obj) -> str:
    """The STATUS column: the same precedence kubectl's printPod applies."""
    status = _status(pod)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_statuses = status.get("initContainerStatuses") or []
    init_total = len(_spec(pod).get("initContainers") or [])
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{init_total}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = (
                    f"Signal:{terminated['signal']}"
                    if terminated.get("signal")
                    else f"ExitCode:{terminated.get('exitCode')}"
                )
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )
            reason = "Running" if ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return str(reason)


def _pod_restarts(pod: Obj) -> str:
    restarts = 0
    last: str | None = None
    statuses = (_status(pod).get("initContainerStatuses") or []) + (
        _status(pod).get("containerStatuses") or []
    )
    for cs in statuses:
        restarts += int(cs.get("restartCount") or 0)
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last is None or finished > last):
            last = finished
    if restarts and last:
        return f"{restarts} ({since(last)} ago)"
    return str(restarts)


def _pod_row(pod: Obj) -> list[Cell]:
    spec, status = _spec(pod), _status(pod)
    total = len(spec.get("containers") or [])
    ready = sum(1 for cs in status.get("containerStatuses") or [] if cs.get("ready"))
    gates = spec.get("readinessGates") or []
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    gates_cell = (
        f"{sum(1 for g in gates if conditions.get(g.get('conditionType')) == 'True')}/{len(gates)}"
        if gates
        else "<none>"
    )
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        pod_status(pod),
        _pod_restarts(pod),
        age(pod),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


POD_COLUMNS = [
    NAME,
    Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", description="The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        description="The number of times the containers in this pod have been restarted and when "
        "the last container in this pod has restarted.",
    ),
    AGE,
    Column("IP", priority=1, description="IP address allocated to the pod."),
    Column("Node", priority=1, description="Name of the Node this pod is assigned to."),
    Column("Nominated Node", priority=1, description="Name of the node where the pod is nominated to run."),
    Column("Readiness Gates", priority=1, description="Pod readiness gates."),
]

# ---------------------------------------------------------------------------------------------- workloads

_WIDE_CONTAINERS = [
    Column("Containers", priority=1, description="Names of each container in the template."),
    Column("Images", priority=1, description="Images referenced by each container in the template."),
]
_WIDE_SELECTOR = Column("Selector", priority=1, description="The label selector for the pods.")


def _template_spec(obj: Obj) -> Obj:
    return ((_spec(obj).get("template") or {}).get("spec")) or {}


def _deployment_row(obj: Obj) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj),
        names,
        images,
        _selector(spec.get("selector")),
    ]


DEPLOYMENT_COLUMNS = [
    NAME,
    Column("Ready", description="Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "integer",
        description="Total number of non-terminated pods targeted by this deployment "
        "that have the desired template spec.",
    ),
    Column(
        "Available",
        "integer",
        description="Total number of available pods (ready for at least "
        "minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    *_WIDE_CONTAINERS,
    _WIDE_SELECTOR,
]


def _replicaset_row(obj: Obj) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(obj),
        names,
        images,
        _selector(spec.get("selector")),
    ]


REPLICASET_COLUMNS = [
    NAME,
    Column("Desired", "integer", description="Number of desired pods."),
    Column("Current", "integer", description="Number of actual replicas."),
    Column("Ready", "integer", description="The number of ready replicas for this replica set."),
    AGE,
    *_WIDE_CONTAINERS,
    _WIDE_SELECTOR,
]


def _statefulset_row(obj: Obj) -> list[Cell]:
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"]["name"],
        f"{_status(obj).get('readyReplicas', 0)}/{_spec(obj).get('replicas', 0)}",
        age(obj),
        names,
        images,
    ]


STATEFULSET_COLUMNS = [
    NAME,
    Column("Ready", description="Number of the pod with ready state"),
    AGE,
    *_WIDE_CONTAINERS,
]


def _daemonset_row(obj: Obj) -> list[Cell]:
    status = _status(obj)
    names, images = _containers(_template_spec(obj))
    node_selector = _map_selector(_template_spec(obj).get("nodeSelector"))
    return [
        obj["metadata"]["name"],
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        node_selector,
        age(obj),
        names,
        images,
        _selector(_spec(obj).get("selector")),
    ]


DAEMONSET_COLUMNS = [
    NAME,
    Column("Desired", "integer"),
    Column("Current", "integer"),
    Column("Ready", "integer"),
    Column("Up-to-date", "integer"),
    Column("Available", "integer"),
    Column("Node Selector"),
    AGE,
    *_WIDE_CONTAINERS,
    _WIDE_SELECTOR,
]


def job_status(obj: Obj) -> str:
    conditions = {c.get("type"): c.get("status") for c in _status(obj).get("conditions") or []}
    for type_, shown in (
        ("Complete", "Complete"),
        ("Failed", "Failed"),
        ("FailureTarget", "FailureTarget"),
        ("SuccessCriteriaMet", "SuccessCriteriaMet"),
    ):
        if conditions.get(type_) == "True":
            return shown
    if _spec(obj).get("suspend"):
        return "Suspended"
    return "Running"


def _job_row(obj: Obj) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    completions = (
        f"{status.get('succeeded', 0)}/{spec['completions']}"
        if spec.get("completions") is not None
        else f"{status.get('succeeded', 0)}/1 of {spec.get('parallelism', 1)}"
    )
    duration = ""
    start = status.get("startTime")
    if start:
        end = status.get("completionTime")
        seconds = (clock.parse_time(end) if end else dt.datetime.now(dt.UTC)) - clock.parse_time(start)
        duration = human_duration(seconds.total_seconds())
    names, images = _containers(_template_spec(obj))
    return [
        obj["metadata"]["name"],
        job_status(obj),
        completions,
        duration,
        age(obj),
        names,
        images,
        _selector(spec.get("selector")),
    ]


JOB_COLUMNS = [
    NAME,
    Column("Status", description="Status of the job."),
    Column("Completions", description="The completion status of the job"),
    Column("Duration", description="Time required to complete the job."),
    AGE,
    *_WIDE_CONTAINERS,
    _WIDE_SELECTOR,
]

# ---------------------------------------------------------------------------------------------- core


def _service_row(obj: Obj) -> list[Cell]:
    spec = _spec(obj)
    type_ = spec.get("type", "ClusterIP")
    external = "<none>"
    if type_ == "LoadBalancer":
        ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
        external = ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress) or "<pending>"
    elif type_ == "ExternalName":
        external = spec.get("externalName") or "<none>"
    elif spec.get("externalIPs"):
        external = ",".join(spec["externalIPs"])
    ports = []
    for port in spec.get("ports") or []:
        text = str(port.get("port"))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        ports.append(f"{text}/{port.get('protocol', 'TCP')}")
    return [
        obj["metadata"]["name"],
        type_,
        spec.get("clusterIP") or "<none>",
        external,
        ",".join(ports) or "<none>",
        age(obj),
        _map_selector(spec.get("selector")),
    ]


SERVICE_COLUMNS = [
    NAME,
    Column("Type", description="type determines how the Service is exposed."),
    Column("Cluster-IP", description="clusterIP is the IP address of the service."),
    Column(
        "External-IP",
        description="externalIPs is a list of IP addresses for which nodes in the cluster will "
        "also accept traffic for this service.",
    ),
    Column("Port(s)", description="The list of ports that are exposed by this service."),
    AGE,
    Column(
        "Selector",
        priority=1,
        description="Route service traffic to pods with label keys and values matching this selector.",
    ),
]


def node_status(obj: Obj) -> str:
    ready = next((c for c in _status(obj).get("conditions") or [] if c.get("type") == "Ready"), None)
    text = (
        "Unknown"
        if ready is None or ready.get("status") == "Unknown"
        else "Ready"
        if ready.get("status") == "True"
        else "NotReady"
    )
    if _spec(obj).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_row(obj: Obj) -> list[Cell]:
    labels = obj["metadata"].get("labels") or {}
    roles = sorted(
        k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k
    )
    if labels.get("kubernetes.io/role"):
        roles.append(labels["kubernetes.io/role"])
    status = _status(obj)
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        obj["metadata"]["name"],
        node_status(obj),
        ",".join(roles) or "<none>",
        age(obj),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


NODE_COLUMNS = [
    NAME,
    Column("Status", description="The status of the node"),
    Column("Roles", description="The roles of the node"),
    AGE,
    Column("Version", description="Kubelet Version reported by the node."),
    Column("Internal-IP", priority=1),
    Column("External-IP", priority=1),
    Column("OS-Image", priority=1),
    Column("Kernel-Version", priority=1),
    Column("Container-Runtime", priority=1),
]


def _event_row(obj: Obj) -> list[Cell]:
    first = obj.get("firstTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    last = (
        obj.get("lastTimestamp")
        or (obj.get("series") or {}).get("lastObservedTime")
        or obj.get("eventTime")
        or first
    )
    count = int(obj.get("count") or (obj.get("series") or {}).get("count") or 1)
    last_seen = since(last)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {since(first)})"
    involved = obj.get("involvedObject") or {}
    source = obj.get("source") or {}
    source_text = source.get("component") or obj.get("reportingComponent") or ""
    if source.get("host"):
        source_text += f", {source['host']}"
    return [
        last_seen,
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
        involved.get("fieldPath", ""),
        source_text,
        since(first),
        count,
        obj["metadata"]["name"],
    ]


EVENT_COLUMNS = [
    Column("Last Seen", description="The last time an event was observed"),
    Column("Type"),
    Column("Reason"),
    Column("Object"),
    Column("Message"),
    Column("Subobject", priority=1),
    Column("Source", priority=1),
    Column("First Seen", priority=1),
    Column("Count", "integer", priority=1),
    Column("Name", priority=1),
]


def _simple(extra: Callable[[Obj], list[Cell]]) -> Callable[[Obj], list[Cell]]:
    return lambda obj: [obj["metadata"]["name"], *extra(obj), age(obj)]


def _pvc_row(obj: Obj) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    capacity = (status.get("capacity") or {}).get("storage", "")
    return [
        obj["metadata"]["name"],
        status.get("phase", ""),
        spec.get("volumeName", ""),
        capacity,
        ",".join(_short_modes(status.get("accessModes") or [])),
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj),
        spec.get("volumeMode", ""),
    ]


def _short_modes(modes: list[str]) -> list[str]:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return [short.get(m, m) for m in modes]


def _revision_row(obj: Obj) -> list[Cell]:
    controller = next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
    shown = "<none>"
    if controller:
        group = str(controller.get("apiVersion", "")).rpartition("/")[0]
        kind = str(controller.get("kind", "")).lower()
        shown = f"{kind}.{group}/{controller.get('name')}" if group else f"{kind}/{controller.get('name')}"
    return [obj["metadata"]["name"], shown, obj.get("revision", 0), age(obj)]


def _crd_row(obj: Obj) -> list[Cell]:
    created = obj["metadata"].get("creationTimestamp", "")
    return [obj["metadata"]["name"], created]


PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Cell]]]] = {
    "pods": (POD_COLUMNS, _pod_row),
    "deployments.apps": (DEPLOYMENT_COLUMNS, _deployment_row),
    "replicasets.apps": (REPLICASET_COLUMNS, _replicaset_row),
    "statefulsets.apps": (STATEFULSET_COLUMNS, _statefulset_row),
    "daemonsets.apps": (DAEMONSET_COLUMNS, _daemonset_row),
    "jobs.batch": (JOB_COLUMNS, _job_row),
    "services": (SERVICE_COLUMNS, _service_row),
    "nodes": (NODE_COLUMNS, _node_row),
    "events": (EVENT_COLUMNS, _event_row),
    "namespaces": (
        [NAME, Column("Status", description="The status of the namespace"), AGE],
        _simple(lambda o: [_status(o).get("phase", "")]),
    ),
    "configmaps": (
        [NAME, Column("Data", "integer", description="Number of data in configmap"), AGE],
        _simple(lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {})]),
    ),
    "secrets": (
        [NAME, Column("Type"), Column("Data", "integer"), AGE],
        _simple(lambda o: [o.get("type", ""), len(o.get("data") or {})]),
    ),
    "serviceaccounts": (
        [NAME, Column("Secrets", "integer"), AGE],
        _simple(lambda o: [len(o.get("secrets") or [])]),
    ),
    "persistentvolumeclaims": (
        [
            NAME,
            Column("Status"),
            Column("Volume"),
            Column("Capacity"),
            Column("Access Modes"),
            Column("StorageClass"),
            Column("VolumeAttributesClass"),
            AGE,
            Column("VolumeMode", priority=1),
        ],
        _pvc_row,
    ),
    "controllerrevisions.apps": (
        [NAME, Column("Controller"), Column("Revision", "integer"), AGE],
        _revision_row,
    ),
    "leases.coordination.k8s.io": (
        [NAME, Column("Holder"), AGE],
        _simple(lambda o: [(o.get("spec") or {}).get("holderIdentity", "")]),
    ),
    "validatingwebhookconfigurations.admissionregistration.k8s.io": (
        [NAME, Column("Webhooks", "integer"), AGE],
        _simple(lambda o: [len(o.get("webhooks") or [])]),
    ),
    "customresourcedefinitions.apiextensions.k8s.io": ([NAME, Column("Created At", "date")], _crd_row),
}
