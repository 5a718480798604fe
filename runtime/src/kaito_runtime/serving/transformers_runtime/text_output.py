"""Incremental detokenization with stop strings, for streaming text a token at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

_INCOMPLETE = "\ufffd"  # what a partial multi-byte character decodes to


class Decoder(Protocol):
    def decode(self, token_ids: Sequence[int], *, skip_special_tokens: bool) -> str: ...


class TextAssembler:
    """Turns generated token ids into text deltas.

    A few earlier tokens are decoded along with each new one so tokenizers that merge spaces
    or bytes across tokens produce the same text as decoding everything at once. Text that could
    be the start of a stop string is held back until it is known not to be one.
    """

    def __init__(self, tokenizer: Decoder, stop: Sequence[str] = ()) -> None:
        self._tokenizer = tokenizer
        self._stop = tuple(s for s in stop if s)
        self._hold = max((len(s) for s in self._stop), default=1) - 1
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0
        self._text = ""
        self._sent = 0
        self.stopped = False

    def _decode_new(self, final: bool) -> str:
        decode = self._tokenizer.decode
        prefix = decode(self._ids[self._prefix_offset : self._read_offset], skip_special_tokens=True)
        full = decode(self._ids[self._prefix_offset :], skip_special_tokens=True)
        if len(full) > len(prefix) and (final or not full.endswith(_INCOMPLETE)):
            self._prefix_offset, self._read_offset = self._read_offset, len(self._ids)
            return full[len(prefix) :]
        return ""

    def _emit(self, final: bool) -> str:
        first_stop = min(
            (i for i in (self._text.find(s, self._sent) for s in self._stop) if i >= 0), default=-1
        )
        if first_stop >= 0:
            self.stopped = True
            self._text = self._text[:first_stop]
            end = first_stop
        else:
            end = len(self._text) if final else max(self._sent, len(self._text) - self._hold)
        delta = self._text[self._sent : end]
        self._sent = end
        return delta

    def feed(self, token_id: int) -> str:
        """Add a generated token; returns the text that is now safe to send (possibly empty)."""
        self._ids.append(token_id)
        self._text += self._decode_new(final=False)
        return self._emit(final=False)

    def finish(self) -> str:
        """Flush what was held back (the generation ended for another reason than a stop string)."""
        self._text += self._decode_new(final=True)
        return self._emit(final=True)
