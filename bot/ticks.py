"""Every feature's tick, on the minute: one scheduled job per process; each feature tick in lanes of its own.

When. One APScheduler job fires at second 0 of every minute, and once as soon as its scheduler starts (the
catch-up after downtime). With Telegram running, PTB's JobQueue (an AsyncIOScheduler) runs it
(bot/adapters/telegram.py; under bot/runtime.py its first run is held until every platform has started,
`Ticker.hold`); otherwise the runtime's own AsyncIOScheduler (`start_scheduler`, bot/runtime.py, started once
the platforms are up; also used by the console). A push set for 08:00 is sent by the 08:00:00 run: a tick
decides what is due from `svc.now()`, the same wall clock the scheduler waits on, and the scheduler starts the
run only once that clock reads 08:00:00, so the 08:00 push is due in it (`occurrence <= now`).

The trigger is `CronTrigger(second=0)` in UTC, not in the configured zone. Second 0 of a minute is the same
instant in every zone in use (their offsets are whole minutes), so this is second 0 in the configured zone too,
and UTC has no daylight saving: APScheduler 3's CronTrigger in a zone with DST runs nothing during the hour the
clocks go back (Europe/Berlin, last Sunday of October: after 02:59 CEST its next run is 03:00 CET, 61 minutes
later). tests/test_ticks.py checks the minutes across both of Berlin's changes and in Asia/Shanghai. The old
schedule, an interval of 30 s started 1 s after start, ran at a phase unrelated to the minute: a push landed 0
to 30 s late (bench/push_lateness.py measures both).

Job settings (TICK_JOB_KWARGS), chosen deliberately:
- `misfire_grace_time=None`: a late run always runs. It is late only when the loop was blocked or the machine
  suspended, which is exactly when catching up matters; lateness never makes a tick wrong, because each tick
  derives what is due from `svc.now()` and the store. What may still be sent late is the features' own rule:
  the practice push's `[push] grace_minutes` (default 120: a push missed while the bot was down is sent at
  start within that grace, otherwise recorded as missed), the weekly reminder's "once per ISO week".
- `coalesce=True`: several missed minutes make one run, not a burst of identical ones: one run catches all of
  them up.
- `max_instances=1`: the job only starts each feature's lane and returns at once, so it never overlaps itself
  (APScheduler skips, rather than delays, a run that finds max_instances reached; this job cannot reach it).

How (Ticker). Each feature tick (`bot.commands.TICKS`, whatever the handler modules list) runs in lanes of its
own, each lane its own task, so a long one (the practice push to 1,000 chats takes ~34 s under Telegram's 30
messages/s) never holds another feature's pushes, the reminders or the content reload. A lane never runs twice at
once: a minute that fires while it still runs makes it run once more as soon as it ends (coalesced), so nothing
due in that minute is skipped, and chats due then are served as soon as the earlier backlog has gone out (with
the rate limit saturated they could hardly go out sooner). Two runs of one lane could not send twice either
(every push is claimed durably per chat and date before it is sent), but they would double the sending
concurrency and re-read the same backlog.

Lanes per platform. A tick declared `per_platform` (bot/table.py) has one lane per platform this process sends
to (the keys of `Services.senders`: "tg", "wecom", "dingtalk", "console"; read at each firing, so a platform
that comes up later gets its lanes from the next minute), and is called as `tick(svc, platform)`, serving only
that platform's chats (`table.serves`). So a platform whose sends hang (a WeCom send waits up to 15 minutes for a
lost connection; DingTalk and Telegram can be slow too) holds only its own lane: the other platforms' pushes of
the next minutes go out on time, and the held platform's next minutes coalesce into one run once its sends end.
Per tick:
- the practice push (push.tick): per platform. Due pushes, misses and claims are per chat; each chat belongs to
  one platform, so each lane claims and sends only its own, with the same claim-before-send per chat and day.
- the quiz (quiz.tick): per platform. The day's close (poll stops, the reveal), the push and the retries of
  failed stopPolls are all per chat (a poll's stop goes to the chat it was sent in), so each lane does them for
  its own chats; the claims are the same as before.
- the weekly overdue reminder to officers (suggest.overdue_tick): per platform. Its "once per ISO week" claim is
  kept per platform (`overdue_week:<platform>`; the single week recorded by earlier releases still counts for
  every platform), so one platform's officers are never held behind another platform's hung send, and a
  platform this process did not run when the week's reminder went out (started later with more platforms) still
  gets it once it runs. A platform that runs but has lost its connection claims the week like the others and its
  sends wait, as before. (Rolling back to a release before the per-platform record sends that week's reminder
  again: the old single record is read, never written.)
- the content reload (reload.tick): one lane; it sends nothing and concerns the whole process.
A direct call with no platform (`tick(svc)`) serves every platform; `run_ticks` (the console's `tick`, the tests)
runs the features one after another, a per-platform one in every platform's lane at once, as the scheduled runs
do. On a clean stop the running lanes get STOP_WAIT_SECONDS to finish; then they are cancelled (a claimed push
whose send was cancelled is not sent again: at most once, as after kill -9).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, cast

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.commands import TICKS
from bot.table import is_per_platform

if TYPE_CHECKING:
    from bot.services import Services
    from bot.table import PlatformTick, Tick

log = logging.getLogger(__name__)

#: Seconds between two runs of the job (it runs at second 0 of every minute).
TICK_SECONDS = 60
#: The scheduled job's name (PTB's JobQueue) and id (the runtime's scheduler).
TICK_JOB = "ticks"
#: See the module docstring: a late run always runs, missed minutes run once, the job never overlaps itself.
TICK_JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
#: On a clean stop, how long running feature ticks may take to finish before they are cancelled.
STOP_WAIT_SECONDS = 30.0


def minute_trigger() -> CronTrigger:
    """Second 0 of every minute (in UTC, which is second 0 in every zone in use; see the module docstring)."""
    return CronTrigger(second=0, timezone=UTC)


def job_kwargs() -> dict[str, Any]:
    """APScheduler `add_job` arguments of the tick job: every minute at second 0, and a first run at once.

    The first run's time is the scheduler's own clock (real time), never `Services.clock`: a test's clock set in
    the future would otherwise hold the scheduler back.
    """
    return {"trigger": minute_trigger(), "next_run_time": datetime.now(UTC), **TICK_JOB_KWARGS}


#: A lane: a feature tick and the platform it serves (None for a tick that is not per platform).
Lane = tuple["Tick", "str | None"]


def _name(tick: Tick, platform: str | None = None) -> str:
    name = f"{getattr(tick, '__module__', '?')}.{getattr(tick, '__qualname__', tick)}"
    return name if platform is None else f"{name}[{platform}]"


def lanes(svc: Services, ticks: Sequence[Tick]) -> list[Lane]:
    """The lanes of `ticks` now: one per platform this process sends to (the keys of `svc.senders`, the console
    included) for a tick declared per platform, one for any other tick."""
    platforms = sorted(svc.senders)
    out: list[Lane] = []
    for tick in ticks:
        if is_per_platform(tick):
            out += [(tick, p) for p in platforms]
        else:
            out.append((tick, None))
    return out


async def _run_one(svc: Services, tick: Tick, platform: str | None = None) -> None:
    """One feature tick (for one platform, if per platform); its failure is logged and never stops the others."""
    try:
        if platform is None:
            await tick(svc)
        else:
            await cast("PlatformTick", tick)(svc, platform)
    except Exception:
        log.exception("tick %s failed", _name(tick, platform))


async def run_ticks(svc: Services, ticks: Sequence[Tick] | None = None) -> None:
    """Run every feature's tick once, one feature after another, and wait for them (the console's `tick`, the
    tests): a per-platform tick in each platform's lane at once, as the scheduled runs do."""
    for tick in TICKS if ticks is None else ticks:
        await asyncio.gather(*(_run_one(svc, t, p) for t, p in lanes(svc, [tick])))


class Ticker:
    """The scheduled job's body: each lane (a feature tick, or a per-platform tick for one platform) in its own
    task, never two runs of one lane at once."""

    def __init__(self, svc: Services, ticks: Sequence[Tick] | None = None) -> None:
        self.svc = svc
        self._ticks = ticks
        self._running: dict[Lane, asyncio.Task[None]] = {}
        self._again: set[Lane] = set()
        self._closed = False
        self._held = False
        self._owed = False
        self._changed: asyncio.Event | None = None
        #: How many times the job fired (for tests: see `wait_idle`).
        self.fires = 0

    @property
    def ticks(self) -> Sequence[Tick]:
        """The feature ticks it runs: every handler module's TICKS unless given."""
        return TICKS if self._ticks is None else self._ticks

    @property
    def running(self) -> list[str]:
        """The names of the lanes running now ("module.tick", or "module.tick[platform]" when per platform)."""
        return [_name(*lane) for lane in self._running]

    def hold(self) -> None:
        """Until `release`: a firing only notes that a run is owed. The runtime holds a platform's own ticker (PTB's
        JobQueue fires at once when Telegram starts) while it starts the other platforms: a run before they are up
        would have no lanes for them yet, and the features' first run at start would serve them only a minute
        later."""
        self._held = True

    async def release(self) -> None:
        """End `hold`; the run owed meanwhile (the first run at start, a minute) runs now."""
        self._held = False
        if self._owed:
            self._owed = False
            await self.fire()

    async def fire(self) -> None:
        """The scheduled job: start every idle lane now; a lane still running runs again when it ends."""
        if self._closed:
            return
        if self._held:
            self._owed = True
            return
        self.fires += 1
        for lane in lanes(self.svc, self.ticks):
            if lane in self._running:
                if lane not in self._again:
                    log.info("tick %s still running from an earlier minute; it runs again when done", _name(*lane))
                self._again.add(lane)
            else:
                self._running[lane] = asyncio.create_task(self._lane(lane), name=f"tick {_name(*lane)}")
        self._notify()

    async def _lane(self, lane: Lane) -> None:
        try:
            while True:
                self._again.discard(lane)
                await _run_one(self.svc, *lane)
                if lane not in self._again or self._closed:
                    break
        finally:
            self._running.pop(lane, None)
            self._again.discard(lane)
            self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_idle(self, fires: int = 1) -> None:
        """Wait until the job has fired at least `fires` times and no lane is running."""
        while self.fires < fires or self._running:
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()

    async def stop(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """Start nothing more; let the running lanes finish for up to `timeout` seconds, then cancel them."""
        self._closed = True
        tasks = list(self._running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            log.warning("stopping: cancelled %d running ticks after %.0f s (%s); pushes they claimed are not resent",
                        len(pending), timeout, ", ".join(t.get_name() for t in pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def start_scheduler(ticker: Ticker, tz: tzinfo) -> AsyncIOScheduler:
    """The process's own scheduler running `ticker` on the minute (when no platform's scheduler does)."""
    scheduler = AsyncIOScheduler(timezone=tz)
    scheduler.add_job(ticker.fire, id=TICK_JOB, name=TICK_JOB, **job_kwargs())
    scheduler.start()
    return scheduler
