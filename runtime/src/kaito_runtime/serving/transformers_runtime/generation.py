"""The engine requests behind one API call (n choices per prompt), consumed as one event stream."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from time import monotonic

from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine, EngineEvent, RequestHandle
from kaito_runtime.serving.transformers_runtime.metrics import ServerMetrics
from kaito_runtime.serving.transformers_runtime.protocol import Usage
from kaito_runtime.serving.transformers_runtime.sampling import SamplingParams


class GenerationFailed(Exception):
    """The engine could not finish the request (answered as HTTP 500)."""


@dataclass(frozen=True)
class ChoiceEvent:
    index: int
    text: str
    finish_reason: str | None


@dataclass(frozen=True)
class ChoiceResult:
    text: str
    finish_reason: str | None


class Generation:
    """Submits every choice at once so they are batched together, and merges their events."""

    def __init__(
        self,
        engine: BatchingEngine,
        metrics: ServerMetrics,
        prompts: list[list[int]],
        params: SamplingParams,
        n: int = 1,
        *,
        stream: bool,
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[int, EngineEvent]] = asyncio.Queue()
        self._handles: list[RequestHandle] = []
        self._started = monotonic()
        self.choices = len(prompts) * n
        self.prompt_tokens = sum(len(prompt) for prompt in prompts)
        self.completion_tokens = 0
        metrics.prompt_tokens.inc(self.prompt_tokens)
        for prompt_index, prompt in enumerate(prompts):
            for copy in range(n):
                index = prompt_index * n + copy
                # Distinct but reproducible seeds, so n seeded samples are not n copies.
                seeded = (
                    params if params.seed is None else dataclasses.replace(params, seed=params.seed + copy)
                )
                self._handles.append(engine.submit(prompt, seeded, self._sink(index), stream=stream))

    def _sink(self, index: int) -> Callable[[EngineEvent], None]:
        return lambda event: self._queue.put_nowait((index, event))

    def cancel(self) -> None:
        for handle in self._handles:
            handle.cancel()

    async def events(self) -> AsyncIterator[ChoiceEvent]:
        """Events in arrival order until every choice finished; raises :class:`GenerationFailed`."""
        pending = self.choices
        first = True
        while pending:
            index, event = await self._queue.get()
            if first:
                self._metrics.time_to_first_token.observe(monotonic() - self._started)
                first = False
            if event.error is not None:
                self.cancel()
                raise GenerationFailed(event.error)
            self.completion_tokens += event.tokens
            self._metrics.generation_tokens.inc(event.tokens)
            if event.done:
                pending -= 1
            yield ChoiceEvent(index, event.text, event.finish_reason)

    async def collect(self) -> list[ChoiceResult]:
        """Wait for every choice (non-streaming responses)."""
        texts = [""] * self.choices
        reasons: list[str | None] = [None] * self.choices
        try:
            async for event in self.events():
                texts[event.index] += event.text
                reasons[event.index] = event.finish_reason or reasons[event.index]
        finally:
            self.cancel()
        return [ChoiceResult(text, reason) for text, reason in zip(texts, reasons, strict=True)]

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
        )
