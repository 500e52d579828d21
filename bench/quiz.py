"""每日一题 benchmark: /quiz latency, a 1,000-poll push under Telegram's flood limits, store growth, /rank at scale.

1. `/quiz` reply latency: --messages members (each in their own private chat) send /quiz to the real PTB bot
   against the fake Bot API, 25 a second (below the 30 a second our rate limiter enforces, which would otherwise
   hold every 31st reply for up to a second); timed from the update entering the fake's queue to the sendPoll's
   answer.
   Baseline in the same run: /today (a plain message) the same way, and /quiz through bot.commands.dispatch alone.
2. Push: --chats private chats subscribed to the quiz at 08:00, one quiz tick through the real Telegram adapter and
   our rate limiter against the fake's flood model (30 sends/s overall); floor (n - 30) / 30 s. The practice
   broadcast (bench/broadcast.py's scenario) runs in the same process as the baseline.
3. Store growth: --answers answers recorded through bot.quiz.record_answer (one durable write each; 50 chats of
   200 members over the days); bytes on disk after compaction (the snapshot) and the journal's peak, per 10,000.
4. /rank at --stored answers (loaded in bulk: 200 chats of 50 members over 10 days): latency through dispatch
   (the per chat-month index), against ranking by scanning every stored document (what it would cost without it).

Usage: .venv/bin/python bench/quiz.py [--messages 300] [--chats 1000] [--answers 10000] [--stored 100000]
       [--skip-push]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import broadcast  # noqa: E402
from e2e import Clock, running_bot  # noqa: E402
from fakebotapi import FakeBotAPI, FloodLimits, User  # noqa: E402

from bot import quiz as Q  # noqa: E402
from bot.adapters.ratelimit import LosslessRateLimiter  # noqa: E402
from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.commands import dispatch  # noqa: E402
from bot.config import Config, StorageConfig  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.core import Request  # noqa: E402
from bot.handlers import quiz as quiz_handlers  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.store import Store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PUSH_AT = datetime(2026, 3, 2, 8, 0, 5, tzinfo=TZ)
#: Seconds between the latency probes (25 a second, below the 30 a second our rate limiter enforces).
PACE = 0.04


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def line(label: str, ms: list[float]) -> str:
    return f"{label}: p50 {pct(ms, 50):.2f} ms, p99 {pct(ms, 99):.2f} ms, mean {statistics.mean(ms):.2f} ms"


# --- 1. /quiz latency -------------------------------------------------------------------------------------


async def latency(messages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), clock=Clock(PUSH_AT)) as bot:
            api = bot.api
            await asyncio.to_thread(lambda: bot.services.search)  # the index the bot loads at start: not timed
            base: list[float] = []
            for i in range(-10, messages):
                uid = f"tg:{900_000_010 + i}"
                req = Request(chat_id=uid, chat_type="private", user_id=uid, user_name="u", text="/quiz")
                t0 = time.perf_counter()
                await dispatch(req, bot.services)
                if i >= 0:
                    base.append((time.perf_counter() - t0) * 1000)
            results: dict[str, list[float]] = {}
            warm = 10  # the first requests load the search index and warm PTB's connection pool: not timed
            for command, method in (("/today", "sendMessage"), ("/quiz", "sendPoll")):
                ms: list[float] = []
                for i in range(-warm, messages):
                    user = User(800_000_000 + i + warm + (0 if command == "/quiz" else 2 * messages), f"会员{i}")
                    mark = api.mark()
                    t0 = time.perf_counter()
                    api.push_message(command, user=user)
                    [call] = await api.wait_for(method, chat_id=user.id, since=mark, ok=True, timeout=30)
                    if i >= 0:
                        ms.append((call.time - t0) * 1000)
                    # paced at 25 requests a second: Telegram's 30 messages a second (our limiter) stays out of it
                    await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - t0)))
                results[command] = ms
            print(line(f"/quiz reply over {messages} private chats (update -> sendPoll answered)", results["/quiz"]))
            print(line("  baseline /today the same way (update -> sendMessage answered)", results["/today"]))
            print(line("  /quiz through dispatch alone (no network)", base))


# --- 2. pushing 1,000 polls -----------------------------------------------------------------------------------


def subscribe_all(store: Store, chat_ids: list[str]) -> None:
    since = PUSH_AT.replace(hour=7).isoformat()

    def apply(doc: dict) -> None:  # type: ignore[type-arg]
        doc["sub"] = {"time": "08:00", "mode": "每天", "since": since, "chat_type": "private", "title": ""}

    for cid in chat_ids:
        store.quiz_update(cid, apply, Q.new_doc)


async def push_polls(n: int) -> dict[str, object]:
    async with FakeBotAPI(flood=FloodLimits()) as api:
        chat_ids = [broadcast.FIRST_PRIVATE + i for i in range(n)]
        for cid in chat_ids:
            api.chat(cid, "private")
        app = await broadcast.make_app(api, LosslessRateLimiter())
        with tempfile.TemporaryDirectory() as tmp:
            config = Config(storage=StorageConfig(dir=tmp))
            svc = Services(config, load_content(ROOT / "content"), Store(tmp), clock=lambda: PUSH_AT)
            svc.senders["tg"] = TelegramAdapter(app, svc).sender
            subscribe_all(svc.store, [f"tg:{c}" for c in chat_ids])
            start = time.monotonic()
            await quiz_handlers.tick(svc)
            elapsed = time.monotonic() - start
            await quiz_handlers.tick(svc)  # a second tick at the same minute sends nothing more
            day = PUSH_AT.date().isoformat()
            statuses = [(svc.store.quiz_doc(f"tg:{c}") or {}).get("deliveries", {}).get(day, {}).get("status")
                        for c in chat_ids]
            polls = len(svc.store._engine.tables.get(svc.store.QUIZ_POLLS, {}))
            svc.close()
        await app.shutdown()
        sent = [c.chat_id for c in api.calls if c.method == "sendPoll" and c.ok]
        floor = (n - 30) / 30
        return {"polls": n, "seconds": round(elapsed, 2), "floor": round(floor, 2),
                "x_floor": round(elapsed / floor, 3), "429s": api.flood_429s, "delivered": len(set(sent)),
                "lost": n - len(set(sent)), "duplicated": len(sent) - len(set(sent)),
                "status_sent": statuses.count("sent"), "poll_records": polls}


# --- 3. store growth ------------------------------------------------------------------------------------------


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file() and p.name != "store.lock")


def store_growth(answers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        cfg = Config(storage=StorageConfig(dir=str(data)))
        svc = Services(cfg, load_content(ROOT / "content"), Store(data), clock=lambda: PUSH_AT)
        bank = Q.bank(svc)
        svc.store.compact()
        empty = dir_bytes(data)
        peak = 0
        chats, members = 25, 20  # 500 members answering day after day: 10,000 answers = 20 days
        t0 = time.perf_counter()
        for n in range(answers):
            day = date(2026, 3, 2) + timedelta(days=n // (chats * members))
            chat = f"tg:-{1000 + (n // members) % chats}"
            user = f"tg:{700_000 + n % members}"
            question = bank.questions[(n // (chats * members)) % len(bank.questions)]
            Q.record_answer(svc, chat, user, f"会员{n % members}", day, question, (n % len(question.choices),), PUSH_AT)
            if n % 500 == 0:
                peak = max(peak, dir_bytes(data))
        took = time.perf_counter() - t0
        peak = max(peak, dir_bytes(data))
        svc.store.compact()
        compacted = dir_bytes(data)
        svc.close()
    per = 10_000 / answers
    print(f"store growth over {answers} answers ({chats} chats x {members} members, day after day; one durable write "
          "each, "
          f"{took / answers * 1000:.2f} ms per answer): {(compacted - empty) * per / 1024:.0f} KiB per 10,000 answers "
          f"after compaction ({(compacted - empty) / answers:.0f} bytes per answer); peak on disk between "
          f"compactions {peak / 1024:.0f} KiB")


# --- 4. /rank at 100,000 stored answers ----------------------------------------------------------------------


def fill(store: Store, stored: int, chats: int = 200, members: int = 50) -> str:
    """`stored` answers of one month in bulk (one document per chat, month and member); the busiest chat."""
    days = max(1, stored // (chats * members))
    docs = []
    for c in range(chats):
        for m in range(members):
            doc = Q.new_score(f"tg:-{5000 + c}", "2026-03", f"tg:{600_000 + c * members + m}")
            right = 0
            for d in range(days):
                ok = (c + m + d) % 3 != 0
                doc["days"][f"{d + 2:02d}"] = [f"q{d:010d}", "B", int(ok), "2026-03-02T08:00:05+08:00"]
                right += ok
            doc.update(name=f"会员{m}", answered=days, correct=right, streak=m % 5, best=m % 7,
                       last_ok="2026-03-11", first="2026-03-02T08:00:05+08:00")
            docs.append(doc)
    store.db.table(store.QUIZ_SCORES).insert_multiple(docs)
    store._quiz_index = None
    return "tg:-5000"


async def rank_latency(stored: int, runs: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Config(storage=StorageConfig(dir=tmp))
        clock = lambda: datetime(2026, 3, 12, 12, 0, tzinfo=TZ)  # noqa: E731
        svc = Services(cfg, load_content(ROOT / "content"), Store(tmp), clock=clock)
        chat = fill(svc.store, stored)
        svc_docs = list(svc.store._engine.tables[svc.store.QUIZ_SCORES].values())
        total = sum(len(d["days"]) for d in svc_docs)
        asker = "tg:600007"
        req = Request(chat_id=chat, chat_type="supergroup", user_id=asker, user_name="会员7", text="/rank")
        ms: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            [reply] = await dispatch(req, svc)
            ms.append((time.perf_counter() - t0) * 1000)
        assert "共 50 人参与" in reply.text, reply.text
        scan: list[float] = []
        for _ in range(runs // 4):
            t0 = time.perf_counter()
            rows = svc.store.quiz_scores_where(lambda d: d["chat_id"] == chat and d["month"] == "2026-03")
            sorted(rows, key=lambda d: (-d["correct"], -d["streak"]))
            scan.append((time.perf_counter() - t0) * 1000)
        svc.close()
    docs = len(svc_docs)
    print(line(f"/rank at {total} stored answers ({docs} member-month documents, 200 chats), through dispatch", ms))
    print(line("  baseline: ranking by scanning every stored document", scan))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--chats", type=int, default=1000)
    ap.add_argument("--answers", type=int, default=10_000)
    ap.add_argument("--stored", type=int, default=100_000)
    ap.add_argument("--skip-push", action="store_true", help="skip the two ~35 s broadcasts")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("TZ", "Asia/Shanghai")
    await latency(args.messages)
    if not args.skip_push:
        print("quiz polls  ", await push_polls(args.chats), flush=True)
        print("practice    ", await broadcast.run_private("ours", LosslessRateLimiter(), args.chats), flush=True)
    store_growth(args.answers)
    await rank_latency(args.stored)


if __name__ == "__main__":
    asyncio.run(main())
