"""Condition bookkeeping shared by every status writer.

``lastTransitionTime`` moves only when a condition's status flips, so it tells
how long the object has been in its current state; every call reports whether
anything changed, so callers write status only when it did.
"""

from __future__ import annotations

from kaito.api import timestamps
from kaito.api.meta import Condition
from kaito.api.wellknown import ConditionStatus


def get_condition(conditions: list[Condition] | None, type_: str) -> Condition | None:
    for condition in conditions or []:
        if condition.type == type_:
            return condition
    return None


def is_condition_true(conditions: list[Condition] | None, type_: str) -> bool:
    condition = get_condition(conditions, type_)
    return condition is not None and condition.status == ConditionStatus.TRUE


def set_condition(
    conditions: list[Condition],
    type_: str,
    status: ConditionStatus | str,
    reason: str,
    message: str,
    observed_generation: int | None = None,
    now: str | None = None,
) -> bool:
    """Set ``type_`` in place; True when anything about it changed."""
    status = str(status)
    existing = get_condition(conditions, type_)
    if existing is None:
        conditions.append(
            Condition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                observed_generation=observed_generation,
                last_transition_time=now or timestamps.now(),
            )
        )
        return True
    if (existing.status, existing.reason, existing.message, existing.observed_generation) == (
        status,
        reason,
        message,
        observed_generation,
    ):
        return False
    if existing.status != status:
        existing.last_transition_time = now or timestamps.now()
    existing.status = status
    existing.reason = reason
    existing.message = message
    existing.observed_generation = observed_generation
    return True


def remove_condition(conditions: list[Condition], type_: str) -> bool:
    """Drop ``type_``; True when it was there."""
    for index, condition in enumerate(conditions):
        if condition.type == type_:
            del conditions[index]
            return True
    return False
