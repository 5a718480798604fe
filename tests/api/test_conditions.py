"""Condition bookkeeping: transition times move only when the status flips."""

from __future__ import annotations

from kaito.api.conditions import get_condition, is_condition_true, remove_condition, set_condition
from kaito.api.meta import Condition


def test_new_condition_is_added_with_transition_time_and_generation() -> None:
    conditions: list[Condition] = []
    assert set_condition(conditions, "Ready", "False", "Pending", "waiting", 3, now="2026-01-01T00:00:00Z")
    (cond,) = conditions
    assert (cond.status, cond.reason, cond.message, cond.observed_generation, cond.last_transition_time) == (
        "False",
        "Pending",
        "waiting",
        3,
        "2026-01-01T00:00:00Z",
    )


def test_same_values_report_no_change() -> None:
    conditions: list[Condition] = []
    set_condition(conditions, "Ready", "False", "Pending", "waiting", 1, now="2026-01-01T00:00:00Z")
    assert not set_condition(
        conditions, "Ready", "False", "Pending", "waiting", 1, now="2026-01-02T00:00:00Z"
    )
    assert conditions[0].last_transition_time == "2026-01-01T00:00:00Z"


def test_message_change_keeps_transition_time_status_change_moves_it() -> None:
    conditions: list[Condition] = []
    set_condition(conditions, "Ready", "False", "Pending", "waiting", 1, now="2026-01-01T00:00:00Z")
    assert set_condition(
        conditions, "Ready", "False", "Pending", "still waiting", 2, now="2026-01-02T00:00:00Z"
    )
    assert conditions[0].last_transition_time == "2026-01-01T00:00:00Z"
    assert conditions[0].observed_generation == 2
    assert set_condition(conditions, "Ready", "True", "Done", "ready", 2, now="2026-01-03T00:00:00Z")
    assert conditions[0].last_transition_time == "2026-01-03T00:00:00Z"
    assert is_condition_true(conditions, "Ready")


def test_get_and_remove() -> None:
    conditions: list[Condition] = []
    set_condition(conditions, "A", "True", "R", "m")
    set_condition(conditions, "B", "False", "R", "m")
    assert get_condition(conditions, "B") is not None
    assert not is_condition_true(conditions, "B")
    assert remove_condition(conditions, "B")
    assert not remove_condition(conditions, "B")
    assert [c.type for c in conditions] == ["A"]
    assert get_condition(None, "A") is None
