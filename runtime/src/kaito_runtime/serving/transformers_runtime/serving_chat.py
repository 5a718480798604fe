"""``/v1/chat/completions``: chat template → engine → ChatCompletion or its chunk stream."""

from __future__ import annotations

from collections.abc import Iterable

import jinja2
from starlette.responses import JSONResponse, Response, StreamingResponse

from kaito_runtime.serving.openai_errors import bad_request
from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine
from kaito_runtime.serving.transformers_runtime.generation import ChoiceEvent, Generation
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel
from kaito_runtime.serving.transformers_runtime.metrics import ServerMetrics
from kaito_runtime.serving.transformers_runtime.protocol import (
    AssistantMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatDelta,
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


class ChatService:
    def __init__(
        self, loaded: LoadedModel, engine: BatchingEngine, metrics: ServerMetrics, model_name: str
    ) -> None:
        self._loaded = loaded
        self._engine = engine
        self._metrics = metrics
        self.model_name = model_name

    def prompt_ids(self, request: ChatCompletionRequest) -> list[int]:
        """The conversation rendered with the chat template, as token ids."""
        loaded = self._loaded
        if loaded.chat_template is None:
            raise bad_request(
                "This model has no chat template; use /v1/completions or start the server "
                "with --chat-template",
                "messages",
            )
        messages = [
            {
                "role": message.role,
                "content": message.text(),
                **({"name": message.name} if message.name else {}),
            }
            for message in request.messages
        ]
        try:
            text = loaded.tokenizer.apply_chat_template(
                messages,
                chat_template=loaded.chat_template,
                add_generation_prompt=True,
                tokenize=False,
                **(request.chat_template_kwargs or {}),
            )
        except (jinja2.TemplateError, ValueError, TypeError) as error:
            raise bad_request(
                f"The chat template cannot render these messages: {error}", "messages"
            ) from None
        ids: list[int] = loaded.tokenizer.encode(str(text), add_special_tokens=False)
        return ids

    def start(self, request: ChatCompletionRequest) -> Generation:
        check_model(request.model, self.model_name)
        prompt = self.prompt_ids(request)
        budget = token_budget(
            request.token_limit, len(prompt), self._loaded, default=None, prompt_field="messages"
        )
        params = sampling_params(request, budget, self._loaded)
        return Generation(self._engine, self._metrics, [prompt], params, request.n, stream=request.stream)

    async def complete(self, request: ChatCompletionRequest) -> ChatCompletion:
        generation = self.start(request)
        results = await generation.collect()
        return ChatCompletion(
            id=completion_id("chatcmpl"),
            created=created_now(),
            model=self.model_name,
            choices=[
                ChatChoice(
                    index=index,
                    message=AssistantMessage(content=result.text),
                    finish_reason=result.finish_reason,
                )
                for index, result in enumerate(results)
            ],
            usage=generation.usage(),
        )

    async def create(self, request: ChatCompletionRequest) -> Response:
        if not request.stream:
            return JSONResponse((await self.complete(request)).model_dump())
        generation = self.start(request)
        writer = _ChunkWriter(self.model_name)
        usage = writer.usage if request.include_usage else None
        return StreamingResponse(sse_stream(generation, writer.chunks, usage), media_type="text/event-stream")


class _ChunkWriter:
    """Chunks in OpenAI's order: role first, then content deltas, then the finish reason."""

    def __init__(self, model_name: str) -> None:
        self._id = completion_id("chatcmpl")
        self._created = created_now()
        self._model = model_name
        self._started: set[int] = set()

    def _chunk(self, choice: ChatChunkChoice) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=self._id, created=self._created, model=self._model, choices=[choice])

    def chunks(self, event: ChoiceEvent) -> Iterable[ChatCompletionChunk]:
        if event.index not in self._started:
            self._started.add(event.index)
            yield self._chunk(
                ChatChunkChoice(index=event.index, delta=ChatDelta(role="assistant", content=""))
            )
        if event.text:
            yield self._chunk(ChatChunkChoice(index=event.index, delta=ChatDelta(content=event.text)))
        if event.finish_reason is not None:
            yield self._chunk(
                ChatChunkChoice(index=event.index, delta=ChatDelta(), finish_reason=event.finish_reason)
            )

    def usage(self, usage: Usage) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self._id, created=self._created, model=self._model, choices=[], usage=usage
        )
