"""The Deployment controller: one ReplicaSet per pod template; a new template
gets a new ReplicaSet, and old ones scale to zero once it is available."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from kaito.api.resources import DEPLOYMENT
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.replicaset import RS_KEY, owner_keys
from kaito_sim.agents.workload import condition, controller_ref, owned, template_hash
from kaito_sim.emulator.builtins import REPLICASET
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
DEPLOY_KEY = "deployments.apps"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


class DeploymentController(Agent):
    name = "deployment-controller"

    def __init__(self, store: Store, client: LocalClient) -> None:
        super().__init__(store, client)
        self.events = EventRecorder(client, "deployment-controller")

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in self.store.items(DEPLOY_KEY)]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == DEPLOY_KEY:
            return [(event.namespace, event.obj["metadata"]["name"])]
        if event.resource == RS_KEY:
            return owner_keys(event, "Deployment")
        return []

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        deploy = self.store.get(DEPLOY_KEY, namespace, name)
        if deploy is None or deploy["metadata"].get("deletionTimestamp"):
            return None
        spec = deploy.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        digest = template_hash(template)
        sets = owned(self.store, deploy, RS_KEY)
        new = next(
            (rs for rs in sets if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == digest), None
        )
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0")) for rs in sets]
        if new is None:
            new = self._create_replicaset(deploy, template, digest, max(revisions, default=0) + 1, replicas)
            return None
        if int((new.get("spec") or {}).get("replicas", 0)) != replicas:
            self._scale(deploy, new, replicas)
            return None
        old = [rs for rs in sets if rs is not new and int((rs.get("spec") or {}).get("replicas", 0)) > 0]
        new_available = int((new.get("status") or {}).get("availableReplicas", 0))
        recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
        if old and (recreate or new_available >= replicas):
            for rs in old:
                self._scale(deploy, rs, 0)
            return None
        self._update_status(deploy, sets, new, replicas)
        return None

    def _create_replicaset(
        self, deploy: Obj, template: Obj, digest: str, revision: int, replicas: int
    ) -> Obj:
        name = f"{deploy['metadata']['name']}-{digest}"
        rs_template = copy.deepcopy(template)
        rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
        selector = copy.deepcopy((deploy.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
        rs = self.client.create(
            REPLICASET,
            {
                "metadata": {
                    "name": name,
                    "namespace": deploy["metadata"]["namespace"],
                    "labels": {**(template.get("metadata") or {}).get("labels", {}), HASH_LABEL: digest},
                    "annotations": {
                        REVISION: str(revision),
                        "deployment.kubernetes.io/desired-replicas": str(replicas),
                        "deployment.kubernetes.io/max-replicas": str(replicas),
                    },
                    "ownerReferences": [controller_ref(deploy)],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
            },
        )
        annotations = dict(deploy["metadata"].get("annotations") or {})
        if annotations.get(REVISION) != str(revision):
            annotations[REVISION] = str(revision)
            self.client.update(
                DEPLOYMENT, {**deploy, "metadata": {**deploy["metadata"], "annotations": annotations}}
            )
        self.events.record(
            deploy, "Normal", "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {replicas}"
        )
        return rs

    def _scale(self, deploy: Obj, rs: Obj, replicas: int) -> None:
        current = int((rs.get("spec") or {}).get("replicas", 0))
        updated = {**rs, "spec": {**rs["spec"], "replicas": replicas}}
        self.client.update(REPLICASET, updated)
        direction = "up" if replicas > current else "down"
        self.events.record(
            deploy,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {current} to {replicas}",
        )

    def _update_status(self, deploy: Obj, sets: list[Obj], new: Obj, replicas: int) -> None:
        def total(field: str, among: list[Obj]) -> int:
            return sum(int((rs.get("status") or {}).get(field, 0)) for rs in among)

        available = total("availableReplicas", sets)
        previous = (deploy.get("status") or {}).get("conditions")
        complete = (
            int((new.get("status") or {}).get("availableReplicas", 0)) >= replicas
            and total("replicas", sets) == replicas
        )
        conditions = [
            condition(
                "Available",
                available >= replicas,
                "MinimumReplicasAvailable" if available >= replicas else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available >= replicas
                else "Deployment does not have minimum availability.",
                previous,
            ),
            condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                f'ReplicaSet "{new["metadata"]["name"]}" has successfully progressed.'
                if complete
                else f'ReplicaSet "{new["metadata"]["name"]}" is progressing.',
                previous,
            ),
        ]
        status: Obj = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": total("replicas", sets),
            "updatedReplicas": total("replicas", [new]),
            "readyReplicas": total("readyReplicas", sets),
            "availableReplicas": available,
            "conditions": conditions,
        }
        unavailable = max(replicas - available, 0)
        if unavailable:
            status["unavailableReplicas"] = unavailable
        old_status = deploy.get("status") or {}
        if {k: v for k, v in status.items() if k != "conditions"} != {
            k: v for k, v in old_status.items() if k != "conditions"
        } or [(c["type"], c["status"], c["reason"]) for c in conditions] != [
            (c.get("type"), c.get("status"), c.get("reason")) for c in old_status.get("conditions") or []
        ]:
            self.client.update(DEPLOYMENT, {**deploy, "status": status}, status=True)
