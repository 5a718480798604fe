"""Stream a generation as OpenAI server-sent events, ending with ``data: [DONE]``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from http import HTTPStatus

from pydantic import BaseModel

from kaito_runtime.serving.openai_errors import error_body
from kaito_runtime.serving.transformers_runtime.generation import ChoiceEvent, Generation, GenerationFailed
from kaito_runtime.serving.transformers_runtime.protocol import Usage
from kaito_runtime.serving.transformers_runtime.sse import DONE, sse_event


async def sse_stream(
    generation: Generation,
    chunks_for: Callable[[ChoiceEvent], Iterable[BaseModel]],
    usage_chunk: Callable[[Usage], BaseModel] | None,
) -> AsyncIterator[str]:
    """Chunks per event; an engine failure becomes an error event. A client that goes away cancels."""
    try:
        try:
            async for event in generation.events():
                for chunk in chunks_for(event):
                    yield sse_event(chunk)
            if usage_chunk is not None:
                yield sse_event(usage_chunk(generation.usage()))
        except GenerationFailed as failure:
            yield sse_event(error_body(HTTPStatus.INTERNAL_SERVER_ERROR, str(failure)))
        yield DONE
    finally:
        generation.cancel()
