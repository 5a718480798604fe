"""The StatefulSet controller: pods ``<name>-<ordinal>`` (OrderedReady or
Parallel), rolling updates from the highest ordinal, ControllerRevisions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kaito.api.resources import CONTROLLER_REVISION, POD, STATEFULSET
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.replicaset import owner_keys
from kaito_sim.agents.workload import (
    controller_ref,
    is_pod_ready,
    owned,
    pod_from_template,
    template_hash,
)
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
STS_KEY = "statefulsets.apps"
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


class StatefulSetController(Agent):
    name = "statefulset-controller"

    def __init__(self, store: Store, client: LocalClient) -> None:
        super().__init__(store, client)
        self.events = EventRecorder(client, "statefulset-controller")

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in self.store.items(STS_KEY)]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == STS_KEY:
            return [(event.namespace, event.obj["metadata"]["name"])]
        if event.resource == "pods":
            return owner_keys(event, "StatefulSet")
        return []

    def _revision(self, sts: Obj) -> str:
        """The update revision's name; its ControllerRevision is created when missing."""
        template = (sts.get("spec") or {}).get("template") or {}
        name = f"{sts['metadata']['name']}-{template_hash(template)}"
        namespace = sts["metadata"]["namespace"]
        if self.client.try_get(CONTROLLER_REVISION, name, namespace) is None:
            existing = owned(self.store, sts, "controllerrevisions.apps")
            self.client.create(
                CONTROLLER_REVISION,
                {
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "ownerReferences": [controller_ref(sts)],
                        "labels": {
                            **((sts.get("spec") or {}).get("selector") or {}).get("matchLabels", {}),
                            REVISION_LABEL: name,
                        },
                    },
                    "data": {"spec": {"template": {**template, "$patch": "replace"}}},
                    "revision": max((int(r.get("revision", 0)) for r in existing), default=0) + 1,
                },
            )
        return name

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        sts = self.store.get(STS_KEY, namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return None
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        parallel = spec.get("podManagementPolicy") == "Parallel"
        revision = self._revision(sts)
        pods = {
            int((p["metadata"].get("labels") or {}).get(POD_INDEX_LABEL, "-1")): p
            for p in owned(self.store, sts, "pods")
        }
        for ordinal in sorted((o for o in pods if o >= replicas), reverse=True):
            pod = pods[ordinal]
            if not pod["metadata"].get("deletionTimestamp"):
                self._delete(sts, pod)
            if not parallel:
                return None
        for ordinal in range(replicas):
            existing = pods.get(ordinal)
            if existing is None:
                self._create(sts, ordinal, revision)
                if not parallel:
                    return None
            elif not parallel and not is_pod_ready(existing):
                break
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            partition = int(
                ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
            )
            current = [pods[o] for o in sorted(pods) if o < replicas]
            outdated = [
                p
                for p in current
                if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision
                and int(p["metadata"]["labels"][POD_INDEX_LABEL]) >= partition
            ]
            settled = all(is_pod_ready(p) and not p["metadata"].get("deletionTimestamp") for p in current)
            if outdated and settled and len(current) == replicas:
                self._delete(sts, outdated[-1])
                return None
        self._update_status(sts, [p for o, p in pods.items() if o < replicas], revision)
        return None

    def _create(self, sts: Obj, ordinal: int, revision: str) -> None:
        name = f"{sts['metadata']['name']}-{ordinal}"
        spec = sts.get("spec") or {}
        overrides: Obj = {"hostname": name}
        if spec.get("serviceName"):
            overrides["subdomain"] = spec["serviceName"]
        labels = {POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision}
        self.client.create(
            POD,
            pod_from_template(
                sts, spec.get("template") or {}, name=name, labels=labels, spec_overrides=overrides
            ),
        )
        self.events.record(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful",
        )

    def _delete(self, sts: Obj, pod: Obj) -> None:
        self.client.delete(POD, pod["metadata"]["name"], pod["metadata"]["namespace"])
        self.events.record(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful",
        )

    def _update_status(self, sts: Obj, pods: list[Obj], revision: str) -> None:
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        updated = [p for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision]
        ready = sum(1 for p in live if is_pod_ready(p))
        old_status = sts.get("status") or {}
        current_revision = (
            revision if len(updated) == len(live) else old_status.get("currentRevision", revision)
        )
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": len(updated) if current_revision == revision else len(live) - len(updated),
            "updatedReplicas": len(updated),
            "currentRevision": current_revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        if status != old_status:
            self.client.update(STATEFULSET, {**sts, "status": status}, status=True)
