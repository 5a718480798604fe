"""Pod spec defaulting and validation, shared by Pods and every pod template."""

from __future__ import annotations

from typing import Any

from kaito.api.names import dns1123_label_errors
from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.schema import quote
from kaito_sim.emulator.validation import validate_labels

Obj = dict[str, Any]

_CONTAINER_LISTS = ("initContainers", "containers")


def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    if "imagePullPolicy" not in container:
        latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            for key, value in (
                ("timeoutSeconds", 1),
                ("periodSeconds", 10),
                ("successThreshold", 1),
                ("failureThreshold", 3),
            ):
                probe.setdefault(key, value)
            http = probe.get("httpGet")
            if isinstance(http, dict):
                http.setdefault("scheme", "HTTP")
                http.setdefault("path", "/")


def default_pod_spec(spec: Obj) -> None:
    """The defaults kube-apiserver fills into every pod spec."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in _CONTAINER_LISTS:
        for container in spec.get(field) or []:
            if isinstance(container, dict):
                _default_container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            for source in ("configMap", "secret"):
                if isinstance(volume.get(source), dict):
                    volume[source].setdefault("defaultMode", 420)
    for toleration in spec.get("tolerations") or []:
        if isinstance(toleration, dict) and "operator" not in toleration and "value" in toleration:
            toleration["operator"] = "Equal"


def default_pod_template(template: Obj) -> None:
    spec = template.setdefault("spec", {})
    if isinstance(spec, dict):
        default_pod_spec(spec)


def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [Cause("FieldValueRequired", "Required value", path)]
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(Cause("FieldValueRequired", "Required value", f"{path}.containers"))
    names: set[str] = set()
    for field in _CONTAINER_LISTS:
        for i, container in enumerate(spec.get(field) or []):
            where = f"{path}.{field}[{i}]"
            if not isinstance(container, dict):
                causes.append(Cause("FieldValueTypeInvalid", "Invalid value: must be an object", where))
                continue
            name = container.get("name")
            if not name:
                causes.append(Cause("FieldValueRequired", "Required value", f"{where}.name"))
            else:
                causes.extend(
                    Cause("FieldValueInvalid", f"Invalid value: {quote(name)}: {err}", f"{where}.name")
                    for err in dns1123_label_errors(str(name))
                )
                if name in names:
                    causes.append(
                        Cause("FieldValueDuplicate", f"Duplicate value: {quote(name)}", f"{where}.name")
                    )
                names.add(str(name))
            if not container.get("image"):
                causes.append(Cause("FieldValueRequired", "Required value", f"{where}.image"))
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        causes.append(
            Cause(
                "FieldValueNotSupported",
                f'Unsupported value: {quote(policy)}: supported values: "Always", "OnFailure", "Never"',
                f"{path}.restartPolicy",
            )
        )
    return causes


def validate_pod_template(template: Any, path: str) -> list[Cause]:
    if not isinstance(template, dict):
        return [Cause("FieldValueRequired", "Required value", path)]
    meta = template.get("metadata") or {}
    causes = validate_labels(meta.get("labels"), f"{path}.metadata.labels")
    causes.extend(validate_pod_spec(template.get("spec"), f"{path}.spec"))
    return causes


def _quantity_pairs(container: Obj) -> tuple[Obj, Obj]:
    resources = container.get("resources") or {}
    return resources.get("requests") or {}, resources.get("limits") or {}


def qos_class(spec: Obj) -> str:
    """Guaranteed / Burstable / BestEffort, from the containers' requests and limits."""
    containers = [c for f in _CONTAINER_LISTS for c in spec.get(f) or [] if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for container in containers:
        requests, limits = _quantity_pairs(container)
        if requests or limits:
            any_set = True
        for resource in ("cpu", "memory"):
            limit = limits.get(resource)
            request = requests.get(resource, limit)
            if limit is None or str(request) != str(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
