"""The Job controller: run pods until ``completions`` succeed or more than
``backoffLimit`` fail, then set Complete or Failed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kaito.api.resources import JOB, POD
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.replicaset import owner_keys
from kaito_sim.agents.workload import condition, is_active, is_pod_ready, owned, pod_from_template
from kaito_sim.emulator import clock
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]
JOB_KEY = "jobs.batch"


def _done(job: Obj) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


class JobController(Agent):
    name = "job-controller"

    def __init__(self, store: Store, client: LocalClient) -> None:
        super().__init__(store, client)
        self.events = EventRecorder(client, "job-controller")

    def initial_keys(self) -> Iterable[Key]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in self.store.items(JOB_KEY)]

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == JOB_KEY:
            return [(event.namespace, event.obj["metadata"]["name"])]
        if event.resource == "pods":
            return owner_keys(event, "Job")
        return []

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        job = self.store.get(JOB_KEY, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        spec = job.get("spec") or {}
        pods = owned(self.store, job, "pods")
        active = [p for p in pods if is_active(p)]
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        if _done(job):
            for pod in active:
                self.client.delete(POD, pod["metadata"]["name"], namespace)
            return None
        completions = int(spec.get("completions") or 1)
        old_status = job.get("status") or {}
        status: Obj = {
            "active": len(active),
            "ready": sum(1 for p in active if is_pod_ready(p)),
            "succeeded": succeeded,
            "failed": failed,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
        if spec.get("suspend"):
            status["conditions"] = old_status.get("conditions") or []
        else:
            status["startTime"] = old_status.get("startTime") or clock.now()
        previous = old_status.get("conditions")
        if failed > int(spec.get("backoffLimit", 6)):
            message = "Job has reached the specified backoff limit"
            status["conditions"] = [
                condition("FailureTarget", True, "BackoffLimitExceeded", message, previous),
                condition("Failed", True, "BackoffLimitExceeded", message, previous),
            ]
            self.events.record(job, "Warning", "BackoffLimitExceeded", message)
        elif succeeded >= completions:
            message = "Reached expected number of succeeded pods"
            status["conditions"] = [
                condition("SuccessCriteriaMet", True, "CompletionsReached", message, previous),
                condition("Complete", True, "CompletionsReached", message, previous),
            ]
            status["completionTime"] = clock.now()
            self.events.record(job, "Normal", "Completed", "Job completed")
        elif not spec.get("suspend"):
            want = min(int(spec.get("parallelism") or 1), completions - succeeded) - len(active)
            for _ in range(max(want, 0)):
                pod = self.client.create(
                    POD, pod_from_template(job, spec.get("template") or {}, generate_name=f"{name}-")
                )
                self.events.record(
                    job, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"
                )
            status["active"] = len(active) + max(want, 0)
        for cond in status.get("conditions") or []:
            cond.pop("lastUpdateTime", None)
            cond["lastProbeTime"] = cond["lastTransitionTime"]
        if status != old_status:
            self.client.update(JOB, {**job, "status": status}, status=True)
        return None
