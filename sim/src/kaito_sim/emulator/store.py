"""The object store: every object of every resource, in memory, with the
global resourceVersion counter and the indexes garbage collection needs.

Stored objects are never mutated after they are stored: a write stores a
new dict. Readers inside the emulator may therefore share them; anything
handed to code outside gets a copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kaito_sim.emulator.watch import ADDED, DELETED, MODIFIED, WatchEvent, WatchHub

ObjectKey = tuple[str, str, str]  # (resource key, namespace or "", name)


class Store:
    def __init__(self, history_size: int = 5000) -> None:
        self._rv = 0
        self._objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self._by_uid: dict[str, ObjectKey] = {}
        self._dependents: dict[str, set[ObjectKey]] = {}
        self.hub = WatchHub(history_size)

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(resource, {}).get(namespace, {}).get(name)

    def items(self, resource: str, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects of a resource (one namespace, or all), in key order like etcd."""
        by_ns = self._objects.get(resource, {})
        namespaces = [namespace] if namespace is not None else sorted(by_ns)
        for ns in namespaces:
            objs = by_ns.get(ns, {})
            for name in sorted(objs):
                yield objs[name]

    def count(self, resource: str, namespace: str | None = None) -> int:
        by_ns = self._objects.get(resource, {})
        if namespace is not None:
            return len(by_ns.get(namespace, {}))
        return sum(len(v) for v in by_ns.values())

    def namespaces_with_objects(self, resource: str) -> list[str]:
        return [ns for ns, objs in self._objects.get(resource, {}).items() if objs]

    def by_uid(self, uid: str) -> ObjectKey | None:
        return self._by_uid.get(uid)

    def dependents(self, owner_uid: str) -> list[ObjectKey]:
        return sorted(self._dependents.get(owner_uid, ()))

    def _index(self, key: ObjectKey, obj: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
        for prev in (old,):
            if prev is not None:
                for ref in prev["metadata"].get("ownerReferences") or ():
                    deps = self._dependents.get(ref.get("uid", ""))
                    if deps is not None:
                        deps.discard(key)
                        if not deps:
                            del self._dependents[ref.get("uid", "")]
                self._by_uid.pop(prev["metadata"].get("uid", ""), None)
        if obj is not None:
            for ref in obj["metadata"].get("ownerReferences") or ():
                self._dependents.setdefault(ref.get("uid", ""), set()).add(key)
            self._by_uid[obj["metadata"]["uid"]] = key

    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of an object (the dict becomes the store's); stamp its resourceVersion."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace") or "", meta["name"]
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        objs = self._objects.setdefault(resource, {}).setdefault(namespace, {})
        old = objs.get(name)
        objs[name] = obj
        self._index((resource, namespace, name), obj, old)
        event_type = ADDED if old is None else MODIFIED
        self.hub.publish(WatchEvent(event_type, obj, old, self._rv, resource, namespace))
        return obj

    def remove(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Delete an object; the DELETED event carries its last state at a new resourceVersion."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace") or "", meta["name"]
        objs = self._objects.get(resource, {}).get(namespace, {})
        old = objs.pop(name)
        self._rv += 1
        final = {**obj, "metadata": {**meta, "resourceVersion": str(self._rv)}}
        self._index((resource, namespace, name), None, old)
        self.hub.publish(WatchEvent(DELETED, final, old, self._rv, resource, namespace))
        return final

    def drop_resource(self, resource: str) -> None:
        """Forget a resource's objects without events (its CRD is gone, so nobody can watch it)."""
        for objs in self._objects.pop(resource, {}).values():
            for name, obj in objs.items():
                self._index((resource, obj["metadata"].get("namespace") or "", name), None, obj)
