"""Per-request sampling over a batch of logits: greedy, temperature, top-k, top-p and penalties."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingParams:
    """Validated generation settings of one request (OpenAI semantics, vLLM extensions)."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1  # -1 or 0: disabled
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    @property
    def penalized(self) -> bool:
        return self.presence_penalty != 0.0 or self.frequency_penalty != 0.0 or self.repetition_penalty != 1.0


class RowSampler:
    """The sampling state of one request: its random generator and the token counts penalties use."""

    def __init__(self, params: SamplingParams, prompt_ids: Sequence[int], device: torch.device) -> None:
        self.params = params
        self._generator: torch.Generator | None = None
        if params.seed is not None and not params.greedy:
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(params.seed)
        self._prompt_ids = frozenset(prompt_ids)
        self._output_counts: Counter[int] = Counter()

    @property
    def plain_greedy(self) -> bool:
        """Greedy without penalties: the whole batch can share one argmax."""
        return self.params.greedy and not self.params.penalized

    def record(self, token_id: int) -> None:
        self._output_counts[token_id] += 1

    def _penalize(self, logits: torch.Tensor) -> torch.Tensor:
        params = self.params
        if params.repetition_penalty != 1.0:
            seen = torch.tensor(sorted(self._prompt_ids | self._output_counts.keys()), device=logits.device)
            if seen.numel():
                chosen = logits[seen]
                logits[seen] = torch.where(
                    chosen > 0, chosen / params.repetition_penalty, chosen * params.repetition_penalty
                )
        if self._output_counts and (params.presence_penalty or params.frequency_penalty):
            ids = torch.tensor(list(self._output_counts.keys()), device=logits.device)
            counts = torch.tensor(
                list(self._output_counts.values()), device=logits.device, dtype=logits.dtype
            )
            logits[ids] -= params.frequency_penalty * counts + params.presence_penalty
        return logits

    def choose(self, logits: torch.Tensor) -> int:
        """Pick the next token from one row of float32 logits (modified in place)."""
        params = self.params
        if params.penalized:
            logits = self._penalize(logits)
        if params.greedy:
            return int(torch.argmax(logits).item())
        logits = logits / params.temperature
        if 0 < params.top_k < logits.shape[-1]:
            kth = torch.topk(logits, params.top_k).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if params.top_p < 1.0:
            ordered, order = torch.sort(logits, descending=True)
            probs = torch.softmax(ordered, dim=-1)
            # Drop a token when the tokens ranked above it already reach top_p; the top one always stays.
            drop = (torch.cumsum(probs, dim=-1) - probs) >= params.top_p
            logits = logits.scatter(0, order[drop], float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self._generator).item())


def sample_batch(logits: torch.Tensor, samplers: Sequence[RowSampler]) -> list[int]:
    """The next token for each row of ``logits`` [rows, vocab]."""
    if all(sampler.plain_greedy for sampler in samplers):
        return [int(token) for token in torch.argmax(logits, dim=-1).tolist()]
    rows = logits.float()
    return [sampler.choose(rows[index].clone()) for index, sampler in enumerate(samplers)]
