"""core/v1 kinds: Namespace, Node, Pod, Secret, PersistentVolumeClaim and the plain ones."""

from __future__ import annotations

import base64
import copy

from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import GenerationStrategy, Obj, Strategy
from kaito_sim.emulator.kinds.podspec import default_pod_spec, qos_class, validate_pod_spec
from kaito_sim.emulator.schema import Schema, quote

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceStrategy(Strategy):
    name_rule = "label"

    def prepare_create(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        obj["metadata"].setdefault("labels", {})[NAMESPACE_NAME_LABEL] = name
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def prepare_update(self, new: Obj, old: Obj) -> None:
        new["metadata"].setdefault("labels", {})[NAMESPACE_NAME_LABEL] = new["metadata"]["name"]
        new["spec"] = copy.deepcopy(old.get("spec") or {})


class NodeStrategy(Strategy):
    """Nodes keep the status they are created with (the kubelet registers that way)."""


# Pod spec fields an update may change (apimachinery's ValidatePodUpdate).
_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


class PodStrategy(GenerationStrategy):
    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_pod_spec(spec)
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", spec["serviceAccountName"])
            spec.setdefault("enableServiceLinks", True)
            spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
            spec.setdefault("priority", 0)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec if isinstance(spec, dict) else {})}

    def prepare_update(self, new: Obj, old: Obj) -> None:
        spec = new.get("spec")
        if isinstance(spec, dict):
            default_pod_spec(spec)
            for key in (
                "serviceAccountName",
                "serviceAccount",
                "enableServiceLinks",
                "preemptionPolicy",
                "priority",
                "nodeName",
            ):
                if key not in spec and key in (old.get("spec") or {}):
                    spec[key] = old["spec"][key]

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        causes = validate_pod_spec(obj.get("spec"), "spec")
        if old is not None and not causes:
            causes.extend(_pod_update_causes(obj.get("spec") or {}, old.get("spec") or {}))
        return causes


def _without_mutable(spec: Obj) -> Obj:
    out = {k: v for k, v in spec.items() if k not in _POD_MUTABLE}
    for field in ("containers", "initContainers"):
        out[field] = [{k: v for k, v in c.items() if k != "image"} for c in spec.get(field) or []]
    return out


def _pod_update_causes(new: Obj, old: Obj) -> list[Cause]:
    if _without_mutable(new) == _without_mutable(old):
        old_tolerations = old.get("tolerations") or []
        if all(t in (new.get("tolerations") or []) for t in old_tolerations):
            return []
    return [
        Cause(
            "FieldValueForbidden",
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
            "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
            "was "
            "previously negative)",
            "spec",
        )
    ]


class SecretStrategy(Strategy):
    def _fold_string_data(self, obj: Obj) -> None:
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        obj.setdefault("type", "Opaque")

    def prepare_create(self, obj: Obj) -> None:
        self._fold_string_data(obj)

    def prepare_update(self, new: Obj, old: Obj) -> None:
        self._fold_string_data(new)

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        causes = []
        for key, value in (obj.get("data") or {}).items():
            try:
                base64.b64decode(str(value), validate=True)
            except ValueError:
                causes.append(
                    Cause(
                        "FieldValueInvalid",
                        f"Invalid value: {quote(key)}: illegal base64 data",
                        f"data[{key}]",
                    )
                )
        if old is not None and old.get("type") != obj.get("type"):
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {quote(obj.get('type'))}: field is immutable",
                    "type",
                )
            )
        return causes


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
        obj["status"] = {"phase": "Pending"}

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = []
        if not spec.get("accessModes"):
            causes.append(
                Cause(
                    "FieldValueRequired",
                    "Required value: at least 1 access mode is required",
                    "spec.accessModes",
                )
            )
        if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
            causes.append(Cause("FieldValueRequired", "Required value", "spec.resources[storage]"))
        return causes


class EventStrategy(Strategy):
    name_rule = "segment"
