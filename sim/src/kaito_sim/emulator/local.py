"""The in-process client the simulated agents (and tests) use: the same
semantics as the HTTP API, with dicts in and deep copies out."""

from __future__ import annotations

import copy
from typing import Any

from kaito.api.resources import ResourceType
from kaito_sim.emulator.apiserver import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    Apiserver,
    DeleteOptions,
    WriteOptions,
)
from kaito_sim.emulator.selectors import parse_field_selector, parse_label_selector

Obj = dict[str, Any]
_PATCH_TYPES = {"merge": MERGE_PATCH, "json": JSON_PATCH, "strategic": STRATEGIC_PATCH}


class LocalClient:
    """CRUD on the emulator's store without HTTP. Writes bump resourceVersions and produce watch events."""

    def __init__(self, api: Apiserver) -> None:
        self.api = api

    def get(self, rt: ResourceType, name: str, namespace: str | None = None) -> Obj:
        return copy.deepcopy(self.api.get(self.api.resource(rt), rt.version, namespace, name))

    def try_get(self, rt: ResourceType, name: str, namespace: str | None = None) -> Obj | None:
        res = self.api.resource(rt)
        obj = self.api.store.get(res.key, (namespace or "") if res.namespaced else "", name)
        return copy.deepcopy(self.api.view(res, obj, rt.version)) if obj is not None else None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        res = self.api.resource(rt)
        result = self.api.list(
            res,
            rt.version,
            namespace,
            parse_label_selector(label_selector),
            parse_field_selector(field_selector, res.fields),
        )
        return copy.deepcopy(result.items)

    def create(self, rt: ResourceType, obj: Obj, namespace: str | None = None) -> Obj:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        return copy.deepcopy(self.api.create(self.api.resource(rt), rt.version, ns, copy.deepcopy(obj)).obj)

    def update(self, rt: ResourceType, obj: Obj, status: bool = False) -> Obj:
        meta = obj["metadata"]
        result = self.api.update(
            self.api.resource(rt),
            rt.version,
            meta.get("namespace"),
            meta["name"],
            copy.deepcopy(obj),
            WriteOptions(),
            "status" if status else None,
        )
        return copy.deepcopy(result.obj)

    def patch(
        self,
        rt: ResourceType,
        name: str,
        patch: Any,
        namespace: str | None = None,
        patch_type: str = "merge",
        status: bool = False,
    ) -> Obj:
        result = self.api.patch(
            self.api.resource(rt),
            rt.version,
            namespace,
            name,
            _PATCH_TYPES[patch_type],
            copy.deepcopy(patch),
            WriteOptions(),
            "status" if status else None,
        )
        return copy.deepcopy(result.obj)

    def delete(
        self,
        rt: ResourceType,
        name: str,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> Obj:
        options = DeleteOptions(
            propagation_policy=propagation_policy, grace_period_seconds=grace_period_seconds
        )
        return copy.deepcopy(self.api.delete(self.api.resource(rt), rt.version, namespace, name, options))

    def bind(self, namespace: str, name: str, node: str) -> Obj:
        return copy.deepcopy(self.api.bind(namespace, name, node))
