"""Object metadata and the base model every Kubernetes type here derives from.

Wire names are camelCase, Python names snake_case. Models are strict (a string
is never coerced into an integer, as kube-apiserver would refuse it) and keep
every field they do not declare, so an object read from a newer server is
written back without losing anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    from kaito.api.resources import ResourceType


class KubeModel(BaseModel):
    """Base for every API struct: camelCase aliases, strict types, unknown fields kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        strict=True,
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, absent (None) fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


class OwnerReference(KubeModel):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(KubeModel):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    deletion_grace_period_seconds: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    owner_references: list[OwnerReference] | None = None


class LabelSelectorRequirement(KubeModel):
    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(KubeModel):
    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None

    def as_map(self) -> dict[str, str]:
        """matchLabels plus single-value ``In`` expressions: the labels a matching node must carry."""
        labels = dict(self.match_labels or {})
        for expression in self.match_expressions or []:
            if expression.operator == "In" and expression.values and len(expression.values) == 1:
                labels[expression.key] = expression.values[0]
        return labels


class Condition(KubeModel):
    """One aspect of an object's state (metav1.Condition; Machine conditions add severity)."""

    type: str
    status: str
    observed_generation: int | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None
    severity: str | None = None


class KubeObject(KubeModel):
    """A top-level object. Each concrete subclass pins its ``RESOURCE`` type."""

    RESOURCE: ClassVar[ResourceType]

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)

    def model_post_init(self, context: Any, /) -> None:
        # A typed object always says what it is, even when built in Python.
        resource = getattr(type(self), "RESOURCE", None)
        if resource is not None:
            if self.api_version is None:
                self.api_version = resource.api_version
            if self.kind is None:
                self.kind = resource.kind

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""

    @property
    def key(self) -> str:
        """``namespace/name`` (or ``name`` when cluster-scoped), as work queues use it."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name
