"""The informer caches the workspace controller reads; every write goes through the client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kaito.api.core import ConfigMap, ControllerRevision, Deployment, Node, Pod, Service, StatefulSet
from kaito.api.workspace import Workspace
from kaito.kube.informer import Informer


@dataclass(frozen=True)
class Caches:
    workspaces: Informer[Workspace]
    nodes: Informer[Node]
    node_requests: Informer[Any] | None  # NodeClaims or Machines, indexed by workspace; None for BYO
    deployments: Informer[Deployment]
    statefulsets: Informer[StatefulSet]
    services: Informer[Service]
    config_maps: Informer[ConfigMap]
    revisions: Informer[ControllerRevision]
    pods: Informer[Pod]
