"""``/v1/completions``: prompts → engine → Completion or its chunk stream."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import JSONResponse, Response, StreamingResponse

from kaito_runtime.serving.openai_errors import bad_request
from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine
from kaito_runtime.serving.transformers_runtime.generation import ChoiceEvent, Generation
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel
from kaito_runtime.serving.transformers_runtime.metrics import ServerMetrics
from kaito_runtime.serving.transformers_runtime.protocol import (
    Completion,
    CompletionChoice,
    CompletionRequest,
    Usage,
    completion_id,
    created_now,
)
from kaito_runtime.serving.transformers_runtime.request_params import (
    check_model,
    sampling_params,
    token_budget,
)
from kaito_runtime.serving.transformers_runtime.streaming import sse_stream

# OpenAI's default for the legacy completions endpoint.
DEFAULT_MAX_TOKENS = 16


class CompletionService:
    def __init__(
        self, loaded: LoadedModel, engine: BatchingEngine, metrics: ServerMetrics, model_name: str
    ) -> None:
        self._loaded = loaded
        self._engine = engine
        self._metrics = metrics
        self.model_name = model_name

    def prompt_ids(self, prompt: str) -> list[int]:
        ids: list[int] = self._loaded.tokenizer.encode(prompt, add_special_tokens=True)
        if not ids:
            raise bad_request("The prompt must not be empty.", "prompt")
        return ids

    def start(self, request: CompletionRequest) -> Generation:
        check_model(request.model, self.model_name)
        prompts = [self.prompt_ids(prompt) for prompt in request.prompts()]
        longest = max(len(prompt) for prompt in prompts)
        budget = token_budget(
            request.max_tokens, longest, self._loaded, default=DEFAULT_MAX_TOKENS, prompt_field="prompt"
        )
        params = sampling_params(request, budget, self._loaded)
        return Generation(self._engine, self._metrics, prompts, params, request.n, stream=request.stream)

    async def complete(self, request: CompletionRequest) -> Completion:
        generation = self.start(request)
        results = await generation.collect()
        prompts = request.prompts()
        return Completion(
            id=completion_id("cmpl"),
            created=created_now(),
            model=self.model_name,
            choices=[
                CompletionChoice(
                    index=index,
                    text=(prompts[index // request.n] if request.echo else "") + result.text,
                    finish_reason=result.finish_reason,
                )
                for index, result in enumerate(results)
            ],
            usage=generation.usage(),
        )

    async def create(self, request: CompletionRequest) -> Response:
        if not request.stream:
            return JSONResponse((await self.complete(request)).model_dump())
        generation = self.start(request)
        writer = _ChunkWriter(self.model_name, request)
        usage = writer.usage if request.include_usage else None
        return StreamingResponse(sse_stream(generation, writer.chunks, usage), media_type="text/event-stream")


class _ChunkWriter:
    """One chunk per event; with ``echo`` a choice's first chunk starts with its prompt."""

    def __init__(self, model_name: str, request: CompletionRequest) -> None:
        self._id = completion_id("cmpl")
        self._created = created_now()
        self._model = model_name
        self._echo = request.prompts() if request.echo else None
        self._n = request.n
        self._started: set[int] = set()

    def chunks(self, event: ChoiceEvent) -> Iterable[Completion]:
        text = event.text
        if self._echo is not None and event.index not in self._started:
            text = self._echo[event.index // self._n] + text
        self._started.add(event.index)
        if text or event.finish_reason is not None:
            choice = CompletionChoice(index=event.index, text=text, finish_reason=event.finish_reason)
            yield Completion(id=self._id, created=self._created, model=self._model, choices=[choice])

    def usage(self, usage: Usage) -> Completion:
        return Completion(id=self._id, created=self._created, model=self._model, choices=[], usage=usage)
