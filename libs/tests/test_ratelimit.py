"""The per-client token bucket."""

from __future__ import annotations

import pytest

from bansos_libs.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_client_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(10.0)
    assert limiter.acquire("b") == 0.0  # another client is not affected
    clock.now = 10.0
    assert limiter.acquire("a") == 0.0


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.acquire(key)
    assert len(limiter._buckets) == 2


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(per_minute=0, burst=1)
