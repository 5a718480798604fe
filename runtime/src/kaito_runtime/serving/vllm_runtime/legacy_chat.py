"""``POST /chat`` on vLLM: the legacy request translated into vLLM's own chat/completion handlers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from kaito_runtime.serving.legacy.protocol import LegacyChatRequest, LegacyChatResponse
from kaito_runtime.serving.openai_errors import OpenAIError
from kaito_runtime.serving.request_parsing import parse_request

router = APIRouter()


def _error(response: Any) -> JSONResponse:
    """vLLM's ErrorResponse already has the OpenAI shape (non-streaming requests return no generator)."""
    return JSONResponse(response.model_dump(), status_code=response.error.code)


@router.post("/chat")
async def legacy_chat(raw_request: Request) -> JSONResponse:
    """Answer ``{"Result": text}`` for ``{"prompt": ...}`` or ``{"messages": [...]}``."""
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.entrypoints.openai.completion.protocol import CompletionRequest
    from vllm.entrypoints.serve.engine.protocol import ErrorResponse
    from vllm.entrypoints.serve.tokenize.protocol import TokenizeChatRequest, TokenizeCompletionRequest

    try:
        request = parse_request(await raw_request.body(), LegacyChatRequest)
    except OpenAIError as error:
        return error.response()
    state = raw_request.app.state
    model = state.openai_serving_models.base_model_paths[0].name
    messages = [message.model_dump() for message in request.messages or []]
    tokenize_request = (
        TokenizeChatRequest(model=model, messages=messages)
        if request.messages is not None
        else TokenizeCompletionRequest(model=model, prompt=request.prompt)
    )
    counted = await state.serving_tokenization.create_tokenize(tokenize_request, raw_request)
    if isinstance(counted, ErrorResponse):
        return _error(counted)
    try:
        max_tokens = request.max_new_tokens(counted.count)
    except OpenAIError as error:
        return error.response()
    sampling = request.sampling()
    if request.messages is not None:
        chat = ChatCompletionRequest.model_validate(
            {"model": model, "messages": messages, "max_tokens": max_tokens, **sampling}
        )
        answer = await state.openai_serving_chat.create_chat_completion(chat, raw_request)
        if isinstance(answer, ErrorResponse):
            return _error(answer)
        text = answer.choices[0].message.content or ""
    else:
        completion = CompletionRequest.model_validate(
            {"model": model, "prompt": request.prompt, "max_tokens": max_tokens, **sampling}
        )
        result = await state.openai_serving_completion.create_completion(completion, raw_request)
        if isinstance(result, ErrorResponse):
            return _error(result)
        text = result.choices[0].text
    return JSONResponse(LegacyChatResponse(Result=request.result_text(text)).model_dump())
