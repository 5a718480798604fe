"""The FastAPI application of the transformers runtime."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from kaito_runtime.serving.admission import STATE_ATTRIBUTE, Admission, AdmissionGuard
from kaito_runtime.serving.legacy.protocol import LegacyChatRequest
from kaito_runtime.serving.openai_errors import OpenAIError, error_body
from kaito_runtime.serving.options import WaitingBound
from kaito_runtime.serving.request_parsing import parse_request
from kaito_runtime.serving.transformers_runtime.engine import BatchingEngine
from kaito_runtime.serving.transformers_runtime.generation import GenerationFailed
from kaito_runtime.serving.transformers_runtime.legacy_chat import legacy_chat
from kaito_runtime.serving.transformers_runtime.loading import LoadedModel
from kaito_runtime.serving.transformers_runtime.metrics import RequestMetricsMiddleware, ServerMetrics
from kaito_runtime.serving.transformers_runtime.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    ModelCard,
    ModelList,
)
from kaito_runtime.serving.transformers_runtime.serving_chat import ChatService
from kaito_runtime.serving.transformers_runtime.serving_completion import CompletionService

logger = logging.getLogger(__name__)

GENERATION_ROUTES = ("/v1/chat/completions", "/v1/completions", "/chat")


def build_app(
    loaded: LoadedModel, engine: BatchingEngine, *, model_name: str, model_root: str, bound: WaitingBound
) -> FastAPI:
    """Routes, error handling, metrics and the admission guard around one engine."""
    metrics = ServerMetrics(running=lambda: engine.num_running, waiting=lambda: engine.num_waiting)
    chat = ChatService(loaded, engine, metrics, model_name)
    completions = CompletionService(loaded, engine, metrics, model_name)
    created = int(time.time())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine.start()
        yield
        await engine.stop()

    app = FastAPI(title="KAITO transformers runtime", lifespan=lifespan)

    @app.exception_handler(OpenAIError)
    async def openai_error(_: Request, error: OpenAIError) -> JSONResponse:
        return error.response()

    @app.exception_handler(GenerationFailed)
    async def generation_failed(_: Request, error: GenerationFailed) -> JSONResponse:
        return JSONResponse(error_body(HTTPStatus.INTERNAL_SERVER_ERROR, str(error)), status_code=500)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.error("request failed", exc_info=error)
        message = f"internal error: {type(error).__name__}: {error}"
        return JSONResponse(error_body(HTTPStatus.INTERNAL_SERVER_ERROR, message), status_code=500)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await chat.create(parse_request(await request.body(), ChatCompletionRequest))

    @app.post("/v1/completions")
    async def text_completions(request: Request) -> Response:
        return await completions.create(parse_request(await request.body(), CompletionRequest))

    @app.post("/chat")
    async def legacy(request: Request) -> JSONResponse:
        legacy_request = parse_request(await request.body(), LegacyChatRequest)
        return JSONResponse((await legacy_chat(legacy_request, chat, completions)).model_dump())

    @app.get("/v1/models")
    async def models() -> JSONResponse:
        card = ModelCard(id=model_name, created=created, root=model_root, max_model_len=loaded.max_model_len)
        return JSONResponse(ModelList(data=[card]).model_dump())

    @app.get("/health")
    async def health() -> JSONResponse:
        if engine.alive:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "engine stopped"}, status_code=HTTPStatus.SERVICE_UNAVAILABLE)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    if bound is not None:
        guard = Admission.create(
            max_waiting=engine.max_batch_size if bound == "auto" else bound,
            concurrency=engine.max_batch_size,
            engine_waiting=lambda: engine.num_waiting,
            rejected=metrics.rejected,
            guarded_paths=GENERATION_ROUTES,
        )
        setattr(app.state, STATE_ATTRIBUTE, guard)
        app.add_middleware(AdmissionGuard)
        logger.info("admission guard: 429 when more than %d requests wait", guard.max_waiting)
    # Added last, so it is outermost and counts rejected requests (429) too.
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics, routes=GENERATION_ROUTES)
    return app
