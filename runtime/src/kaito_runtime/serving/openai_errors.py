"""OpenAI-style error bodies: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

_TYPES = {
    HTTPStatus.BAD_REQUEST: "invalid_request_error",
    HTTPStatus.NOT_FOUND: "invalid_request_error",
    HTTPStatus.TOO_MANY_REQUESTS: "requests",
    HTTPStatus.SERVICE_UNAVAILABLE: "server_error",
    HTTPStatus.INTERNAL_SERVER_ERROR: "server_error",
}


def error_body(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The JSON body OpenAI clients parse into ``APIError`` (message, type, param, code)."""
    kind = _TYPES.get(HTTPStatus(status), "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIError(Exception):
    """Raised by request handling; turned into an OpenAI-style JSON response by the server."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, param=self.param, code=self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def bad_request(message: str, param: str | None = None) -> OpenAIError:
    """A 400 for input the client can fix."""
    return OpenAIError(HTTPStatus.BAD_REQUEST, message, param=param)
