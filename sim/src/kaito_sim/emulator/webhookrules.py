"""Which validating webhooks a write must call: kube-apiserver's ShouldCallHook.

A webhook is called when the namespace and object selectors match, a rule
matches the request (or, under ``matchPolicy: Equivalent``, the same resource
in another served version), and every ``matchCondition`` holds. The
configurations are compiled once and recompiled only when one of them
changes, so writes that match nothing stay cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celpy import celtypes

from kaito_sim.emulator import cel, errors
from kaito_sim.emulator.errors import ApiError
from kaito_sim.emulator.kinds.admissionregistration import ca_bundle
from kaito_sim.emulator.pending import AdmissionAttributes
from kaito_sim.emulator.registry import Resource
from kaito_sim.emulator.selectors import LabelSelector, from_label_selector
from kaito_sim.emulator.store import Store

Obj = dict[str, Any]
GVR = tuple[str, str, str]  # group, version, resource
GVK = tuple[str, str, str]  # group, version, kind

CONFIGURATIONS_KEY = "validatingwebhookconfigurations.admissionregistration.k8s.io"
# rules.IsExemptAdmissionConfigurationResource: admission never applies to its own configuration.
_EXEMPT = frozenset(
    {
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
        "mutatingadmissionpolicies",
        "mutatingadmissionpolicybindings",
    }
)
_NAMESPACES: GVR = ("", "v1", "namespaces")


def exempt(res: Resource) -> bool:
    return res.group == "admissionregistration.k8s.io" and res.plural in _EXEMPT


def kind_for(res: Resource, version: str, subresource: str) -> GVK:
    """The kind a (sub)resource request carries: ``pods/binding`` takes a Binding, others the parent kind."""
    if subresource == "binding" and res.plural == "pods" and not res.group:
        return ("", "v1", "Binding")
    return (res.group, version, res.kind)


@dataclass(frozen=True)
class Rule:
    operations: frozenset[str]
    groups: frozenset[str]
    versions: frozenset[str]
    resources: tuple[tuple[str, str], ...]  # (resource, subresource), either may be "*"
    scope: str

    @classmethod
    def parse(cls, rule: Obj) -> Rule:
        resources = tuple(
            (entry.split("/", 1)[0], entry.split("/", 1)[1] if "/" in entry else "")
            for entry in (str(r) for r in rule.get("resources") or [])
        )
        return cls(
            frozenset(str(o) for o in rule.get("operations") or []),
            frozenset(str(g) for g in rule.get("apiGroups") or []),
            frozenset(str(v) for v in rule.get("apiVersions") or []),
            resources,
            str(rule.get("scope") or "*"),
        )

    def matches(self, operation: str, gvr: GVR, subresource: str, namespace: str) -> bool:
        group, version, resource = gvr
        return (
            self._scope_matches(gvr, namespace)
            and ("*" in self.operations or operation in self.operations)
            and ("*" in self.groups or group in self.groups)
            and ("*" in self.versions or version in self.versions)
            and any(r in ("*", resource) and s in ("*", subresource) for r, s in self.resources)
        )

    def _scope_matches(self, gvr: GVR, namespace: str) -> bool:
        if self.scope == "Namespaced":
            return gvr != _NAMESPACES and namespace != ""
        if self.scope == "Cluster":
            return gvr == _NAMESPACES or namespace == ""
        return True


@dataclass(frozen=True)
class ClientConfig:
    url: str | None
    service: tuple[str, str, int, str] | None  # namespace, name, port, path
    ca_bundle: bytes | None


@dataclass(frozen=True)
class Webhook:
    name: str
    configuration: str
    rules: tuple[Rule, ...]
    failure_policy: str
    match_policy: str
    namespace_selector: LabelSelector
    object_selector: LabelSelector
    timeout_seconds: int
    client: ClientConfig
    match_conditions: tuple[tuple[str, str], ...]  # (name, expression)
    review_versions: tuple[str, ...]

    @classmethod
    def parse(cls, configuration: str, hook: Obj) -> Webhook:
        config = hook.get("clientConfig") or {}
        service = config.get("service")
        return cls(
            name=str(hook["name"]),
            configuration=configuration,
            rules=tuple(Rule.parse(r) for r in hook.get("rules") or []),
            failure_policy=str(hook.get("failurePolicy") or "Fail"),
            match_policy=str(hook.get("matchPolicy") or "Equivalent"),
            namespace_selector=from_label_selector(hook.get("namespaceSelector")),
            object_selector=from_label_selector(hook.get("objectSelector")),
            timeout_seconds=int(hook.get("timeoutSeconds") or 10),
            client=ClientConfig(
                url=str(config["url"]) if config.get("url") else None,
                service=(
                    (
                        str(service.get("namespace")),
                        str(service.get("name")),
                        int(service.get("port") or 443),
                        str(service.get("path") or ""),
                    )
                    if isinstance(service, dict)
                    else None
                ),
                ca_bundle=ca_bundle(hook),
            ),
            match_conditions=tuple(
                (str(c.get("name")), str(c.get("expression"))) for c in hook.get("matchConditions") or []
            ),
            review_versions=tuple(str(v) for v in hook.get("admissionReviewVersions") or []),
        )


@dataclass(frozen=True)
class Invocation:
    """A webhook to call, and the version of the resource it asked for (its rules' version)."""

    webhook: Webhook
    resource: GVR
    subresource: str
    kind: GVK


class WebhookConfigurations:
    """The compiled webhooks of every ValidatingWebhookConfiguration, in kube-apiserver's order
    (configurations by name, webhooks as listed), rebuilt when a configuration changes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._signature: tuple[str, ...] = ()
        self._webhooks: tuple[Webhook, ...] = ()

    def current(self) -> tuple[Webhook, ...]:
        configurations = list(self._store.items(CONFIGURATIONS_KEY))
        signature = tuple(c["metadata"]["resourceVersion"] for c in configurations)
        if signature != self._signature:
            self._webhooks = tuple(
                Webhook.parse(c["metadata"]["name"], hook)
                for c in configurations
                for hook in c.get("webhooks") or []
            )
            self._signature = signature
        return self._webhooks


NamespaceLabels = Callable[[str], "dict[str, str] | None"]
RequestFor = Callable[[Invocation], Obj]


def should_call(
    hook: Webhook,
    attrs: AdmissionAttributes,
    namespace_labels: NamespaceLabels,
    request_for: RequestFor,
) -> Invocation | None:
    """The invocation when ``hook`` applies to the write; raises the errors kube-apiserver raises
    (namespace not found, a match condition that fails to evaluate under failurePolicy Fail)."""
    namespace_matches, namespace_error = _namespace_matches(hook, attrs, namespace_labels)
    if not namespace_matches and namespace_error is None:
        return None
    if not _object_matches(hook, attrs):
        return None
    invocation = _match_rules(hook, attrs)
    if invocation is None:
        return None
    if namespace_error is not None:
        raise namespace_error
    if hook.match_conditions and not _conditions_hold(hook, attrs, invocation, request_for):
        return None
    return invocation


def _namespace_matches(
    hook: Webhook, attrs: AdmissionAttributes, namespace_labels: NamespaceLabels
) -> tuple[bool, ApiError | None]:
    is_namespace = attrs.resource.plural == "namespaces"
    if not attrs.namespace and not is_namespace:
        return True, None  # cluster-scoped resources are never exempted
    if hook.namespace_selector.empty:
        return True, None
    if is_namespace and not attrs.subresource and attrs.operation in ("CREATE", "UPDATE") and attrs.obj:
        labels = attrs.obj["metadata"].get("labels") or {}
    else:
        found = namespace_labels(attrs.namespace)
        if found is None:
            return False, errors.not_found("namespaces", "", attrs.namespace)
        labels = found
    return hook.namespace_selector.matches(labels), None


def _object_matches(hook: Webhook, attrs: AdmissionAttributes) -> bool:
    if hook.object_selector.empty:
        return True
    return any(
        obj is not None and hook.object_selector.matches((obj.get("metadata") or {}).get("labels"))
        for obj in (attrs.obj, attrs.old)
    )


def _match_rules(hook: Webhook, attrs: AdmissionAttributes) -> Invocation | None:
    res = attrs.resource
    requested: GVR = (res.group, attrs.version, res.plural)
    for rule in hook.rules:
        if rule.matches(attrs.operation, requested, attrs.subresource, attrs.namespace):
            return Invocation(
                hook, requested, attrs.subresource, kind_for(res, attrs.version, attrs.subresource)
            )
    if hook.match_policy != "Equivalent":
        return None
    for rule in hook.rules:  # earlier rules first, then each equivalent version
        for version in res.served_versions:
            equivalent: GVR = (res.group, version, res.plural)
            if equivalent == requested:
                continue
            if rule.matches(attrs.operation, equivalent, attrs.subresource, attrs.namespace):
                return Invocation(
                    hook, equivalent, attrs.subresource, kind_for(res, version, attrs.subresource)
                )
    return None


def _conditions_hold(
    hook: Webhook, attrs: AdmissionAttributes, invocation: Invocation, request_for: RequestFor
) -> bool:
    """matchconditions.Matcher: any false skips the webhook; otherwise errors follow failurePolicy."""
    request = request_for(invocation)
    variables = {
        "object": request.pop("object", None),
        "oldObject": request.pop("oldObject", None),
        "request": request,  # the objects are variables of their own, not part of ``request``
    }
    failures: list[str] = []
    for _name, expression in hook.match_conditions:
        try:
            result = cel.evaluate(expression, variables)
        except (cel.EvaluationError, cel.RuleError) as exc:
            failures.append(str(exc))
            continue
        if not isinstance(result, celtypes.BoolType):
            failures.append(f"expression {expression!r} must evaluate to bool")
            continue
        if not bool(result):
            return False
    if not failures:
        return True
    if hook.failure_policy == "Ignore":
        return False
    reason = failures[0] if len(failures) == 1 else "[" + ", ".join(failures) + "]"
    raise errors.forbidden(attrs.resource.plural, attrs.resource.group, attrs.name, reason)
