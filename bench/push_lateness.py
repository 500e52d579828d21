"""Push lateness after the minute: the old 30 s interval tick against the tick at second 0 (issue 17).

What runs: the real bot (PTB Application from `build_application`, its JobQueue's AsyncIOScheduler, our rate
limiter) long-polling the fake Bot API with Telegram's flood limits on; `--minutes` private chats subscribe
through real `/subscribe HH:MM 每天` messages, one chat per successive minute. A push "lands" when the fake
receives its sendMessage (the fake's own monotonic record of the request). Lateness = that moment on the bot's
clock minus the minute the chat subscribed for. p50 and max over the chats.

Schedules compared, in the same run, each on a fresh bot and data dir:
- "old": the schedule before this change, rebuilt here: PTB `run_repeating` every 30 s, first run 1 s after
  start, `misfire_grace_time=30, coalesce, max_instances=1`, running every feature tick one after another
  (`bot.ticks.run_ticks`, what the old job ran). The adapter's own job is removed first. Its lateness is the
  phase of its runs in the half-minute, fixed by when the bot started, so its minutes are split over
  `--old-starts` bot starts whose phases are spread over the 30 s (one random point in each equal slice).
- "new": the bot exactly as it schedules itself (bot/ticks.py): the job PTB's JobQueue runs at second 0 of every
  minute and once at start, feature ticks in their own lanes.
- "new + broadcast" (`--broadcast N`, 0 skips it): as "new", with N more private chats (subscriptions written to
  the store, as bench/broadcast.py does) due at the first minute; the measured chats of the later minutes show
  whether the long run (N / 30 s under Telegram's limit) delays the next minutes.

Time, without 20 real minutes: the scheduler runs on a controlled clock that runs at real speed but skips idle
time. `SkipClock` is real time plus an offset; it is the scheduler's clock (APScheduler's `datetime.now` in its
scheduler and executor modules, the only places it reads the time) and the bot's (`Services.clock`). Only when
nothing runs (no job run in flight, no feature tick running) does the bench move the offset forward, to LEAD
seconds before the scheduler's next run time (`Job.next_run_time`, computed by APScheduler's trigger), and wake
the scheduler so it re-arms its timer. So every run happens exactly when the schedule says, is reached in real
time, and everything after it -- the tick, the store, the claim, the rate limiter, HTTP to the fake -- runs at
real speed: lateness is measured, not modelled. An interval schedule is skipped the same way (to each of its
runs), so the old schedule's phase is kept. Processing time shows up as it is; the fake Bot API runs in the
same process and event loop as the bot.

Usage: .venv/bin/python bench/push_lateness.py [--minutes 20] [--old-starts 4] [--broadcast 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import apscheduler.executors.base as aps_executors  # noqa: E402
import apscheduler.schedulers.base as aps_scheduler  # noqa: E402
from apscheduler.events import (  # noqa: E402
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from e2e import RunningBot, running_bot  # noqa: E402
from fakebotapi import FloodLimits, User  # noqa: E402
from telegram.ext import ContextTypes  # noqa: E402

from bot.config import Config  # noqa: E402
from bot.practice import new_doc  # noqa: E402
from bot.ticks import TICK_JOB, Ticker, run_ticks  # noqa: E402

UTC = timezone.utc  # noqa: UP017 - the name reads better in the arithmetic below
#: How long before each scheduled run the skipped-to clock lands (real seconds then pass until the run).
LEAD = 0.5
FIRST_USER = 810_000_000
FIRST_BROADCAST = 820_000_000
OLD_KWARGS = {"misfire_grace_time": 30, "coalesce": True, "max_instances": 1}  # the old TICK_JOB_KWARGS


class SkipClock:
    """Real time plus an offset that only grows; the scheduler's and the bot's clock."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.m0 = time.monotonic()
        self.w0 = datetime.now(UTC)
        offset = 3600.0 if self.w0.astimezone(tz).hour == 23 else 0.0  # keep the measured minutes in one day
        self.marks = [self.m0]
        self.offsets = [offset]

    def at(self, mono: float) -> datetime:
        """The clock's reading at monotonic time `mono`."""
        i = max(bisect.bisect_right(self.marks, mono) - 1, 0)
        return self.w0 + timedelta(seconds=mono - self.m0 + self.offsets[i])

    def now(self, tz: tzinfo | None = None) -> datetime:
        reading = self.at(time.monotonic())
        return reading.astimezone(tz) if tz is not None else reading.astimezone().replace(tzinfo=None)

    def __call__(self) -> datetime:  # Services.clock
        return self.now(self.tz)

    def skip_to(self, when: datetime) -> None:
        mono = time.monotonic()
        ahead = (when - self.at(mono)).total_seconds()
        if ahead > 0:
            self.marks.append(mono)
            self.offsets.append(self.offsets[-1] + ahead)


def use_clock(clock: SkipClock) -> None:
    """Make `clock` APScheduler's clock: its scheduler and executor modules read `datetime.now` and nothing else."""

    class SchedulerDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return clock.now(tz)

    aps_scheduler.datetime = SchedulerDatetime  # type: ignore[misc]
    aps_executors.datetime = SchedulerDatetime  # type: ignore[misc]


class Runs:
    """Job runs in flight, from APScheduler's own events."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.skipped = 0

    def __call__(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            self.in_flight += len(event.scheduled_run_times)  # type: ignore[attr-defined]
        elif event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR, EVENT_JOB_MISSED):
            self.in_flight -= 1
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.skipped += 1

    MASK = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES


def subscribe_broadcast(bot: RunningBot, n: int, hhmm: str) -> None:
    """`n` private chats subscribed for `hhmm`, written straight to the store (what /subscribe writes)."""
    since = bot.services.now().isoformat()

    def apply(doc: dict[str, Any]) -> None:
        doc["sub"] = {"time": hhmm, "mode": "每天", "since": since, "chat_type": "private", "title": ""}

    for i in range(n):
        bot.api.chat(FIRST_BROADCAST + i, "private")
        bot.services.store.push_update(f"tg:{FIRST_BROADCAST + i}", apply, new_doc)


async def scenario(schedule: str, minutes: int, broadcast: int = 0, phase: float = 0.0) -> dict[str, Any]:
    """One bot on `schedule`; for "old", started so that its runs fall `phase` and `phase` + 30 s into the minute."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = SkipClock(Config().tz)  # the zone of the test config: the default, Asia/Shanghai
        use_clock(clock)
        started = time.monotonic()
        async with running_bot(Path(tmp), flood=FloodLimits(), clock=clock) as bot:  # type: ignore[arg-type]
            api, app = bot.api, bot.app
            assert app.job_queue is not None
            scheduler = app.job_queue.scheduler
            runs = Runs()
            scheduler.add_listener(runs, Runs.MASK)
            ticker: Ticker = app.bot_data["adapter"].ticker
            if schedule == "old":
                await ticker.wait_idle(1)  # the adapter's job ran at start (nothing due); then it goes
                for job in app.job_queue.get_jobs_by_name(TICK_JOB):
                    job.schedule_removal()
                # The old bot "starts" 1 s before a run `phase` s into a half-minute: skip there (idle time).
                now = clock()
                first_run = now.replace(second=0, microsecond=0) + timedelta(seconds=phase)
                while first_run < now + timedelta(seconds=1 + LEAD):
                    first_run += timedelta(seconds=30)
                clock.skip_to(first_run - timedelta(seconds=1))

                async def old_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
                    await run_ticks(bot.services)

                old = app.job_queue.run_repeating(old_tick, interval=30, first=clock() + timedelta(seconds=1),
                                                  name="old ticks", job_kwargs=OLD_KWARGS)
                start = old.job.next_run_time
                phase = (start.second + start.microsecond / 1e6) % 30
            # --- setup (real messages): chat i subscribes for minute first + i
            now = clock()
            first = now.replace(second=0, microsecond=0) + timedelta(minutes=2)
            users = [User(FIRST_USER + i, "职工", None) for i in range(minutes)]
            due = {u.id: first + timedelta(minutes=i) for i, u in enumerate(users)}
            for u in users:
                reply = await bot.said(f"/subscribe {due[u.id]:%H:%M} 每天", user=u)
                assert "已订阅" in reply, reply
            if broadcast:
                subscribe_broadcast(bot, broadcast, f"{first:%H:%M}")
            assert clock() < first - timedelta(seconds=LEAD), "setup took too long"
            mark = api.mark()

            def landed() -> dict[int, float]:
                out: dict[int, float] = {}
                for c in api.calls[mark:]:
                    if c.method == "sendMessage" and c.chat_id in due and c.chat_id not in out:
                        out[c.chat_id] = c.time
                return out

            # --- drive: skip idle time to LEAD s before each scheduled run, until every chat got its push
            skipped_s = 0.0
            give_up = time.monotonic() + 60 + minutes * 10 + broadcast / 10
            while len(landed()) < len(users):
                if time.monotonic() > give_up:
                    raise RuntimeError(f"{schedule}: only {len(landed())} of {len(users)} pushes landed")
                await asyncio.sleep(0.01)
                if runs.in_flight or ticker.running:
                    continue
                upcoming = [j.next_run_time for j in scheduler.get_jobs() if j.next_run_time is not None]
                target = min(upcoming) - timedelta(seconds=LEAD)
                before = clock()
                if target > before + timedelta(seconds=0.05):
                    clock.skip_to(target)
                    skipped_s += (target - before).total_seconds()
                    scheduler.wakeup()
            got = landed()
            late = [(clock.at(got[u.id]) - due[u.id]).total_seconds() for u in users]
            bcast_done = None
            if broadcast:
                times = [c.time for c in api.calls[mark:] if c.method == "sendMessage" and c.ok
                         and c.chat_id >= FIRST_BROADCAST]
                bcast_done = (clock.at(max(times)) - first).total_seconds() if len(times) >= broadcast else None
        return {
            "schedule": schedule, "late": late, "broadcast": broadcast, "bcast_done": bcast_done,
            "real_s": time.monotonic() - started, "skipped_s": skipped_s, "max_instances_skips": runs.skipped,
            "phase": phase,
        }


def row(name: str, late: list[float]) -> str:
    return (f"| {name} | {len(late)} | {statistics.median(late):.3f} s | {max(late):.3f} s | "
            f"{min(late):.3f} s |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=20, help="scheduled minutes (one chat each)")
    parser.add_argument("--old-starts", type=int, default=4,
                        help="bot starts the old schedule's minutes are split over, phases spread over 30 s")
    parser.add_argument("--broadcast", type=int, default=1000, help="chats in the first minute's broadcast (0: skip)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    n = max(1, min(args.old_starts, args.minutes))
    stratum = 30 / n
    jitter = time.time() % stratum  # one random point per stratum of the 30 s period
    olds = [await scenario("old", args.minutes // n + (k < args.minutes % n), phase=k * stratum + jitter)
            for k in range(n)]
    old = {"schedule": "old", "late": [x for r in olds for x in r["late"]], "broadcast": 0,
           "real_s": sum(r["real_s"] for r in olds), "skipped_s": sum(r["skipped_s"] for r in olds),
           "max_instances_skips": sum(r["max_instances_skips"] for r in olds), "bcast_done": None,
           "phases": [r["phase"] for r in olds]}
    results = [old, await scenario("new", args.minutes)]
    if args.broadcast:
        results.append(await scenario("new", args.minutes, args.broadcast))
    print(f"Push lateness after the minute, {args.minutes} scheduled minutes (one chat each), real bot against "
          "the fake Bot API with Telegram's flood limits:\n")
    print("| schedule | pushes | p50 | max | min |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        if r["schedule"] == "old":
            phases = ", ".join(f"{p:.1f}" for p in r["phases"])
            name = f"old: every 30 s from start + 1 s ({len(r['phases'])} starts; runs at {phases} s (+30 s))"
        elif r["broadcast"]:
            name = f"new, minutes 2-{args.minutes} after a {r['broadcast']:,}-chat broadcast in minute 1"
        else:
            name = "new: second 0 of every minute"
        late = r["late"][1:] if r["broadcast"] else r["late"]
        print(row(name, late))
    print()
    for r in results:
        extra = ""
        if r["broadcast"]:
            done = r["bcast_done"]
            extra = (f"; the broadcast's last push landed {done:.1f} s after minute 1"
                     if done is not None else "; broadcast incomplete")
        print(f"- {r['schedule']}{' + broadcast' if r['broadcast'] else ''}: {r['real_s']:.1f} s real, "
              f"{r['skipped_s'] / 60:.1f} idle minutes skipped, runs skipped for max_instances: "
              f"{r['max_instances_skips']}{extra}")


if __name__ == "__main__":
    asyncio.run(main())
