"""Case-insensitive "did you mean" suggestions for preset and instance-type names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def _fold(name: str) -> str:
    """Lower case without punctuation, so "phi3", "Phi-3" and "phi_3" compare equal."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def closest_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` candidates most similar to ``name``, best first.

    Candidates that start with the (folded) name come first, shortest first, so
    a truncated name ("phi-3") suggests its completions; fuzzy matches follow.
    """
    if n <= 0:
        return []
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(_fold(candidate), candidate)
    wanted = _fold(name)
    prefixed = sorted((folded for folded in by_folded if wanted and folded.startswith(wanted)), key=len)
    fuzzy = difflib.get_close_matches(wanted, list(by_folded), n=n, cutoff=0.5)
    ordered = list(dict.fromkeys([*prefixed, *fuzzy]))
    return [by_folded[folded] for folded in ordered[:n]]
