"""``kaito validate``: the examples as their README describes, output format and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kaito.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILLED_IN = {
    "ACR_REPO_HERE.azurecr.io/IMAGE_NAME_HERE:0.0.1": "myregistry.azurecr.io/phi-3-adapter:0.0.1",
    "ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1": "myregistry.azurecr.io/phi-3-adapter:0.0.1",
    "ACR_REGISTRY_SECRET_HERE": "acr-push-secret",
}


def filled_in(path: Path, tmp_path: Path) -> Path:
    text = path.read_text()
    for placeholder, value in FILLED_IN.items():
        text = text.replace(placeholder, value)
    out = tmp_path / path.name
    out.write_text(text)
    return out


@pytest.mark.parametrize("name", ["kaito_workspace_phi_3.yaml", "kaito_workspace_phi_3.5-instruct.yaml"])
def test_inference_examples_are_valid(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(EXAMPLES / "inference" / name)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 workspace(s) checked: 1 valid, 0 invalid" in captured.err


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (
            "inference/kaito_workspace_phi_3_with_adapters.yaml",
            [
                "default/workspace-phi-3-mini-adapter: inference.adapters[0].source.image: Unable to parse adapter image "
                "reference 'ACR_REPO_HERE.azurecr.io/ADAPTER_HERE:0.0.1': registry host 'ACR_REPO_HERE.azurecr.io' may "
                "contain only letters, digits"
            ],
        ),
        (
            "fine-tuning/kaito_workspace_tuning_phi_3.yaml",
            [
                "default/workspace-tuning-phi-3: tuning.output.image: Unable to parse output image reference",
                "default/workspace-tuning-phi-3: tuning.output.imagePushSecret: Invalid value: "
                "'ACR_REGISTRY_SECRET_HERE'",
            ],
        ),
    ],
)
def test_placeholder_examples_are_refused_then_valid_once_filled_in(
    relative: str, expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = EXAMPLES / relative
    assert main(["validate", "-f", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}: {start}"), line
    assert main(["validate", "-f", str(filled_in(path, tmp_path))]) == 0


def test_every_example_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [filled_in(p, tmp_path) for p in sorted(EXAMPLES.glob("*/*.yaml"))]
    args = ["validate"] + [arg for f in files for arg in ("-f", str(f))]
    assert main(args) == 0
    assert "4 workspace(s) checked: 4 valid, 0 invalid" in capsys.readouterr().err


MULTI = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: team}
data:
  inference_config.yaml: |
    vllm:
      max-model-len: 999999
---
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: ws, namespace: team}
resource: {instanceType: Standard_NC24ads_A100_v4, labelSelector: {matchLabels: {a: b}}}
inference: {preset: {name: phi-3.5-mini-instruct}, config: cfg}
---
apiVersion: kaito.sh/v1beta1
kind: Workspace
metadata: {name: ok}
resource: {instanceType: Standard_NC24ads_A100_v4, labelSelector: {matchLabels: {a: b}}}
inference: {preset: {name: phi-3.5-mini-instruct}}
"""


def test_multi_document_files_use_their_config_maps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "all.yaml"
    path.write_text(MULTI)
    assert main(["validate", "-f", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == (
        f"{path}: team/ws: inference.config: max-model-len 999999 exceeds model's maximum supported context "
        "window 131072 (ModelTokenLimit)\n"
    )
    assert "2 workspace(s) checked: 1 valid, 1 invalid" in captured.err


def test_old_file_checks_update_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = EXAMPLES / "inference" / "kaito_workspace_phi_3.yaml"
    new = tmp_path / "new.yaml"
    new.write_text(old.read_text().replace("Standard_NC6s_v3", "Standard_NC12s_v3"))
    assert main(["validate", "-f", str(new), "--old", str(old)]) == 1
    assert "resource.instanceType: instanceType cannot be changed once set" in capsys.readouterr().out


def test_unparsable_file_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: kaito.sh/v1beta1\nkind: Workspace\nmetadata:\n  name: [unclosed\n")
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:5: invalid YAML") and "Traceback" not in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(tmp_path / "nope.yaml")]) == 2
    assert (
        capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: cannot read file: No such file or directory\n"
    )


def test_file_without_workspaces_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert main(["validate", "-f", str(path)]) == 1
    assert "no Workspace documents found" in capsys.readouterr().err


def test_warnings_are_printed_but_do_not_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        (EXAMPLES / "inference" / "kaito_workspace_phi_3.yaml")
        .read_text()
        .replace("Standard_NC6s_v3", "Standard_NC99_v9")
    )
    assert main(["validate", "-f", str(path)]) == 0
    assert capsys.readouterr().out.startswith(
        f"{path}: default/workspace-phi-3-mini: warning: resource.instanceType: instance type Standard_NC99_v9 "
        "is not in kaito's SKU table"
    )


def test_console_script_reads_stdin() -> None:
    manifest = (
        (EXAMPLES / "inference" / "kaito_workspace_phi_3.yaml")
        .read_text()
        .replace("phi-3-mini-4k", "phi-3-mini-4")
    )
    result = subprocess.run(
        [sys.executable, "-m", "kaito", "validate", "-f", "-"], input=manifest, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stdout.startswith(
        "-: default/workspace-phi-3-mini: inference.preset.name: Unsupported inference preset name phi-3-mini-4-instruct"
    )
