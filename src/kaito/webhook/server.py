"""The webhook's HTTPS endpoint: AdmissionReview requests in, verdicts out."""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path

import structlog
from aiohttp import web

from kaito.validation import ValidationContext
from kaito.webhook.admission import WEBHOOK_PATH, BadAdmissionReview, review
from kaito.webhook.certs import CertificateBundle

log = structlog.get_logger("kaito.webhook")
MAX_BODY_BYTES = 3 * 1024 * 1024  # the API server caps objects at about 1.5 MiB, reviews carry two


def ssl_context(bundle: CertificateBundle) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory() as directory:
        cert, key = Path(directory, "tls.crt"), Path(directory, "tls.key")
        cert.write_bytes(bundle.tls_cert)
        key.write_bytes(bundle.tls_key)
        key.chmod(0o600)
        context.load_cert_chain(cert, key)
    return context


def make_app(context_for_request: Callable[[], ValidationContext]) -> web.Application:
    async def validate(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
            answer = review(body, context_for_request())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "request body is not JSON"}, status=400)
        except BadAdmissionReview as err:
            return web.json_response({"error": str(err)}, status=400)
        response = answer["response"]
        if not response["allowed"]:
            log.info("denied", uid=response["uid"], reason=response["status"]["message"])
        return web.json_response(answer)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(WEBHOOK_PATH, validate)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(
    host: str, port: int, bundle: CertificateBundle, context_for_request: Callable[[], ValidationContext]
) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(make_app(context_for_request), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host or None, port, ssl_context=ssl_context(bundle))
    await site.start()
    log.info("webhook serving", host=host or "0.0.0.0", port=port, path=WEBHOOK_PATH)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
