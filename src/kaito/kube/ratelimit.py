"""A token bucket: ``qps`` tokens a second, at most ``burst`` saved up.

One bucket paces every request the process sends to the API server (client-go's
``flowcontrol`` limiter, QPS 20 / burst 30 by default) and another paces
work-queue retries overall. Tokens may be reserved ahead, driving the balance
negative: the reservation's delay is how long the caller must wait, as with
``golang.org/x/time/rate``'s ``Reserve``.
"""

from __future__ import annotations

import asyncio

from kaito.kube.clock import Clock, RealClock

DEFAULT_CLIENT_QPS = 20.0
DEFAULT_CLIENT_BURST = 30


class TokenBucket:
    def __init__(self, qps: float, burst: int, clock: Clock | None = None) -> None:
        if qps <= 0:
            raise ValueError(f"token bucket qps must be positive, got {qps}")
        if burst < 1:
            raise ValueError(f"token bucket burst must be at least 1, got {burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock or RealClock()
        self._tokens = float(burst)
        self._last: float | None = None

    def _refill(self) -> float:
        now = self._clock.now()
        if self._last is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        return now

    def reserve(self) -> float:
        """Take one token now and return how many seconds the caller must wait before using it."""
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    async def acquire(self) -> None:
        """Wait for a token; a cancelled wait hands its reservation back."""
        delay = self.reserve()
        if delay <= 0:
            return
        try:
            await self._clock.sleep(delay)
        except asyncio.CancelledError:
            self._tokens = min(float(self.burst), self._tokens + 1.0)
            raise

    @property
    def tokens(self) -> float:
        """The current balance (negative while reservations are outstanding)."""
        self._refill()
        return self._tokens
