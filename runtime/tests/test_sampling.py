"""Sampling rules on hand-made logits."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from kaito_runtime.serving.transformers_runtime.sampling import RowSampler, SamplingParams, sample_batch

CPU = torch.device("cpu")
LOGITS = torch.tensor([1.0, 3.0, 2.9, -1.0, 0.5])


def sampler(*prompt: int, **settings: Any) -> RowSampler:
    return RowSampler(SamplingParams(max_tokens=8, **settings), prompt, CPU)


def draws(row: RowSampler, count: int = 200) -> set[int]:
    return {row.choose(LOGITS.clone()) for _ in range(count)}


def test_greedy_rows_share_one_argmax() -> None:
    batch = torch.stack([LOGITS, LOGITS.flip(0)])
    assert sample_batch(batch, [sampler(temperature=0.0), sampler(temperature=0.0)]) == [1, 3]


def test_top_k_and_top_p_restrict_the_candidates() -> None:
    assert draws(sampler(temperature=1.0, top_k=2, seed=1)) == {1, 2}
    assert draws(sampler(temperature=1.0, top_p=0.05, seed=1)) == {1}
    assert draws(sampler(temperature=5.0, seed=1)) == {0, 1, 2, 3, 4}


def test_same_seed_same_samples() -> None:
    first, second = sampler(temperature=1.0, seed=7), sampler(temperature=1.0, seed=7)
    assert [first.choose(LOGITS.clone()) for _ in range(20)] == [
        second.choose(LOGITS.clone()) for _ in range(20)
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"frequency_penalty": 1.0}, 2), ({"presence_penalty": 0.5}, 2), ({"repetition_penalty": 2.0}, 2)],
)
def test_penalties_push_away_from_repeated_tokens(settings: dict[str, float], expected: int) -> None:
    row = sampler(temperature=0.0, **settings)
    row.record(1)
    assert row.choose(LOGITS.clone()) == expected


def test_repetition_penalty_counts_the_prompt() -> None:
    assert sampler(1, temperature=0.0, repetition_penalty=2.0).choose(LOGITS.clone()) == 2
