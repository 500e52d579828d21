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
        #: Requests waiting in `acquire` (for `backlog`).
        self.waiting = 0
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

    def backlog(self, sends: int = 1) -> float:
        """Seconds until `sends` more requests, queued behind those already waiting, could all start.

        An estimate: requests in flight count as finishing now, and each future one as finishing when it
        starts (both optimistic by one round trip).
        """
        self.delay()  # forget slots that left the window
        now = self.clock()
        times = sorted(min(s.t, now) for s in self.slots)
        t = max(now, self.paused_until)
        for _ in range(self.waiting + max(sends, 0)):
            if len(times) >= self.limit:
                t = max(t, times[-self.limit] + self.period)
            times.append(t)
        return t - now

    async def acquire(self) -> _Slot:
        """Wait for a slot and take it; pass it to `release` when the request has finished."""
        self.waiting += 1
        try:
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
        finally:
            self.waiting -= 1

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
        return self.delay() == 0 and not self.slots and not self._lock.locked() and not self.waiting


class ChatWindows:
    """Per-chat sliding windows with one platform's limits, plus one overall window (any adapter).

    Telegram: 20 per group per minute and 30 per second overall; WeCom: 30 per chat per minute, e.g.
    `ChatWindows(30, 60.0, overall_rate=..., overall_period=...)`. Keys are opaque (compared with ==).
    Each chat waits on its own window only, so while one chat waits out its minute the others go at once;
    nobody holds the overall window while waiting for a chat. Idle chats are forgotten beyond
    `max_chats` windows.
    """

    def __init__(
        self,
        chat_rate: int,
        chat_period: float,
        overall_rate: int,
        overall_period: float,
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 1024,
    ) -> None:
        self.chat_rate = chat_rate
        self.chat_period = chat_period * (1 + margin)
        self.overall = SlidingWindow(overall_rate, overall_period * (1 + margin), clock)
        self.clock = clock
        self.max_chats = max_chats
        self.chats: dict[Any, SlidingWindow] = {}

    def window(self, key: Any) -> SlidingWindow:
        """The chat's window (made on first use)."""
        if len(self.chats) > self.max_chats:
            for k in [k for k, w in self.chats.items() if k != key and w.idle]:
                del self.chats[k]
        window = self.chats.get(key)
        if window is None:
            window = self.chats[key] = SlidingWindow(self.chat_rate, self.chat_period, self.clock)
        return window

    async def acquire(self, key: Any | None, *, overall: bool = True) -> list[tuple[SlidingWindow, _Slot]]:
        """Wait for the chat's window (if `key`), then the overall one (if `overall`); release when done."""
        slots: list[tuple[SlidingWindow, _Slot]] = []
        try:
            if key is not None:
                window = self.window(key)
                slots.append((window, await window.acquire()))
            if overall:
                slots.append((self.overall, await self.overall.acquire()))
        except BaseException:
            self.release(slots)
            raise
        return slots

    @staticmethod
    def release(slots: list[tuple[SlidingWindow, _Slot]]) -> None:
        """The request finished: its windows start counting it now."""
        for window, slot in slots:
            window.release(slot)

    def backlog(self, key: Any | None, sends: int = 1) -> float:
        """Seconds until `sends` more messages to this chat could all be sent (0: at once)."""
        wait = self.overall.backlog(sends)
        window = self.chats.get(key) if key is not None else None
        if window is not None:
            wait = max(wait, window.backlog(sends))
        return wait


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
        self.windows = ChatWindows(group_rate, group_period, overall_rate, overall_period, margin, clock)
        self.overall = self.windows.overall
        self.group_rate = group_rate
        self.group_period = self.windows.chat_period
        self.max_total_wait = max_total_wait
        self.clock = clock
        self.groups: dict[str | int, SlidingWindow] = self.windows.chats
        self.retries = 0  # RetryAfter received (for logs and the benchmark)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group(self, key: str | int) -> SlidingWindow:
        return self.windows.window(key)

    @staticmethod
    def _group_key(chat_id: Any) -> str | int | None:
        """The per-group window's key for a Bot API chat_id; None for a private chat or no chat."""
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
            return chat_id
        return None

    def backlog(self, chat_id: Any, sends: int = 1) -> float:
        """Seconds until `sends` more messages to `chat_id` could all go out (0: at once).

        For flood sense (bot/flood.py): a group whose minute window is spent has a backlog of up to a
        minute; a private chat only waits for the overall 30/s.
        """
        key = self._group_key(chat_id)
        return self.windows.backlog(key, sends)

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
        key = self._group_key(chat_id)
        group = self._group(key) if key is not None else None
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
