"""The transformers runtime over HTTP, driven by the official openai client like users drive it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import openai
import pytest
import torch
from openai.types.chat import ChatCompletionMessageParam
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from kaito_runtime.testing.flood import flood_completions
from kaito_runtime.testing.legacy_chat import check_legacy_chat
from kaito_runtime.testing.server_process import ServerFactory, ServerProcess
from kaito_runtime.testing.tiny_model import TINY_MODEL_NAME as SERVED_NAME

PROMPT = "Kubernetes is"
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is a workspace?"},
]
TIMEOUT = 120.0


@pytest.fixture(scope="module")
def server(
    start_server: ServerFactory, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    config = tmp_path_factory.mktemp("config") / "inference_config.yaml"
    # The file wins over the command line: 256, not 512.
    config.write_text("vllm:\n  gpu-memory-utilization: 0.9\ntransformers:\n  max-model-len: 256\n")
    return start_server(
        "--runtime=transformers", f"--model={tiny_model}", "--served-model-name", SERVED_NAME,
        "--device", "cpu", "--max-model-len=512", "--max-batch-size=16", f"--config={config}",
        f"--adapters-dir={tmp_path_factory.mktemp('no-adapters')}",
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def reference_model(tiny_model: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    return AutoModelForCausalLM.from_pretrained(tiny_model).eval(), AutoTokenizer.from_pretrained(tiny_model)


def greedy(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, ids: list[int], max_tokens: int
) -> str:
    """transformers' own greedy generation for one prompt: what the server must reproduce."""
    inputs = torch.tensor([ids])
    with torch.inference_mode():
        output = model.generate(
            inputs, attention_mask=torch.ones_like(inputs), max_new_tokens=max_tokens, do_sample=False
        )
    text: str = tokenizer.decode(output[0, len(ids) :], skip_special_tokens=True)
    return text


def chat_ids(tokenizer: PreTrainedTokenizerBase, messages: list[ChatCompletionMessageParam]) -> list[int]:
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids: list[int] = tokenizer.encode(text, add_special_tokens=False)
    return ids


def test_health_and_models(server: ServerProcess, client: openai.OpenAI) -> None:
    assert httpx.get(f"{server.base_url}/health").status_code == 200
    models = client.models.list().data
    assert [model.id for model in models] == [SERVED_NAME]
    assert models[0].model_extra is not None and models[0].model_extra["max_model_len"] == 256


def test_chat_completion_is_transformers_greedy_output(
    client: openai.OpenAI, reference_model: tuple[PreTrainedModel, PreTrainedTokenizerBase]
) -> None:
    model, tokenizer = reference_model
    answer = client.chat.completions.create(
        model=SERVED_NAME, messages=MESSAGES, max_tokens=24, temperature=0
    )
    ids = chat_ids(tokenizer, MESSAGES)
    assert answer.choices[0].message.content == greedy(model, tokenizer, ids, 24)
    assert answer.choices[0].message.role == "assistant"
    assert answer.usage is not None and answer.usage.prompt_tokens == len(ids)
    assert answer.choices[0].finish_reason in ("length", "stop")
    assert answer.model == SERVED_NAME


def test_streamed_chat_equals_non_streamed(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model=SERVED_NAME, messages=MESSAGES, max_tokens=20, temperature=0)
    chunks = list(
        client.chat.completions.create(
            model=SERVED_NAME, messages=MESSAGES, max_tokens=20, temperature=0, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        whole.choices[0].finish_reason
    ]
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage


def test_completion_and_its_stream(
    client: openai.OpenAI, reference_model: tuple[PreTrainedModel, PreTrainedTokenizerBase]
) -> None:
    model, tokenizer = reference_model
    whole = client.completions.create(model=SERVED_NAME, prompt=PROMPT, max_tokens=16, temperature=0)
    assert whole.choices[0].text == greedy(model, tokenizer, tokenizer.encode(PROMPT), 16)
    streamed = "".join(
        chunk.choices[0].text
        for chunk in client.completions.create(
            model=SERVED_NAME, prompt=PROMPT, max_tokens=16, temperature=0, stream=True
        )
    )
    assert streamed == whole.choices[0].text
    echoed = client.completions.create(
        model=SERVED_NAME, prompt=PROMPT, max_tokens=16, temperature=0, echo=True
    )
    assert echoed.choices[0].text == PROMPT + whole.choices[0].text


def test_several_prompts_and_choices(client: openai.OpenAI) -> None:
    prompts = [PROMPT, "The quick brown fox"]
    result = client.completions.create(model=SERVED_NAME, prompt=prompts, n=2, max_tokens=8, temperature=0)
    texts = [choice.text for choice in sorted(result.choices, key=lambda choice: choice.index)]
    assert len(texts) == 4 and texts[0] == texts[1] and texts[2] == texts[3]
    singles = [
        client.completions.create(model=SERVED_NAME, prompt=p, max_tokens=8, temperature=0).choices[0].text
        for p in prompts
    ]
    assert [texts[0], texts[2]] == singles
    seeded = client.completions.create(
        model=SERVED_NAME, prompt=PROMPT, n=2, max_tokens=12, temperature=1.0, seed=3
    )
    again = client.completions.create(
        model=SERVED_NAME, prompt=PROMPT, n=2, max_tokens=12, temperature=1.0, seed=3
    )
    assert [c.text for c in seeded.choices] == [c.text for c in again.choices]


def test_stop_sequence_ends_the_text(client: openai.OpenAI) -> None:
    full = (
        client.completions.create(model=SERVED_NAME, prompt=PROMPT, max_tokens=30, temperature=0)
        .choices[0]
        .text
    )
    stop = next(match.group(0) for match in re.finditer(r"[A-Za-z]{2,}", full[3:]))
    cut = client.completions.create(
        model=SERVED_NAME, prompt=PROMPT, max_tokens=30, temperature=0, stop=[stop]
    )
    assert cut.choices[0].text == full[: full.index(stop)]
    assert cut.choices[0].finish_reason == "stop"


async def test_concurrent_requests_never_mix(server: ServerProcess) -> None:
    """Concurrent requests (batched by the server) each get their own solo greedy answer."""
    prompts = [
        f"{word} is"
        for word in ("Kubernetes", "A GPU", "The fox", "Batching", "LoRA", "vLLM", "A node", "Text")
    ]
    budgets = [8 + 3 * index for index in range(len(prompts))]
    async with openai.AsyncOpenAI(
        base_url=f"{server.base_url}/v1", api_key="x", max_retries=0, timeout=TIMEOUT
    ) as aclient:

        async def complete(prompt: str, budget: int) -> str:
            result = await aclient.completions.create(
                model=SERVED_NAME, prompt=prompt, max_tokens=budget, temperature=0
            )
            return result.choices[0].text

        solo = [await complete(prompt, budget) for prompt, budget in zip(prompts, budgets, strict=True)]
        together = await asyncio.gather(*(complete(p, b) for p, b in zip(prompts, budgets, strict=True)))
    assert list(together) == solo


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"model": "no-such-model"}, "model"),
        ({"max_tokens": 300}, "max_tokens"),
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"n": 0}, "n"),
        ({"extra_body": {"best_effort": True}}, "best_effort"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ],
)
def test_bad_chat_requests_are_openai_400s(
    client: openai.OpenAI, arguments: dict[str, object], param: str
) -> None:
    request: dict[str, object] = {"model": SERVED_NAME, "messages": MESSAGES, "max_tokens": 8, **arguments}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**request)  # type: ignore[call-overload]
    error = caught.value.body
    assert isinstance(error, dict)
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


def test_malformed_json_and_missing_fields(server: ServerProcess) -> None:
    broken = httpx.post(
        f"{server.base_url}/v1/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]
    missing = httpx.post(f"{server.base_url}/v1/chat/completions", json={"model": SERVED_NAME})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "messages"
    prompt_too_long = httpx.post(
        f"{server.base_url}/v1/completions",
        json={"model": SERVED_NAME, "prompt": "word " * 400},
        timeout=TIMEOUT,
    )
    assert prompt_too_long.status_code == 400 and prompt_too_long.json()["error"]["param"] == "prompt"


def test_legacy_chat_endpoint(server: ServerProcess, client: openai.OpenAI) -> None:
    check_legacy_chat(server.base_url, client, SERVED_NAME, PROMPT, MESSAGES, TIMEOUT)
    bad = httpx.post(f"{server.base_url}/chat", json={"generate_kwargs": {}}, timeout=TIMEOUT)
    assert (
        bad.status_code == 400 and "exactly one of 'prompt' or 'messages'" in bad.json()["error"]["message"]
    )


def metric(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + selector + '}') if selector else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"{name} {labels} not in /metrics"
    return float(found.group(1))


def test_prometheus_metrics(server: ServerProcess, client: openai.OpenAI) -> None:
    client.chat.completions.create(model=SERVED_NAME, messages=MESSAGES, max_tokens=5, temperature=0)
    text = httpx.get(f"{server.base_url}/metrics").text
    assert metric(text, "kaito_runtime_requests_total", route="/v1/chat/completions", status="200") >= 1
    assert metric(text, "kaito_runtime_requests_total", route="/v1/chat/completions", status="400") >= 1
    assert metric(text, "kaito_runtime_time_to_first_token_seconds_count") >= 1
    assert metric(text, "kaito_runtime_request_duration_seconds_count", route="/v1/chat/completions") >= 2
    assert metric(text, "kaito_runtime_generation_tokens_total") >= 5
    assert metric(text, "kaito_runtime_prompt_tokens_total") >= 1
    assert metric(text, "kaito_runtime_num_requests_running") == 0
    assert metric(text, "kaito_ratelimit_rejected_total") == 0


async def test_flood_beyond_the_waiting_bound_gets_429(start_server: ServerFactory, tiny_model: Path) -> None:
    guarded = start_server(
        "--runtime", "transformers", "--model", str(tiny_model), "--served-model-name", SERVED_NAME,
        "--device=cpu", "--max-batch-size=1", "--max-waiting-requests=1",
    )  # fmt: skip
    outcomes = await flood_completions(guarded.base_url, SERVED_NAME, PROMPT, 12, TIMEOUT)
    rejected = [outcome for outcome in outcomes if outcome != 200]
    assert len(outcomes) - len(rejected) >= 2 and rejected
    assert all(
        isinstance(r, dict) and r["code"] == "rate_limit_exceeded" and r["type"] == "requests"
        for r in rejected
    )
    text = httpx.get(f"{guarded.base_url}/metrics").text
    assert metric(text, "kaito_ratelimit_rejected_total") == len(rejected)
    assert metric(text, "kaito_runtime_requests_total", route="/v1/completions", status="429") == len(
        rejected
    )
