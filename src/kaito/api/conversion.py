"""Conversion between the served Workspace versions.

v1alpha1 and v1beta1 share one structural schema (as upstream, the CRD uses
conversion strategy None), so converting rewrites ``apiVersion`` and keeps
every field, including ones this code does not know.
"""

from __future__ import annotations

from typing import TypeVar

from kaito.api.workspace import WORKSPACE_VERSIONS, Workspace

W = TypeVar("W", bound=Workspace)


def convert_workspace(workspace: Workspace, target: type[W]) -> W:
    """The same workspace as ``target``'s version; nothing is dropped."""
    data = workspace.to_dict()
    data["apiVersion"] = target.RESOURCE.api_version
    return target.model_validate(data)


def workspace_class_for(api_version: str) -> type[Workspace]:
    for version in WORKSPACE_VERSIONS:
        if version.RESOURCE.api_version == api_version:
            return version
    served = ", ".join(v.RESOURCE.api_version for v in WORKSPACE_VERSIONS)
    raise ValueError(f"unsupported Workspace apiVersion {api_version!r}; served versions: {served}")
