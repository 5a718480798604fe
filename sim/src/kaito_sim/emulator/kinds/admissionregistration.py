"""ValidatingWebhookConfiguration: admissionregistration/v1 defaults and validation.

The emulator calls these webhooks, so it must refuse configurations the real
server refuses (and default the rest the same way): a configuration that
works here then works on a cluster.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from kaito.api.names import dns1123_subdomain_errors, label_key_errors, label_value_errors
from kaito_sim.emulator import cel, errors
from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import GenerationStrategy, Obj
from kaito_sim.emulator.schema import Schema, quote

OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
SCOPES = ("*", "Cluster", "Namespaced")
FAILURE_POLICIES = ("Fail", "Ignore")
MATCH_POLICIES = ("Equivalent", "Exact")
SIDE_EFFECTS = ("None", "NoneOnDryRun")
REVIEW_VERSIONS = ("v1", "v1beta1")
MAX_MATCH_CONDITIONS = 64
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def default_webhooks(obj: Obj) -> None:
    """SetObjectDefaults_ValidatingWebhookConfiguration: what the API server fills in."""
    for hook in obj.get("webhooks") or []:
        if not isinstance(hook, dict):
            continue
        for key, value in (
            ("failurePolicy", "Fail"),
            ("matchPolicy", "Equivalent"),
            ("namespaceSelector", {}),
            ("objectSelector", {}),
            ("timeoutSeconds", 10),
        ):
            if hook.get(key) is None:
                hook[key] = value
        for rule in hook.get("rules") or []:
            if isinstance(rule, dict) and rule.get("scope") is None:
                rule["scope"] = "*"
        service = (hook.get("clientConfig") or {}).get("service")
        if isinstance(service, dict) and service.get("port") is None:
            service["port"] = 443


def ca_bundle(hook: Obj) -> bytes | None:
    """The decoded ``clientConfig.caBundle`` (None when absent: the system roots apply)."""
    encoded = (hook.get("clientConfig") or {}).get("caBundle")
    return base64.b64decode(encoded) if encoded else None


def _check_base64(obj: Obj) -> None:
    """``caBundle`` is a []byte field: undecodable base64 fails decoding, before validation."""
    for hook in obj.get("webhooks") or []:
        encoded = ((hook or {}).get("clientConfig") or {}).get("caBundle") if isinstance(hook, dict) else None
        if encoded is None:
            continue
        try:
            base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            bad = next((i for i, c in enumerate(str(encoded)) if not _is_b64(c)), len(str(encoded)))
            raise errors.bad_request(
                'ValidatingWebhookConfiguration in version "v1" cannot be handled as a '
                f"ValidatingWebhookConfiguration: illegal base64 data at input byte {bad}"
            ) from None


def _is_b64(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "+/=")


class ValidatingWebhookConfigurationStrategy(GenerationStrategy):
    def prepare_create(self, obj: Obj) -> None:
        _check_base64(obj)
        default_webhooks(obj)

    def prepare_update(self, new: Obj, old: Obj) -> None:
        _check_base64(new)
        default_webhooks(new)

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        causes: list[Cause] = []
        names: set[str] = set()
        for i, hook in enumerate(obj.get("webhooks") or []):
            path = f"webhooks[{i}]"
            if not isinstance(hook, dict):
                causes.append(_invalid(path, hook, "must be an object"))
                continue
            causes += _validate_webhook(hook, path)
            name = str(hook.get("name") or "")
            if name and name in names:
                causes.append(Cause("FieldValueDuplicate", f"Duplicate value: {quote(name)}", f"{path}.name"))
            names.add(name)
        return causes


# ------------------------------------------------------------------------------------------- messages


def _go_list(values: Iterable[Any], type_name: str = "[]string") -> str:
    return type_name + "{" + ", ".join(quote(v) for v in values) + "}"


def _required(path: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", f"Required value: {detail}" if detail else "Required value", path)


def _invalid(path: str, value: Any, detail: str, shown: str | None = None) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {shown or quote(value)}: {detail}", path)


def _not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    listed = ", ".join(quote(s) for s in sorted(supported))
    return Cause(
        "FieldValueNotSupported", f"Unsupported value: {quote(value)}: supported values: {listed}", path
    )


# ------------------------------------------------------------------------------------------- webhook


def _validate_webhook(hook: Obj, path: str) -> list[Cause]:
    causes = _fully_qualified(str(hook.get("name") or ""), f"{path}.name")
    for j, rule in enumerate(hook.get("rules") or []):
        causes += _validate_rule(rule if isinstance(rule, dict) else {}, f"{path}.rules[{j}]")
    for key, allowed in (("failurePolicy", FAILURE_POLICIES), ("matchPolicy", MATCH_POLICIES)):
        if hook.get(key) is not None and hook[key] not in allowed:
            causes.append(_not_supported(f"{path}.{key}", hook[key], allowed))
    side_effects = hook.get("sideEffects")
    if side_effects is None:
        causes.append(_required(f"{path}.sideEffects", f"must specify one of {', '.join(SIDE_EFFECTS)}"))
    elif side_effects not in SIDE_EFFECTS:
        causes.append(_not_supported(f"{path}.sideEffects", side_effects, SIDE_EFFECTS))
    timeout = hook.get("timeoutSeconds")
    if timeout is not None and (not isinstance(timeout, int) or not 1 <= timeout <= 30):
        causes.append(
            _invalid(f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds")
        )
    for key in ("namespaceSelector", "objectSelector"):
        if hook.get(key) is not None:
            causes += validate_label_selector(hook[key], f"{path}.{key}")
    causes += _validate_client_config(hook.get("clientConfig") or {}, f"{path}.clientConfig")
    causes += _validate_review_versions(
        hook.get("admissionReviewVersions"), f"{path}.admissionReviewVersions"
    )
    causes += _validate_match_conditions(hook.get("matchConditions") or [], f"{path}.matchConditions")
    return causes


def _fully_qualified(name: str, path: str) -> list[Cause]:
    if not name:
        return [_required(path)]
    problems = dns1123_subdomain_errors(name)
    if problems:
        return [_invalid(path, name, ",".join(problems))]
    if len(name.split(".")) < 3:
        return [_invalid(path, name, "should be a domain with at least three segments separated by dots")]
    return []


def _validate_rule(rule: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    operations = [str(o) for o in rule.get("operations") or []]
    if not operations:
        causes.append(_required(f"{path}.operations"))
    if len(operations) > 1 and "*" in operations:
        causes.append(
            _invalid(
                f"{path}.operations",
                operations,
                "if '*' is present, must not specify other operations",
                _go_list(operations, "[]admissionregistration.OperationType"),
            )
        )
    for k, operation in enumerate(operations):
        if operation not in OPERATIONS:
            causes.append(_not_supported(f"{path}.operations[{k}]", operation, OPERATIONS))
    for key, what in (("apiGroups", "API groups"), ("apiVersions", "API versions")):
        values = [str(v) for v in rule.get(key) or []]
        if not values:
            causes.append(_required(f"{path}.{key}"))
        if len(values) > 1 and "*" in values:
            causes.append(
                _invalid(
                    f"{path}.{key}",
                    values,
                    f"if '*' is present, must not specify other {what}",
                    _go_list(values),
                )
            )
    for k, version in enumerate(rule.get("apiVersions") or []):
        if version == "":
            causes.append(_required(f"{path}.apiVersions[{k}]"))
    causes += _validate_resources([str(r) for r in rule.get("resources") or []], f"{path}.resources")
    scope = rule.get("scope")
    if scope is not None and scope not in SCOPES:
        causes.append(_not_supported(f"{path}.scope", scope, SCOPES))
    return causes


def _validate_resources(resources: list[str], path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not resources:
        causes.append(_required(path))
    wildcard_subresources: set[str] = set()  # x/*
    wildcard_resources: set[str] = set()  # */x
    has_resource_without_subresource = False
    for i, entry in enumerate(resources):
        if entry == "":
            causes.append(_required(f"{path}[{i}]"))
            continue
        if "/" not in entry:
            has_resource_without_subresource = entry != "*"
            continue
        res, sub = entry.split("/", 1)
        if res in wildcard_subresources:
            causes.append(
                _invalid(f"{path}[{i}]", entry, f"if '{res}/*' is present, must not specify {entry}")
            )
        if sub in wildcard_resources:
            causes.append(
                _invalid(f"{path}[{i}]", entry, f"if '*/{sub}' is present, must not specify {entry}")
            )
        if sub == "*":
            wildcard_subresources.add(res)
        if res == "*":
            wildcard_resources.add(sub)
    if len(resources) > 1 and "*/*" in resources:
        causes.append(
            _invalid(
                path, resources, "if '*/*' is present, must not specify other resources", _go_list(resources)
            )
        )
    if "*" in resources and has_resource_without_subresource:
        causes.append(
            _invalid(
                path,
                resources,
                "if '*' is present, must not specify other resources without subresources",
                _go_list(resources),
            )
        )
    return causes


def validate_label_selector(selector: Any, path: str) -> list[Cause]:
    """metav1validation.ValidateLabelSelector: operators, values and keys."""
    if not isinstance(selector, dict):
        return [_invalid(path, selector, "must be a label selector")]
    causes: list[Cause] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        causes += [_invalid(f"{path}.matchLabels", key, e) for e in label_key_errors(str(key))]
        causes += [_invalid(f"{path}.matchLabels", value, e) for e in label_value_errors(str(value))]
    for i, expression in enumerate(selector.get("matchExpressions") or []):
        where = f"{path}.matchExpressions[{i}]"
        expression = expression if isinstance(expression, dict) else {}
        operator, values = expression.get("operator"), expression.get("values") or []
        if operator in ("In", "NotIn") and not values:
            causes.append(
                _required(f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'")
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            causes.append(
                Cause(
                    "FieldValueForbidden",
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    f"{where}.values",
                )
            )
        elif operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            causes.append(_invalid(f"{where}.operator", operator, "not a valid selector operator"))
        causes += [
            _invalid(f"{where}.key", expression.get("key"), e)
            for e in label_key_errors(str(expression.get("key") or ""))
        ]
    return causes


def _validate_client_config(config: Obj, path: str) -> list[Cause]:
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        return [_required(path, "exactly one of url or service is required")]
    if url is not None:
        return validate_url(str(url), f"{path}.url")
    return _validate_service(service if isinstance(service, dict) else {}, f"{path}.service")


def validate_url(url: str, path: str) -> list[Cause]:
    """webhook.ValidateWebhookURL with https forced."""
    form = "; desired format: https://host[/path]"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return [_required(path, f"url must be a valid URL: {exc}{form}")]
    causes: list[Cause] = []
    if parts.scheme != "https":
        causes.append(_invalid(path, parts.scheme, "'https' is the only allowed URL scheme" + form))
    if not parts.hostname:
        causes.append(_invalid(path, "", "host must be specified" + form))
    if parts.username is not None:
        causes.append(
            _invalid(path, parts.netloc.rpartition("@")[0], "user information is not permitted in the URL")
        )
    if parts.fragment:
        causes.append(_invalid(path, parts.fragment, "fragments are not permitted in the URL"))
    if parts.query:
        causes.append(_invalid(path, parts.query, "query parameters are not permitted in the URL"))
    return causes


def _validate_service(service: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not service.get("name"):
        causes.append(_required(f"{path}.name", "service name is required"))
    if not service.get("namespace"):
        causes.append(_required(f"{path}.namespace", "service namespace is required"))
    port = service.get("port", 443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        causes.append(
            _invalid(f"{path}.port", port, "port is not valid: must be between 1 and 65535, inclusive")
        )
    url_path = service.get("path")
    if url_path in (None, "", "/"):
        return causes
    url_path = str(url_path)
    if url_path == "//":
        return [*causes, _invalid(f"{path}.path", url_path, "segment[0] may not be empty")]
    if not url_path.startswith("/"):
        causes.append(_invalid(f"{path}.path", url_path, "must start with a '/'"))
    for i, step in enumerate(url_path[1:].removesuffix("/").split("/")):
        if not step:
            causes.append(_invalid(f"{path}.path", url_path, f"segment[{i}] may not be empty"))
            continue
        causes += [
            _invalid(f"{path}.path", url_path, f"segment[{i}]: {e}") for e in dns1123_subdomain_errors(step)
        ]
    return causes


def _validate_review_versions(versions: Any, path: str) -> list[Cause]:
    versions = [str(v) for v in versions or []]
    if not versions:
        return [_required(path, f"must specify one of {', '.join(REVIEW_VERSIONS)}")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        if version in seen:
            causes.append(_invalid(f"{path}[{i}]", version, "duplicate version"))
            continue
        seen.add(version)
        if not _DNS1035.match(version) or len(version) > 63:
            causes.append(
                _invalid(
                    f"{path}[{i}]",
                    version,
                    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
                    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
                    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                )
            )
    if not seen & set(REVIEW_VERSIONS):
        causes.append(
            _invalid(
                path,
                versions,
                f"must include at least one of {', '.join(REVIEW_VERSIONS)}",
                _go_list(versions),
            )
        )
    return causes


def _validate_match_conditions(conditions: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(conditions) > MAX_MATCH_CONDITIONS:
        causes.append(
            Cause("FieldValueTooMany", f"Too many: {len(conditions)}: must have at most 64 items", path)
        )
    names: set[str] = set()
    for i, condition in enumerate(conditions):
        condition = condition if isinstance(condition, dict) else {}
        name, expression = str(condition.get("name") or ""), str(condition.get("expression") or "")
        where = f"{path}[{i}]"
        if not name:
            causes.append(_required(f"{where}.name"))
        else:
            causes += [_invalid(f"{where}.name", name, e) for e in label_key_errors(name)]
            if name in names:
                causes.append(
                    Cause("FieldValueDuplicate", f"Duplicate value: {quote(name)}", f"{where}.name")
                )
            names.add(name)
        if not expression:
            causes.append(_required(f"{where}.expression"))
            continue
        try:
            cel.compile_expression(expression)
        except cel.RuleError as exc:
            causes.append(_invalid(f"{where}.expression", expression, str(exc)))
    return causes
