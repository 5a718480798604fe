"""Discovery documents: ``/version``, ``/api``, ``/apis``, group and
group-version resource lists, and aggregated discovery (apidiscovery v2)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kaito_sim.emulator.registry import VERBS, Registry, Resource

KUBE_VERSION = {"major": "1", "minor": "35"}
GIT_VERSION = "v1.35.0-kaito-emulator"
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

Obj = dict[str, Any]


def version_info() -> Obj:
    return {
        **KUBE_VERSION,
        "emulationMajor": KUBE_VERSION["major"],
        "emulationMinor": KUBE_VERSION["minor"],
        "minCompatibilityMajor": KUBE_VERSION["major"],
        "minCompatibilityMinor": "34",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> Obj:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def group_list(registry: Registry) -> Obj:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in registry.groups().items()],
    }


def group(registry: Registry, name: str) -> Obj | None:
    versions = registry.groups().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _storage_hash(resource: Resource) -> str:
    digest = hashlib.sha256(f"{resource.group}/{resource.storage_version}/{resource.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _sub_verbs(sub: str) -> list[str]:
    return {"binding": ["create"], "log": ["get"]}.get(sub, ["get", "patch", "update"])


def resource_list(registry: Registry, group_name: str, version: str) -> Obj | None:
    resources = registry.in_group_version(group_name, version)
    if not resources and group_name:
        return None
    entries: list[Obj] = []
    for res in sorted(resources, key=lambda r: r.plural):
        entry: Obj = {
            "name": res.plural,
            "singularName": res.singular,
            "namespaced": res.namespaced,
            "kind": res.kind,
            "verbs": list(VERBS),
            "storageVersionHash": _storage_hash(res),
        }
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        entries.append(entry)
        for sub in sorted(res.versions[version].subresources):
            kind = {"binding": "Binding"}.get(sub, res.kind)
            entries.append(
                {
                    "name": f"{res.plural}/{sub}",
                    "singularName": "",
                    "namespaced": res.namespaced,
                    "kind": kind,
                    "verbs": _sub_verbs(sub),
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group_name}/{version}" if group_name else version,
        "resources": entries,
    }


def _aggregated_group(registry: Registry, name: str, versions: list[str]) -> Obj:
    out_versions = []
    for version in versions:
        resources = []
        for res in sorted(registry.in_group_version(name, version), key=lambda r: r.plural):
            entry: Obj = {
                "resource": res.plural,
                "responseKind": {"group": name, "version": version, "kind": res.kind},
                "scope": "Namespaced" if res.namespaced else "Cluster",
                "singularResource": res.singular,
                "verbs": list(VERBS),
            }
            if res.short_names:
                entry["shortNames"] = list(res.short_names)
            if res.categories:
                entry["categories"] = list(res.categories)
            subs = sorted(res.versions[version].subresources)
            if subs:
                entry["subresources"] = [
                    {
                        "subresource": s,
                        "responseKind": {
                            "group": name,
                            "version": version,
                            "kind": {"binding": "Binding"}.get(s, res.kind),
                        },
                        "verbs": _sub_verbs(s),
                    }
                    for s in subs
                ]
            resources.append(entry)
        out_versions.append({"version": version, "resources": resources, "freshness": "Current"})
    return {"metadata": {"name": name, "creationTimestamp": None}, "versions": out_versions}


def aggregated(registry: Registry, core: bool) -> Obj:
    """apidiscovery.k8s.io/v2 APIGroupDiscoveryList for ``/api`` (core) or ``/apis``."""
    items = (
        [_aggregated_group(registry, "", ["v1"])]
        if core
        else [_aggregated_group(registry, name, versions) for name, versions in registry.groups().items()]
    )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
