"""The continuous-batching engine: batched requests get exactly what they would get alone (greedy)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine, EngineEvent
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel, load_model
from kaito_runtime.serving.transformers_runtime.options import TransformersOptions
from kaito_runtime.serving.transformers_runtime.sampling import SamplingParams

PROMPTS = [
    "Kubernetes is",
    "The quick brown fox jumps over the lazy dog while the cluster",
    "A",
    "Low-rank adapters fine-tune a model cheaply",
    "GPU nodes",
    "Large language models generate text one token at a time; batching keeps",
]
TIMEOUT = 120.0


@pytest.fixture(scope="module")
def loaded(tiny_model: Path) -> LoadedModel:
    return load_model(str(tiny_model), None, TransformersOptions(device="cpu"), [], {})


class ForwardSpy:
    """Records the batch size of every forward pass; can fail passes that contain a poison token,
    and can hold the engine thread at a given pass so a test acts at a known point, not a race."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.batch_sizes: list[int] = []
        self.poison: int | None = None
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._handle = model.register_forward_pre_hook(self._record, with_kwargs=True)

    def _record(self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        input_ids = kwargs["input_ids"]
        self.batch_sizes.append(int(input_ids.shape[0]))
        if len(self.batch_sizes) == self.hold_at:
            self.holding.set()
            self.release.wait(TIMEOUT)
        if self.poison is not None and bool((input_ids == self.poison).any()):
            raise RuntimeError("poisoned batch")

    def remove(self) -> None:
        self._handle.remove()


@pytest.fixture
def spy(loaded: LoadedModel) -> Iterator[ForwardSpy]:
    recorder = ForwardSpy(loaded.model)
    yield recorder
    recorder.remove()


@pytest.fixture
async def engine(loaded: LoadedModel) -> AsyncIterator[BatchingEngine]:
    running = BatchingEngine(loaded, max_batch_size=8)
    running.start()
    yield running
    await running.stop()


def reference(loaded: LoadedModel, prompt: str, max_tokens: int) -> str:
    """What ``transformers`` generate() gives for the prompt alone, greedy."""
    ids = loaded.tokenizer(prompt, return_tensors="pt").input_ids
    with torch.inference_mode():
        output = loaded.model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens, do_sample=False
        )
    text: str = loaded.tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    return text


class Collector:
    """Gathers one request's events; ``first`` fires when its first token arrived."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self.events: list[EngineEvent] = []

    async def result(self) -> tuple[str, str | None, str | None]:
        while not (self.events and self.events[-1].done):
            self.events.append(await asyncio.wait_for(self.queue.get(), TIMEOUT))
        last = self.events[-1]
        return "".join(event.text for event in self.events), last.finish_reason, last.error

    async def tokens(self, count: int) -> None:
        while len(self.events) < count:
            self.events.append(await asyncio.wait_for(self.queue.get(), TIMEOUT))


def submit(engine: BatchingEngine, loaded: LoadedModel, prompt: str, max_tokens: int) -> Collector:
    collector = Collector()
    ids = loaded.tokenizer.encode(prompt)
    engine.submit(ids, SamplingParams(max_tokens=max_tokens, temperature=0.0), collector.queue.put_nowait)
    return collector


async def test_requests_arriving_together_decode_together_and_match_solo(
    engine: BatchingEngine, loaded: LoadedModel, spy: ForwardSpy
) -> None:
    budgets = [12, 20, 5, 16, 9, 24]
    expected = [reference(loaded, prompt, budget) for prompt, budget in zip(PROMPTS, budgets, strict=True)]
    spy.batch_sizes.clear()
    collectors = [submit(engine, loaded, p, b) for p, b in zip(PROMPTS, budgets, strict=True)]
    results = [await collector.result() for collector in collectors]
    assert [text for text, _, _ in results] == expected
    assert all(error is None for _, _, error in results)
    assert max(spy.batch_sizes) == len(PROMPTS)  # one prefill and shared decode steps, not one at a time
    assert len(spy.batch_sizes) < sum(budgets) / 2


async def test_requests_joining_and_leaving_mid_flight_match_solo(
    engine: BatchingEngine, loaded: LoadedModel, spy: ForwardSpy
) -> None:
    expected_long = reference(loaded, PROMPTS[1], 40)
    expected_late = [reference(loaded, prompt, 10) for prompt in PROMPTS[2:5]]
    spy.batch_sizes.clear()
    spy.hold_at = 8  # the long request's 8th forward pass: it is mid-flight, whatever the machine load
    long_request = submit(engine, loaded, PROMPTS[1], 40)
    assert await asyncio.to_thread(spy.holding.wait, TIMEOUT)
    late = [submit(engine, loaded, prompt, 10) for prompt in PROMPTS[2:5]]
    spy.release.set()
    assert [(await collector.result())[0] for collector in late] == expected_late
    text, reason, _ = await long_request.result()
    assert (text, reason) == (expected_long, "length")
    assert 4 in spy.batch_sizes  # the late requests joined the long one's decode steps
    assert engine.num_running == 0 and engine.num_waiting == 0


async def test_a_failing_forward_pass_fails_only_its_requests(
    engine: BatchingEngine, loaded: LoadedModel, spy: ForwardSpy
) -> None:
    expected = reference(loaded, PROMPTS[0], 30)
    healthy = submit(engine, loaded, PROMPTS[0], 30)
    await healthy.tokens(3)
    spy.poison = loaded.tokenizer.convert_tokens_to_ids("<|system|>")
    poisoned = submit(engine, loaded, "<|system|> broken", 5)
    _, _, error = await poisoned.result()
    assert error is not None and "RuntimeError: poisoned batch" in error
    spy.poison = None
    text, reason, error = await healthy.result()
    assert (text, reason, error) == (expected, "length", None)
    after = await submit(engine, loaded, PROMPTS[3], 6).result()
    assert after[0] == reference(loaded, PROMPTS[3], 6)


async def test_cancelled_requests_leave_the_batch(engine: BatchingEngine, loaded: LoadedModel) -> None:
    collector = Collector()
    handle = engine.submit(
        loaded.tokenizer.encode(PROMPTS[0]),
        SamplingParams(max_tokens=400, temperature=0.0),
        collector.queue.put_nowait,
    )
    await collector.tokens(2)
    handle.cancel()
    other = await submit(engine, loaded, PROMPTS[2], 4).result()
    assert other[0] == reference(loaded, PROMPTS[2], 4)
    assert engine.num_running == 0


async def test_requests_that_are_not_streamed_get_first_and_last_events_only(
    engine: BatchingEngine, loaded: LoadedModel
) -> None:
    streamed, whole = Collector(), Collector()
    ids = loaded.tokenizer.encode(PROMPTS[1])
    params = SamplingParams(max_tokens=12, temperature=0.0, ignore_eos=True)
    engine.submit(ids, params, streamed.queue.put_nowait)
    engine.submit(ids, params, whole.queue.put_nowait, stream=False)
    streamed_text, _, _ = await streamed.result()
    whole_text, reason, _ = await whole.result()
    assert len(streamed.events) == 12 and len(whole.events) == 2
    assert [event.tokens for event in whole.events] == [1, 11]
    assert (whole_text, reason) == (streamed_text, "length")
