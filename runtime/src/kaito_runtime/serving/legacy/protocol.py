"""Request and response models of ``POST /chat`` (``{"prompt"}`` or ``{"messages"}`` → ``{"Result"}``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaito_runtime.serving.openai_errors import bad_request

# Upstream's transformers pipeline defaulted to max_length=200 (prompt + generated tokens).
DEFAULT_MAX_LENGTH = 200


class LegacyMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1)
    content: str


class GenerateKwargs(BaseModel):
    """The subset of transformers ``generate()`` arguments that map onto an inference engine."""

    model_config = ConfigDict(extra="forbid")

    max_length: int | None = Field(default=None, ge=1, description="prompt plus generated tokens")
    max_new_tokens: int | None = Field(default=None, ge=1)
    do_sample: bool = True
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    top_k: int = Field(default=10, ge=0, description="0 disables top-k")
    repetition_penalty: float = Field(default=1.0, gt=0.0, le=2.0)
    num_beams: Literal[1] = Field(default=1, description="beam search is not supported")
    early_stopping: bool = False


class LegacyChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    messages: list[LegacyMessage] | None = None
    generate_kwargs: GenerateKwargs = GenerateKwargs()
    return_full_text: bool = Field(default=True, description="prepend the prompt to the result")

    @model_validator(mode="after")
    def _one_input(self) -> LegacyChatRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("exactly one of 'prompt' or 'messages' is required")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' must not be empty")
        return self

    def max_new_tokens(self, prompt_tokens: int) -> int:
        """Tokens to generate: ``max_new_tokens``, else what ``max_length`` leaves after the prompt."""
        kwargs = self.generate_kwargs
        if kwargs.max_new_tokens is not None:
            return kwargs.max_new_tokens
        max_length = kwargs.max_length or DEFAULT_MAX_LENGTH
        if max_length <= prompt_tokens:
            raise bad_request(
                f"generate_kwargs.max_length ({max_length}) must exceed the prompt length ({prompt_tokens} "
                "tokens); raise it or set generate_kwargs.max_new_tokens",
                "generate_kwargs.max_length",
            )
        return max_length - prompt_tokens

    def sampling(self) -> dict[str, float | int]:
        """OpenAI-style sampling parameters (with the top_k / repetition_penalty extensions)."""
        kwargs = self.generate_kwargs
        if not kwargs.do_sample or kwargs.temperature == 0.0:
            return {"temperature": 0.0, "repetition_penalty": kwargs.repetition_penalty}
        return {
            "temperature": kwargs.temperature,
            "top_p": kwargs.top_p,
            "top_k": kwargs.top_k if kwargs.top_k > 0 else -1,
            "repetition_penalty": kwargs.repetition_penalty,
        }

    def result_text(self, generated: str) -> str:
        """The ``Result``: the generated text, after the prompt when ``return_full_text`` asks for it."""
        if self.prompt is not None and self.return_full_text:
            return self.prompt + generated
        return generated


class LegacyChatResponse(BaseModel):
    Result: str
