"""Scriptable workload failures: from Python (``cluster.failures.add(...)``)
or, for sandbox users, from a pod (template) annotation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kaito_sim.emulator.selectors import (
    EVERYTHING,
    LabelSelector,
    from_label_selector,
    parse_label_selector,
)

Obj = dict[str, Any]

# Put this annotation on a pod template (Deployment, StatefulSet, Job) to make its pods fail that way.
FAILURE_ANNOTATION = "sandbox.kaito.sh/simulate-failure"


class Failure(StrEnum):
    IMAGE_PULL_BACKOFF = "ImagePullBackOff"
    CRASH_LOOP_BACKOFF = "CrashLoopBackOff"
    OOM_KILLED = "OOMKilled"
    UNSCHEDULABLE = "Unschedulable"
    JOB_FAILURE = "JobFailure"


@dataclass(frozen=True)
class FailureRule:
    failure: Failure
    namespace: str | None = None
    selector: LabelSelector = EVERYTHING
    name_prefix: str = ""

    def matches(self, pod: Obj) -> bool:
        meta = pod["metadata"]
        return (
            (self.namespace is None or meta.get("namespace") == self.namespace)
            and meta["name"].startswith(self.name_prefix)
            and self.selector.matches(meta.get("labels"))
        )


class FailureScripts:
    """Which pods fail, and how. Rules are checked in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[FailureRule] = []

    def add(
        self,
        failure: Failure | str,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        name_prefix: str = "",
    ) -> FailureRule:
        """Make matching pods fail; ``labels`` is a selector string or a matchLabels dict."""
        if isinstance(labels, dict):
            selector = from_label_selector({"matchLabels": labels})
        else:
            selector = parse_label_selector(labels)
        rule = FailureRule(Failure(failure), namespace, selector, name_prefix)
        self.rules.append(rule)
        return rule

    def remove(self, rule: FailureRule) -> None:
        self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def for_pod(self, pod: Obj) -> Failure | None:
        annotated = (pod["metadata"].get("annotations") or {}).get(FAILURE_ANNOTATION)
        if annotated:
            try:
                return Failure(annotated)
            except ValueError:
                return None
        return next((rule.failure for rule in self.rules if rule.matches(pod)), None)
