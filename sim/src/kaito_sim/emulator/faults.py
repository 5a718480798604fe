"""Fault injection for tests: dropped watch streams, expired history, injected
error responses at a seeded (deterministic) rate, and added latency."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from kaito_sim.emulator import errors
from kaito_sim.emulator.errors import ApiError

_ERRORS: dict[int, Callable[[int], ApiError]] = {
    409: lambda _: errors.conflict("", "", "", errors.MODIFIED_CONFLICT),
    429: errors.too_many_requests,
    500: lambda _: errors.internal_error("injected fault"),
    503: lambda _: ApiError(
        503, "ServiceUnavailable", "the server is currently unable to handle the request"
    ),
    504: lambda _: errors.timeout(
        "the server was unable to return a response in the time allotted, but may still "
        "be processing the request"
    ),
}


@dataclass
class FaultRule:
    """Answer matching requests with ``status`` with probability ``rate`` (own seeded generator)."""

    status: int
    rate: float = 1.0
    verbs: frozenset[str] | None = None
    resources: frozenset[str] | None = None
    retry_after: int = 1
    remaining: int | None = None
    seed: int = 0
    fired: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.status not in _ERRORS:
            raise ValueError(f"cannot inject status {self.status}; supported: {sorted(_ERRORS)}")
        self._random = random.Random(self.seed)

    def matches(self, verb: str, resource: str) -> bool:
        if self.verbs is not None and verb not in self.verbs:
            return False
        if self.resources is not None:
            plural = resource.split("/", 1)[0]
            if resource not in self.resources and plural not in self.resources:
                return False
        return self.remaining is None or self.remaining > 0

    def roll(self, plural: str, name: str) -> ApiError | None:
        if self._random.random() >= self.rate:
            return None
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
        error = _ERRORS[self.status](self.retry_after)
        if self.status == 409:
            error = errors.conflict(plural, "", name, errors.MODIFIED_CONFLICT)
        return error


@dataclass
class Latency:
    seconds: float
    verbs: frozenset[str] | None = None
    resources: frozenset[str] | None = None

    def applies(self, verb: str, resource: str) -> bool:
        return (self.verbs is None or verb in self.verbs) and (
            self.resources is None
            or resource.split("/", 1)[0] in self.resources
            or resource in self.resources
        )


class Faults:
    """The fault-injection controls of one emulator (``emu.faults``)."""

    def __init__(self, drop: Callable[[], int], expire: Callable[[], None]) -> None:
        self._drop = drop
        self._expire = expire
        self.rules: list[FaultRule] = []
        self.latency: Latency | None = None

    def drop_watches(self) -> int:
        """Cut every open watch connection abruptly; returns how many were open."""
        return self._drop()

    def expire_history(self) -> None:
        """Forget the event history: a watch resumed from any earlier resourceVersion gets 410 Gone."""
        self._expire()

    def inject(
        self,
        status: int,
        rate: float = 1.0,
        verbs: Collection[str] | None = None,
        resources: Collection[str] | None = None,
        seed: int = 0,
        retry_after: int = 1,
        count: int | None = None,
    ) -> FaultRule:
        """Fail matching requests (verbs: ``update``...; resources: ``workspaces``, ``pods/status``...)."""
        rule = FaultRule(
            status,
            rate,
            frozenset(verbs) if verbs is not None else None,
            frozenset(resources) if resources is not None else None,
            retry_after,
            count,
            seed,
        )
        self.rules.append(rule)
        return rule

    def set_latency(
        self, seconds: float, verbs: Collection[str] | None = None, resources: Collection[str] | None = None
    ) -> None:
        self.latency = (
            Latency(
                seconds,
                frozenset(verbs) if verbs is not None else None,
                frozenset(resources) if resources is not None else None,
            )
            if seconds > 0
            else None
        )

    def clear(self) -> None:
        """Remove injected errors and latency."""
        self.rules.clear()
        self.latency = None

    def delay_for(self, verb: str, resource: str) -> float:
        return self.latency.seconds if self.latency and self.latency.applies(verb, resource) else 0.0

    def error_for(self, verb: str, resource: str, name: str) -> ApiError | None:
        plural = resource.split("/", 1)[0]
        for rule in self.rules:
            if rule.matches(verb, resource):
                error = rule.roll(plural, name)
                if error is not None:
                    return error
        return None
