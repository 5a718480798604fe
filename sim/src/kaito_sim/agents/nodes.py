"""Simulated Node objects: capacity (including ``nvidia.com/gpu``), the Ready
condition and the labels a real kubelet and device plugin would report."""

from __future__ import annotations

import ipaddress
from typing import Any

from kaito.api import wellknown as wk
from kaito_sim.emulator import clock

Obj = dict[str, Any]

KUBELET_VERSION = "v1.35.0"
_POD_CIDR = ipaddress.ip_network("10.244.0.0/16")


def node_conditions(ready: bool, now: str | None = None) -> list[Obj]:
    now = now or clock.now()
    pressure = [
        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ]
    conditions = [
        {
            "type": t,
            "status": "False",
            "reason": r,
            "message": m,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        for t, r, m in pressure
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else "container runtime network not ready",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
    )
    return conditions


def node_object(
    name: str,
    *,
    index: int = 0,
    gpus: int = 0,
    cpu: str = "8",
    memory: str = "32Gi",
    ephemeral_storage: str = "100Gi",
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
    ready: bool = True,
    provider_id: str | None = None,
    instance_type: str | None = None,
) -> Obj:
    """A Node as a kubelet registers it; ``gpus`` > 0 adds ``nvidia.com/gpu`` as the device plugin would."""
    capacity = {"cpu": cpu, "memory": memory, "ephemeral-storage": ephemeral_storage, "pods": "110"}
    if gpus:
        capacity[wk.RESOURCE_NVIDIA_GPU] = str(gpus)
    node_labels = {
        wk.LABEL_HOSTNAME: name,
        wk.LABEL_OS: "linux",
        wk.LABEL_ARCH: "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
    }
    if instance_type:
        node_labels[wk.LABEL_INSTANCE_TYPE] = instance_type
        node_labels["beta.kubernetes.io/instance-type"] = instance_type
    node_labels.update(labels or {})
    spec: Obj = {"podCIDR": str(list(_POD_CIDR.subnets(new_prefix=24))[index % 256])}
    if taints:
        spec["taints"] = taints
    if provider_id:
        spec["providerID"] = provider_id
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels},
        "spec": spec,
        "status": {
            "capacity": dict(capacity),
            "allocatable": dict(capacity),
            "conditions": node_conditions(ready),
            "addresses": [
                {"type": "InternalIP", "address": f"10.224.0.{4 + index % 250}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "osImage": "Ubuntu 22.04.5 LTS",
                "kernelVersion": "5.15.0-1079-azure",
                "containerRuntimeVersion": "containerd://1.7.27",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "machineID": f"{index:032x}",
                "systemUUID": f"{index:032x}",
                "bootID": f"{index:032x}",
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def is_ready(node: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )
