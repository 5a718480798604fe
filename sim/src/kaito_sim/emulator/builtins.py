"""The built-in resources the emulator serves, from ``kaito.api.resources``
plus the few kubectl and the simulated controllers also need (ReplicaSets)."""

from __future__ import annotations

from kaito.api import resources as r
from kaito.api.resources import ResourceType
from kaito_sim.emulator.kinds.admissionregistration import ValidatingWebhookConfigurationStrategy
from kaito_sim.emulator.kinds.base import Strategy
from kaito_sim.emulator.kinds.core import (
    EventStrategy,
    NamespaceStrategy,
    NodeStrategy,
    PersistentVolumeClaimStrategy,
    PodStrategy,
    SecretStrategy,
)
from kaito_sim.emulator.kinds.crd import CustomResourceDefinitionStrategy
from kaito_sim.emulator.kinds.service import ServiceStrategy
from kaito_sim.emulator.kinds.workloads import (
    DaemonSetStrategy,
    DeploymentStrategy,
    JobStrategy,
    ReplicaSetStrategy,
    StatefulSetStrategy,
)
from kaito_sim.emulator.registry import Resource, Version
from kaito_sim.emulator.selectors import COMMON_FIELDS, FieldGetter, field_path

REPLICASET = ResourceType("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), frozenset({"status"}))

_ALL = ("all",)

_POD_FIELDS = {
    "spec.nodeName": field_path("spec", "nodeName"),
    "spec.restartPolicy": field_path("spec", "restartPolicy"),
    "spec.schedulerName": field_path("spec", "schedulerName"),
    "spec.serviceAccountName": field_path("spec", "serviceAccountName"),
    "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
    "status.phase": field_path("status", "phase"),
    "status.podIP": field_path("status", "podIP"),
    "status.nominatedNodeName": field_path("status", "nominatedNodeName"),
}
_EVENT_FIELDS = {
    **{
        f"involvedObject.{f}": field_path("involvedObject", f)
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reason": field_path("reason"),
    "reportingComponent": field_path("reportingComponent"),
    "source": field_path("source", "component"),
    "type": field_path("type"),
}
_EXTRA_FIELDS: dict[str, dict[str, FieldGetter]] = {
    "pods": _POD_FIELDS,
    "events": _EVENT_FIELDS,
    "nodes": {
        "spec.unschedulable": lambda o: "true" if (o.get("spec") or {}).get("unschedulable") else "false"
    },
    "secrets": {"type": field_path("type")},
    "namespaces": {"status.phase": field_path("status", "phase")},
    "replicasets": {"status.replicas": field_path("status", "replicas")},
    "jobs": {"status.successful": field_path("status", "succeeded")},
}


_MODEL_OVERRIDES = {"Event": "CoreV1Event"}


def _model_name(rt: ResourceType) -> str:
    """The kubernetes-asyncio model class of a kind (``V1Pod``...)."""
    return _MODEL_OVERRIDES.get(rt.kind, f"{rt.version.capitalize()}{rt.kind}")


def builtin_resources(crd_strategy: CustomResourceDefinitionStrategy) -> list[Resource]:
    """Fresh resource definitions (strategies hold per-emulator state, like allocated IPs)."""
    strategies: dict[str, Strategy] = {
        "namespaces": NamespaceStrategy(),
        "nodes": NodeStrategy(),
        "pods": PodStrategy(),
        "services": ServiceStrategy(),
        "secrets": SecretStrategy(),
        "events": EventStrategy(),
        "persistentvolumeclaims": PersistentVolumeClaimStrategy(),
        "deployments": DeploymentStrategy(),
        "replicasets": ReplicaSetStrategy(),
        "statefulsets": StatefulSetStrategy(),
        "daemonsets": DaemonSetStrategy(),
        "jobs": JobStrategy(),
        "validatingwebhookconfigurations": ValidatingWebhookConfigurationStrategy(),
        "customresourcedefinitions": crd_strategy,
    }
    categories = {
        p: _ALL
        for p in ("pods", "services", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs")
    }
    extra_subresources = {"pods": frozenset({"status", "binding", "log"})}
    out = []
    for rt in (*r.BUILTIN_RESOURCES, REPLICASET):
        subresources = extra_subresources.get(rt.plural, rt.subresources)
        version = Version(rt.version, subresources=frozenset(subresources))
        out.append(
            Resource(
                group=rt.group,
                kind=rt.kind,
                plural=rt.plural,
                namespaced=rt.namespaced,
                versions={rt.version: version},
                strategy=strategies.get(rt.plural, Strategy()),
                short_names=rt.short_names,
                categories=rt.categories or categories.get(rt.plural, ()),
                model=_model_name(rt),
                fields={**COMMON_FIELDS, **_EXTRA_FIELDS.get(rt.plural, {})},
            )
        )
    return out
