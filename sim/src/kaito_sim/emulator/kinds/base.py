"""The strategy interface every kind implements, and the plain default."""

from __future__ import annotations

from typing import Any

from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.schema import Schema, prune

Obj = dict[str, Any]


class Strategy:
    """Defaults: no generation, no status semantics, DNS-subdomain names, pruning by the kind's schema."""

    tracks_generation = False
    name_rule = "subdomain"

    def normalize(self, obj: Obj, schema: Schema | None) -> list[str]:
        """Drop fields the kind does not have; return their paths (for strict / warn field validation)."""
        return prune(obj, schema) if schema else []

    def prepare_create(self, obj: Obj) -> None:
        """Defaults and server-set fields of a new object (metadata is already complete)."""

    def prepare_update(self, new: Obj, old: Obj) -> None:
        """Carry over server-owned fields the client may omit on update."""

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        """Kind-specific validation; ``old`` is None on create."""
        return []

    def stored(self, obj: Obj, old: Obj | None) -> None:
        """Hook after a write is committed."""

    def removed(self, obj: Obj) -> None:
        """Hook after an object is gone."""


class GenerationStrategy(Strategy):
    tracks_generation = True
