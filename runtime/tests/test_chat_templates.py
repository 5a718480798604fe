"""The chat templates kaito ships for models without their own, rendered by transformers itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

import kaito_runtime

TEMPLATES = Path(kaito_runtime.__file__).parent / "chat_templates"
CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is Kubernetes?"},
    {"role": "assistant", "content": "A container orchestrator."},
    {"role": "user", "content": "Who made it?"},
]


def render(
    tiny_model: Path, name: str, messages: list[dict[str, str]], generation_prompt: bool = True
) -> str:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    text = tokenizer.apply_chat_template(
        messages,
        chat_template=(TEMPLATES / name).read_text(),
        tokenize=False,
        add_generation_prompt=generation_prompt,
    )
    assert isinstance(text, str)
    return text


def test_falcon_instruct(tiny_model: Path) -> None:
    assert render(tiny_model, "falcon-instruct.jinja", CONVERSATION) == (
        "Be brief.\n\nUser: What is Kubernetes?\nAssistant: A container orchestrator.\n"
        "User: Who made it?\nAssistant:"
    )


def test_mistral_instruct(tiny_model: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    bos, eos = tokenizer.bos_token or "", tokenizer.eos_token or ""
    assert render(tiny_model, "mistral-instruct.jinja", CONVERSATION, generation_prompt=False) == (
        f"{bos}[INST] Be brief.\n\nWhat is Kubernetes? [/INST] A container orchestrator.{eos}"
        "[INST] Who made it? [/INST]"
    )
    single = render(tiny_model, "mistral-instruct.jinja", CONVERSATION[1:2])
    assert single == f"{bos}[INST] What is Kubernetes? [/INST]"


@pytest.mark.parametrize("name", ["falcon-instruct.jinja", "mistral-instruct.jinja"])
def test_unknown_roles_are_refused(tiny_model: Path, name: str) -> None:
    with pytest.raises(Exception, match="Only system, user and assistant roles are supported"):
        render(tiny_model, name, [{"role": "tool", "content": "{}"}])
