"""``KubeEmulator``: the Kubernetes API emulator served on localhost."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from kaito.api.resources import NAMESPACE, SERVICE
from kaito_sim.emulator.admission import ValidatingAdmission
from kaito_sim.emulator.apiserver import Apiserver
from kaito_sim.emulator.builtins import builtin_resources
from kaito_sim.emulator.faults import Faults
from kaito_sim.emulator.gc import GarbageCollector
from kaito_sim.emulator.http import HttpFrontend
from kaito_sim.emulator.kubeconfig import write_kubeconfig
from kaito_sim.emulator.local import LocalClient
from kaito_sim.emulator.registry import Registry
from kaito_sim.emulator.requestlog import RequestLog
from kaito_sim.emulator.store import Store
from kaito_sim.emulator.webhooklog import WebhookLog

DEFAULT_TOKEN = "kaito-emulator-token"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class KubeEmulator:
    """A kube-apiserver stand-in on ``127.0.0.1:<port>`` (a free port unless one is given).

    ``async with KubeEmulator(crds=[...]) as emu`` starts it, installs the CRDs and the system
    namespaces, and writes a kubeconfig to ``emu.kubeconfig_path``. Writes through its HTTP API
    pass the registered validating admission webhooks (``emu.webhook_calls`` logs each call).
    """

    def __init__(
        self,
        crds: Iterable[dict[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        history_size: int = 5000,
        bookmark_interval: float = 60.0,
        kubeconfig_path: str | os.PathLike[str] | None = None,
        context_name: str = "kaito-emulator",
    ) -> None:
        self.host = host
        self.token = token
        self.store = Store(history_size)
        self.registry = Registry()
        self.api = Apiserver(self.store, self.registry)
        for resource in builtin_resources(self.api.crd_strategy):
            self.registry.add(resource)
        self.client = LocalClient(self.api)
        self.requests = RequestLog()
        self.admission = ValidatingAdmission(self.store)
        self._crds = [copy.deepcopy(c) for c in crds]
        self._port = port
        self._bookmark_interval = bookmark_interval
        self._context_name = context_name
        self._kubeconfig_arg = Path(kubeconfig_path) if kubeconfig_path is not None else None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._runner: web.AppRunner | None = None
        self._frontend: HttpFrontend | None = None
        self.gc = GarbageCollector(self.api)
        self.faults = Faults(self._drop_watches, lambda: self.store.hub.expire(self.store.resource_version))
        self.kubeconfig_path: Path = Path()

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> KubeEmulator:
        self.gc.start()
        for name in SYSTEM_NAMESPACES:
            if self.client.try_get(NAMESPACE, name) is None:
                self.client.create(NAMESPACE, {"metadata": {"name": name}})
        if self.client.try_get(SERVICE, "kubernetes", "default") is None:
            self.client.create(
                SERVICE,
                {
                    "metadata": {
                        "name": "kubernetes",
                        "namespace": "default",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": "10.96.0.1",
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                },
            )
        for crd in self._crds:
            self.api.install_crd(crd)
        self._frontend = HttpFrontend(
            self.api,
            self.faults,
            self.requests,
            self.token,
            self._bookmark_interval,
            f"{self.host}:{self._port}",
            self.admission,
        )
        self._runner = web.AppRunner(
            self._frontend.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self._port = sockets[0].getsockname()[1]
        self._frontend.server_address = f"{self.host}:{self._port}"
        if self._kubeconfig_arg is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="kaito-emulator-")
            self.kubeconfig_path = Path(self._tempdir.name) / "kubeconfig"
        else:
            self.kubeconfig_path = self._kubeconfig_arg
        self.write_kubeconfig(self.kubeconfig_path, self._context_name)
        return self

    async def stop(self) -> None:
        if self._frontend is not None:
            self._frontend.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.admission.close()
        await self.gc.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    async def __aenter__(self) -> KubeEmulator:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- access

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def webhook_calls(self) -> WebhookLog:
        """Every admission webhook call made, in the order they finished."""
        return self.admission.log

    def route_service(self, namespace: str, name: str, host: str, port: int) -> None:
        """Reach webhooks whose ``clientConfig.service`` is ``namespace/name`` at ``host:port``.

        The emulator has no cluster network; without a route, such a webhook's calls are refused.
        """
        self.admission.route_service(namespace, name, host, port)

    def write_kubeconfig(self, path: str | os.PathLike[str], context_name: str = "kaito-sandbox") -> Path:
        """Write a kubeconfig for this emulator (URL, and the token if any) for kubectl and clients."""
        return write_kubeconfig(path, self.url, context_name, self.token)

    def install_crd(self, crd: dict[str, Any]) -> dict[str, Any]:
        """Register (or update) a CRD in-process; its resource is served at once."""
        return copy.deepcopy(self.api.install_crd(copy.deepcopy(crd)))

    async def settle(self) -> None:
        """Wait until the garbage collector has nothing queued (cascading deletions are done)."""
        await self.gc.idle()

    def _drop_watches(self) -> int:
        return self._frontend.drop_watches() if self._frontend is not None else 0
