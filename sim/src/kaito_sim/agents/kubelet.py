"""The kubelet stand-in: pods bound to a Ready node go Pending -> Running ->
Ready (init containers first), Job pods exit, and scripted failures
(ImagePullBackOff, CrashLoopBackOff, OOMKilled, failing Jobs) look the way
a real kubelet reports them. Deleted pods terminate, then disappear."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kaito.api.resources import POD
from kaito_sim.agents.base import Agent, Key
from kaito_sim.agents.events import EventRecorder
from kaito_sim.agents.failures import Failure, FailureScripts
from kaito_sim.agents.nodes import is_ready
from kaito_sim.agents.timings import Timings
from kaito_sim.emulator import clock
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.watch import WatchEvent

Obj = dict[str, Any]

PULLING, INIT, RUNNING, BACKOFF, EXITED, IMAGE_PULL_FAILED = (
    "pulling",
    "init",
    "running",
    "backoff",
    "exited",
    "image-pull-failed",
)


@dataclass
class PodRun:
    """What the simulated kubelet remembers about one pod."""

    stage: str = PULLING
    since: float = 0.0
    started_at: str = ""
    init_done: int = 0
    restarts: int = 0
    exit_code: int = 0
    last_termination: Obj | None = None
    pull_attempts: int = 0
    container_started_at: str = ""
    pod_ip: str = ""
    recorded: set[str] = field(default_factory=set)


def _container_id(pod_uid: str, name: str, restarts: int) -> str:
    digest = hashlib.sha256(f"{pod_uid}/{name}/{restarts}".encode()).hexdigest()
    return f"containerd://{digest}"


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repo}@sha256:{digest}"


def _qualified_image(image: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx:latest``, as containerd resolves short names."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        name = image
    elif "/" in image:
        name = f"docker.io/{image}"
    else:
        name = f"docker.io/library/{image}"
    return name if ":" in name.rsplit("/", 1)[-1] or "@" in name else f"{name}:latest"


class Kubelet(Agent):
    name = "kubelet"

    def __init__(self, store: Store, client: LocalClient, failures: FailureScripts, timings: Timings) -> None:
        super().__init__(store, client)
        self.failures = failures
        self.timings = timings
        self.events = EventRecorder(client, "kubelet")
        self._runs: dict[str, PodRun] = {}
        self._next_ip: dict[str, int] = {}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == "pods":
            if (event.obj.get("spec") or {}).get("nodeName"):
                return [(event.namespace, event.obj["metadata"]["name"])]
            return []
        if event.resource == "nodes":
            name = event.obj["metadata"]["name"]
            return [
                (p["metadata"]["namespace"], p["metadata"]["name"])
                for p in self.store.items("pods")
                if (p.get("spec") or {}).get("nodeName") == name
            ]
        return []

    def initial_keys(self) -> Iterable[Key]:
        return [
            (p["metadata"]["namespace"], p["metadata"]["name"])
            for p in self.store.items("pods")
            if (p.get("spec") or {}).get("nodeName")
        ]

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, key: Key) -> float | None:
        namespace, name = key
        pod = self.store.get("pods", namespace, name)
        if pod is None:
            return None
        uid = pod["metadata"]["uid"]
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.store.get("nodes", "", node_name or "")
        if pod["metadata"].get("deletionTimestamp"):
            return self._terminate(pod, uid)
        if node is None:
            # The node is gone: its pods go too (what the pod garbage collector does).
            self._runs.pop(uid, None)
            self.client.delete(POD, name, namespace, grace_period_seconds=0)
            return None
        if not is_ready(node):
            return None
        now = asyncio.get_running_loop().time()
        run = self._runs.get(uid)
        if run is None:
            run = self._runs[uid] = PodRun(since=now, started_at=clock.now(), pod_ip=self._allocate_ip(node))
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and run.stage != EXITED:
            return None
        delay = self._advance(pod, run, now)
        self._write_status(pod, node, run)
        return delay

    def _allocate_ip(self, node: Obj) -> str:
        cidr = ipaddress.ip_network((node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24")
        name = node["metadata"]["name"]
        index = self._next_ip.get(name, 2)
        self._next_ip[name] = index + 1
        return str(cidr.network_address + index % max(cidr.num_addresses - 2, 1))

    def _event(self, pod: Obj, run: PodRun, tag: str, type_: str, reason: str, message: str) -> None:
        if tag not in run.recorded:
            run.recorded.add(tag)
            self.events.record(pod, type_, reason, message, host=(pod.get("spec") or {}).get("nodeName"))

    def _advance(self, pod: Obj, run: PodRun, now: float) -> float | None:
        """Move the pod's simulated life forward; return seconds until the next step."""
        t = self.timings
        spec = pod.get("spec") or {}
        failure = self.failures.for_pod(pod)
        containers = spec.get("containers") or []
        inits = spec.get("initContainers") or []
        first_image = str((inits or containers or [{}])[0].get("image", ""))
        elapsed = now - run.since
        if run.stage == PULLING:
            self._event(pod, run, "pulling", "Normal", "Pulling", f'Pulling image "{first_image}"')
            if elapsed < t.image_pull:
                return t.image_pull - elapsed
            if failure == Failure.IMAGE_PULL_BACKOFF:
                run.stage, run.since, run.pull_attempts = IMAGE_PULL_FAILED, now, 1
                self._event(pod, run, "pull-failed", "Warning", "Failed", self._pull_error(first_image))
                return t.backoff
            for c in inits[:1] or containers:
                self._started_events(pod, run, c, 0)
            run.stage, run.since = (INIT if inits else RUNNING), now
            run.container_started_at = clock.now()
            return 0.0
        if run.stage == IMAGE_PULL_FAILED:
            if elapsed >= t.backoff:
                run.pull_attempts += 1
                run.since = now
            self._event(
                pod, run, "pull-backoff", "Normal", "BackOff", f'Back-off pulling image "{first_image}"'
            )
            return t.backoff
        if run.stage == INIT:
            if elapsed < t.init_container:
                return t.init_container - elapsed
            run.init_done += 1
            run.since = now
            if run.init_done >= len(inits):
                run.stage = RUNNING
                for c in containers:
                    self._started_events(pod, run, c, 0)
            else:
                self._started_events(pod, run, inits[run.init_done], 0)
            run.container_started_at = clock.now()
            return 0.0
        job_like = spec.get("restartPolicy", "Always") != "Always"
        if run.stage == RUNNING:
            if failure in (Failure.CRASH_LOOP_BACKOFF, Failure.OOM_KILLED):
                if elapsed < t.crash_after:
                    return t.crash_after - elapsed
                oom = failure == Failure.OOM_KILLED
                run.last_termination = {
                    "exitCode": 137 if oom else 1,
                    "reason": "OOMKilled" if oom else "Error",
                    "startedAt": run.container_started_at,
                    "finishedAt": clock.now(),
                    "containerID": _container_id(
                        pod["metadata"]["uid"], containers[0].get("name", ""), run.restarts
                    ),
                }
                run.stage, run.since = BACKOFF, now
                name = containers[0].get("name", "")
                self.events.record(
                    pod,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod "
                    f"{pod['metadata']['name']}_{pod['metadata']['namespace']}"
                    f"({pod['metadata']['uid']})",
                    host=spec.get("nodeName"),
                )
                return t.backoff
            if job_like:
                if elapsed < t.job_run:
                    return t.job_run - elapsed
                run.exit_code = 1 if failure == Failure.JOB_FAILURE else 0
                run.stage, run.since = EXITED, now
                return None
            return (t.ready - elapsed) if elapsed < t.ready else None
        if run.stage == BACKOFF:
            if elapsed < t.backoff:
                return t.backoff - elapsed
            run.restarts += 1
            run.stage, run.since = RUNNING, now
            run.container_started_at = clock.now()
            return 0.0
        return None

    def _started_events(self, pod: Obj, run: PodRun, container: Obj, restarts: int) -> None:
        name, image = container.get("name", ""), container.get("image", "")
        self._event(
            pod,
            run,
            f"pulled/{name}",
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in 1.2s (1.2s including waiting). Image size: 52428800 '
            "bytes.",
        )
        self._event(pod, run, f"created/{name}/{restarts}", "Normal", "Created", f"Created container: {name}")
        self._event(pod, run, f"started/{name}/{restarts}", "Normal", "Started", f"Started container {name}")

    @staticmethod
    def _pull_error(image: str) -> str:
        qualified = _qualified_image(image)
        return (
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
            f'image "{qualified}": failed to resolve reference "{qualified}": {qualified}: not found'
        )

    # ------------------------------------------------------------------ status

    def _container_status(
        self, pod: Obj, run: PodRun, container: Obj, index: int, is_init: bool, ready_now: bool
    ) -> Obj:
        uid = pod["metadata"]["uid"]
        name, image = container.get("name", ""), str(container.get("image", ""))
        status: Obj = {
            "name": name,
            "image": image,
            "imageID": "",
            "restartCount": 0,
            "ready": False,
            "started": False,
            "state": {},
            "lastState": {},
        }
        if run.stage == PULLING:
            status["state"] = {
                "waiting": {
                    "reason": "PodInitializing"
                    if not is_init and (pod.get("spec") or {}).get("initContainers")
                    else "ContainerCreating"
                }
            }
            return status
        if run.stage == IMAGE_PULL_FAILED:
            reason = "ErrImagePull" if run.pull_attempts % 2 == 1 else "ImagePullBackOff"
            message = (
                self._pull_error(image) if reason == "ErrImagePull" else f'Back-off pulling image "{image}"'
            )
            status["state"] = {"waiting": {"reason": reason, "message": message}}
            return status
        status["imageID"] = _image_id(_qualified_image(image))
        if is_init:
            if index < run.init_done:
                status["state"] = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": run.started_at,
                        "finishedAt": run.container_started_at,
                        "containerID": _container_id(uid, name, 0),
                    }
                }
                status["ready"] = True
                status["containerID"] = _container_id(uid, name, 0)
            elif index == run.init_done and run.stage == INIT:
                status["state"] = {"running": {"startedAt": run.container_started_at}}
                status["started"] = True
                status["containerID"] = _container_id(uid, name, 0)
            else:
                status["state"] = {"waiting": {"reason": "PodInitializing"}}
            return status
        if run.stage == INIT:
            status["state"] = {"waiting": {"reason": "PodInitializing"}}
            return status
        status["restartCount"] = run.restarts
        status["containerID"] = _container_id(uid, name, run.restarts)
        if run.last_termination and index == 0:
            status["lastState"] = {"terminated": dict(run.last_termination)}
        if run.stage == BACKOFF and index == 0:
            status["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {int(self.timings.backoff)}s restarting failed container={name} "
                    f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({uid})",
                }
            }
            return status
        if run.stage == EXITED:
            code = run.exit_code
            status["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": run.container_started_at,
                    "finishedAt": clock.now(),
                    "containerID": status["containerID"],
                }
            }
            return status
        status["state"] = {"running": {"startedAt": run.container_started_at}}
        status["started"] = True
        status["ready"] = ready_now
        return status

    def _write_status(self, pod: Obj, node: Obj, run: PodRun) -> None:
        spec = pod.get("spec") or {}
        now_loop = asyncio.get_running_loop().time()
        crashing = run.stage == BACKOFF
        ready_now = run.stage == RUNNING and now_loop - run.since >= self.timings.ready and not crashing
        inits = spec.get("initContainers") or []
        containers = spec.get("containers") or []
        old = pod.get("status") or {}
        old_cs = {
            c.get("name"): c
            for c in (old.get("containerStatuses") or []) + (old.get("initContainerStatuses") or [])
        }
        host_ip = next(
            (
                a.get("address")
                for a in (node.get("status") or {}).get("addresses") or []
                if a.get("type") == "InternalIP"
            ),
            "",
        )
        init_statuses = [self._container_status(pod, run, c, i, True, ready_now) for i, c in enumerate(inits)]
        statuses = [
            self._container_status(pod, run, c, i, False, ready_now) for i, c in enumerate(containers)
        ]
        for container_status in init_statuses + statuses:
            prev = old_cs.get(container_status["name"])
            state = container_status.get("state") or {}
            if prev and "running" in state and "running" in (prev.get("state") or {}):
                state["running"] = prev["state"]["running"]
            if prev and "terminated" in state and "terminated" in (prev.get("state") or {}):
                state["terminated"]["finishedAt"] = prev["state"]["terminated"].get("finishedAt")
        phase = "Pending"
        if run.stage in (RUNNING, BACKOFF):
            phase = "Running"
        elif run.stage == EXITED:
            phase = "Succeeded" if run.exit_code == 0 else "Failed"
        initialized = run.stage in (RUNNING, BACKOFF, EXITED)
        all_ready = bool(statuses) and all(s["ready"] for s in statuses)
        previous = {c.get("type"): c for c in old.get("conditions") or []}

        def condition(type_: str, ok: bool, reason: str | None = None) -> Obj:
            status = "True" if ok else "False"
            prev = previous.get(type_)
            if prev is not None and prev.get("status") == status and prev.get("reason") == reason:
                return dict(prev)
            cond: Obj = {
                "type": type_,
                "status": status,
                "lastProbeTime": None,
                "lastTransitionTime": clock.now(),
            }
            if reason:
                cond["reason"] = reason
            return cond

        not_ready_reason = (
            None if all_ready else ("PodCompleted" if run.stage == EXITED else "ContainersNotReady")
        )
        conditions = [
            condition("PodReadyToStartContainers", run.stage not in (PULLING,)),
            condition(
                "Initialized",
                initialized or not inits,
                None if initialized or not inits else "ContainersNotInitialized",
            ),
            condition("Ready", all_ready, not_ready_reason),
            condition("ContainersReady", all_ready, not_ready_reason),
            previous.get("PodScheduled") or condition("PodScheduled", True),
        ]
        new_status: Obj = {
            "phase": phase,
            "conditions": conditions,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "startTime": old.get("startTime") or run.started_at,
            "qosClass": old.get("qosClass", "BestEffort"),
            "containerStatuses": statuses,
        }
        if init_statuses:
            new_status["initContainerStatuses"] = init_statuses
        if run.stage in (RUNNING, BACKOFF, EXITED):
            new_status["podIP"] = run.pod_ip
            new_status["podIPs"] = [{"ip": run.pod_ip}]
        if new_status != old:
            self.client.update(POD, {**pod, "status": new_status}, status=True)

    # ------------------------------------------------------------------ termination

    def _terminate(self, pod: Obj, uid: str) -> float | None:
        run = self._runs.get(uid)
        loop_now = asyncio.get_running_loop().time()
        if run is None:
            run = self._runs[uid] = PodRun(since=loop_now)
        if "killing" not in run.recorded:
            for c in (pod.get("spec") or {}).get("containers") or []:
                self._event(
                    pod,
                    run,
                    f"kill/{c.get('name')}",
                    "Normal",
                    "Killing",
                    f"Stopping container {c.get('name')}",
                )
            run.recorded.add("killing")
            run.since = loop_now
        elapsed = loop_now - run.since
        if elapsed < self.timings.termination:
            return self.timings.termination - elapsed
        self._runs.pop(uid, None)
        meta = pod["metadata"]
        self.client.delete(POD, meta["name"], meta["namespace"], grace_period_seconds=0)
        return None
