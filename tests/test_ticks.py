"""The tick schedule and its runner (bot/ticks.py), through APScheduler's own computations and controlled ticks.

No timing: fire times come from the trigger itself (as the scheduler asks it), misfires from APScheduler's own
executor function, and the feature ticks here wait on events the test sets.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.executors.base import run_coroutine_job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from bot.table import is_per_platform, per_platform
from bot.ticks import TICK_JOB, TICK_JOB_KWARGS, Ticker, job_kwargs, minute_trigger, run_ticks, start_scheduler

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def fire_times(start: datetime, count: int) -> list[datetime]:
    """The tick job's next `count` run times from `start`, asked of its trigger the way APScheduler asks it: the
    first with no previous run, each next one with the previous run time and a `now` just after that run."""
    trigger = job_kwargs()["trigger"]
    fire = trigger.get_next_fire_time(None, start)
    times = [fire]
    for _ in range(count - 1):
        fire = trigger.get_next_fire_time(fire, fire + timedelta(milliseconds=250))
        times.append(fire)
    return times


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        (SHANGHAI, datetime(2026, 3, 2, 7, 58, 17, 400000, tzinfo=SHANGHAI)),
        (BERLIN, datetime(2026, 3, 29, 1, 30, 5, tzinfo=BERLIN)),  # 02:00 CET -> 03:00 CEST
        (BERLIN, datetime(2026, 10, 25, 1, 30, 5, tzinfo=BERLIN)),  # 03:00 CEST -> 02:00 CET: 02:xx twice
        (BERLIN, datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=BERLIN)),
    ],
    ids=["shanghai", "berlin-spring-forward", "berlin-fall-back", "berlin-summer-midnight"],
)
def test_the_tick_runs_at_second_0_of_every_minute(tz: ZoneInfo, start: datetime) -> None:
    times = fire_times(start, 180)
    local = [t.astimezone(tz) for t in times]
    assert all(t.second == 0 and t.microsecond == 0 for t in local)
    first = (start + timedelta(minutes=1)).replace(second=0, microsecond=0)
    assert times[0] == first  # the next minute, not a phase of its own
    gaps = {(b.astimezone(UTC) - a.astimezone(UTC)) for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {timedelta(minutes=1)}  # every real minute once: none skipped, none twice, no drift
    hours = [t.hour for t in local]
    if start.month == 3 and tz is BERLIN:
        i = hours.index(3)
        assert 2 not in hours and (local[i - 1].hour, local[i - 1].minute, local[i].minute) == (1, 59, 0)
    if start.month == 10:
        assert hours.count(2) == 120  # the hour the clocks go back is ticked through both times


def test_the_job_settings() -> None:
    kwargs = job_kwargs()
    # A late run always runs (the features' own grace decides what is still sent); missed minutes run once.
    assert TICK_JOB_KWARGS == {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    assert {k: kwargs[k] for k in TICK_JOB_KWARGS} == TICK_JOB_KWARGS
    assert str(kwargs["trigger"]) == "cron[second='0']"
    assert abs(kwargs["next_run_time"] - datetime.now(UTC)) < timedelta(minutes=1)  # a first run at start


async def _noop() -> None:
    return None


async def test_missed_minutes_make_one_run_however_late() -> None:
    """After 3 hours without a run (a suspended machine), APScheduler's own computation: one run, and it runs."""
    scheduler = AsyncIOScheduler(timezone=SHANGHAI)
    scheduler.start(paused=True)
    try:
        down = datetime.now(UTC) - timedelta(hours=3)  # the job's next run was due 3 hours ago
        ours = scheduler.add_job(_noop, id=TICK_JOB, **{**job_kwargs(), "next_run_time": down})
        default = scheduler.add_job(_noop, id="apscheduler-defaults", trigger=minute_trigger(), next_run_time=down)
        run_times = ours._get_run_times(datetime.now(UTC))
        assert len(run_times) >= 180
        submitted = run_times[-1:] if ours.coalesce else run_times  # what the scheduler submits
        assert len(submitted) == 1
        three_hours_late = run_times[:1]  # the oldest missed run, as if it were the one submitted now
        events = await run_coroutine_job(ours, "default", three_hours_late, "test")
        assert [e.code for e in events] == [EVENT_JOB_EXECUTED]
        # For contrast: APScheduler's default grace (1 s) would drop it.
        events = await run_coroutine_job(default, "default", three_hours_late, "test")
        assert [e.code for e in events] == [EVENT_JOB_MISSED]
    finally:
        scheduler.shutdown(wait=False)


async def test_the_own_scheduler_runs_at_start_then_at_second_0(svc: Services) -> None:
    """The runtime's (and the console's) scheduler, really started: one run at once, the next at second 0."""
    ran: list[str] = []

    async def feature(s: Services) -> None:
        ran.append("ran")

    ticker = Ticker(svc, ticks=[feature])
    started = datetime.now(BERLIN)
    scheduler = start_scheduler(ticker, BERLIN)
    try:
        await ticker.wait_idle(1)
        assert ran == ["ran"]
        job = scheduler.get_job(TICK_JOB)
        assert job is not None and str(job.trigger) == "cron[second='0']"
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
        nxt = job.next_run_time.astimezone(BERLIN)
        assert nxt.second == 0 and nxt.microsecond == 0
        assert started < nxt <= started + timedelta(minutes=1)  # the minute after the first run
        assert scheduler.timezone == BERLIN
    finally:
        scheduler.shutdown(wait=False)
        await ticker.stop()


def test_services_now_reads_the_schedulers_clock(svc: Services) -> None:
    """Without a test clock, `svc.now()` is the wall clock the scheduler compares its run times with."""
    svc.clock = None
    before = datetime.now(UTC)
    now = svc.now()
    after = datetime.now(UTC)
    assert before <= now <= after and now.tzinfo is not None
    assert now.utcoffset() == svc.config.tz.utcoffset(now.replace(tzinfo=None))


# ----------------------------------------------------------------------------- the runner's lanes


class Gate:
    """A feature tick that counts its runs and, while closed, waits for the test to open it."""

    def __init__(self, name: str, closed: bool = False) -> None:
        self.__name__ = self.__qualname__ = name
        self.runs = 0
        self.active = 0
        self.most_at_once = 0
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        self.open = asyncio.Event()
        if not closed:
            self.open.set()

    async def __call__(self, svc: Services) -> None:
        self.runs += 1
        self.active += 1
        self.most_at_once = max(self.most_at_once, self.active)
        self.started.set()
        try:
            await self.open.wait()
        finally:
            self.active -= 1
            self.finished.set()


async def test_a_long_tick_holds_no_other_and_never_runs_twice_at_once(svc: Services) -> None:
    broadcast, quiz = Gate("broadcast", closed=True), Gate("quiz")
    ticker = Ticker(svc, ticks=[broadcast, quiz])
    await ticker.fire()  # 08:00
    await broadcast.started.wait()
    await quiz.finished.wait()  # the other feature ran while the broadcast is still sending
    assert (broadcast.runs, quiz.runs) == (1, 1)
    for _minute in ("08:01", "08:02"):  # the broadcast still runs
        quiz.finished.clear()
        await ticker.fire()
        await quiz.finished.wait()
    assert quiz.runs == 3 and broadcast.runs == 1 and broadcast.most_at_once == 1
    assert ticker.running == ["test_ticks.broadcast"]
    broadcast.open.set()  # the broadcast ends: it runs once more at once (08:01 and 08:02 coalesced), then rests
    await ticker.wait_idle(3)
    assert broadcast.runs == 2 and broadcast.most_at_once == 1
    await ticker.fire()
    await ticker.wait_idle(4)
    assert broadcast.runs == 3


async def test_a_failing_tick_is_logged_and_runs_again_next_minute(
    svc: Services, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    async def broken(s: Services) -> None:
        calls.append(1)
        raise RuntimeError("boom")

    quiz = Gate("quiz")
    ticker = Ticker(svc, ticks=[broken, quiz])
    with caplog.at_level(logging.ERROR, logger="bot.ticks"):
        await ticker.fire()
        await ticker.wait_idle(1)
        await ticker.fire()
        await ticker.wait_idle(2)
    assert len(calls) == 2 and quiz.runs == 2
    assert sum("broken failed" in r.getMessage() for r in caplog.records) == 2


async def test_stop_lets_a_running_tick_finish_and_starts_nothing_new(svc: Services) -> None:
    push = Gate("push", closed=True)
    ticker = Ticker(svc, ticks=[push])
    await ticker.fire()
    await push.started.wait()
    await ticker.fire()  # would run it again after this run
    stopping = asyncio.create_task(ticker.stop(timeout=300))
    push.open.set()
    await stopping
    assert push.runs == 1 and push.active == 0  # finished, not cancelled; no rerun once stopping
    await ticker.fire()
    assert push.runs == 1 and ticker.running == []


async def test_stop_cancels_a_tick_that_does_not_finish(svc: Services, caplog: pytest.LogCaptureFixture) -> None:
    stuck = Gate("stuck", closed=True)  # never opened
    ticker = Ticker(svc, ticks=[stuck])
    await ticker.fire()
    await stuck.started.wait()
    with caplog.at_level(logging.WARNING, logger="bot.ticks"):
        await ticker.stop(timeout=0)
    assert stuck.active == 0 and ticker.running == []
    assert any("cancelled 1 running ticks" in r.getMessage() for r in caplog.records)


async def test_serve_lets_a_platforms_own_ticks_finish_before_it_stops_any_platform(svc: Services) -> None:
    """With Telegram, PTB's JobQueue runs the ticks and its platform is started first, so stopped last: a push
    through another platform still on the wire at SIGTERM must finish before that other platform stops."""
    from bot.runtime import serve

    events: list[str] = []
    pushing = asyncio.Event()
    stopping = asyncio.Event()

    async def push(s: Services) -> None:  # a push through the other platform, on the wire when the stop comes
        pushing.set()
        await stopping.wait()
        events.append("push sent")

    class Watched(Ticker):
        async def stop(self, timeout: float = 30.0) -> None:
            stopping.set()
            await super().stop(timeout)

    class Owner:  # like TelegramPlatform: its own scheduler runs the ticks, and its stop drains them
        name, runs_ticks = "owner", True

        def __init__(self) -> None:
            self.ticker = Watched(svc, ticks=[push])

        async def start(self) -> None:
            await self.ticker.fire()

        async def wait(self) -> int:
            await asyncio.Event().wait()
            return 0

        async def stop(self) -> None:
            await self.ticker.stop()

    class Other:  # ends by itself once the push is under way, which stops the process
        name, runs_ticks = "other", False

        async def start(self) -> None:
            pass

        async def wait(self) -> int:
            await pushing.wait()
            return 0

        async def stop(self) -> None:
            events.append("other stopped")

    assert await serve([Owner(), Other()], svc) == 0  # type: ignore[list-item]
    assert events == ["push sent", "other stopped"]


async def test_serve_holds_a_platforms_own_first_run_until_every_platform_is_up(svc: Services) -> None:
    """PTB's JobQueue fires the first run as Telegram starts, before the platforms started after it: that run
    would skip their chats (and mark the week's reminder sent without their officers). serve holds it."""
    from bot.runtime import serve

    seen: list[bool] = []
    ran = asyncio.Event()

    async def tick(s: Services) -> None:
        seen.append(other.up)
        ran.set()

    class Owner:  # like TelegramPlatform: its scheduler fires the first run as it starts
        name, runs_ticks = "owner", True

        def __init__(self) -> None:
            self.ticker = Ticker(svc, ticks=[tick])

        async def start(self) -> None:
            await self.ticker.fire()

        async def wait(self) -> int:
            await asyncio.Event().wait()
            return 0

        async def stop(self) -> None:
            await self.ticker.stop()

    class Other:  # started next; connecting takes a few turns of the loop
        name, runs_ticks, up = "other", False, False

        async def start(self) -> None:
            for _ in range(5):
                await asyncio.sleep(0)
            self.up = True

        async def wait(self) -> int:
            await ran.wait()
            return 0

        async def stop(self) -> None:
            pass

    owner, other = Owner(), Other()
    assert await serve([owner, other], svc) == 0  # type: ignore[list-item]
    assert seen == [True] and owner.ticker.fires == 1


async def test_a_held_ticker_runs_once_on_release_and_not_at_all_if_nothing_fired(svc: Services) -> None:
    quiz = Gate("quiz")
    ticker = Ticker(svc, ticks=[quiz])
    ticker.hold()
    await ticker.fire()
    await ticker.fire()
    assert quiz.runs == 0 and ticker.running == []
    await ticker.release()
    await ticker.wait_idle(1)
    assert quiz.runs == 1
    ticker.hold()
    await ticker.release()  # nothing owed: nothing runs
    await ticker.fire()
    await ticker.wait_idle(2)
    assert quiz.runs == 2


# ----------------------------------------------------------------------------- lanes per platform


class PlatformGate:
    """A per-platform feature tick (bot.table.per_platform): counts its runs per platform; a platform in `closed`
    waits, while its gate is shut, for the test to open it."""

    def __init__(self, name: str, closed: tuple[str, ...] = ()) -> None:
        self.__name__ = self.__qualname__ = name
        self.calls: list[str | None] = []
        self.active: dict[str | None, int] = {}
        self.most_at_once: dict[str | None, int] = {}
        self.finished: dict[str | None, asyncio.Event] = {}
        self.open = {p: asyncio.Event() for p in closed}
        per_platform(self)

    def runs(self, platform: str | None) -> int:
        return self.calls.count(platform)

    def done(self, platform: str | None) -> asyncio.Event:
        return self.finished.setdefault(platform, asyncio.Event())

    async def __call__(self, svc: Services, platform: str | None = None) -> None:
        self.calls.append(platform)
        self.active[platform] = self.active.get(platform, 0) + 1
        self.most_at_once[platform] = max(self.most_at_once.get(platform, 0), self.active[platform])
        try:
            if platform in self.open:
                await self.open[platform].wait()
        finally:
            self.active[platform] -= 1
            self.done(platform).set()


async def _nosend(reply: object) -> None:
    return None


def platforms(svc: Services, *names: str) -> None:
    """The platforms this process sends to, as the adapters register them."""
    svc.senders.clear()
    svc.senders.update({name: _nosend for name in names})


async def test_a_per_platform_tick_has_a_lane_per_platform_and_a_busy_one_coalesces_only_its_own(
    svc: Services,
) -> None:
    platforms(svc, "tg", "wecom", "console")
    push, reload = PlatformGate("push", closed=("wecom",)), Gate("reload")
    ticker = Ticker(svc, ticks=[push, reload])
    await ticker.fire()  # 08:00: the WeCom lane hangs in its sends
    await push.done("tg").wait()
    await push.done("console").wait()
    await reload.finished.wait()
    assert sorted(push.calls, key=str) == ["console", "tg", "wecom"] and reload.runs == 1  # one call per lane
    assert ticker.running == ["test_ticks.push[wecom]"]
    for _minute in ("08:01", "08:02"):  # the other platforms run every minute, as if WeCom were not there
        push.done("tg").clear()
        push.done("console").clear()
        reload.finished.clear()
        await ticker.fire()
        await push.done("tg").wait()
        await push.done("console").wait()
        await reload.finished.wait()
    assert (push.runs("tg"), push.runs("console"), push.runs("wecom"), reload.runs) == (3, 3, 1, 3)
    assert ticker.running == ["test_ticks.push[wecom]"]
    push.open["wecom"].set()  # WeCom's sends end: its lane runs once more (08:01 and 08:02 coalesced), then rests
    await ticker.wait_idle(3)
    assert (push.runs("tg"), push.runs("console"), push.runs("wecom")) == (3, 3, 2)
    assert set(push.most_at_once.values()) == {1} and None not in push.calls  # never twice at once in one lane
    await ticker.fire()
    await ticker.wait_idle(4)
    assert (push.runs("tg"), push.runs("wecom"), reload.runs) == (4, 3, 4)


async def test_a_platform_that_comes_up_later_gets_its_lanes_from_the_next_minute(svc: Services) -> None:
    push = PlatformGate("push")
    ticker = Ticker(svc, ticks=[push])
    await ticker.fire()  # no platform running yet: no lane at all
    await ticker.wait_idle(1)
    assert push.calls == []
    platforms(svc, "tg")
    await ticker.fire()
    await ticker.wait_idle(2)
    assert push.calls == ["tg"]
    platforms(svc, "tg", "dingtalk")  # DingTalk connected meanwhile
    await ticker.fire()
    await ticker.wait_idle(3)
    assert sorted(push.calls) == ["dingtalk", "tg", "tg"]


async def test_run_ticks_runs_each_feature_once_a_per_platform_one_once_per_platform(svc: Services) -> None:
    platforms(svc, "tg", "wecom")
    order: list[str] = []
    push, reload = PlatformGate("push"), Gate("reload")

    async def last(s: Services) -> None:
        order.append(f"push {sorted(push.calls, key=str)} reload {reload.runs}")

    await run_ticks(svc, ticks=[push, reload, last])
    assert order == ["push ['tg', 'wecom'] reload 1"]  # one feature after another, every platform's lane once
    assert is_per_platform(push) and not is_per_platform(reload)


async def test_stop_cancels_only_the_lanes_that_do_not_finish(svc: Services, caplog: pytest.LogCaptureFixture) -> None:
    platforms(svc, "tg", "wecom")
    push = PlatformGate("push", closed=("wecom", "tg"))
    ticker = Ticker(svc, ticks=[push])
    await ticker.fire()
    assert sorted(ticker.running) == ["test_ticks.push[tg]", "test_ticks.push[wecom]"]
    push.open["tg"].set()
    await push.done("tg").wait()
    with caplog.at_level(logging.WARNING, logger="bot.ticks"):
        await ticker.stop(timeout=0)
    assert ticker.running == [] and push.active == {"tg": 0, "wecom": 0}
    assert any("cancelled 1 running ticks" in r.getMessage() and "push[wecom]" in r.getMessage()
               for r in caplog.records)


def test_the_sending_ticks_are_per_platform_and_the_reload_is_not() -> None:
    from bot.commands import TICKS
    from bot.handlers import push, quiz, reload, suggest

    assert {t for t in TICKS if is_per_platform(t)} == {push.tick, quiz.tick, suggest.overdue_tick}
    assert reload.tick in TICKS and not is_per_platform(reload.tick)
