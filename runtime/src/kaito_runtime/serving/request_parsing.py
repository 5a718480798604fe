"""Turn a raw HTTP body into a validated pydantic request, or a 400 naming the offending field."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kaito_runtime.serving.openai_errors import OpenAIError, bad_request

RequestT = TypeVar("RequestT", bound=BaseModel)


# Segments pydantic adds to an error location for union members and validators, not fields.
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict", "list"})


def _field_path(location: tuple[int | str, ...]) -> str | None:
    """``("messages", 0, "content")`` → ``messages[0].content``; None for the body as a whole."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _TYPE_TAGS or "[" in part or "-" in part:
            continue
        else:
            path = f"{path}.{part}" if path else part
    return path or None


def validation_error(error: ValidationError) -> OpenAIError:
    """The most specific validation problem (the deepest, e.g. inside a union member) as a 400."""
    first = max(error.errors(), key=lambda item: len(item["loc"]))
    param = _field_path(tuple(first["loc"]))
    if first["type"] == "extra_forbidden":
        return bad_request(f"Unrecognized request argument supplied: {param}", param)
    if first["type"] == "missing":
        return bad_request(f"Missing required parameter: '{param}'.", param)
    message = first["msg"].removeprefix("Value error, ")
    return bad_request(f"Invalid value for '{param}': {message}" if param else message, param)


def parse_request(body: bytes, model: type[RequestT]) -> RequestT:
    """Decode JSON and validate it against ``model``."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"The request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_error(error) from None
