"""Workspaces as users write them, decoded the way the controller reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kaito.api.workspace import Workspace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def workspace(doc: dict[str, Any], uid: str = "9f0c1a2b-0000-4000-8000-000000000001") -> Workspace:
    doc = {**doc, "metadata": {"namespace": "default", **doc["metadata"], "uid": uid, "generation": 1}}
    return Workspace.model_validate({**doc, "apiVersion": "kaito.sh/v1beta1"})


def example(relative: str, **replacements: str) -> Workspace:
    text = (EXAMPLES / relative).read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    return workspace(yaml.safe_load(text))


@pytest.fixture
def phi3() -> Workspace:
    return example("inference/kaito_workspace_phi_3.yaml")


@pytest.fixture
def phi35() -> Workspace:
    return example("inference/kaito_workspace_phi_3.5-instruct.yaml")


@pytest.fixture
def phi3_adapters() -> Workspace:
    return example(
        "inference/kaito_workspace_phi_3_with_adapters.yaml",
        **{"ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1": "myregistry.azurecr.io/phi-3-adapter:0.0.1"},
    )
