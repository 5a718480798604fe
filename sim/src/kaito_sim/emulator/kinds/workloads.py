"""apps/v1 and batch/v1 workloads: defaults, selector/template agreement, immutability."""

from __future__ import annotations

import copy
from typing import Any

from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import GenerationStrategy, Obj
from kaito_sim.emulator.kinds.podspec import default_pod_template, validate_pod_template
from kaito_sim.emulator.schema import Schema, quote
from kaito_sim.emulator.selectors import from_label_selector


def _go_map(labels: dict[str, Any]) -> str:
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
    return f"map[string]string{{{inner}}}"


def selector_causes(spec: Obj, template_path: str = "spec.template") -> list[Cause]:
    """``spec.selector`` present and matching the template's labels."""
    selector = spec.get("selector")
    if not selector:
        return [Cause("FieldValueRequired", "Required value", "spec.selector")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return [
            Cause(
                "FieldValueInvalid",
                'Invalid value: "null": empty selector is invalid for deployment',
                "spec.selector",
            )
        ]
    if not from_label_selector(selector).matches(labels):
        return [
            Cause(
                "FieldValueInvalid",
                f"Invalid value: {_go_map(labels)}: `selector` does not match template `labels`",
                f"{template_path}.metadata.labels",
            )
        ]
    return []


def _immutable(new: Any, old: Any, path: str, shown: str) -> list[Cause]:
    if old is not None and new != old:
        return [Cause("FieldValueInvalid", f"Invalid value: {shown}: field is immutable", path)]
    return []


class _WorkloadStrategy(GenerationStrategy):
    """Status resets on create; the template gets pod defaults; the selector must match it."""

    def defaults(self, spec: Obj) -> None:
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)

    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        self.defaults(spec)
        if isinstance(spec.get("template"), dict):
            default_pod_template(spec["template"])
        obj["status"] = {}

    def prepare_update(self, new: Obj, old: Obj) -> None:
        spec = new.setdefault("spec", {})
        self.defaults(spec)
        if isinstance(spec.get("template"), dict):
            default_pod_template(spec["template"])

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = validate_pod_template(spec.get("template"), "spec.template")
        causes.extend(selector_causes(spec))
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            causes.append(
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            )
        if old is not None:
            old_selector = (old.get("spec") or {}).get("selector")
            match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
            causes.extend(
                _immutable(
                    spec.get("selector"),
                    old_selector,
                    "spec.selector",
                    f"v1.LabelSelector{{MatchLabels:{_go_map(match_labels)}}}",
                )
            )
        return causes


class DeploymentStrategy(_WorkloadStrategy):
    def defaults(self, spec: Obj) -> None:
        super().defaults(spec)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxSurge", "25%")
            rolling.setdefault("maxUnavailable", "25%")


class ReplicaSetStrategy(_WorkloadStrategy):
    def defaults(self, spec: Obj) -> None:
        spec.setdefault("replicas", 1)


class StatefulSetStrategy(_WorkloadStrategy):
    def defaults(self, spec: Obj) -> None:
        super().defaults(spec)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        update = spec.setdefault("updateStrategy", {})
        update.setdefault("type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            update.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        retention.setdefault("whenDeleted", "Retain")
        retention.setdefault("whenScaled", "Retain")

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        causes = super().validate(obj, old, schema)
        spec = obj.get("spec") or {}
        if old is not None:
            old_spec = old.get("spec") or {}
            mutable = (
                "replicas",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
                "ordinals",
                "revisionHistoryLimit",
            )
            before = {k: v for k, v in old_spec.items() if k not in mutable}
            after = {k: v for k, v in spec.items() if k not in mutable}
            if before != after:
                causes.append(
                    Cause(
                        "FieldValueForbidden",
                        "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                        "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                        "spec",
                    )
                )
        return causes


class DaemonSetStrategy(_WorkloadStrategy):
    def defaults(self, spec: Obj) -> None:
        spec.setdefault("revisionHistoryLimit", 10)
        update = spec.setdefault("updateStrategy", {})
        update.setdefault("type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            rolling = update.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)


JOB_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


class JobStrategy(GenerationStrategy):
    def prepare_create(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
        template = spec.setdefault("template", {})
        if isinstance(template, dict):
            default_pod_template(template)
            if not spec.get("manualSelector"):
                uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
                spec["selector"] = {"matchLabels": {JOB_UID_LABEL: uid}}
                labels = template.setdefault("metadata", {}).setdefault("labels", {})
                labels.update(
                    {JOB_UID_LABEL: uid, JOB_NAME_LABEL: name, "controller-uid": uid, "job-name": name}
                )
        obj["status"] = {}

    def prepare_update(self, new: Obj, old: Obj) -> None:
        spec = new.setdefault("spec", {})
        old_spec = old.get("spec") or {}
        for key in (
            "selector",
            "parallelism",
            "completions",
            "backoffLimit",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
        ):
            if key not in spec and key in old_spec:
                spec[key] = copy.deepcopy(old_spec[key])
        template = spec.get("template")
        if isinstance(template, dict):
            default_pod_template(template)
            old_labels = ((old_spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            labels = template.setdefault("metadata", {}).setdefault("labels", {})
            for key in (JOB_UID_LABEL, JOB_NAME_LABEL, "controller-uid", "job-name"):
                if key in old_labels:
                    labels.setdefault(key, old_labels[key])

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        spec = obj.get("spec") or {}
        template = spec.get("template") or {}
        causes = validate_pod_template(template, "spec.template")
        policy = (template.get("spec") or {}).get("restartPolicy")
        if policy not in ("OnFailure", "Never"):
            causes.append(
                Cause(
                    "FieldValueNotSupported",
                    f'Unsupported value: {quote(policy)}: supported values: "OnFailure", "Never"',
                    "spec.template.spec.restartPolicy",
                )
            )
        causes.extend(selector_causes(spec))
        if old is not None:
            old_spec = old.get("spec") or {}
            causes.extend(
                _immutable(
                    spec.get("template"),
                    old_spec.get("template"),
                    "spec.template",
                    "core.PodTemplateSpec{...}",
                )
            )
            causes.extend(
                _immutable(
                    spec.get("completions"),
                    old_spec.get("completions"),
                    "spec.completions",
                    quote(spec.get("completions")),
                )
            )
        return causes
