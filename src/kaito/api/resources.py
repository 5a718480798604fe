"""The resource types kaito reads or writes: group, version, kind, plural, scope.

One table serves the REST client (URL paths), the API emulator (which kinds it
serves) and the CRD generator, so a kind's REST shape is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: frozenset[str] = field(default_factory=frozenset)
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def collection_path(self, namespace: str | None = None) -> str:
        """``/api/v1/namespaces/ns/pods`` style path; cluster-wide when no namespace."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        path = f"{self.collection_path(namespace)}/{name}"
        return f"{path}/{subresource}" if subresource else path


_STATUS = frozenset({"status"})

WORKSPACE_V1BETA1 = ResourceType(
    "kaito.sh", "v1beta1", "Workspace", "workspaces", True, ("wk", "wks"), _STATUS, ("workspace",)
)
WORKSPACE_V1ALPHA1 = ResourceType(
    "kaito.sh", "v1alpha1", "Workspace", "workspaces", True, ("wk", "wks"), _STATUS, ("workspace",)
)
NODECLAIM = ResourceType("karpenter.sh", "v1", "NodeClaim", "nodeclaims", False, (), _STATUS, ("karpenter",))
MACHINE = ResourceType("karpenter.sh", "v1alpha5", "Machine", "machines", False, (), _STATUS, ("karpenter",))

NAMESPACE = ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",), _STATUS)
NODE = ResourceType("", "v1", "Node", "nodes", False, ("no",), _STATUS)
POD = ResourceType("", "v1", "Pod", "pods", True, ("po",), _STATUS)
SERVICE = ResourceType("", "v1", "Service", "services", True, ("svc",), _STATUS)
CONFIGMAP = ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",))
SECRET = ResourceType("", "v1", "Secret", "secrets", True)
SERVICE_ACCOUNT = ResourceType("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",))
EVENT = ResourceType("", "v1", "Event", "events", True, ("ev",))
PERSISTENT_VOLUME_CLAIM = ResourceType(
    "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), _STATUS
)
DEPLOYMENT = ResourceType("apps", "v1", "Deployment", "deployments", True, ("deploy",), _STATUS)
STATEFULSET = ResourceType("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), _STATUS)
DAEMONSET = ResourceType("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), _STATUS)
CONTROLLER_REVISION = ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True)
JOB = ResourceType("batch", "v1", "Job", "jobs", True, (), _STATUS)
LEASE = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)
VALIDATING_WEBHOOK_CONFIGURATION = ResourceType(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    False,
)
CUSTOM_RESOURCE_DEFINITION = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    False,
    ("crd", "crds"),
    _STATUS,
)

CUSTOM_RESOURCES: tuple[ResourceType, ...] = (WORKSPACE_V1BETA1, WORKSPACE_V1ALPHA1, NODECLAIM, MACHINE)

BUILTIN_RESOURCES: tuple[ResourceType, ...] = (
    NAMESPACE,
    NODE,
    POD,
    SERVICE,
    CONFIGMAP,
    SECRET,
    SERVICE_ACCOUNT,
    EVENT,
    PERSISTENT_VOLUME_CLAIM,
    DEPLOYMENT,
    STATEFULSET,
    DAEMONSET,
    CONTROLLER_REVISION,
    JOB,
    LEASE,
    VALIDATING_WEBHOOK_CONFIGURATION,
    CUSTOM_RESOURCE_DEFINITION,
)

ALL_RESOURCES: tuple[ResourceType, ...] = BUILTIN_RESOURCES + CUSTOM_RESOURCES

_BY_GVK = {(r.api_version, r.kind): r for r in ALL_RESOURCES}


def resource_for(api_version: str, kind: str) -> ResourceType:
    """The resource type of an apiVersion/kind pair; KeyError names the pair when unknown."""
    try:
        return _BY_GVK[(api_version, kind)]
    except KeyError:
        raise KeyError(f"unknown resource type {api_version}/{kind}") from None
