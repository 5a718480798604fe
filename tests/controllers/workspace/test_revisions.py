"""Revision history: one ControllerRevision per distinct spec, numbered, at most ten kept."""

from __future__ import annotations

import pytest

from kaito.api.core import ControllerRevision
from kaito.api.workspace import Workspace
from kaito.controllers.workspace.revisions import RevisionConflict, plan_revision, spec_hash

from .conftest import workspace


def with_preset(base: Workspace, adapters: int) -> Workspace:
    doc = base.to_dict()
    doc["inference"]["adapters"] = [
        {"source": {"name": f"a{i}", "image": "r.io/a:1"}} for i in range(adapters)
    ]
    return workspace(doc)


def test_first_revision_is_one_and_names_the_hash(phi3: Workspace) -> None:
    plan = plan_revision(phi3, [])
    assert plan.number == 1 and plan.create is not None
    assert plan.create.name == f"workspace-phi-3-mini-{spec_hash(phi3)[:5]}"
    assert plan.create.metadata.labels == {"workspace.kaito.io/name": "workspace-phi-3-mini"}
    assert (plan.create.metadata.annotations or {})["workspace.kaito.io/hash"] == spec_hash(phi3)
    assert plan.create.data["inference"]["preset"]["name"] == "phi-3-mini-4k-instruct"


def test_same_spec_reuses_its_revision_new_spec_gets_the_next(phi3: Workspace) -> None:
    first = plan_revision(phi3, [])
    assert first.create is not None
    history = [first.create]
    assert plan_revision(phi3, history).create is None and plan_revision(phi3, history).number == 1
    second = plan_revision(with_preset(phi3, 1), history)
    assert second.number == 2 and second.create is not None


def test_runtime_annotation_is_part_of_the_hash(phi3: Workspace) -> None:
    doc = phi3.to_dict()
    doc["metadata"]["annotations"] = {"kaito.sh/runtime": "transformers"}
    assert spec_hash(workspace(doc)) != spec_hash(phi3)


def test_history_keeps_ten(phi3: Workspace) -> None:
    history: list[ControllerRevision] = []
    for n in range(12):
        plan = plan_revision(with_preset(phi3, n), history)
        assert plan.create is not None
        history = [r for r in history if r.name not in plan.delete] + [plan.create]
        assert len(history) <= 10
    assert [r.revision for r in history] == list(range(3, 13))


def test_a_prefix_collision_is_refused(phi3: Workspace) -> None:
    plan = plan_revision(phi3, [])
    assert plan.create is not None
    impostor = plan.create.model_copy(deep=True)
    impostor.metadata.annotations = {"workspace.kaito.io/hash": "0" * 64}
    with pytest.raises(RevisionConflict):
        plan_revision(phi3, [impostor])
