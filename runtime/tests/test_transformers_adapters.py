"""LoRA adapters on the transformers runtime: combined by their strengths and merged into the weights."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from kaito_runtime.testing.server_process import ServerFactory
from kaito_runtime.testing.tiny_model import TINY_MODEL_NAME

PROMPT = "Low-rank adapters"
STRENGTHS = {"alpha": 0.7, "beta": 0.4}


def merged_reference(base: Path, adapters_dir: Path, strengths: dict[str, float], max_tokens: int) -> str:
    """Greedy output of W + Σ strength·(alpha/r)·B·A, computed straight from the adapter files."""
    model = AutoModelForCausalLM.from_pretrained(base).eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    weights = dict(model.named_parameters())
    with torch.no_grad():
        for name, strength in strengths.items():
            config = json.loads((adapters_dir / name / "adapter_config.json").read_text())
            scaling = config["lora_alpha"] / config["r"]
            tensors = load_file(adapters_dir / name / "adapter_model.safetensors")
            for key, lora_a in tensors.items():
                if ".lora_A." not in key:
                    continue
                lora_b = tensors[key.replace(".lora_A.", ".lora_B.")]
                target = key.removeprefix("base_model.model.").replace(".lora_A.weight", ".weight")
                weights[target] += strength * scaling * (lora_b @ lora_a)
    ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.inference_mode():
        output = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens, do_sample=False
        )
    text: str = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    return text


@pytest.fixture(scope="module")
def client(start_server: ServerFactory, tiny_model: Path, adapters_dir: Path) -> openai.OpenAI:
    server = start_server(
        "--runtime=transformers", f"--model={tiny_model}", f"--served-model-name={TINY_MODEL_NAME}",
        f"--adapters-dir={adapters_dir}", "--device=cpu",
        env={name: str(strength) for name, strength in STRENGTHS.items()},
    )  # fmt: skip
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0, timeout=120)


def test_adapters_are_applied_with_their_strengths(
    client: openai.OpenAI, tiny_model: Path, adapters_dir: Path
) -> None:
    served = client.completions.create(model=TINY_MODEL_NAME, prompt=PROMPT, max_tokens=20, temperature=0)
    text = served.choices[0].text
    assert text == merged_reference(tiny_model, adapters_dir, STRENGTHS, 20)
    assert text != merged_reference(tiny_model, adapters_dir, {}, 20)
    assert [model.id for model in client.models.list().data] == [TINY_MODEL_NAME]
