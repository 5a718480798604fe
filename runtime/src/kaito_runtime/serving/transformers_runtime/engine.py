"""Continuous batching: one engine thread decodes every running request in a single forward pass.

Requests that arrive while others run are prefilled together, then join the running batch
(see :mod:`kv_batch`); finished ones leave at the step they finish. The engine thread runs
steps back to back and hands each step's events to the event loop in one call, so neither
side waits for the other: the model keeps computing while the loop serves HTTP. A failing
forward pass fails only the requests in it, with an error event; the engine keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from kaito_runtime.serving.transformers_runtime.kv_batch import KVBatch
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel
from kaito_runtime.serving.transformers_runtime.sampling import RowSampler, SamplingParams, sample_batch
from kaito_runtime.serving.transformers_runtime.text_output import TextAssembler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineEvent:
    """One generated token's outcome for one request: new text, and how it ended if it did."""

    text: str
    finish_reason: str | None = None  # "stop" or "length"
    error: str | None = None
    tokens: int = 1  # generated tokens this event accounts for

    @property
    def done(self) -> bool:
        return self.finish_reason is not None or self.error is not None


Sink = Callable[[EngineEvent], None]


@dataclass(eq=False)
class _Row:
    """A request inside the engine."""

    prompt_ids: list[int]
    params: SamplingParams
    sink: Sink
    sampler: RowSampler
    text: TextAssembler
    stream: bool
    held_text: str = ""  # text of tokens not delivered yet (requests that are not streamed)
    delivered: int = 0  # tokens accounted for in delivered events
    generated: int = 0
    last_token: int = 0
    cancelled: bool = False
    finished: bool = False


@dataclass(eq=False)
class RequestHandle:
    """Lets the submitter cancel its request (e.g. when the client disconnects)."""

    _row: _Row

    def cancel(self) -> None:
        """The engine drops the request before its next step."""
        self._row.cancelled = True


Deliveries = list[tuple[_Row, EngineEvent]]


class BatchingEngine:
    """Owns the model; ``submit`` from the event loop, events come back through each request's sink.

    Only the engine thread touches the batch; the loop only appends to the waiting queue
    (a thread-safe deque) and sets cancellation flags.
    """

    def __init__(self, loaded: LoadedModel, max_batch_size: int) -> None:
        self._loaded = loaded
        self.max_batch_size = max_batch_size
        self._waiting: deque[_Row] = deque()
        self._running: list[_Row] = []
        self._batch: KVBatch | None = None
        self._work = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def num_running(self) -> int:
        return len(self._running)

    @property
    def num_waiting(self) -> int:
        return len(self._waiting)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the engine thread; events are delivered on the calling event loop."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="kaito-batching-engine", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish the current step and stop; requests still queued get no more events."""
        self._stopping = True
        self._work.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    def submit(
        self, prompt_ids: list[int], params: SamplingParams, sink: Sink, *, stream: bool = True
    ) -> RequestHandle:
        """Queue a request; ``sink`` is called on the event loop with its events.

        A streamed request gets an event per token. Otherwise only the first token (for the
        time-to-first-token) and the end are delivered, which spares the event loop a wake-up
        per token and request.
        """
        loaded = self._loaded
        row = _Row(
            prompt_ids=prompt_ids,
            params=params,
            sink=sink,
            sampler=RowSampler(params, prompt_ids, loaded.device),
            text=TextAssembler(loaded.tokenizer, params.stop),
            stream=stream,
        )
        self._waiting.append(row)
        self._work.set()
        return RequestHandle(row)

    # --- engine thread below: the only code that touches the batch ------------------------

    def _run(self) -> None:
        while not self._stopping:
            if not self._running and not self._waiting:
                self._work.wait()
                self._work.clear()
                continue
            admitted = self._admit()
            try:
                deliveries = self._step(admitted)
            except Exception as error:  # a bug outside a forward pass: fail what was in flight, keep serving
                deliveries = []
                self._fail([*self._running, *admitted], error, deliveries)
                self._running, self._batch = [], None
            if deliveries and self._loop is not None:
                self._loop.call_soon_threadsafe(_deliver, deliveries)

    def _admit(self) -> list[_Row]:
        """Waiting requests that join now: up to the free batch slots."""
        if self._batch is not None and not self._batch.joinable:
            return []
        room = self.max_batch_size - len(self._running)
        admitted: list[_Row] = []
        while self._waiting and len(admitted) < room:
            row = self._waiting.popleft()
            if not row.cancelled:
                admitted.append(row)
        return admitted

    def _step(self, admitted: list[_Row]) -> Deliveries:
        events: Deliveries = []
        with torch.inference_mode():
            self._drop_cancelled()
            if self._running:
                try:
                    self._decode(events)
                except Exception as error:  # one failed forward pass must not stop the engine
                    self._fail(self._running, error, events)
                    self._running, self._batch = [], None
            live = [row for row in admitted if not row.cancelled]
            if live:
                try:
                    self._prefill(live, events)
                except Exception as error:
                    self._fail(live, error, events)
        return events

    @staticmethod
    def _fail(rows: list[_Row], error: Exception, events: Deliveries) -> None:
        """End exactly the requests of a failed forward pass, with the reason."""
        logger.error("forward pass failed for %d request(s)", len(rows), exc_info=error)
        message = f"the inference engine failed: {type(error).__name__}: {error}"
        for row in rows:
            if not row.finished:
                row.finished = True
                events.append((row, EngineEvent("", error=message)))

    def _drop_cancelled(self) -> None:
        if not any(row.cancelled for row in self._running):
            return
        keep = [index for index, row in enumerate(self._running) if not row.cancelled]
        self._running = [self._running[index] for index in keep]
        if not keep:
            self._batch = None
        elif self._batch is not None:
            self._batch.keep(keep)

    def _forward(
        self, input_ids: torch.Tensor, mask: torch.Tensor | None, positions: torch.Tensor, cache: DynamicCache
    ) -> torch.Tensor:
        model = self._loaded.model
        extra = {"logits_to_keep": 1} if self._loaded.supports_logits_to_keep else {}
        output = model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            **extra,
        )
        logits: torch.Tensor = output.logits[:, -1, :]
        return logits

    def _decode(self, events: Deliveries) -> None:
        batch = self._batch
        assert batch is not None
        device = self._loaded.device
        input_ids = torch.tensor([[row.last_token] for row in self._running], device=device)
        mask = batch.grow()
        logits = self._forward(input_ids, mask if batch.padded else None, batch.positions(), batch.cache)
        tokens = sample_batch(logits, [row.sampler for row in self._running])
        for row, token in zip(self._running, tokens, strict=True):
            self._advance(row, token, events)
        keep = [index for index, row in enumerate(self._running) if not row.finished]
        if len(keep) < len(self._running):
            self._running = [self._running[index] for index in keep]
            if keep:
                batch.keep(keep)
            else:
                self._batch = None

    def _prefill(self, rows: list[_Row], events: Deliveries) -> None:
        loaded = self._loaded
        length = max(len(row.prompt_ids) for row in rows)
        ids = [[loaded.pad_token_id] * (length - len(row.prompt_ids)) + row.prompt_ids for row in rows]
        masks = [[0] * (length - len(row.prompt_ids)) + [1] * len(row.prompt_ids) for row in rows]
        input_ids = torch.tensor(ids, device=loaded.device)
        mask = torch.tensor(masks, device=loaded.device)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        cache = DynamicCache(config=loaded.model.config)
        padded = any(len(row.prompt_ids) < length for row in rows)
        logits = self._forward(input_ids, mask if padded else None, positions, cache)
        tokens = sample_batch(logits, [row.sampler for row in rows])
        for row, token in zip(rows, tokens, strict=True):
            self._advance(row, token, events)
        fresh = KVBatch(cache, mask)
        keep = [index for index, row in enumerate(rows) if not row.finished]
        if not keep:
            return
        if len(keep) < len(rows):
            fresh.keep(keep)
        if self._batch is None:
            self._batch = fresh
        else:
            self._batch.join(fresh)
        self._running.extend(rows[index] for index in keep)

    def _advance(self, row: _Row, token: int, events: Deliveries) -> None:
        """Account for one sampled token, decide whether the request is done, queue its event."""
        loaded = self._loaded
        row.generated += 1
        row.last_token = token
        row.sampler.record(token)
        eos = token in loaded.eos_token_ids and not row.params.ignore_eos
        text = "" if eos else row.text.feed(token)
        full = (
            row.generated >= row.params.max_tokens
            or len(row.prompt_ids) + row.generated >= loaded.max_model_len
        )
        finish_reason = None
        if eos or row.text.stopped or full:
            row.finished = True
            if not row.text.stopped:
                text += row.text.finish()
            finish_reason = "stop" if eos or row.text.stopped else "length"
        if row.stream or row.finished or row.generated == 1:
            held = row.generated - row.delivered
            events.append((row, EngineEvent(row.held_text + text, finish_reason, tokens=held)))
            row.held_text, row.delivered = "", row.generated
        else:
            row.held_text += text


def _deliver(deliveries: Deliveries) -> None:
    """On the event loop: hand a step's events to their requests."""
    for row, event in deliveries:
        row.sink(event)
