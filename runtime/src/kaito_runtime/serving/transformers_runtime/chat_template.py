"""Resolve ``--chat-template``: a file path, or the template itself written inline."""

from __future__ import annotations

import codecs
from pathlib import Path

from kaito_runtime.errors import UsageError


def resolve_chat_template(value: str | None) -> str | None:
    """The template text; inline templates may use escapes such as ``\\n`` (as vLLM accepts them)."""
    if value is None:
        return None
    path = Path(value)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--chat-template {value}: cannot be read: {error}") from None
    if any(marker in value for marker in ("{", "}", "\n")):
        return codecs.decode(value, "unicode_escape")
    raise UsageError(f"--chat-template {value}: no such file, and not an inline Jinja template")
