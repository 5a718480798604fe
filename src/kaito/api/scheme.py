"""The scheme: which Python class represents each apiVersion/kind.

The REST client and the informer caches decode every object through here, so
a Workspace read from the cluster is a ``Workspace`` and a Deployment a
``Deployment``, whatever code asked for it.
"""

from __future__ import annotations

from kaito.api import core, karpenter, workspace
from kaito.api.meta import KubeObject
from kaito.api.resources import ResourceType

_MODELS: tuple[type[KubeObject], ...] = (
    core.Namespace,
    core.Node,
    core.Pod,
    core.Service,
    core.ConfigMap,
    core.Secret,
    core.ServiceAccount,
    core.Event,
    core.PersistentVolumeClaim,
    core.Deployment,
    core.StatefulSet,
    core.DaemonSet,
    core.ControllerRevision,
    core.Job,
    core.Lease,
    core.ValidatingWebhookConfiguration,
    core.CustomResourceDefinition,
    workspace.Workspace,
    workspace.WorkspaceV1alpha1,
    karpenter.NodeClaim,
    karpenter.Machine,
)

_BY_GVK: dict[tuple[str, str], type[KubeObject]] = {
    (m.RESOURCE.api_version, m.RESOURCE.kind): m for m in _MODELS
}


def model_for(api_version: str, kind: str) -> type[KubeObject]:
    """The class for an apiVersion/kind; KeyError naming the pair when kaito has none."""
    try:
        return _BY_GVK[(api_version, kind)]
    except KeyError:
        raise KeyError(f"no model for {api_version}/{kind}") from None


def model_for_resource(resource: ResourceType) -> type[KubeObject]:
    return model_for(resource.api_version, resource.kind)


def decode(data: dict[str, object]) -> KubeObject:
    """Decode a wire object into its typed class, by its own apiVersion and kind."""
    model = model_for(str(data.get("apiVersion", "")), str(data.get("kind", "")))
    return model.model_validate(data)
