"""Per-chat ordered, cross-chat concurrent, bounded handling of incoming updates (every adapter).

One busy chat must never hold up another: each chat has its own FIFO queue and at most one of its
updates runs at a time (a guided flow's steps never race), while up to `max_concurrent` chats run at
once, served round robin so a chat with 300 queued updates gets one turn in line like everyone else.
Updates without a chat (inline queries) skip the per-chat order, bounded by their own semaphore.

Memory stays bounded: at most `max_per_chat` updates wait per chat and `max_pending` in all. When a
queue is full the new update is shed if it is `droppable` (an idempotent read the adapter marked so);
otherwise the oldest droppable one waiting in that chat makes room, and only when none is left does an
owed update (a suggestion, a button press, an officer action) go beyond the per-chat limit -- up to
`max_pending`, the hard cap that protects the process. Shedding is logged with counts, at most once per
`log_every` seconds.

API for adapters (platform-neutral; chat keys are opaque hashables, None = no chat):

    queue = ChatQueue()
    handled = await queue.submit(chat_key, lambda: handle(update))   # waits; False if shed
    accepted = queue.submit_nowait(chat_key, factory)                # fire and forget
    await queue.join()                                              # all accepted work done
    await queue.close()                                             # drain, then refuse new work

`ChatQueueProcessor` plugs a ChatQueue into python-telegram-bot as its BaseUpdateProcessor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Factory = Callable[[], Awaitable[Any]]


@dataclass
class _Item:
    factory: Factory
    droppable: bool
    done: asyncio.Future[bool] | None


@dataclass
class _Chat:
    items: deque[_Item] = field(default_factory=deque)
    #: In the ready line or running (so it is never scheduled twice).
    scheduled: bool = False


class ChatQueue:
    """See the module docstring. All methods must be called from the event loop's thread."""

    def __init__(
        self,
        *,
        max_concurrent: int = 32,
        max_per_chat: int = 64,
        max_pending: int = 4096,
        max_chatless: int = 16,
        log_every: float = 10.0,
        name: str = "updates",
    ) -> None:
        if min(max_concurrent, max_per_chat, max_pending, max_chatless) < 1:
            raise ValueError("ChatQueue limits must be positive")
        self.max_concurrent = max_concurrent
        self.max_per_chat = max_per_chat
        self.max_pending = max_pending
        self.max_chatless = max_chatless
        self.log_every = log_every
        self.name = name
        self._chats: dict[Hashable, _Chat] = {}
        self._ready: deque[Hashable] = deque()
        self._runners: set[asyncio.Task[None]] = set()  # references, so running tasks are not collected
        self._nrunners = 0  # counted synchronously: a finished runner's done-callback may come late
        self._chatless: set[asyncio.Task[None]] = set()
        self._pending = 0  # waiting in chat queues (not running)
        self._running = 0
        self._idle: asyncio.Event | None = None
        self._closed = False
        #: What was shed, by reason ("chat full", "all full", "no chat", "closed"); totals since start.
        self.shed: Counter[str] = Counter()
        self._shed_logged: Counter[str] = Counter()
        self._last_log = 0.0
        self.handled = 0
        self.failed = 0

    # --- state ---------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Updates waiting (accepted, not yet started), in all chats."""
        return self._pending

    @property
    def running(self) -> int:
        """Updates being handled right now (chat and chatless)."""
        return self._running + len(self._chatless)

    def queued(self, chat_key: Hashable) -> int:
        """Updates waiting in one chat's queue."""
        chat = self._chats.get(chat_key)
        return len(chat.items) if chat else 0

    @property
    def idle(self) -> bool:
        return self._pending == 0 and self.running == 0

    async def join(self) -> None:
        """Wait until every accepted update has been handled."""
        while not self.idle:
            if self._idle is None or self._idle.is_set():
                self._idle = asyncio.Event()
            await self._idle.wait()

    async def close(self) -> None:
        """Refuse new work, then wait for what was accepted."""
        self._closed = True
        await self.join()

    # --- submitting ----------------------------------------------------------------------------

    async def submit(self, chat_key: Hashable | None, factory: Factory, *, droppable: bool = False) -> bool:
        """Handle `factory()` in `chat_key`'s order; wait until it ran. False if it was shed instead.

        Exceptions raised by the handler are logged here (handlers are expected to handle their own).
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._accept(chat_key, factory, droppable, done):
            return False
        return await asyncio.shield(done)

    def submit_nowait(self, chat_key: Hashable | None, factory: Factory, *, droppable: bool = False) -> bool:
        """Accept `factory` to run in `chat_key`'s order and return at once; False if shed."""
        return self._accept(chat_key, factory, droppable, None)

    def _accept(self, chat_key: Hashable | None, factory: Factory, droppable: bool,
                done: asyncio.Future[bool] | None) -> bool:
        if self._closed:
            return self._shed("closed")
        item = _Item(factory, droppable, done)
        if chat_key is None:
            if len(self._chatless) >= self.max_chatless:
                return self._shed("no chat")
            task = asyncio.get_running_loop().create_task(self._run_chatless(item))
            self._chatless.add(task)
            return True
        chat = self._chats.get(chat_key)
        if chat is None:
            chat = self._chats[chat_key] = _Chat()
        if len(chat.items) >= self.max_per_chat or self._pending >= self.max_pending:
            reason = "chat full" if len(chat.items) >= self.max_per_chat else "all full"
            if droppable:
                self._forget_if_empty(chat_key, chat)
                return self._shed(reason)
            victim = next((i for i in chat.items if i.droppable), None)
            if victim is not None:
                chat.items.remove(victim)
                self._pending -= 1
                self._finish(victim, False)
                self._shed(reason)
            elif self._pending >= self.max_pending:
                self._forget_if_empty(chat_key, chat)
                return self._shed("all full, owed")
        chat.items.append(item)
        self._pending += 1
        if not chat.scheduled:
            chat.scheduled = True
            self._ready.append(chat_key)
            if self._nrunners < self.max_concurrent:
                self._nrunners += 1
                task = asyncio.get_running_loop().create_task(self._runner())
                self._runners.add(task)
                task.add_done_callback(self._runners.discard)
        return True

    def _forget_if_empty(self, key: Hashable, chat: _Chat) -> None:
        if not chat.items and not chat.scheduled:
            self._chats.pop(key, None)

    def _shed(self, reason: str) -> bool:
        self.shed[reason] += 1
        now = time.monotonic()
        if now - self._last_log >= self.log_every:
            self._last_log = now
            new = self.shed - self._shed_logged
            self._shed_logged = Counter(self.shed)
            log.warning(
                "%s: shed %s (totals %s; %d waiting, %d running)", self.name,
                ", ".join(f"{n} ({r})" for r, n in sorted(new.items())),
                ", ".join(f"{r} {n}" for r, n in sorted(self.shed.items())), self._pending, self.running,
            )
        return False

    # --- running -------------------------------------------------------------------------------

    async def _runner(self) -> None:
        """Take the next ready chat, run ONE of its updates, put the chat back in line if it has more."""
        try:
            while self._ready:
                key = self._ready.popleft()
                chat = self._chats[key]
                item = chat.items.popleft()
                self._pending -= 1
                self._running += 1
                ok = False
                try:
                    ok = await self._call(item)
                finally:
                    self._running -= 1
                    self._finish(item, ok)
                if chat.items:
                    self._ready.append(key)
                else:
                    chat.scheduled = False
                    del self._chats[key]
        finally:
            self._nrunners -= 1  # no await between the empty check above and this
            self._check_idle()

    async def _run_chatless(self, item: _Item) -> None:
        ok = False
        try:
            ok = await self._call(item)
        finally:
            self._finish(item, ok)
            task = asyncio.current_task()
            if task is not None:
                self._chatless.discard(task)
            self._check_idle()

    async def _call(self, item: _Item) -> bool:
        try:
            await item.factory()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failed += 1
            log.exception("%s: an update's handler failed", self.name)
        self.handled += 1
        return True

    @staticmethod
    def _finish(item: _Item, ok: bool) -> None:
        if item.done is not None and not item.done.done():
            item.done.set_result(ok)

    def _check_idle(self) -> None:
        if self.idle and self._idle is not None:
            self._idle.set()


# --- python-telegram-bot -----------------------------------------------------------------------

try:  # The Telegram adapter's processor; other adapters use ChatQueue directly.
    from telegram.ext import BaseUpdateProcessor
except ImportError:  # pragma: no cover - python-telegram-bot is a dependency of the project
    BaseUpdateProcessor = object  # type: ignore[assignment,misc]


class ChatQueueProcessor(BaseUpdateProcessor):  # type: ignore[misc,valid-type]
    """PTB's update processor over a ChatQueue: `ApplicationBuilder().concurrent_updates(processor)`.

    PTB starts one task per update and holds its own semaphore around `do_process_update`; that semaphore
    is sized above the queue's hard cap so it never blocks, and the ChatQueue does the bounding (a
    semaphore held while waiting for a chat's turn would let one flooded group take every slot).
    `key(update)` gives the chat key (None: no chat); `droppable(update)` marks idempotent reads that may
    be shed when the chat's queue is full.
    """

    def __init__(
        self,
        queue: ChatQueue,
        key: Callable[[object], Hashable | None],
        droppable: Callable[[object], bool] = lambda update: False,
    ) -> None:
        super().__init__(queue.max_pending + queue.max_concurrent + queue.max_chatless + 1)
        self.queue = queue
        self.key = key
        self.droppable = droppable

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run PTB's handling of `update` in its chat's order (or shed it, closing the coroutine)."""
        try:
            key = self.key(update)
            droppable = key is not None and self.droppable(update)
        except Exception:  # noqa: BLE001 - a key function failing must not lose the update
            log.exception("could not classify an update; handling it without a chat")
            key, droppable = None, False

        async def run() -> None:
            await coroutine

        if not await self.queue.submit(key, run, droppable=droppable):
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Wait for accepted updates (PTB's stop has already waited for its tasks)."""
        await self.queue.close()
