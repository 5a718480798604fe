"""CustomResourceDefinitions: validation, defaults, status, and turning a
CRD object into a served :class:`Resource`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kaito_sim.emulator import cel
from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import Obj, Strategy
from kaito_sim.emulator.kinds.custom import CustomResourceStrategy
from kaito_sim.emulator.registry import Resource, Version
from kaito_sim.emulator.schema import Schema, quote
from kaito_sim.emulator.selectors import COMMON_FIELDS, field_path

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _condition(type_: str, reason: str, message: str, now: str) -> dict[str, str]:
    return {"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now}


def crd_status(spec: Obj, old_status: Obj | None, now: str) -> Obj:
    """What the apiextensions controllers write for an accepted CRD: names, Established, storedVersions."""
    names = copy.deepcopy(spec.get("names") or {})
    stored = list((old_status or {}).get("storedVersions") or [])
    for version in spec.get("versions") or []:
        if version.get("storage") and version.get("name") not in stored:
            stored.append(version["name"])
    old_conditions = {c.get("type"): c for c in (old_status or {}).get("conditions") or []}
    conditions = [
        old_conditions.get("NamesAccepted")
        or _condition("NamesAccepted", "NoConflicts", "no conflicts found", now),
        old_conditions.get("Established")
        or _condition("Established", "InitialNamesAccepted", "the initial names have been accepted", now),
    ]
    return {"acceptedNames": names, "conditions": conditions, "storedVersions": stored}


def _default_spec(spec: Obj) -> None:
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", str(names["kind"]).lower())
        names.setdefault("listKind", f"{names['kind']}List")
    spec.setdefault("scope", "Namespaced")
    spec.setdefault("conversion", {"strategy": "None"})
    for version in spec.get("versions") or []:
        if isinstance(version, dict):
            version.setdefault("served", True)
            version.setdefault("storage", False)


def _validate_spec(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    causes: list[Cause] = []
    for field, value in (
        ("spec.group", spec.get("group")),
        ("spec.names.plural", names.get("plural")),
        ("spec.names.kind", names.get("kind")),
    ):
        if not value:
            causes.append(Cause("FieldValueRequired", "Required value", field))
    if causes:
        return causes
    expected = f"{names['plural']}.{spec['group']}"
    name = obj["metadata"]["name"]
    if name != expected:
        causes.append(
            Cause(
                "FieldValueInvalid",
                f'Invalid value: {quote(name)}: must be spec.names.plural+"."+spec.group',
                "metadata.name",
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f'Unsupported value: {quote(spec.get("scope"))}: supported values: "Cluster", "Namespaced"',
                "spec.scope",
            )
        )
    versions = spec.get("versions") or []
    if not versions:
        causes.append(
            Cause(
                "FieldValueInvalid",
                "Invalid value: []apiextensions.CustomResourceDefinitionVersion"
                "(nil): must have exactly one version marked as storage version",
                "spec.versions",
            )
        )
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            Cause(
                "FieldValueInvalid",
                "Invalid value: []apiextensions.CustomResourceDefinitionVersion"
                "{...}: must have exactly one version marked as storage version",
                "spec.versions",
            )
        )
    for i, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        path = f"spec.versions[{i}].schema.openAPIV3Schema"
        if not isinstance(schema, dict):
            causes.append(Cause("FieldValueRequired", "Required value: schemas are required", path))
            continue
        if schema.get("type") != "object":
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {quote(schema.get('type') or '')}: must be object at the root",
                    f"{path}.type",
                )
            )
        causes.extend(cel.check_rules(schema, path))
    return causes


def crd_to_resource(crd: Obj) -> Resource:
    """The served resource a CRD defines."""
    spec = crd["spec"]
    names = spec["names"]
    versions: dict[str, Version] = {}
    selectable: dict[str, Any] = {}
    for v in spec["versions"]:
        subresources = frozenset((v.get("subresources") or {}).keys())
        schema: Schema | None = (v.get("schema") or {}).get("openAPIV3Schema")
        versions[v["name"]] = Version(
            name=v["name"],
            served=bool(v.get("served", True)),
            storage=bool(v.get("storage")),
            schema=schema,
            columns=tuple(v.get("additionalPrinterColumns") or ()),
            subresources=subresources,
        )
        for sf in v.get("selectableFields") or []:
            path = str(sf.get("jsonPath", "")).lstrip(".")
            selectable[path] = field_path(*path.split("."))
    storage = next((v for v in versions.values() if v.storage), None)
    has_status = storage is not None and "status" in storage.subresources
    return Resource(
        group=spec["group"],
        kind=names["kind"],
        plural=names["plural"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        versions=versions,
        strategy=CustomResourceStrategy(has_status),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        singular=names.get("singular") or "",
        list_kind=names.get("listKind") or "",
        fields={**COMMON_FIELDS, **selectable},
        is_crd=True,
    )


class CustomResourceDefinitionStrategy(Strategy):
    """Validates CRDs and tells the emulator when one starts or stops being served."""

    tracks_generation = True

    def __init__(self, now: Callable[[], str]) -> None:
        self.now = now
        self.on_stored: Callable[[Obj], None] = lambda crd: None
        self.on_removed: Callable[[Obj], None] = lambda crd: None

    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        _default_spec(spec)
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
        obj["status"] = crd_status(spec, None, self.now())

    def prepare_update(self, new: Obj, old: Obj) -> None:
        spec = new.setdefault("spec", {})
        _default_spec(spec)
        status = crd_status(spec, old.get("status"), self.now())
        if (old.get("status") or {}).get("conditions") and new["metadata"].get("deletionTimestamp"):
            status["conditions"] = old["status"]["conditions"]
        new["status"] = status

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        causes = _validate_spec(obj)
        if old is not None:
            for field in ("group",):
                if (obj.get("spec") or {}).get(field) != (old.get("spec") or {}).get(field):
                    causes.append(
                        Cause(
                            "FieldValueInvalid",
                            f"Invalid value: {quote(obj['spec'].get(field))}: field is immutable",
                            f"spec.{field}",
                        )
                    )
        return causes

    def stored(self, obj: Obj, old: Obj | None) -> None:
        self.on_stored(obj)

    def removed(self, obj: Obj) -> None:
        self.on_removed(obj)
