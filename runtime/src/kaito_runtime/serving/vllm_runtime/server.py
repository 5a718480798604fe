"""Run vLLM's OpenAI-compatible server in this process, with KAITO's /chat route and admission guard.

vLLM's own building blocks are used as its ``run_server`` uses them (engine client, app, app
state, uvicorn serving); the app is extended between ``build_app`` and serving.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
from types import FrameType

from prometheus_client import REGISTRY
from pydantic import ValidationError

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.admission import GUARD_IMPORT_PATH, STATE_ATTRIBUTE, Admission, rejected_counter
from kaito_runtime.serving.options import WaitingBound
from kaito_runtime.serving.vllm_runtime.legacy_chat import router as legacy_router
from kaito_runtime.serving.vllm_runtime.queue_depth import waiting_requests
from kaito_runtime.serving.vllm_runtime.unknown_model import IMPORT_PATH as UNKNOWN_MODEL_IMPORT_PATH

logger = logging.getLogger(__name__)

# Routes whose requests enter the engine queue.
GUARDED_PATHS = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1/embeddings",
    "/chat",
)


def admission(max_num_seqs: int, bound: WaitingBound) -> Admission | None:
    """The guard's settings: ``auto`` bounds the queue by the engine's own concurrency."""
    from vllm.v1.metrics.prometheus import get_prometheus_registry

    if bound is None:
        return None
    # vLLM's /metrics reads the default registry (or, with several API processes, the files
    # prometheus_client writes for it); the waiting gauge is read where vLLM's /metrics reads it.
    metrics_view = get_prometheus_registry()
    return Admission.create(
        max_waiting=max_num_seqs if bound == "auto" else bound,
        concurrency=max_num_seqs,
        engine_waiting=lambda: waiting_requests(metrics_view),
        rejected=rejected_counter(REGISTRY),
        guarded_paths=GUARDED_PATHS,
    )


def _interrupt_startup(signum: int, frame: FrameType | None) -> None:
    """SIGTERM while the engine loads (before uvicorn handles signals) stops the pod promptly."""
    raise KeyboardInterrupt("terminated")


async def serve(args: argparse.Namespace, bound: WaitingBound) -> None:
    """Build the engine, the app and serve until shut down."""
    import vllm.envs as vllm_envs
    from vllm.entrypoints.launchers.api_server.app_state import init_app_state
    from vllm.entrypoints.launchers.api_server.entry import build_async_engine_client
    from vllm.entrypoints.launchers.app import build_app
    from vllm.entrypoints.launchers.launcher import serve_http, setup_server
    from vllm.entrypoints.launchers.utils.server_utils import get_uvicorn_log_config

    signal.signal(signal.SIGTERM, _interrupt_startup)
    listen_address, sock = setup_server(args, reuse_port=False)
    uvicorn_kwargs = {}
    log_config = get_uvicorn_log_config(args)
    if log_config is not None:
        uvicorn_kwargs["log_config"] = log_config
    args.middleware = [*args.middleware, UNKNOWN_MODEL_IMPORT_PATH]
    if bound is not None:
        args.middleware = [*args.middleware, GUARD_IMPORT_PATH]
    async with contextlib.AsyncExitStack() as stack:
        try:
            engine_client = await stack.enter_async_context(build_async_engine_client(args))
        except (ValueError, TypeError, ValidationError) as error:
            # vLLM validates the combination of arguments against the model only here.
            raise StartupError(f"vLLM cannot serve {args.model} with these arguments: {error}") from None
        except Exception as error:  # the engine process failed (out of memory, a bad checkpoint...)
            raise StartupError(f"vLLM failed to start serving {args.model}: {error}") from None
        supported_tasks = await engine_client.get_supported_tasks()
        app = build_app(args, supported_tasks, engine_client.model_config)
        app.include_router(legacy_router)
        guard = admission(engine_client.vllm_config.scheduler_config.max_num_seqs, bound)
        setattr(app.state, STATE_ATTRIBUTE, guard)
        if guard is not None:
            logger.info("admission guard: 429 when more than %d requests wait", guard.max_waiting)
        await init_app_state(engine_client, app.state, args, supported_tasks)
        logger.info("serving on %s", listen_address)
        shutdown_task = await serve_http(
            app,
            sock=sock,
            enable_ssl_refresh=args.enable_ssl_refresh,
            host=args.host,
            port=args.port,
            log_level=args.uvicorn_log_level,
            access_log=not args.disable_uvicorn_access_log,
            timeout_keep_alive=vllm_envs.VLLM_HTTP_TIMEOUT_KEEP_ALIVE,
            ssl_keyfile=args.ssl_keyfile,
            ssl_certfile=args.ssl_certfile,
            ssl_ca_certs=args.ssl_ca_certs,
            ssl_cert_reqs=args.ssl_cert_reqs,
            ssl_ciphers=args.ssl_ciphers,
            h11_max_incomplete_event_size=args.h11_max_incomplete_event_size,
            h11_max_header_count=args.h11_max_header_count,
            **uvicorn_kwargs,
        )
    try:
        await shutdown_task
    finally:
        sock.close()
