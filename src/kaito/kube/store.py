"""An indexed object store: the informer's cache (client-go's ``cache.Indexer``).

Objects are kept by key (``namespace/name``) and, for each registered index
function, by the index values it returns: "by namespace", "by the value of a
label", or "NodeClaims by the workspace their labels name". Lookups by index
cost the size of the answer, not of the cache.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

from kaito.api.meta import KubeObject

T = TypeVar("T", bound=KubeObject)

IndexFunc = Callable[[T], Iterable[str]]

NAMESPACE_INDEX = "namespace"


def index_by_namespace(obj: KubeObject) -> list[str]:
    return [obj.namespace]


def index_by_label(label: str) -> Callable[[KubeObject], list[str]]:
    """Index objects by the value of one label; objects without it are not indexed."""

    def index(obj: KubeObject) -> list[str]:
        value = (obj.metadata.labels or {}).get(label)
        return [] if value is None else [value]

    return index


def index_by_owner_labels(name_label: str, namespace_label: str) -> Callable[[KubeObject], list[str]]:
    """Index cluster-scoped objects by the ``namespace/name`` of the owner their labels name.

    Cluster-scoped objects cannot carry an ownerReference to a namespaced owner,
    so operators link them with two labels; the caller says which.
    """

    def index(obj: KubeObject) -> list[str]:
        labels = obj.metadata.labels or {}
        name, namespace = labels.get(name_label), labels.get(namespace_label)
        if not name:
            return []
        return [f"{namespace}/{name}" if namespace else name]

    return index


class Store(Generic[T]):
    def __init__(self, indexers: Mapping[str, IndexFunc[T]] | None = None) -> None:
        self._items: dict[str, T] = {}
        self._indexers: dict[str, IndexFunc[T]] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
        if indexers:
            self.add_indexers(indexers)

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]]) -> None:
        """Register more indexes; objects already stored are indexed at once."""
        clash = self._indexers.keys() & indexers.keys()
        if clash:
            raise ValueError(f"indexers already registered: {sorted(clash)}")
        for name, func in indexers.items():
            self._indexers[name] = func
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index_one(name, func, key, obj)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def list_keys(self) -> builtins.list[str]:
        return list(self._items)

    def list(self) -> builtins.list[T]:
        return list(self._items.values())

    def upsert(self, obj: T) -> T | None:
        """Store ``obj`` under its key; returns the object it replaced, if any."""
        key = obj.key
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name, func in self._indexers.items():
            self._index_one(name, func, key, obj)
        return old

    def delete(self, key: str) -> T | None:
        """Remove the object under ``key``; returns it, or None when absent."""
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def by_index(self, index: str, value: str) -> builtins.list[T]:
        return [self._items[key] for key in self.index_keys(index, value)]

    def index_keys(self, index: str, value: str) -> builtins.list[str]:
        try:
            entries = self._indices[index]
        except KeyError:
            raise KeyError(f"no index named {index!r}") from None
        return sorted(entries.get(value, ()))

    def index_values(self, index: str) -> builtins.list[str]:
        return sorted(self._indices[index])

    def _index_one(self, name: str, func: IndexFunc[T], key: str, obj: T) -> None:
        entries = self._indices[name]
        for value in func(obj):
            entries.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: T) -> None:
        for name, func in self._indexers.items():
            entries = self._indices[name]
            for value in func(obj):
                keys = entries.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del entries[value]
