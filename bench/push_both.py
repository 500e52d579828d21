"""Push benchmark for one process serving Telegram and WeCom together (issue 9).

One process (one Services, one Store) runs both real adapters -- the PTB Application (TelegramPlatform, with our
LosslessRateLimiter) and the WecomAdapter on Tencent's SDK over TLS -- against both fakes with their limits on:
FakeBotAPI(flood=FloodLimits()) (30 sends/s overall, 429 beyond) and FakeWeCom(limits=True) (30 a minute and
1,000 an hour per chat, 45009 beyond; proactive sends only where someone talked). Harness: tests/multi_e2e.py.

Setup (not timed), through real messages: each of --tg private chats sends `/subscribe 08:00` on Telegram; in each
of --wecom groups the configured officer sends `@工会助手 订阅 08:00` (which is what lets the bot push there, and
makes the fake know it as a group). Then the Telegram flood window is let drain (1.1 s), the fixed clock is set to
08:00:05 and ONE push tick runs (bot.ticks.run_ticks, the runtime's job). Measured: the tick's duration, and per
platform the time from the tick's start until its last chat got its message (the fake's record of the accepted
send); lost = chats with no push, duplicated = chats with more than one. Baselines in the same run: the same
process with only the Telegram chats subscribed, and with only the WeCom groups. "both" runs twice: Telegram
chats subscribed first, then WeCom groups first (the push tick takes due chats in store order, 32 at a time
across platforms, so the order decides who waits behind Telegram's 30/s).

Usage: .venv/bin/python bench/push_both.py [--tg 200] [--wecom 200]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from e2e import Clock  # noqa: E402
from fakebotapi import FloodLimits, User  # noqa: E402
from multi_e2e import WECOM_OFFICER, fakes, running_both  # noqa: E402

from bot import texts  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
SUBSCRIBE_AT = datetime(2026, 3, 2, 7, 0, tzinfo=TZ)
PUSH_AT = datetime(2026, 3, 2, 8, 0, 5, tzinfo=TZ)
FIRST_PRIVATE = 700_000_000


async def scenario(name: str, n_tg: int, n_wc: int, wecom_first: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        async with fakes(Path(tmp), flood=FloodLimits(), limits=True) as (api, wc):
            clock = Clock(SUBSCRIBE_AT)
            async with running_both(Path(tmp), api, wc, clock=clock) as both:
                users = [User(FIRST_PRIVATE + i, "职工", None) for i in range(n_tg)]
                groups = [f"wrBench{i:04d}" for i in range(n_wc)]
                # --- setup through real messages (not timed); the store keeps subscription order
                sem = asyncio.Semaphore(16)

                async def sub(g: str) -> None:
                    async with sem:
                        (reply,) = await both.wc_say("订阅 08:00", chatid=g, userid=WECOM_OFFICER, timeout=60)
                        assert "已订阅" in reply.content, reply.content

                if wecom_first:
                    await asyncio.gather(*(sub(g) for g in groups))
                mark = api.mark()
                for u in users:
                    api.push_message("/subscribe 08:00", user=u)
                if users:
                    await api.wait_for("sendMessage", n_tg, since=mark, ok=True, timeout=120)
                if not wecom_first:
                    await asyncio.gather(*(sub(g) for g in groups))
                subs = sum(1 for d in both.services.store.push_docs() if d.get("sub"))
                assert subs == n_tg + n_wc, (subs, n_tg, n_wc)
                await asyncio.sleep(1.1)  # let Telegram's 1 s flood window (and the bot's limiter) drain
                tg_mark, wc_mark, tg_429 = api.mark(), len(wc.frames), api.flood_429s
                wc_retries = both.wecom.retries
                # --- one push tick at 08:00:05
                clock.set(PUSH_AT)
                t0 = time.monotonic()
                await both.tick()
                tick_s = time.monotonic() - t0
                # --- what the chats received
                tg_ok = [c for c in api.find("sendMessage", since=tg_mark, ok=True) if texts.PUSH_FOOTER in c.text]
                wc_ok = wc.find("aibot_send_msg", since=wc_mark, ok=True)
                tg_got = Counter(c.chat_id for c in tg_ok)
                wc_got = Counter(f.chatid for f in wc_ok)
                rate_refusals = sum(1 for f in wc.find("aibot_send_msg", since=wc_mark, ok=False)
                                    if f.errcode == 45009)
                return {
                    "scenario": name,
                    "tg": n_tg,
                    "wecom": n_wc,
                    "tick_s": tick_s,
                    "tg_done_s": max((c.time for c in tg_ok), default=t0) - t0 if n_tg else None,
                    "wc_done_s": max((f.at for f in wc_ok), default=t0) - t0 if n_wc else None,
                    "lost": sum(1 for u in users if tg_got[u.id] == 0) + sum(1 for g in groups if wc_got[g] == 0),
                    "dup": sum(n - 1 for n in tg_got.values() if n > 1) + sum(n - 1 for n in wc_got.values() if n > 1),
                    "429s": api.flood_429s - tg_429,
                    "45009s": rate_refusals,
                    "wc_retries": both.wecom.retries - wc_retries,
                }


def fmt(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


async def main(n_tg: int, n_wc: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    rows = [
        await scenario("both, Telegram subscribed first", n_tg, n_wc),
        await scenario("both, WeCom subscribed first", n_tg, n_wc, wecom_first=True),
        await scenario("Telegram alone", n_tg, 0),
        await scenario("WeCom alone", 0, n_wc),
    ]
    cols = ["scenario", "tg", "wecom", "tick_s", "tg_done_s", "wc_done_s", "lost", "dup", "429s", "45009s",
            "wc_retries"]
    widths = [max(len(c), *(len(fmt(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(fmt(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))
    floor = max(0.0, (n_tg - 30) / 30)
    print(f"Telegram floor for {n_tg} private chats at 30/s (first 30 at once): {floor:.2f} s; "
          "WeCom's limits are per chat (one push each: no floor)")
    bad = any(r["lost"] or r["dup"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tg", type=int, default=200, help="Telegram private chats")
    ap.add_argument("--wecom", type=int, default=200, help="WeCom groups")
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.tg, a.wecom)))
