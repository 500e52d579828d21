"""The lossless rate limiter on its own: sliding windows, RetryAfter waited out, a bounded total wait."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.adapters.ratelimit import LosslessRateLimiter, build_rate_limiter

# RetryAfter(...) itself warns about its int/timedelta attribute in PTB 22.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*")


class Endpoint:
    """A fake Bot API call: records call times; raises the queued errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[float, Any]] = []

    async def __call__(self, chat_id: Any = None) -> dict[str, Any]:
        self.calls.append((time.monotonic(), chat_id))
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True, "chat_id": chat_id}


async def send(limiter: LosslessRateLimiter, endpoint: Endpoint, chat_id: Any, budget: float | None = None) -> Any:
    data = {} if chat_id is None else {"chat_id": chat_id, "text": "x"}
    return await limiter.process_request(endpoint, (), {"chat_id": chat_id}, "sendMessage", data, budget)


def max_in_window(times: list[float], period: float) -> int:
    return max(sum(1 for u in times if t <= u < t + period) for t in times)


def test_build_rate_limiter_is_a_ptb_rate_limiter() -> None:
    assert isinstance(build_rate_limiter(), BaseRateLimiter)


async def test_retry_after_is_waited_out_and_nothing_is_lost() -> None:
    limiter = LosslessRateLimiter()
    endpoint = Endpoint(RetryAfter(timedelta(seconds=0.2)))
    start = time.monotonic()
    result = await send(limiter, endpoint, 42)
    assert result == {"ok": True, "chat_id": 42}
    assert len(endpoint.calls) == 2 and limiter.retries == 1
    assert endpoint.calls[1][0] - start >= 0.2


async def test_retry_after_many_times_is_still_retried() -> None:
    limiter = LosslessRateLimiter()
    endpoint = Endpoint(*[RetryAfter(timedelta(seconds=0.01)) for _ in range(5)])
    assert (await send(limiter, endpoint, -77))["ok"]
    assert len(endpoint.calls) == 6 and limiter.retries == 5


async def test_gives_up_when_the_total_wait_would_exceed_the_budget() -> None:
    limiter = LosslessRateLimiter(max_total_wait=1.0)
    endpoint = Endpoint(RetryAfter(30))
    start = time.monotonic()
    with pytest.raises(RetryAfter):
        await send(limiter, endpoint, 42)
    assert len(endpoint.calls) == 1 and time.monotonic() - start < 0.5


async def test_overall_sliding_window_is_never_exceeded() -> None:
    limiter = LosslessRateLimiter(overall_rate=5, overall_period=0.2, margin=0.0)
    endpoint = Endpoint()
    start = time.monotonic()
    results = await asyncio.gather(*(send(limiter, endpoint, 1000 + i) for i in range(16)))
    assert len(results) == 16
    times = [t for t, _ in endpoint.calls]
    assert max_in_window(times, 0.2 - 0.005) <= 5
    assert time.monotonic() - start >= 0.6  # 16 calls at 5 per 0.2 s need three full windows
    assert [c for _, c in endpoint.calls] == [1000 + i for i in range(16)]  # first come, first served


async def test_group_window_does_not_hold_up_private_chats() -> None:
    limiter = LosslessRateLimiter(group_rate=3, group_period=0.3, margin=0.0)
    endpoint = Endpoint()
    group = [send(limiter, endpoint, -500) for _ in range(7)]
    private = [send(limiter, endpoint, 600 + i) for i in range(5)]
    start = time.monotonic()
    await asyncio.gather(*group, *private)
    group_times = [t for t, c in endpoint.calls if c == -500]
    private_times = [t for t, c in endpoint.calls if c != -500]
    assert max_in_window(group_times, 0.3 - 0.005) <= 3 and len(group_times) == 7
    assert max(private_times) - start < 0.1
    assert max(group_times) - start >= 0.6


async def test_a_429_in_a_group_pauses_that_group_only() -> None:
    limiter = LosslessRateLimiter()
    endpoint = Endpoint(RetryAfter(timedelta(seconds=0.3)))
    start = time.monotonic()
    first = asyncio.create_task(send(limiter, endpoint, -1))
    await asyncio.sleep(0.01)
    await send(limiter, endpoint, 5)  # a private chat goes through during the group's pause
    assert time.monotonic() - start < 0.2
    await first
    assert [c for _, c in endpoint.calls] == [-1, 5, -1]


async def test_requests_without_a_chat_are_not_counted() -> None:
    limiter = LosslessRateLimiter(overall_rate=1, overall_period=10.0)
    endpoint = Endpoint()
    start = time.monotonic()
    for _ in range(5):
        await send(limiter, endpoint, None)
    await send(limiter, endpoint, 3)
    assert time.monotonic() - start < 0.2 and len(endpoint.calls) == 6
