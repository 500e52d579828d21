"""Broadcast benchmark: the daily push to 1,000 chats through a real PTB Application + rate limiter.

The fake Bot API (tests/fakebotapi.py) enforces Telegram's flood limits as sliding windows (30 sends/s
overall, 20/min per group) and answers 429 with retry_after when exceeded. The push goes through the real
path: bot.handlers.push.tick -> TelegramAdapter.sender -> ExtBot.send_message -> rate limiter -> HTTP.

Scenario "private": 1,000 subscribed private chats (positive ids, so the per-group limit does not apply),
one message each; floor = (1000 - 30) / 30 s (the first 30 go at once). Scenario "group": 22 messages to one
group plus 1 to each of 5 other groups; floor = 60 s (20 at once, the 21st one window later).
Both run with our LosslessRateLimiter and with PTB's AIORateLimiter at its defaults (the baseline).

Usage: .venv/bin/python bench/broadcast.py [--chats 1000] [--no-group] [--only ours|ptb]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakebotapi import FakeBotAPI, FloodLimits  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseRateLimiter, Defaults  # noqa: E402

from bot.adapters.ratelimit import LosslessRateLimiter  # noqa: E402
from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.config import Config, StorageConfig  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.handlers import push  # noqa: E402
from bot.practice import new_doc  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.store import Store  # noqa: E402

PUSH_AT = datetime(2026, 3, 2, 8, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
FIRST_PRIVATE = 700_000_000


def limiters() -> dict[str, type[BaseRateLimiter]]:
    """Ours, and PTB's AIORateLimiter at its defaults (max_retries=0) as the baseline."""
    return {"ours": LosslessRateLimiter, "ptb": AIORateLimiter}


async def make_app(api: FakeBotAPI, limiter: BaseRateLimiter) -> Application:
    app = (
        ApplicationBuilder().token(api.token).base_url(api.base_url).rate_limiter(limiter)
        .defaults(Defaults(parse_mode=ParseMode.HTML)).updater(None).build()
    )
    await app.initialize()
    return app


def subscribe_all(store: Store, chat_ids: list[str]) -> None:
    """1,000 subscriptions written straight to the store (what /subscribe writes), due at 08:00."""
    since = PUSH_AT.replace(hour=7).isoformat()

    def apply(doc: dict) -> None:
        doc["sub"] = {"time": "08:00", "mode": "每天", "since": since, "chat_type": "private", "title": ""}

    for cid in chat_ids:
        store.push_update(cid, apply, new_doc)


async def run_private(name: str, limiter: BaseRateLimiter, n: int) -> dict[str, object]:
    """One push tick to `n` private chats; returns the measured figures."""
    async with FakeBotAPI(flood=FloodLimits()) as api:
        chat_ids = [FIRST_PRIVATE + i for i in range(n)]
        for cid in chat_ids:
            api.chat(cid, "private")
        app = await make_app(api, limiter)
        with tempfile.TemporaryDirectory() as tmp:
            config = Config(storage=StorageConfig(dir=tmp))
            svc = Services(config, load_content(ROOT / "content"), Store(tmp), clock=lambda: PUSH_AT)
            svc.senders["tg"] = TelegramAdapter(app, svc).sender
            subscribe_all(svc.store, [f"tg:{c}" for c in chat_ids])
            start = time.monotonic()
            await push.tick(svc)
            elapsed = time.monotonic() - start
            day = PUSH_AT.date().isoformat()
            docs = [svc.store.push_doc(f"tg:{c}") or {} for c in chat_ids]
            statuses = [d.get("deliveries", {}).get(day, {}).get("status") for d in docs]
            svc.close()
        await app.shutdown()
        delivered = {c.chat_id for c in api.calls if c.method == "sendMessage" and c.ok}
        floor = (n - 30) / 30
        return {
            "limiter": name, "chats": n, "seconds": round(elapsed, 2), "floor": round(floor, 2),
            "x_floor": round(elapsed / floor, 3), "429s": api.flood_429s, "delivered": len(delivered),
            "lost": n - len(delivered), "sent_status": statuses.count("sent"),
        }


async def run_group(name: str, limiter: BaseRateLimiter, per_group: int = 22, others: int = 5) -> dict[str, object]:
    """`per_group` messages to one group and one each to `others` groups, straight through the bot."""
    async with FakeBotAPI(flood=FloodLimits()) as api:
        busy, quiet = -100, [-200 - i for i in range(others)]
        for cid in (busy, *quiet):
            api.chat(cid, "group")
        app = await make_app(api, limiter)
        started = time.monotonic()
        quiet_done: list[float] = []

        async def send(cid: int, i: int) -> bool:
            try:
                await app.bot.send_message(cid, f"第 {i} 条")
            except Exception as e:  # noqa: BLE001 - a lost message is what we measure
                logging.getLogger("bench").info("lost %s #%d: %s", cid, i, e)
                return False
            if cid != busy:
                quiet_done.append(time.monotonic() - started)
            return True

        results = await asyncio.gather(*(send(busy, i) for i in range(per_group)), *(send(c, 0) for c in quiet))
        elapsed = time.monotonic() - started
        await app.shutdown()
        return {
            "limiter": name, "messages": len(results), "seconds": round(elapsed, 2), "floor": 60.0,
            "x_floor": round(elapsed / 60.0, 3), "429s": api.flood_429s, "lost": results.count(False),
            "other_groups_done_by_s": round(max(quiet_done), 2) if quiet_done else None,
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--no-group", action="store_true", help="skip the 60 s group scenario")
    parser.add_argument("--only", choices=["ours", "ptb"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    names = [n for n in limiters() if args.only in (None, n)]
    for name in names:
        cls = limiters()[name]
        print("private", await run_private(name, cls(), args.chats), flush=True)
    if not args.no_group:
        for name in names:
            cls = limiters()[name]
            print("group  ", await run_group(name, cls()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
