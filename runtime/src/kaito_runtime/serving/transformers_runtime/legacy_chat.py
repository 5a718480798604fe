"""``POST /chat`` on the transformers runtime, answered through the chat and completion services."""

from __future__ import annotations

from pydantic import ValidationError

from kaito_runtime.serving.legacy.protocol import LegacyChatRequest, LegacyChatResponse
from kaito_runtime.serving.request_parsing import validation_error
from kaito_runtime.serving.transformers_runtime.protocol import ChatCompletionRequest, CompletionRequest
from kaito_runtime.serving.transformers_runtime.serving_chat import ChatService
from kaito_runtime.serving.transformers_runtime.serving_completion import CompletionService


async def legacy_chat(
    request: LegacyChatRequest, chat: ChatService, completions: CompletionService
) -> LegacyChatResponse:
    """``messages`` go through the chat template, a bare ``prompt`` is completed as is."""
    sampling = request.sampling()
    try:
        if request.messages is not None:
            messages = [message.model_dump() for message in request.messages]
            chat_request = ChatCompletionRequest.model_validate(
                {"model": chat.model_name, "messages": messages, **sampling}
            )
            budget = request.max_new_tokens(len(chat.prompt_ids(chat_request)))
            answer = await chat.complete(chat_request.model_copy(update={"max_tokens": budget}))
            return LegacyChatResponse(Result=request.result_text(answer.choices[0].message.content))
        prompt = request.prompt or ""
        completion_request = CompletionRequest.model_validate(
            {"model": completions.model_name, "prompt": prompt, **sampling}
        )
        budget = request.max_new_tokens(len(completions.prompt_ids(prompt)))
        result = await completions.complete(completion_request.model_copy(update={"max_tokens": budget}))
        return LegacyChatResponse(Result=request.result_text(result.choices[0].text))
    except ValidationError as error:
        raise validation_error(error) from None
