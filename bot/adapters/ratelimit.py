"""A lossless rate limiter for PTB: Telegram's flood limits as sliding windows, and RetryAfter waited out.

PTB's AIORateLimiter (at its defaults) uses leaky buckets that allow bursts a sliding-window flood model
rejects, and re-raises the first RetryAfter (max_retries=0), so a broadcast loses messages. This limiter:

* keeps at most `overall_rate` requests with a chat_id per `overall_period` seconds (30/s), and at most
  `group_rate` per group/channel per `group_period` (20/min), as true sliding windows with a small
  safety margin, granting slots first come, first served;
* on RetryAfter waits `retry_after` (+ a little) and retries, any number of times, until
  `max_total_wait` seconds have passed since the first attempt (then it logs and re-raises). A 429 for a
  group pauses that group; for a private chat (or a request without chat) it pauses every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class _Slot:
    """One request's place in a window: `t` is when it finished (inf while in flight)."""

    __slots__ = ("t",)

    def __init__(self) -> None:
        self.t = math.inf


class SlidingWindow:
    """At most `limit` requests in any `period` seconds, counted from when each request FINISHED.

    Telegram counts a request when it arrives, somewhere between our sending it and its answer; counting a
    slot as taken from acquisition until `period` after completion is therefore safe whatever the network
    latency (it costs one round trip per window). Waiters are served in arrival order.
    """

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self.slots: list[_Slot] = []
        self.paused_until = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    def delay(self) -> float:
        """Seconds until a slot is free (0 if one is free now; inf if all wait on requests in flight)."""
        now = self.clock()
        self.slots = [s for s in self.slots if now - s.t < self.period]
        wait = self.paused_until - now
        if len(self.slots) >= self.limit:
            wait = max(wait, min(s.t for s in self.slots) + self.period - now)
        return max(wait, 0.0)

    async def acquire(self) -> _Slot:
        """Wait for a slot and take it; pass it to `release` when the request has finished."""
        async with self._lock:
            while (wait := self.delay()) > 0:
                if math.isinf(wait):
                    self._released.clear()
                    await self._released.wait()
                else:
                    await asyncio.sleep(wait)
            slot = _Slot()
            self.slots.append(slot)
            return slot

    def release(self, slot: _Slot) -> None:
        """The slot's request finished (answered or failed): its window starts now."""
        slot.t = self.clock()
        self._released.set()

    def pause(self, seconds: float) -> None:
        """Grant nothing for `seconds` (after a RetryAfter)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    @property
    def idle(self) -> bool:
        """No slot taken within the window and not paused (safe to forget)."""
        return self.delay() == 0 and not self.slots and not self._lock.locked()


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds (int or timedelta, whichever PTB gives)."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class LosslessRateLimiter(BaseRateLimiter[float]):
    """Sliding-window flood control that waits instead of dropping (see the module docstring).

    `rate_limit_args` (per call) overrides `max_total_wait` in seconds.
    """

    def __init__(
        self,
        overall_rate: int = 30,
        overall_period: float = 1.0,
        group_rate: int = 20,
        group_period: float = 60.0,
        margin: float = 0.02,
        max_total_wait: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = SlidingWindow(overall_rate, overall_period * (1 + margin), clock)
        self.group_rate = group_rate
        self.group_period = group_period * (1 + margin)
        self.max_total_wait = max_total_wait
        self.clock = clock
        self.groups: dict[str | int, SlidingWindow] = {}
        self.retries = 0  # RetryAfter received (for logs and the benchmark)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group(self, key: str | int) -> SlidingWindow:
        if len(self.groups) > 1024:
            for k in [k for k, w in self.groups.items() if k != key and w.idle]:
                del self.groups[k]
        window = self.groups.get(key)
        if window is None:
            window = self.groups[key] = SlidingWindow(self.group_rate, self.group_period, self.clock)
        return window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: float | None,
    ) -> JSON:
        """Wait for the windows, call, and on RetryAfter wait and call again until the time budget is spent."""
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        group = self._group(chat_id) if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0) else None
        budget = self.max_total_wait if rate_limit_args is None else float(rate_limit_args)
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            slots: list[tuple[SlidingWindow, _Slot]] = []
            try:
                if group is not None:
                    slots.append((group, await group.acquire()))
                if chat_id is not None and not data.get("allow_paid_broadcast"):
                    slots.append((self.overall, await self.overall.acquire()))
                else:
                    while (wait := self.overall.paused_until - self.clock()) > 0:
                        await asyncio.sleep(wait)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                flood = exc
            finally:
                for window, slot in slots:
                    window.release(slot)
            self.retries += 1
            wait = retry_seconds(flood) + 0.1
            if self.clock() - started + wait > budget:
                log.error("%s to %s: flood wait %.1fs would exceed %.0fs after %d attempts; giving up",
                          endpoint, chat_id, wait, budget, attempt)
                raise flood
            log.warning("%s to %s: flood wait %.1fs (attempt %d); retrying", endpoint, chat_id, wait, attempt)
            (group or self.overall).pause(wait)
            await asyncio.sleep(wait)


def build_rate_limiter() -> BaseRateLimiter:
    """The limiter the Telegram adapter passes to ApplicationBuilder().rate_limiter(...)."""
    return LosslessRateLimiter()
