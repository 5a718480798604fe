"""Incremental detokenization: streamed deltas add up to the full decode; stop strings cut and hold back."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from kaito_runtime.serving.transformers_runtime.text_output import TextAssembler

TEXT = "Kubernetes schedules pods — café ☕ 日本語 déployés. The quick brown fox."


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(tiny_model)


def stream(
    tokenizer: PreTrainedTokenizerBase, ids: list[int], stop: tuple[str, ...] = ()
) -> tuple[list[str], TextAssembler]:
    assembler = TextAssembler(tokenizer, stop)
    deltas = []
    for token in ids:
        deltas.append(assembler.feed(token))
        if assembler.stopped:
            return deltas, assembler
    deltas.append(assembler.finish())
    return deltas, assembler


def test_deltas_add_up_to_the_full_decode_including_multibyte(tokenizer: PreTrainedTokenizerBase) -> None:
    ids = tokenizer.encode(TEXT, add_special_tokens=False)
    deltas, _ = stream(tokenizer, ids)
    assert "".join(deltas) == tokenizer.decode(ids) == TEXT
    assert not any("\ufffd" in delta for delta in deltas)  # partial characters are never sent


def test_stop_string_truncates_and_is_never_sent(tokenizer: PreTrainedTokenizerBase) -> None:
    ids = tokenizer.encode(TEXT, add_special_tokens=False)
    deltas, assembler = stream(tokenizer, ids, stop=("déployés",))
    assert assembler.stopped
    assert "".join(deltas) == TEXT[: TEXT.index("déployés")]
    assert "dé" not in "".join(deltas)


def test_text_that_might_start_a_stop_string_is_held_back_then_released(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    ids = tokenizer.encode("The quick brown fox.", add_special_tokens=False)
    assembler = TextAssembler(tokenizer, ("brown cow",))
    sent = "".join(assembler.feed(token) for token in ids)
    assert not assembler.stopped
    assert len(sent) <= len("The quick brown fox.") - (len("brown cow") - 1)
    assert sent + assembler.finish() == "The quick brown fox."


def test_special_tokens_are_not_rendered(tokenizer: PreTrainedTokenizerBase) -> None:
    ids = [*tokenizer.encode("Hello", add_special_tokens=False), tokenizer.convert_tokens_to_ids("<|end|>")]
    deltas, _ = stream(tokenizer, ids)
    assert "".join(deltas) == "Hello"
