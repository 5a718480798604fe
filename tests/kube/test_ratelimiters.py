"""Rate limiters and the token bucket, on a fake clock so every delay is exact."""

from __future__ import annotations

import asyncio

import pytest

from kaito.kube.clock import FakeClock
from kaito.kube.ratelimit import TokenBucket
from kaito.kube.ratelimiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)


def test_exponential_backoff_doubles_from_5ms_and_caps_at_1000s() -> None:
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    delays = [limiter.when("a") for _ in range(20)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[17] == pytest.approx(0.005 * 2**17)  # 655.36 s
    assert delays[18] == 1000.0 and delays[19] == 1000.0
    assert limiter.num_requeues("a") == 20
    for _ in range(200):
        assert limiter.when("a") == 1000.0, "huge failure counts must not overflow"


def test_backoff_is_per_item_and_forget_resets_it() -> None:
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    limiter.when("a")
    limiter.when("a")
    assert limiter.when("b") == 0.005
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == 0.005


def test_bucket_allows_the_burst_then_paces_at_qps() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(TokenBucket(10.0, 100, clock))
    assert [limiter.when(i) for i in range(100)] == [0.0] * 100
    assert [round(limiter.when(i), 6) for i in range(100, 103)] == [0.1, 0.2, 0.3]
    clock.advance(1.0)  # 10 tokens refilled, 3 of them already promised
    assert round(limiter.when("x"), 6) == 0.0
    assert limiter.num_requeues("x") == 0


def test_default_controller_limiter_is_the_max_of_backoff_and_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    # Within the bucket's burst, the per-item backoff decides.
    assert [limiter.when("a") for _ in range(3)] == [0.005, 0.01, 0.02]
    # Once a storm of distinct failing items drains the bucket, the bucket decides.
    for i in range(97):
        limiter.when(i)
    assert round(limiter.when("fresh"), 6) == 0.1
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0


def test_max_of_consults_every_limiter() -> None:
    fast = ItemExponentialFailureRateLimiter(0.001, 1.0)
    slow = ItemExponentialFailureRateLimiter(0.1, 10.0)
    limiter = MaxOfRateLimiter(fast, slow)
    assert limiter.when("a") == 0.1
    assert fast.num_requeues("a") == 1 and slow.num_requeues("a") == 1
    assert limiter.num_requeues("a") == 1


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 10)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)
    with pytest.raises(ValueError):
        ItemExponentialFailureRateLimiter(1.0, 0.5)


async def test_acquire_waits_for_the_next_token_and_a_cancelled_wait_returns_it() -> None:
    clock = FakeClock()
    bucket = TokenBucket(20.0, 30, clock)
    for _ in range(30):
        await bucket.acquire()
    waiter = asyncio.create_task(bucket.acquire())
    await clock.wait_for_waiters(1)
    assert clock.next_deadline() == pytest.approx(0.05)
    clock.advance(0.05)
    await asyncio.wait_for(waiter, timeout=5)

    cancelled = asyncio.create_task(bucket.acquire())
    await clock.wait_for_waiters(1)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert bucket.tokens == pytest.approx(0.0), "a cancelled reservation is handed back"
