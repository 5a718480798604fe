"""The garbage collector and the namespace / CRD cleanup controllers.

It reacts to committed writes (a hub listener) and works asynchronously,
as kube-controller-manager does: background cascading deletion of
dependents, foreground deletion (``foregroundDeletion`` finalizer held until
blocking dependents are gone), orphaning (``orphan`` finalizer: owner
references removed first), dependents whose owners no longer exist, and
emptying a terminating namespace or a deleted CRD's resources.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kaito_sim.emulator.apiserver import FOREGROUND_FINALIZER, ORPHAN_FINALIZER, Apiserver, DeleteOptions
from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.kinds.crd import CLEANUP_FINALIZER
from kaito_sim.emulator.store import ObjectKey
from kaito_sim.emulator.watch import DELETED, WatchEvent

Obj = dict[str, Any]
Task = tuple[str, ObjectKey]


class GarbageCollector:
    def __init__(self, api: Apiserver) -> None:
        self.api = api
        self.store = api.store
        self._queue: asyncio.Queue[Task] = asyncio.Queue()
        self._pending: set[Task] = set()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self.store.hub.listeners.append(self._on_event)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="emulator-gc")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def idle(self) -> None:
        """Wait until every queued piece of work is done (for tests)."""
        while self._pending or self._busy:
            await asyncio.sleep(0.005)

    def _enqueue(self, kind: str, key: ObjectKey) -> None:
        task = (kind, key)
        if task not in self._pending:
            self._pending.add(task)
            self._queue.put_nowait(task)

    def _on_event(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        key: ObjectKey = (event.resource, event.namespace, meta["name"])
        if event.type == DELETED:
            for dependent in self.store.dependents(meta["uid"]):
                self._enqueue("dependent", dependent)
            for ref in meta.get("ownerReferences") or ():
                owner = self.store.by_uid(ref.get("uid", ""))
                if owner is not None:
                    self._enqueue("owner", owner)
            if event.namespace:
                namespace = self.store.get("namespaces", "", event.namespace)
                if namespace is not None and namespace["metadata"].get("deletionTimestamp"):
                    self._enqueue("namespace", ("namespaces", "", event.namespace))
            self._enqueue("crd-of", key)
            return
        if meta.get("deletionTimestamp"):
            finalizers = meta.get("finalizers") or ()
            if FOREGROUND_FINALIZER in finalizers or ORPHAN_FINALIZER in finalizers:
                self._enqueue("owner", key)
            if event.resource == "namespaces":
                self._enqueue("namespace", key)
            if (
                event.resource == "customresourcedefinitions.apiextensions.k8s.io"
                and CLEANUP_FINALIZER in finalizers
            ):
                self._enqueue("crd", key)
        if meta.get("ownerReferences"):
            self._enqueue("dependent", key)

    async def _run(self) -> None:
        while True:
            task = await self._queue.get()
            self._busy = True
            self._pending.discard(task)
            try:
                self._process(*task)
            except ApiError:
                # The object changed or vanished under us; a later event requeues whatever is still needed.
                pass
            finally:
                self._busy = False
            await asyncio.sleep(0)

    def _process(self, kind: str, key: ObjectKey) -> None:
        {
            "dependent": self._dependent,
            "owner": self._owner,
            "namespace": self._namespace,
            "crd": self._crd,
            "crd-of": self._crd_of,
        }[kind](key)

    def _get(self, key: ObjectKey) -> tuple[Any, Obj] | None:
        res = self.api.registry.by_key(key[0])
        obj = self.store.get(*key)
        return (res, obj) if res is not None and obj is not None else None

    def _delete(self, key: ObjectKey, policy: str = "Background") -> None:
        found = self._get(key)
        if found is None:
            return
        res, obj = found
        if obj["metadata"].get("deletionTimestamp") and policy != "Foreground":
            return
        self.api.delete(
            res, res.storage_version, key[1] or None, key[2], DeleteOptions(propagation_policy=policy)
        )

    def _dependent(self, key: ObjectKey) -> None:
        """Delete a dependent whose owners are all gone; drop references to owners that are gone."""
        found = self._get(key)
        if found is None:
            return
        res, obj = found
        refs = obj["metadata"].get("ownerReferences") or []
        alive = [ref for ref in refs if self.store.by_uid(ref.get("uid", "")) is not None]
        if len(alive) == len(refs):
            return
        if not alive:
            self._delete(key)
        else:
            self.api.replace_meta(res, obj, ownerReferences=alive)

    def _owner(self, key: ObjectKey) -> None:
        """Foreground: delete dependents, release once no blocking one is left. Orphan: unlink, release."""
        found = self._get(key)
        if found is None:
            return
        res, obj = found
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = list(meta.get("finalizers") or [])
        uid = meta["uid"]
        if ORPHAN_FINALIZER in finalizers:
            for dep_key in self.store.dependents(uid):
                dep = self._get(dep_key)
                if dep is not None:
                    refs = [r for r in dep[1]["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    self.api.replace_meta(dep[0], dep[1], ownerReferences=refs or None)
            finalizers.remove(ORPHAN_FINALIZER)
            obj = self.api.replace_meta(res, obj, finalizers=finalizers or None)
            if self.store.get(*key) is None:
                return
        if FOREGROUND_FINALIZER in finalizers:
            blocking = []
            for dep_key in self.store.dependents(uid):
                dep = self._get(dep_key)
                if dep is None:
                    continue
                if not dep[1]["metadata"].get("deletionTimestamp"):
                    self._delete(dep_key, "Foreground")
                refs = dep[1]["metadata"].get("ownerReferences") or []
                blocks = any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in refs)
                if blocks and self.store.get(*dep_key) is not None:
                    blocking.append(dep_key)
            if not blocking:
                finalizers.remove(FOREGROUND_FINALIZER)
                self.api.replace_meta(res, obj, finalizers=finalizers or None)

    def _namespace(self, key: ObjectKey) -> None:
        namespace = self.store.get(*key)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        name = key[2]
        remaining = 0
        for res in self.api.registry:
            if not res.namespaced:
                continue
            for obj in list(self.store.items(res.key, name)):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(
                        res,
                        res.storage_version,
                        name,
                        obj["metadata"]["name"],
                        DeleteOptions(propagation_policy="Background", grace_period_seconds=0),
                    )
        if remaining and any(self.store.count(res.key, name) for res in self.api.registry if res.namespaced):
            return
        self.api.finalize_namespace(name)

    def _crd(self, key: ObjectKey) -> None:
        found = self._get(key)
        if found is None:
            return
        crd_res, crd = found
        spec = crd.get("spec") or {}
        res = self.api.registry.by_key(f"{(spec.get('names') or {}).get('plural')}.{spec.get('group')}")
        if res is not None and res.is_crd:
            for obj in list(self.store.items(res.key)):
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(
                        res,
                        res.storage_version,
                        obj["metadata"].get("namespace") or None,
                        obj["metadata"]["name"],
                    )
            if self.store.count(res.key):
                return
        finalizers = [f for f in crd["metadata"].get("finalizers") or [] if f != CLEANUP_FINALIZER]
        self.api.replace_meta(crd_res, crd, finalizers=finalizers or None)

    def _crd_of(self, key: ObjectKey) -> None:
        """A custom resource went away: its CRD may be waiting for exactly that."""
        res = self.api.registry.by_key(key[0])
        if res is None or not res.is_crd:
            return
        crd_key: ObjectKey = ("customresourcedefinitions.apiextensions.k8s.io", "", res.key)
        crd = self.store.get(*crd_key)
        if crd is not None and crd["metadata"].get("deletionTimestamp"):
            self._crd(crd_key)
