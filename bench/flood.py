"""Flood benchmark (issue 10): private-reply latency while one group floods the bot, old vs new handling.

The scenario of tests/test_flood_e2e.py: the real Application against the fake Bot API with its flood model
on (20 sends/min per group, 30/s overall, 429 beyond); one group sends 300 messages mentioning the bot
within 10 s (a third 今日, a third five common searches, a third distinct searches) while 20 private users
each send `/help` then `搜索 职代会`. Latency = when the fake server received the answer minus when the
user's update was pushed (real time, one clock). Each mode runs in the same process, one after another:

* sequential: one update after another, no flood sense (the old behaviour: concurrent_updates off);
* sequential+flood: one after another, with bot/flood.py (dedup and busy note) on;
* concurrent+flood: the ChatQueue update processor and flood sense (the new behaviour).

A private answer not received within --timeout seconds after the flood counts as infinitely late.

Usage: .venv/bin/python bench/flood.py [--messages 300] [--seconds 10] [--users 20] [--timeout 30]
                                      [--only sequential|sequential+flood|concurrent+flood]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from e2e import Clock, make_config, start_updater, stop_app  # noqa: E402
from fakebotapi import FakeBotAPI, FloodLimits, User  # noqa: E402
from test_flood_e2e import FLOOD_GROUP, flood_scenario, rss_mb  # noqa: E402

from bot.adapters.telegram import build_application  # noqa: E402
from bot.services import create_services  # noqa: E402

MODES = {
    "sequential": {"concurrent": False, "flood_sense": False},
    "sequential+flood": {"concurrent": False, "flood_sense": True},
    "concurrent+flood": {"concurrent": True, "flood_sense": True},
}


def fmt(seconds: float) -> str:
    return "unanswered" if math.isinf(seconds) else f"{seconds * 1000:8.0f} ms"


async def run_mode(name: str, args: argparse.Namespace, owed: int) -> dict[str, object]:
    api = await FakeBotAPI(flood=FloodLimits()).start()
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(api, Path(tmp) / "data")
        services = create_services(config, clock=Clock())
        app = build_application(config, services, **MODES[name])
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await start_updater(app, config, api)
        await app.start()
        warm = User(5999, "预热", "warmup")
        for text in ("搜索 职代会", "/help"):
            mark = api.mark()
            api.push_message(text, user=warm)
            await api.wait_for("sendMessage", chat_id=warm.id, since=mark, ok=True, timeout=60)
        before = rss_mb()
        started = time.monotonic()
        result = await flood_scenario(api, group_messages=args.messages, seconds=args.seconds,
                                      private_users=args.users, private_timeout=args.timeout, owed=owed)
        lat = result.private_latencies
        def receipts() -> list[float]:
            return [c.time - started for c in api.calls if c.method == "sendMessage" and c.ok
                    and c.chat_id == FLOOD_GROUP and "已收到你的合理化建议" in c.text]

        row: dict[str, object] = {
            "mode": name,
            "receipts": len(receipts()),
            "p50": result.percentile(50),
            "p99": result.percentile(99),
            "answered": sum(1 for x in lat if not math.isinf(x)),
            "asked": len(lat),
            "group_sends": len([c for c in api.calls if c.method == "sendMessage" and c.ok
                                and c.chat_id == FLOOD_GROUP]),
            "429s": api.flood_429s,
            "rss_mb": rss_mb() - before,
            "wall": time.monotonic() - started,
        }
        updates = app.bot_data["updates"]
        if name == "concurrent+flood":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(updates.join(), args.drain)
            done = receipts()
            lost = f"{owed - len(done)} missing" if len(done) < owed else "none lost"
            row["drained"] = f"{len(done)} receipts, last at {max(done):.0f} s ({lost})" if done else "-"
            await stop_app(app)
        else:
            # The old behaviour still has minutes of group replies queued: stop polling and abandon them
            # (asyncio.run cancels the waiting tasks when this mode returns).
            if app.updater is not None:
                await app.updater.stop()
            services.close()
        await api.stop()
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--owed", type=int, default=30,
                        help="second scenario: this many of the group's messages are suggestions (owed receipts)")
    parser.add_argument("--drain", type=float, default=240.0,
                        help="concurrent mode: wait this long for every owed receipt before stopping")
    parser.add_argument("--only", choices=list(MODES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL + 1)
    warnings.simplefilter("ignore")
    for owed in (0, args.owed) if args.owed else (0,):
        print(f"\nflood: {args.messages} group messages in {args.seconds:.0f} s"  # noqa: T201
              + (f" ({owed} of them suggestions: owed receipts)" if owed else " (reads only)")
              + f", {args.users} private users x (/help, 搜索 职代会); flood model on; timeout {args.timeout:.0f} s",
              flush=True)
        print(f"{'mode':<18} {'private p50':>12} {'private p99':>12} {'answered':>9} {'group sends':>12} "  # noqa: T201
              f"{'receipts':>9} {'429s':>5} {'rss +MB':>8} {'wall s':>7}", flush=True)
        for name in [args.only] if args.only else list(MODES):
            r = asyncio.run(run_mode(name, args, owed))
            print(f"{r['mode']:<18} {fmt(r['p50']):>12} {fmt(r['p99']):>12} "  # type: ignore[arg-type] # noqa: T201
                  f"{r['answered']:>4}/{r['asked']:<4} {r['group_sends']:>12} {r['receipts']:>9} {r['429s']:>5} "
                  f"{r['rss_mb']:>8.1f} {r['wall']:>7.1f}", flush=True)
            if owed and "drained" in r:
                print(f"{'':<18} then, waiting for the group's send budget: {r['drained']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
