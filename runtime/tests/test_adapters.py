"""Adapter discovery and strengths from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaito_runtime.errors import UsageError
from kaito_runtime.serving.adapters import Adapter, adapter_strengths, discover_adapters


def adapter(root: Path, name: str, config: object) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps(config))
    return folder


def test_only_folders_with_adapter_config_count_sorted_by_name(tmp_path: Path) -> None:
    adapter(tmp_path, "zeta", {"r": 8})
    adapter(tmp_path, "alpha", {"r": 4, "rank_pattern": {"q_proj": 32}})
    (tmp_path / "empty").mkdir()
    (tmp_path / "..data").mkdir()
    (tmp_path / "stray.json").write_text("{}")
    found = discover_adapters(tmp_path)
    assert found == [Adapter("alpha", tmp_path / "alpha", 32), Adapter("zeta", tmp_path / "zeta", 8)]


def test_missing_directory_means_no_adapters(tmp_path: Path) -> None:
    assert discover_adapters(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("not json", "cannot be read as JSON"),
        ({"r": 0}, "positive integers"),
        ({"r": 8, "rank_pattern": []}, "object"),
    ],
)
def test_broken_adapter_config_names_the_adapter(tmp_path: Path, config: object, problem: str) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    text = config if isinstance(config, str) else json.dumps(config)
    (folder / "adapter_config.json").write_text(text)
    with pytest.raises(UsageError, match=f"adapter 'broken': .*{problem}"):
        discover_adapters(tmp_path)


def test_strengths_default_to_one_and_come_from_the_adapter_named_variable(tmp_path: Path) -> None:
    adapters = [Adapter("alpha", tmp_path, 4), Adapter("beta-2", tmp_path, 4)]
    assert adapter_strengths(adapters, {"beta-2": "0.25"}) == {"alpha": 1.0, "beta-2": 0.25}


@pytest.mark.parametrize("value", ["1.5", "-0.1", "strong", "nan", ""])
def test_strength_out_of_range_or_not_a_number_is_rejected(tmp_path: Path, value: str) -> None:
    with pytest.raises(UsageError, match=rf"environment variable alpha={value!r}: .* between 0 and 1"):
        adapter_strengths([Adapter("alpha", tmp_path, 4)], {"alpha": value})
