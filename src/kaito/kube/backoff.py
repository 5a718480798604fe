"""Exponential backoff with jitter, for loops that retry until something recovers.

The informer waits this long before listing again after a failure: growing
waits keep a struggling API server from being hammered, jitter keeps many
informers from retrying in lockstep, and a success resets it.
"""

from __future__ import annotations

import random


class Backoff:
    def __init__(
        self,
        initial: float = 0.8,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1 or jitter < 0:
            raise ValueError("need 0 < initial <= maximum, factor >= 1 and jitter >= 0")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._failures = 0

    def next(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        base = min(self.initial * self.factor ** min(self._failures, 64), self.maximum)
        self._failures += 1
        return base * (1.0 + self.jitter * self._rng.random())

    def reset(self) -> None:
        self._failures = 0
