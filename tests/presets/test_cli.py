"""``kaito presets`` and ``kaito estimate`` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from kaito.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_presets_list_is_a_table_of_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "presets", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "RUNTIMES", "TUNING", "MIN", "GPU", "MEMORY"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["phi-3-mini-4k-instruct"] == ["vllm,transformers", "lora,qlora", "10.3Gi"]
    assert rows["phi-4-mini-instruct"][:2] == ["vllm", "lora,qlora"]
    assert rows["llama-3.3-70b-instruct"] == ["vllm,transformers", "-", "137Gi"]
    assert len(rows) >= 24


def test_presets_show_is_yaml_with_derived_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "presets", "show", "phi-3-mini-128k-instruct")
    assert code == 0
    document = yaml.safe_load(out)
    assert document["repo"] == "microsoft/Phi-3-mini-128k-instruct"
    assert document["revision"] == "072cb7562cb8c4adf682a8e186aaafa49469eb5d"
    assert document["architecture"]["kv_heads"] == 32
    assert document["derived"] == {
        "kvCacheBytesPerToken": 393216,
        "minimumGpuMemory": "10.3Gi",
        "diskRequirement": "88Gi",
        "readinessTimeoutSeconds": 1800,
    }


def test_presets_show_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "presets", "show", "phi3")
    assert code == 1 and out == ""
    assert err.strip() == (
        "error: unknown preset 'phi3'; closest known presets: "
        "phi-3.5-mini-instruct, phi-3-mini-4k-instruct, phi-3-mini-128k-instruct"
    )


def test_estimate_json_for_the_a100_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "estimate",
        "--preset",
        "phi-3.5-mini-instruct",
        "--instance-type",
        "Standard_NC24ads_A100_v4",
        "--output",
        "json",
    )
    assert code == 0
    assert json.loads(out) == {
        "gpusPerNode": 1,
        "nodes": 1,
        "tensorParallelSize": 1,
        "pipelineParallelSize": 1,
        "maxModelLen": 131072,
        "gpuMemoryUtilization": 0.95,
        "fits": True,
        "reason": None,
    }


def test_estimate_text_defaults_to_transformers_on_v100(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "estimate", "--preset", "phi-3-mini-4k-instruct", "--instance-type", "standard_nc6s_v3"
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "phi-3-mini-4k-instruct on Standard_NC6s_v3 (1 x NVIDIA V100, 16Gi per GPU, compute capability 7.0) "
        "with transformers"
    )
    fields = dict(line.strip().split(": ", 1) for line in out.splitlines()[1:])
    assert fields["fits"].strip() == "yes"
    assert fields["max-model-len"].strip() == "4096"
    assert fields["gpu-memory-utilization"].strip() == "0.9"


def test_estimate_that_does_not_fit_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "estimate",
        "--preset",
        "llama-3.3-70b-instruct",
        "--instance-type",
        "Standard_NC6s_v3",
        "--output",
        "json",
    )
    assert code == 1
    result = json.loads(out)
    assert result["fits"] is False
    assert result["reason"].startswith(
        "Insufficient total GPU memory: Instance type Standard_NC6s_v3 has a total of 16Gi, "
        "but preset llama-3.3-70b-instruct requires at least 134Gi"
    )


def test_estimate_max_model_len_and_node_count(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "estimate",
        "--preset",
        "llama-3.3-70b-instruct",
        "--instance-type",
        "Standard_NC24ads_A100_v4",
        "--node-count",
        "1",
        "--output",
        "json",
    )
    assert code == 1 and json.loads(out)["fits"] is False
    code, out, _ = _run(
        capsys,
        "estimate",
        "--preset",
        "llama-3.3-70b-instruct",
        "--instance-type",
        "Standard_NC96ads_A100_v4",
        "--max-model-len",
        "131072",
        "--output",
        "json",
    )
    assert code == 0
    assert json.loads(out)["tensorParallelSize"] == 4


def test_estimate_on_aws(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "estimate",
        "--preset",
        "phi-4",
        "--instance-type",
        "g6.12xlarge",
        "--cloud",
        "aws",
        "--output",
        "json",
    )
    assert code == 0
    assert json.loads(out)["gpusPerNode"] == 2  # 27.31 x 1.02 GiB does not fit one 24 GiB L4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--preset", "phi3", "--instance-type", "Standard_NC6s_v3"],
            "error: unknown preset 'phi3'; closest known presets: phi-3.5-mini-instruct, ",
        ),
        (
            ["--preset", "phi-4", "--instance-type", "Standard_NC6s"],
            "error: unknown instance type 'Standard_NC6s' for cloud azure; closest known instance types: "
            "Standard_NC6s_v3, Standard_NC6s_v2, Standard_NC6",
        ),
        (
            [
                "--preset",
                "phi-3-mini-4k-instruct",
                "--instance-type",
                "Standard_NC6s_v3",
                "--runtime",
                "vllm",
            ],
            "error: The vLLM runtime needs compute capability 8.0 or newer, "
            "but instance type Standard_NC6s_v3 has NVIDIA V100 GPUs",
        ),
    ],
)
def test_estimate_bad_input_exits_1_naming_the_problem(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "estimate", *argv)
    assert code == 1 and out == ""
    assert err.startswith(message)


def test_estimate_rejects_a_non_positive_max_model_len(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "estimate",
                "--preset",
                "phi-4",
                "--instance-type",
                "Standard_NC24ads_A100_v4",
                "--max-model-len",
                "0",
            ]
        )
    assert exit_info.value.code == 2
    assert "argument --max-model-len: 0 must be at least 1" in capsys.readouterr().err


def test_console_script_runs_in_a_fresh_process() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "kaito",
            "estimate",
            "--preset",
            "phi-3-mini-4k-instruct",
            "--instance-type",
            "Standard_NC24ads_A100_v4",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["maxModelLen"] == 4096
