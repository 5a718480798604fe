"""What ships: the operator's wheel holds the operator and nothing of the test world.

The simulated cluster (``sim/``, distribution ``kaito-sim``) and its CEL
library are for tests and ``kaito sandbox`` only; a controller image built from
the operator's wheel (``Dockerfile.controller``) must not carry them.
"""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def operator_wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = out.glob("kaito-*.whl")
    return zipfile.ZipFile(wheel)


def test_the_operator_wheel_holds_no_simulated_cluster(operator_wheel: zipfile.ZipFile) -> None:
    names = operator_wheel.namelist()
    assert any(n.startswith("kaito/controllers/workspace/") for n in names)
    assert [n for n in names if n.startswith(("kaito_sim/", "kaito/testing/"))] == []


def test_the_operator_does_not_depend_on_cel_or_the_simulated_cluster(
    operator_wheel: zipfile.ZipFile,
) -> None:
    metadata_name = next(n for n in operator_wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = email.message_from_bytes(operator_wheel.read(metadata_name))
    requirements = [r.split(";")[0].strip().lower() for r in metadata.get_all("Requires-Dist") or []]
    runtime_requirements = [
        r
        for r, raw in zip(requirements, metadata.get_all("Requires-Dist") or [], strict=True)
        if "extra ==" not in raw
    ]
    assert not [r for r in runtime_requirements if r.startswith(("cel-python", "kaito-sim"))]


def test_the_controller_image_copies_only_the_operator() -> None:
    dockerfile = (ROOT / "Dockerfile.controller").read_text()
    copied = [
        line.split()[1]
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    assert "sim" not in " ".join(copied) and "tests" not in " ".join(copied)
