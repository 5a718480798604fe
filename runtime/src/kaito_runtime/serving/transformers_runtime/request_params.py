"""Resolve an API request's model, token budget and sampling settings against the loaded model."""

from __future__ import annotations

from http import HTTPStatus

from kaito_runtime.serving.openai_errors import OpenAIError, bad_request
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel
from kaito_runtime.serving.transformers_runtime.protocol import SamplingRequest
from kaito_runtime.serving.transformers_runtime.sampling import SamplingParams


def check_model(requested: str, served: str) -> None:
    """Only the served model exists here (adapters are merged into it)."""
    if requested != served:
        raise OpenAIError(
            HTTPStatus.BAD_REQUEST,
            f"The model '{requested}' does not exist; this server serves '{served}'.",
            param="model",
            code="model_not_found",
        )


def token_budget(
    requested: int | None, prompt_tokens: int, loaded: LoadedModel, *, default: int | None, prompt_field: str
) -> int:
    """Tokens the request may generate: what it asked for (validated), else ``default`` or what is left."""
    context = loaded.max_model_len
    if prompt_tokens >= context:
        raise bad_request(
            f"This model's maximum context length is {context} tokens, "
            f"but the prompt has {prompt_tokens} tokens.",
            prompt_field,
        )
    remaining = context - prompt_tokens
    if requested is None:
        return remaining if default is None else min(default, remaining)
    if requested > remaining:
        raise bad_request(
            f"This model's maximum context length is {context} tokens. However, you requested "
            f"{prompt_tokens + requested} tokens ({prompt_tokens} in the prompt, "
            f"{requested} in the completion). "
            "Please reduce the prompt or the completion length.",
            "max_tokens",
        )
    return requested


def sampling_params(request: SamplingRequest, max_tokens: int, loaded: LoadedModel) -> SamplingParams:
    """Request values, falling back to the checkpoint's generation defaults, then to OpenAI's."""
    defaults = loaded.sampling_defaults

    def pick(value: float | None, key: str, fallback: float) -> float:
        return value if value is not None else defaults.get(key, fallback)

    return SamplingParams(
        max_tokens=max_tokens,
        temperature=pick(request.temperature, "temperature", 1.0),
        top_p=pick(request.top_p, "top_p", 1.0),
        top_k=int(pick(request.top_k, "top_k", -1)),
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        repetition_penalty=pick(request.repetition_penalty, "repetition_penalty", 1.0),
        seed=request.seed,
        stop=request.stop_sequences(),
        ignore_eos=request.ignore_eos,
    )
