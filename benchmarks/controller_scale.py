"""Controller scale benchmark: kaito's controller runtime against a kopf operator doing the same work.

N ``Widget`` custom resources (status subresource) are created in an API
emulator; an operator must give each one a child ConfigMap it owns and record
that child in the Widget's status. Each operator runs as its own process
against its own fresh emulator (served by this process), and the emulator's
request log counts every call it makes:

* ``seconds``: from the first Widget created until every Widget is converged;
* ``requests_per_object``: API requests the operator sent meanwhile, per Widget;
* ``idle_writes_per_min``: writes it sent during an idle window after
  convergence (a level-triggered controller at rest must send none).

The peer is a minimal kopf operator (kopf's own default persistence, event
posting off as kaito posts none), run with ``kopf.run(standalone=True)``.

    python benchmarks/controller_scale.py --objects 1000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from kaito.api.core import ConfigMap
from kaito.api.meta import KubeModel, KubeObject, ObjectMeta, OwnerReference
from kaito.api.resources import CONFIGMAP, ResourceType
from kaito.kube import errors
from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.controller import Controller
from kaito.kube.handlers import EnqueueRequestForOwner
from kaito.kube.informer import Informer
from kaito.kube.logging import configure_logging
from kaito.kube.manager import Manager, ManagerOptions
from kaito.kube.predicates import ResourceVersionChanged
from kaito.kube.reconcile import Request, Result

NAMESPACE = "default"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})

WIDGET = ResourceType("bench.kaito.sh", "v1", "Widget", "widgets", True, subresources=frozenset({"status"}))

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.bench.kaito.sh"},
    "spec": {
        "group": "bench.kaito.sh",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"data": {"type": "string"}}},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


class WidgetSpec(KubeModel):
    data: str = ""


class WidgetStatus(KubeModel):
    child: str | None = None
    observed_generation: int | None = None


class Widget(KubeObject):
    RESOURCE: ClassVar[ResourceType] = WIDGET

    spec: WidgetSpec
    status: WidgetStatus | None = None


def child_name(widget: str) -> str:
    return f"{widget}-child"


# The kaito operator.


class WidgetReconciler:
    """Level-triggered: compare the cached Widget and child with the desired state, write only differences.

    Writes are ``assume``d into the caches, so the reconcile that the write's own
    watch event triggers reads what was written and does not repeat it.
    """

    def __init__(self, client: Client, widgets: Informer[Widget], children: Informer[ConfigMap]) -> None:
        self.client = client
        self.widgets = widgets
        self.children = children

    async def reconcile(self, request: Request) -> Result:
        widget = self.widgets.get(request.name, request.namespace)
        if widget is None or widget.metadata.deletion_timestamp:
            return Result()
        name = child_name(widget.name)
        child = self.children.get(name, widget.namespace)
        desired = {"data": widget.spec.data}
        if child is None:
            owner = OwnerReference(
                api_version=WIDGET.api_version,
                kind=WIDGET.kind,
                name=widget.name,
                uid=widget.metadata.uid or "",
                controller=True,
                block_owner_deletion=True,
            )
            new = ConfigMap(
                metadata=ObjectMeta(name=name, namespace=widget.namespace, owner_references=[owner])
            )
            new.data = desired
            with contextlib.suppress(errors.AlreadyExists):
                self.children.assume(await self.client.create(new))
        elif child.data != desired:
            self.children.assume(
                await self.client.patch(ConfigMap, name, {"data": desired}, namespace=widget.namespace)
            )
        status = widget.status or WidgetStatus()
        if status.child != name or status.observed_generation != widget.metadata.generation:
            patch = {"status": {"child": name, "observedGeneration": widget.metadata.generation}}
            self.widgets.assume(
                await self.client.patch_status(Widget, widget.name, patch, namespace=widget.namespace)
            )
        return Result()


async def run_kaito_operator(kubeconfig: str, workers: int, qps: float) -> None:
    configure_logging("json", "warning")
    config = await load_rest_config(kubeconfig)
    async with Client(config, qps=qps if qps > 0 else None, burst=max(30, int(qps))) as client:
        manager = Manager(client, ManagerOptions(metrics_bind_address="0", health_probe_bind_address="0"))
        widgets = manager.informer(Widget, namespace=NAMESPACE)
        children = manager.informer(ConfigMap, namespace=NAMESPACE)
        controller = Controller(
            "widget", WidgetReconciler(client, widgets, children), max_concurrent_reconciles=workers
        )
        controller.watches(widgets, None, ResourceVersionChanged())
        controller.watches(children, EnqueueRequestForOwner(WIDGET))
        manager.add(controller)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, manager.stop)
        await manager.run()


# The kopf peer.


def run_kopf_operator() -> None:
    import kopf
    from kubernetes_asyncio import client as k8s
    from kubernetes_asyncio import config as k8s_config

    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        return kopf.login_with_kubeconfig(**kwargs)

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
        settings.posting.enabled = False
        await k8s_config.load_kube_config()
        memo.api = k8s.CoreV1Api(k8s.ApiClient())

    @kopf.on.create("bench.kaito.sh", "v1", "widgets", registry=registry)
    async def create(
        name: str, namespace: str, spec: Any, meta: Any, patch: kopf.Patch, memo: kopf.Memo, **_: Any
    ) -> None:
        child = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": child_name(name), "namespace": namespace},
            "data": {"data": spec.get("data", "")},
        }
        kopf.adopt(child)
        try:
            await memo.api.create_namespaced_config_map(namespace, child)
        except k8s.ApiException as err:
            if err.status != 409:
                raise
        patch.status["child"] = child_name(name)
        patch.status["observedGeneration"] = meta.get("generation")

    kopf.configure(verbose=False, quiet=True)
    kopf.run(registry=registry, standalone=True, namespaces=[NAMESPACE])


# The driver.


@dataclass
class Measurement:
    seconds: float
    requests_per_object: float
    writes_per_object: float
    idle_writes_per_min: float
    cpu_seconds: float  # the operator process's CPU time while converging


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(operator: str, args: argparse.Namespace) -> Measurement:
    from kaito_sim import KubeEmulator

    objects = args.objects
    async with KubeEmulator(crds=[WIDGET_CRD], history_size=max(5000, 20 * objects)) as emu:
        command = [sys.executable, __file__, "--operator", operator, "--kubeconfig", str(emu.kubeconfig_path),
                   "--workers", str(args.workers), "--qps", str(args.qps)]  # fmt: skip
        env = {**os.environ, "KUBECONFIG": str(emu.kubeconfig_path)}
        proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL)
        try:
            await _wait_until_watching(emu, proc, args.timeout)
            cpu_before = _process_cpu(proc.pid)
            start = time.time()
            await _create_widgets(emu, objects)
            await _wait_converged(emu, objects, proc, args.timeout)
            converged = time.time()
            cpu = _process_cpu(proc.pid) - cpu_before
            await asyncio.sleep(args.idle_seconds)
            during = [r for r in emu.requests if start <= r.timestamp <= converged]
            idle = [r for r in emu.requests if r.timestamp > converged and r.verb in WRITE_VERBS]
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), timeout=30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        return Measurement(
            seconds=round(converged - start, 3),
            requests_per_object=round(len(during) / objects, 3),
            writes_per_object=round(sum(r.verb in WRITE_VERBS for r in during) / objects, 3),
            idle_writes_per_min=round(len(idle) * 60.0 / args.idle_seconds, 3),
            cpu_seconds=round(cpu, 3),
        )


def _median(runs: list[Measurement]) -> Measurement:
    """Field-wise median over repeated runs (each run on a fresh emulator and operator)."""
    return Measurement(
        **{f: statistics.median(getattr(r, f) for r in runs) for f in Measurement.__dataclass_fields__}
    )


async def _wait_until_watching(emu: Any, proc: asyncio.subprocess.Process, timeout: float) -> None:
    """The operator is up once it has listed Widgets; give its watch a moment to open."""
    async with asyncio.timeout(timeout):
        while not emu.requests.filter(verb="list", resource="widgets", status=200):
            if proc.returncode is not None:
                raise RuntimeError(f"operator exited early with {proc.returncode}")
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)


async def _create_widgets(emu: Any, objects: int) -> None:
    for i in range(objects):
        metadata = {"name": f"w{i:05d}", "namespace": NAMESPACE}
        body = {
            "apiVersion": WIDGET.api_version,
            "kind": WIDGET.kind,
            "metadata": metadata,
            "spec": {"data": f"v{i}"},
        }
        emu.client.create(WIDGET, body)
        if i % 25 == 24:
            await asyncio.sleep(0)  # let the emulator stream the events


async def _wait_converged(emu: Any, objects: int, proc: asyncio.subprocess.Process, timeout: float) -> None:
    pending = {f"w{i:05d}" for i in range(objects)}
    async with asyncio.timeout(timeout):
        while pending:
            if proc.returncode is not None:
                raise RuntimeError(f"operator exited early with {proc.returncode}")
            for name in list(pending):
                widget = emu.client.try_get(WIDGET, name, NAMESPACE)
                child = emu.client.try_get(CONFIGMAP, child_name(name), NAMESPACE)
                if widget and child and (widget.get("status") or {}).get("child") == child_name(name):
                    pending.discard(name)
            await asyncio.sleep(0.05)


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    import kopf

    ours_runs: list[Measurement] = []
    peer_runs: list[Measurement] = []
    for _ in range(args.repeat):  # interleaved, so a burst of machine load hits both alike
        ours_runs.append(await measure("kaito", args))
        peer_runs.append(await measure("kopf", args))
    ours, peer = _median(ours_runs), _median(peer_runs)
    return {
        "benchmark": "controller_scale",
        "objects": args.objects,
        "workers": args.workers,
        "client_qps": args.qps if args.qps > 0 else None,
        "idle_window_seconds": args.idle_seconds,
        "repeats": args.repeat,
        **asdict(ours),
        "peer": f"kopf {getattr(kopf, '__version__', '')}".strip(),
        "peer_seconds": peer.seconds,
        "peer_requests_per_object": peer.requests_per_object,
        "peer_writes_per_object": peer.writes_per_object,
        "peer_idle_writes_per_min": peer.idle_writes_per_min,
        "peer_cpu_seconds": peer.cpu_seconds,
        "speedup_vs_peer": round(peer.seconds / ours.seconds, 2) if ours.seconds else None,
        "requests_ratio_vs_peer": round(peer.requests_per_object / ours.requests_per_object, 2)
        if ours.requests_per_object
        else None,
        "cpu_ratio_vs_peer": round(peer.cpu_seconds / ours.cpu_seconds, 2) if ours.cpu_seconds else None,
        "runs": {"kaito": [asdict(r) for r in ours_runs], "peer": [asdict(r) for r in peer_runs]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=1000, help="Widgets to reconcile (default 1000)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle window after convergence")
    parser.add_argument("--workers", type=int, default=10, help="kaito reconcile workers (default 10)")
    parser.add_argument("--qps", type=float, default=0.0, help="kaito client QPS limit; 0 = none, like kopf")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--repeat", type=int, default=1, help="runs per operator; medians are reported")
    parser.add_argument("--operator", choices=("kaito", "kopf"), help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.operator == "kaito":
        asyncio.run(run_kaito_operator(args.kubeconfig, args.workers, args.qps))
        return 0
    if args.operator == "kopf":
        run_kopf_operator()
        return 0
    if args.objects < 1 or args.repeat < 1:
        parser.error("--objects and --repeat must be at least 1")
    result = asyncio.run(benchmark(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
