"""The legacy /chat request: validation and its translation into engine parameters."""

from __future__ import annotations

import pytest

from kaito_runtime.serving.legacy.protocol import LegacyChatRequest
from kaito_runtime.serving.openai_errors import OpenAIError
from kaito_runtime.serving.request_parsing import parse_request


def parse(body: str) -> LegacyChatRequest:
    return parse_request(body.encode(), LegacyChatRequest)


def test_defaults_follow_upstream_pipeline() -> None:
    request = parse('{"prompt": "hi"}')
    assert request.max_new_tokens(prompt_tokens=10) == 190  # max_length 200 covers the prompt too
    assert request.sampling() == {"temperature": 1.0, "top_p": 1.0, "top_k": 10, "repetition_penalty": 1.0}
    assert request.result_text(" there") == "hi there"


def test_greedy_and_explicit_new_tokens() -> None:
    request = parse('{"messages": [{"role": "user", "content": "hi"}], "generate_kwargs": '
                    '{"do_sample": false, "max_new_tokens": 7, "max_length": 3}}')  # fmt: skip
    assert request.max_new_tokens(prompt_tokens=50) == 7
    assert request.sampling()["temperature"] == 0.0
    assert request.result_text("answer") == "answer"


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ("{}", None, "exactly one of 'prompt' or 'messages'"),
        ('{"prompt": "a", "messages": []}', None, "exactly one of"),
        ('{"messages": []}', None, "must not be empty"),
        (
            '{"prompt": "a", "generate_kwargs": {"temperature": -1}}',
            "generate_kwargs.temperature",
            "greater than or equal",
        ),
        ('{"prompt": "a", "generate_kwargs": {"top_p": 1.5}}', "generate_kwargs.top_p", "less than or equal"),
        (
            '{"prompt": "a", "generate_kwargs": {"num_beams": 4}}',
            "generate_kwargs.num_beams",
            "Input should be 1",
        ),
        (
            '{"prompt": "a", "generate_kwargs": {"typical_p": 0.5}}',
            "generate_kwargs.typical_p",
            "Unrecognized",
        ),
        ('{"prompt": 3}', "prompt", "valid string"),
        ("not json", None, "not valid JSON"),
        ("[1]", None, "must be a JSON object"),
    ],
)
def test_bad_requests_are_400_naming_the_field(body: str, param: str | None, message: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        parse(body)
    assert caught.value.status == 400
    assert caught.value.param == param
    assert message in caught.value.message


def test_max_length_must_leave_room_after_the_prompt() -> None:
    request = parse('{"prompt": "hello", "generate_kwargs": {"max_length": 5}}')
    with pytest.raises(OpenAIError) as caught:
        request.max_new_tokens(prompt_tokens=5)
    assert caught.value.param == "generate_kwargs.max_length"
