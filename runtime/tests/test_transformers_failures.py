"""An engine failure answers 500 with a message (an error event when streaming); the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from fastapi import FastAPI

from kaito_runtime.serving.transformers_runtime.app import build_app
from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel, load_model
from kaito_runtime.serving.transformers_runtime.options import TransformersOptions
from kaito_runtime.testing.tiny_model import TINY_MODEL_NAME

POISON = "<|system|>"


@pytest.fixture(scope="module")
def loaded(tiny_model: Path) -> LoadedModel:
    """The tiny model, with forward passes failing whenever the poison token is in the batch."""
    model = load_model(str(tiny_model), None, TransformersOptions(device="cpu"), [], {})
    poison = model.tokenizer.convert_tokens_to_ids(POISON)

    def fail_on_poison(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if bool((kwargs["input_ids"] == poison).any()):
            raise RuntimeError("device lost")

    model.model.register_forward_pre_hook(fail_on_poison, with_kwargs=True)
    return model


@pytest.fixture
async def client(loaded: LoadedModel) -> AsyncIterator[httpx.AsyncClient]:
    engine = BatchingEngine(loaded, max_batch_size=4)
    app: FastAPI = build_app(loaded, engine, model_name=TINY_MODEL_NAME, model_root="tiny", bound=None)
    engine.start()  # what the app's lifespan does under uvicorn
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://runtime", timeout=120) as http:
        yield http
    await engine.stop()


def completion(prompt: str, **extra: object) -> dict[str, object]:
    return {"model": TINY_MODEL_NAME, "prompt": prompt, "max_tokens": 6, "temperature": 0, **extra}


async def test_engine_failure_is_a_500_with_the_reason(client: httpx.AsyncClient) -> None:
    failed = await client.post("/v1/completions", json=completion(f"{POISON} hello"))
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert error["type"] == "server_error" and "RuntimeError: device lost" in error["message"]
    healthy = await client.post("/v1/completions", json=completion("hello"))
    assert healthy.status_code == 200 and healthy.json()["choices"][0]["finish_reason"] == "length"
    assert (await client.get("/health")).status_code == 200


async def test_engine_failure_in_a_stream_is_an_error_event(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/completions", json=completion(f"{POISON} hello", stream=True))
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert "device lost" in json.loads(events[-2])["error"]["message"]
    legacy = await client.post(
        "/chat", json={"prompt": f"{POISON} hi", "generate_kwargs": {"max_new_tokens": 3}}
    )
    assert legacy.status_code == 500 and "device lost" in legacy.json()["error"]["message"]
