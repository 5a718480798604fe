"""Built-in Kubernetes kinds, typed at the top level only.

kaito builds and reads these objects but does not own their schemas, so their
bodies stay plain JSON-like dicts (exactly what kubectl and the API server
exchange); metadata is typed like every other object. Lease is typed in full
because leader election reasons about its fields.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kaito.api import resources as r
from kaito.api.meta import KubeModel, KubeObject
from kaito.api.resources import ResourceType


class _SpecStatusObject(KubeObject):
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class Namespace(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.NAMESPACE


class Node(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.NODE


class Pod(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.POD


class Service(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.SERVICE


class PersistentVolumeClaim(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.PERSISTENT_VOLUME_CLAIM


class Deployment(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.DEPLOYMENT


class StatefulSet(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.STATEFULSET


class DaemonSet(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.DAEMONSET


class Job(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.JOB


class CustomResourceDefinition(_SpecStatusObject):
    RESOURCE: ClassVar[ResourceType] = r.CUSTOM_RESOURCE_DEFINITION


class ConfigMap(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.CONFIGMAP

    data: dict[str, str] | None = None
    binary_data: dict[str, str] | None = None


class Secret(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.SECRET

    type: str | None = None
    data: dict[str, str] | None = None
    string_data: dict[str, str] | None = None


class ServiceAccount(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.SERVICE_ACCOUNT


class ControllerRevision(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.CONTROLLER_REVISION

    data: Any = None
    revision: int = 0


class Event(KubeObject):
    """core/v1 Event: what ``kubectl describe`` shows under Events."""

    RESOURCE: ClassVar[ResourceType] = r.EVENT

    involved_object: dict[str, Any] | None = None
    reason: str | None = None
    message: str | None = None
    type: str | None = None
    count: int | None = None
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    event_time: str | None = None
    source: dict[str, Any] | None = None
    reporting_component: str | None = None
    reporting_instance: str | None = None
    action: str | None = None


class LeaseSpec(KubeModel):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: int | None = None


class Lease(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.LEASE

    spec: LeaseSpec | None = None


class ValidatingWebhookConfiguration(KubeObject):
    RESOURCE: ClassVar[ResourceType] = r.VALIDATING_WEBHOOK_CONFIGURATION

    webhooks: list[dict[str, Any]] | None = None
