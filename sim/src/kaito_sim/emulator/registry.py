"""Which resources the emulator serves: the built-ins plus registered CRDs,
each with its versions, schema, printer columns and strategy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kaito_sim.emulator.kinds.base import Strategy
from kaito_sim.emulator.modelschemas import builtin_schema
from kaito_sim.emulator.schema import Schema
from kaito_sim.emulator.selectors import COMMON_FIELDS, FieldGetter

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass
class Version:
    name: str
    served: bool = True
    storage: bool = True
    schema: Schema | None = None
    columns: tuple[dict[str, Any], ...] = ()
    subresources: frozenset[str] = frozenset()


@dataclass(eq=False)
class Resource:
    group: str
    kind: str
    plural: str
    namespaced: bool
    versions: dict[str, Version]
    strategy: Strategy
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = ""
    list_kind: str = ""
    model: str | None = None
    fields: dict[str, FieldGetter] = field(default_factory=lambda: dict(COMMON_FIELDS))
    is_crd: bool = False

    def __post_init__(self) -> None:
        self.singular = self.singular or self.kind.lower()
        self.list_kind = self.list_kind or f"{self.kind}List"

    @property
    def key(self) -> str:
        """``plural.group`` (or ``plural`` for the core group): how the store names the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def storage_version(self) -> str:
        return next(v.name for v in self.versions.values() if v.storage)

    @property
    def served_versions(self) -> list[str]:
        return [v.name for v in self.versions.values() if v.served]

    def schema(self, version: str) -> Schema | None:
        if self.model is not None:
            return builtin_schema(self.model)
        v = self.versions.get(version)
        return v.schema if v else None

    def has_subresource(self, version: str, name: str) -> bool:
        v = self.versions.get(version)
        return v is not None and name in v.subresources


class Registry:
    def __init__(self) -> None:
        self._by_key: dict[str, Resource] = {}
        self._by_gvr: dict[tuple[str, str, str], Resource] = {}
        self.generation = 0  # bumped on every change, so derived documents (OpenAPI) know when to rebuild

    def add(self, resource: Resource) -> None:
        self.remove(resource.key)
        self.generation += 1
        self._by_key[resource.key] = resource
        for version in resource.served_versions:
            self._by_gvr[(resource.group, version, resource.plural)] = resource

    def remove(self, key: str) -> Resource | None:
        old = self._by_key.pop(key, None)
        if old is not None:
            self.generation += 1
            for version in old.versions:
                self._by_gvr.pop((old.group, version, old.plural), None)
        return old

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return self._by_gvr.get((group, version, plural))

    def by_key(self, key: str) -> Resource | None:
        return self._by_key.get(key)

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        group, _, version = api_version.rpartition("/")
        for resource in self._by_key.values():
            if resource.group == group and resource.kind == kind and version in resource.versions:
                return resource
        return None

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._by_key.values()))

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions, preferred (storage) version first; core group excluded."""
        out: dict[str, list[str]] = {}
        for resource in self._by_key.values():
            if not resource.group:
                continue
            versions = out.setdefault(resource.group, [])
            for version in resource.served_versions:
                if version not in versions:
                    versions.append(version)
        for versions in out.values():
            versions.sort(key=_version_priority, reverse=True)
        return out

    def in_group_version(self, group: str, version: str) -> list[Resource]:
        return [r for r in self._by_key.values() if r.group == group and version in r.served_versions]


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, then by number."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (-1, 0, 0)
    stability = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return (stability, int(m.group(1)), int(m.group(3) or 0))
