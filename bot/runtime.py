"""One process, every configured platform: one store, one scheduler tick, each push through its own platform,
and the officers' web desk ([desk] enabled) in the same event loop.

`serve(config, svc)` starts each configured platform (Telegram, WeCom, ...) in one asyncio loop, runs every
feature's tick on the minute once for all of them (bot/ticks.py), and stops them all in reverse order on
SIGINT/SIGTERM or as soon as one platform ends by itself (WeCom's `disconnected_event`, a rejected secret): its
exit status is the process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Any, Protocol

from bot.config import Config
from bot.services import Services
from bot.ticks import Ticker, start_scheduler

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Platform(Protocol):
    """What the runtime needs of an adapter."""

    #: Short name for the logs ("telegram", "wecom", "dingtalk").
    name: str
    #: Whether this platform's own scheduler runs the ticks on the minute (PTB's JobQueue does).
    runs_ticks: bool

    async def start(self) -> None:
        """Connect and start receiving; raise ConfigError (exit status 2) for rejected credentials."""

    async def wait(self) -> int:
        """Return an exit status when the platform ends by itself; otherwise never return."""

    async def stop(self) -> None:
        """Disconnect cleanly (idempotent)."""


class TelegramPlatform:
    """The PTB Application, started and stopped in PTB's own order inside the shared loop."""

    name = "telegram"
    runs_ticks = True

    def __init__(self, config: Config, svc: Services) -> None:
        from bot.adapters.telegram import build_application

        self.config = config
        self.app = build_application(config, svc)
        self._started = False

    async def start(self) -> None:
        """Initialise, start receiving and processing; a refused token or webhook is a ConfigError (exit status 2),
        an unreachable Bot API PlatformUnreachable (1), each one line (bot/adapters/telegram.py)."""
        from bot.adapters.telegram import initialize, start_updater

        app = self.app
        await initialize(app, self.config)
        self._started = True  # from here on, stop() shuts PTB down in its own order
        try:
            if app.post_init:
                await app.post_init(app)
            await start_updater(app, self.config)
            await app.start()
        except BaseException:
            await self.stop()  # the runtime stops only platforms that started: this one did not
            raise

    @property
    def ticker(self) -> Ticker:
        """The feature ticks PTB's JobQueue runs (the runtime drains it before stopping any platform)."""
        return self.app.bot_data["adapter"].ticker

    async def wait(self) -> int:
        await asyncio.Event().wait()  # PTB keeps retrying on network errors; it never ends by itself
        return 0

    async def stop(self) -> None:
        from bot.adapters.telegram import stop_application

        if self._started:
            await stop_application(self.app)
        self._started = False


def configured_platforms(config: Config, svc: Services, only: str | None = None) -> list[Platform]:
    """The platforms `config` sets up (all of them, or just `only`)."""
    platforms: list[Platform] = []
    if config.telegram.token and only in (None, "telegram"):
        platforms.append(TelegramPlatform(config, svc))
    if config.wecom.enabled and only in (None, "wecom"):
        from bot.adapters.wecom import WecomAdapter

        platforms.append(WecomAdapter(config, svc))
    if config.dingtalk.enabled and only in (None, "dingtalk"):
        from bot.adapters.dingtalk import DingtalkAdapter

        platforms.append(DingtalkAdapter(config, svc))
    return platforms


async def serve(platforms: list[Platform], svc: Services) -> int:
    """Run `platforms` until a signal or until one of them ends; returns the exit status."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler: AsyncIOScheduler | None = None
    ticker: Ticker | None = None
    desk: Any = None
    started: list[Platform] = []
    code = 0
    # A platform whose own scheduler runs the ticks (Telegram) fires the first run as it starts: held until every
    # platform is up, so that run serves all of them (bot/ticks.py Ticker.hold).
    owned = [t for t in (getattr(p, "ticker", None) for p in platforms) if t is not None]
    for t in owned:
        t.hold()
    try:
        for platform in platforms:
            await platform.start()
            started.append(platform)
            log.info("%s started", platform.name)
        if svc.config.desk.enabled:  # the officers' web desk, in this loop, once the senders are in place
            from bot.desk import DeskServer

            desk = DeskServer(svc)
            await desk.start()
        if not any(p.runs_ticks for p in platforms):  # on the minute, as PTB's JobQueue does (bot/ticks.py)
            ticker = Ticker(svc)
            scheduler = start_scheduler(ticker, svc.config.tz)
        for t in owned:
            await t.release()
        waiters = {asyncio.create_task(p.wait(), name=p.name): p for p in started}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *waiters], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper:
                code = task.result()
                log.warning("%s ended (exit status %d); stopping", waiters[task].name, code)
        for task in [stopper, *waiters]:
            task.cancel()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        # Running ticks finish while every platform is still up: the runtime's own ticker, or the one a platform's
        # scheduler runs (Telegram's JobQueue). That one is drained by its platform's stop too, but only when that
        # platform stops, after the platforms stopped before it: their pushes still in flight would fail.
        for running in [ticker, *(getattr(p, "ticker", None) for p in started)]:
            if running is not None:
                await running.stop()
        if desk is not None:
            await desk.stop()  # before the platforms: its last notifications still need their senders
        for platform in reversed(started):
            try:
                await platform.stop()
            except Exception:
                log.exception("stopping %s failed", platform.name)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return code
