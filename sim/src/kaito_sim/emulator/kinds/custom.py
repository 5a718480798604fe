"""Custom resources: everything comes from the CRD's structural schema."""

from __future__ import annotations

from kaito_sim.emulator import cel
from kaito_sim.emulator.errors import Cause
from kaito_sim.emulator.kinds.base import Obj, Strategy
from kaito_sim.emulator.schema import Schema, apply_defaults, prune, validate


class CustomResourceStrategy(Strategy):
    tracks_generation = True

    def __init__(self, has_status: bool) -> None:
        self.has_status = has_status

    def normalize(self, obj: Obj, schema: Schema | None) -> list[str]:
        if not schema:
            return []
        unknown = prune(obj, schema)
        apply_defaults(obj, schema)
        return unknown

    def prepare_create(self, obj: Obj) -> None:
        if self.has_status:
            obj.pop("status", None)

    def validate(self, obj: Obj, old: Obj | None, schema: Schema | None) -> list[Cause]:
        if not schema:
            return []
        causes = validate(obj, schema)
        if not causes:
            causes = cel.validate_rules(obj, schema, old if old is not None else cel.no_old())
        return causes
