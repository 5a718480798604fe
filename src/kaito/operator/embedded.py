"""The kaito operator inside another program: client, manager and controllers as one unit.

``kaito sandbox`` and the end-to-end tests run it next to the API emulator,
exactly as ``kaito controller`` would run against a cluster, minus the signal
handling and process exit codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence

from kaito.kube.client import Client
from kaito.kube.config import load_rest_config
from kaito.kube.manager import Manager, ManagerOptions
from kaito.operator import controllers as setup

_DISABLED = "0"


class Operator:
    def __init__(
        self,
        kubeconfig: str | os.PathLike[str],
        options: setup.SetupOptions | None = None,
        *,
        controllers: Sequence[str] = ("workspace",),
        manager_options: ManagerOptions | None = None,
    ) -> None:
        self.kubeconfig = str(kubeconfig)
        self.options = options or setup.SetupOptions()
        self.chosen = setup.resolve(controllers)
        self.manager_options = manager_options or ManagerOptions(
            metrics_bind_address=_DISABLED, health_probe_bind_address=_DISABLED, graceful_shutdown_timeout=5.0
        )
        self.client: Client | None = None
        self.manager: Manager | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Operator:
        config = await load_rest_config(self.kubeconfig)
        self.client = Client(config, qps=None)
        self.manager = Manager(self.client, self.manager_options)
        setup.setup_controllers(self.manager, self.chosen, self.options)
        self._task = asyncio.create_task(self.manager.run(), name="kaito-operator")
        await asyncio.wait_for(self._synced(), timeout=self.manager_options.cache_sync_timeout)
        return self

    async def _synced(self) -> None:
        assert self.manager is not None and self._task is not None
        while not all(informer.has_synced for informer in self.manager.informers):
            if self._task.done():
                self._task.result()  # the manager failed: raise its error here
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.manager is not None:
            self.manager.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.client is not None:
            await self.client.close()

    async def __aenter__(self) -> Operator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
