"""The ReplicaSet controller: keep ``spec.replicas`` pods, report their readiness."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kaito.api.resources import POD
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.workload import is_active, is_pod_ready, owned, pod_from_template
from kaito_sim.emulator.builtins import REPLICASET
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
RS_KEY = "replicasets.apps"


def owner_keys(event: WatchEvent, kind: str) -> list[Key]:
    """The (namespace, name) of the ``kind`` controller of an event's object."""
    return [
        (event.namespace, r["name"])
        for r in event.obj["metadata"].get("ownerReferences") or []
        if r.get("kind") == kind and r.get("controller")
    ]


class ReplicaSetController(Agent):
    name = "replicaset-controller"

    def __init__(self, store: Store, client: LocalClient) -> None:
        super().__init__(store, client)
        self.events = EventRecorder(client, "replicaset-controller")

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in self.store.items(RS_KEY)]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == RS_KEY:
            return [(event.namespace, event.obj["metadata"]["name"])]
        if event.resource == "pods":
            return owner_keys(event, "ReplicaSet")
        return []

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        rs = self.store.get(RS_KEY, namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return None
        spec = rs.get("spec") or {}
        pods = [p for p in owned(self.store, rs, "pods") if is_active(p)]
        want = int(spec.get("replicas", 1))
        if len(pods) < want:
            for _ in range(want - len(pods)):
                pod = self.client.create(
                    POD, pod_from_template(rs, spec.get("template") or {}, generate_name=f"{name}-")
                )
                self.events.record(
                    rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
                )
            return None
        if len(pods) > want:
            victims = sorted(pods, key=lambda p: (is_pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in victims[: len(pods) - want]:
                self.client.delete(POD, pod["metadata"]["name"], namespace)
                self.events.record(
                    rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}"
                )
            return None
        ready = sum(1 for p in pods if is_pod_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if status != rs.get("status"):
            self.client.update(REPLICASET, {**rs, "status": status}, status=True)
        return None
