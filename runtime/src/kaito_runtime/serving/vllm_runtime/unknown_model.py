"""Answer a request for a model this server does not serve with 400, as the transformers runtime does.

vLLM answers such requests 404 NotFoundError; kaito counts a wrong model name as bad input (400
``model_not_found``), the same on both runtimes. Every other response passes through untouched,
streams included: only a 404 is held back to be looked at.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaito_runtime.serving.openai_errors import error_body

IMPORT_PATH = "kaito_runtime.serving.vllm_runtime.unknown_model.UnknownModelAsBadRequest"


def _unknown_model_message(body: bytes) -> str | None:
    """The message of vLLM's "model does not exist" error, or None for any other 404."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    if isinstance(error, dict) and error.get("param") == "model" and error.get("type") == "NotFoundError":
        message = error.get("message")
        return message if isinstance(message, str) else None
    return None


class UnknownModelAsBadRequest:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        body = bytearray()

        async def inspect(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == HTTPStatus.NOT_FOUND:
                held["start"] = message
                return
            if "start" not in held:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            await _forward(held["start"], bytes(body), send)

        await self.app(scope, receive, inspect)


async def _forward(start: Message, body: bytes, send: Send) -> None:
    message = _unknown_model_message(body)
    if message is not None:
        body = json.dumps(
            error_body(HTTPStatus.BAD_REQUEST, message, param="model", code="model_not_found")
        ).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        start = {
            **start,
            "status": HTTPStatus.BAD_REQUEST,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    await send(start)
    await send({"type": "http.response.body", "body": body})
