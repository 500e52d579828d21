"""End-to-end harness: the real PTB Application from `build_application`, against the fake Bot API.

`running_bot(tmp_path)` starts the bot exactly as bot/runtime.py does (post_init, polling or webhook,
allowed_updates=ALL) with a real store in tmp_path, the real content and a controllable clock, and
stops it cleanly (updater.stop -> app.stop -> post_stop -> app.shutdown -> post_shutdown).
Tests talk to it as users: `await bot.say("/today", chat_id=GROUP)` returns the messages the bot sent back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fakebotapi import DEFAULT_USER, Call, FakeBotAPI, FloodLimits, User
from telegram.ext import Application

from bot.adapters.telegram import build_application, stop_application
from bot.config import BotConfig, Config, ContentConfig, StorageConfig, TelegramConfig
from bot.services import Services, create_services

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_BASE = "https://bot.example.org:8443"
WEBHOOK_SECRET = "e2e-secret_token"
#: A Monday morning in Shanghai; tests move it with `clock.advance(...)` / `clock.set(...)`.
START = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
GROUP = -4001
SUPERGROUP = -1001234567890
ALICE = User(2001, "李四", "lisi")
BOB = User(2002, "王五", "wangwu")


@dataclass
class Clock:
    """The bot's Services.clock: an aware datetime that only moves when a test says so."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return self.now


@dataclass
class RunningBot:
    """The running bot and the fake Telegram it talks to."""

    api: FakeBotAPI
    app: Application
    services: Services
    config: Config
    clock: Clock
    mode: str
    #: Set by a test that provokes invalid requests on purpose (skips the end-of-test validity check).
    allow_rejected: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    async def say(
        self, text: str, *, user: User = DEFAULT_USER, chat_id: int | None = None, replies: int = 1,
        timeout: float = 5.0, chat_title: str | None = None, **push: Any,
    ) -> list[Call]:
        """`user` sends `text` (private chat unless chat_id); wait for `replies` answered messages back."""
        target = user.id if chat_id is None else chat_id
        if chat_id is not None and chat_id < 0 and chat_title is None and chat_id not in self.api.chats:
            chat_title = "工会群"
        mark = self.api.mark()
        self.api.push_message(text, user=user, chat_id=chat_id, chat_title=chat_title, **push)
        return await self.api.wait_for("sendMessage", replies, chat_id=target, since=mark, ok=True, timeout=timeout)

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until every update the bot has taken in was handled (chats run concurrently: issue 10)."""
        await asyncio.wait_for(self.app.bot_data["updates"].join(), timeout)

    async def handled(self, update: dict[str, Any], timeout: float = 5.0) -> None:
        """Wait until the bot took in `update` (a long-polling bot confirms it with its next getUpdates offset) and
        has handled it: for updates that answer nothing, such as a poll vote after the close."""
        assert self.mode == "polling" and self.api._cond is not None
        uid = update["update_id"]

        def fetched() -> bool:
            return any(c.method == "getUpdates" and int(c.params.get("offset") or 0) > uid for c in self.api.calls)

        async with self.api._cond:
            await asyncio.wait_for(self.api._cond.wait_for(fetched), timeout)
        await asyncio.wait_for(self.app.update_queue.join(), timeout)
        await self.settled(timeout)

    async def said(self, text: str, **kw: Any) -> str:
        """The text of the one reply to `text` (all replies joined if several were asked for)."""
        return "\n".join(c.text for c in await self.say(text, **kw))

    async def silent(
        self, text: str, *, user: User = DEFAULT_USER, chat_id: int | None = None, **push: Any
    ) -> list[Call]:
        """`user` sends `text`; return what the bot sent for it (expected: nothing).

        No sleeping: a /help probe follows in the same chat, and updates are handled in order, so
        whatever the first message caused was sent before the probe's answer.
        """
        target = user.id if chat_id is None else chat_id
        mark = self.api.mark()
        self.api.push_message(text, user=user, chat_id=chat_id, **push)
        probe = await self.say("/help", user=user, chat_id=chat_id)
        end = self.api.calls.index(probe[0])
        return [c for c in self.api.calls[mark:end] if c.method != "getUpdates" and c.chat_id == target]


async def press(api: FakeBotAPI, call: Call, label: str, user: User, *, wait: str = "editMessageText") -> list[Call]:
    """`user` presses the button labelled `label` (substring) on the bot's message `call`; wait for `wait`."""
    chat_id, mid = call.params["chat_id"], call.result["message_id"]
    msg = api.messages[(chat_id, mid)]
    labels = [b["text"] for row in msg.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
    text = next((t for t in labels if label in t), None)
    assert text is not None, f"no button {label!r} in {labels}"
    mark = api.mark()
    api.press_button(chat_id, mid, text=text, user=user)
    return await api.wait_for(wait, since=mark, ok=True, chat_id=chat_id)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for PTB's webhook server, which cannot report a port 0 choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(api: FakeBotAPI, data_dir: Path, mode: str = "polling", officers: tuple[int, ...] = (),
                content_dir: Path | None = None) -> Config:
    """A Config pointing the bot at the fake server, with the real content (or `content_dir`) and `data_dir` for
    the store."""
    port = free_port() if mode == "webhook" else 8443
    token_id = api.token.split(":")[0]
    return Config(
        telegram=TelegramConfig(
            token=api.token, api_base_url=api.base_url, mode=mode, listen="127.0.0.1", port=port,
            webhook_url=f"{WEBHOOK_BASE}/{token_id}" if mode == "webhook" else "", secret_token=WEBHOOK_SECRET,
        ),
        bot=BotConfig(officers=officers),
        storage=StorageConfig(dir=str(data_dir)),
        content=ContentConfig(dir=str(content_dir or ROOT / "content")),
    )


async def start_updater(app: Application, config: Config, api: FakeBotAPI) -> None:
    """Start polling or the webhook server with the same arguments as bot/runtime.py."""
    from bot.adapters.telegram import updater_args

    mode, kwargs = updater_args(config)
    assert app.updater is not None
    if mode == "webhook":
        api.webhook_routes[WEBHOOK_BASE] = f"http://127.0.0.1:{config.telegram.port}"
        await app.updater.start_webhook(**kwargs)
    else:
        await app.updater.start_polling(**kwargs, poll_interval=0.0, timeout=10)


async def stop_app(app: Application) -> None:
    """PTB's own shutdown order, exactly as the runtime stops the bot."""
    await stop_application(app)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, mode: str = "polling", flood: FloodLimits | None = None, officers: tuple[int, ...] = (),
    clock: Clock | None = None, api: FakeBotAPI | None = None, content_dir: Path | None = None,
) -> AsyncIterator[RunningBot]:
    """The real bot running against a fresh fake server; asserts on exit that Telegram rejected nothing."""
    own_api = api is None
    server = api or await FakeBotAPI(flood=flood).start()
    try:
        config = make_config(server, tmp_path / "data", mode, officers, content_dir)
        clk = clock or Clock()
        services = create_services(config, clock=clk)
        app = build_application(config, services)
        await app.initialize()
        try:
            if app.post_init:
                await app.post_init(app)
            await start_updater(app, config, server)
            await app.start()
            running = RunningBot(server, app, services, config, clk, mode)
            yield running
        finally:
            await stop_app(app)
        if not running.allow_rejected:
            assert not server.rejected(), f"Telegram refused the bot's requests: {server.rejected()}"
    finally:
        if own_api:
            await server.stop()


