"""What validation needs to know beyond the object itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kaito.api.core import ConfigMap
from kaito.api.wellknown import NodeProvisioner

# (namespace, name) -> the ConfigMap, or None when it does not exist.
ConfigMapLookup = Callable[[str, str], ConfigMap | None]


@dataclass(frozen=True)
class ValidationContext:
    """Cluster facts: how nodes are provisioned, which cloud's SKUs apply, and,
    where a cluster (or the files being validated) can answer, ConfigMaps."""

    node_provisioner: NodeProvisioner = NodeProvisioner.NODECLAIM
    cloud: str = "azure"
    config_maps: ConfigMapLookup | None = None
