"""Pushes on the minute, end to end: the real PTB bot's own scheduled job against the fake Telegram.

The job PTB's JobQueue runs is taken from the running bot and asked, as APScheduler asks it, when it next fires
for the test's clock; then it is run at exactly that time (`Job.run`, what the JobQueue does when it fires) and
the test waits until every feature tick it started has finished (`Ticker.wait_idle`). The scheduler's own first
run at start is waited for the same way. Assertions are on what the chats received.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from e2e import ALICE, BOB, GROUP, Clock, RunningBot, running_bot
from fakebotapi import FakeBotAPI, Fault, User
from telegram.ext import Job
from test_push_restart_e2e import DAY, TZ, at, heading, pushed_days, pushes, subscribe_group

from bot.ticks import TICK_JOB, Ticker

OFFICER = User(2009, "李干事", "liganshi")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """One fake Telegram that outlives the bot's restarts."""
    async with FakeBotAPI() as server:
        yield server


def tick_job(bot: RunningBot) -> Job:
    """The one job the bot scheduled on PTB's JobQueue."""
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name(TICK_JOB)
    return job


def ticker(bot: RunningBot) -> Ticker:
    return bot.app.bot_data["adapter"].ticker


def next_fire(bot: RunningBot, after: datetime) -> datetime:
    """When the job fires next after `after`, by its own trigger (as APScheduler computes it), in Beijing time."""
    return tick_job(bot).job.trigger.get_next_fire_time(None, after).astimezone(TZ)


async def fire_at(bot: RunningBot, when: datetime) -> None:
    """The clock reads `when`; the job fires as the JobQueue fires it; wait until its ticks are done."""
    bot.clock.set(when)
    t = ticker(bot)
    await tick_job(bot).run(bot.app)
    await t.wait_idle(t.fires)


async def test_the_job_is_on_the_minute_in_the_configured_zone(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        await ticker(bot).wait_idle(1)  # its first run, at start
        job = tick_job(bot).job
        assert str(job.trigger) == "cron[second='0']"
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
        assert bot.app.job_queue is not None and bot.app.job_queue.scheduler.timezone == bot.config.tz == TZ
        upcoming = job.next_run_time.astimezone(TZ)
        assert upcoming.second == 0 and upcoming.microsecond == 0
        assert next_fire(bot, at(DAY, "07:59") + timedelta(seconds=31)) == at(DAY, "08:00")
        assert next_fire(bot, at(DAY, "08:00")) == at(DAY, "08:00")
        assert next_fire(bot, at(DAY, "08:00") + timedelta(microseconds=1)) == at(DAY, "08:01")


async def test_a_push_set_for_0800_goes_out_with_the_0800_run(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        await subscribe_group(bot)  # 08:00
        assert "已订阅" in await bot.said("/subscribe 08:01", user=ALICE)
        await ticker(bot).wait_idle(1)
        run = next_fire(bot, at(DAY, "07:58") + timedelta(seconds=30))
        assert run == at(DAY, "07:59")
        await fire_at(bot, run)
        assert pushes(api, GROUP) == []
        run = next_fire(bot, run + timedelta(seconds=1))
        assert run == at(DAY, "08:00")
        await fire_at(bot, run)  # the clock reads 08:00:00.000000: the push is sent 0 s after its minute
        assert pushed_days(api, GROUP) == [heading(DAY)]
        assert pushes(api, ALICE.id) == []
        await fire_at(bot, next_fire(bot, run + timedelta(seconds=1)))  # 08:01
        assert pushed_days(api, ALICE.id) == [heading(DAY)]
        for later in ("08:02", "09:00", "23:59"):
            await fire_at(bot, at(DAY, later))
        assert pushed_days(api, GROUP) == [heading(DAY)] and pushed_days(api, ALICE.id) == [heading(DAY)]


async def test_the_overdue_reminder_and_the_push_go_out_with_the_monday_0900_run(tmp_path: Path) -> None:
    async with running_bot(tmp_path, officers=(OFFICER.id,), clock=Clock(at(DAY, "08:00"))) as bot:
        await bot.say("/start", user=OFFICER)  # the officer has a private chat with the bot
        receipt = await bot.said("建议 食堂窗口太少，建议增加两个窗口", user=BOB)
        assert "JY-2026-0001" in receipt
        await subscribe_group(bot, "09:00")
        await ticker(bot).wait_idle(1)
        monday = DAY + timedelta(days=35)  # past the 30-day reply deadline
        assert monday.weekday() == 0
        await fire_at(bot, at(monday, "08:59"))
        assert not [c for c in bot.api.find("sendMessage", chat_id=OFFICER.id, ok=True) if "⏰" in c.text]
        await fire_at(bot, next_fire(bot, at(monday, "08:59") + timedelta(seconds=1)))  # 09:00:00
        assert bot.clock.now == at(monday, "09:00")
        [reminder] = [c for c in bot.api.find("sendMessage", chat_id=OFFICER.id, ok=True) if "⏰" in c.text]
        assert "JY-2026-0001" in reminder.text
        assert pushed_days(bot.api, GROUP) == [heading(monday)]


@pytest.mark.parametrize(("restart", "expected"), [("08:30", 1), ("09:59", 1), ("10:30", 0)],
                         ids=["0830-in-grace", "0959-in-grace", "1030-past-grace"])
async def test_the_first_run_at_start_catches_up_within_the_grace(
    tmp_path: Path, api: FakeBotAPI, restart: str, expected: int
) -> None:
    """Down from 07:00 over the 08:00 push: the scheduler's first run at start sends it within the 2 h grace."""
    clock = Clock(at(DAY, "07:00"))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await subscribe_group(bot)
    clock.set(at(DAY, restart))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await ticker(bot).wait_idle(1)  # no test tick: the job's own first run
        assert pushed_days(api, GROUP) == [heading(DAY)] * expected
        await fire_at(bot, at(DAY, restart) + timedelta(minutes=1))
        assert pushed_days(api, GROUP) == [heading(DAY)] * expected
        tomorrow = DAY + timedelta(days=1)
        await fire_at(bot, at(tomorrow, "08:00"))
        assert pushed_days(api, GROUP) == [heading(DAY)] * expected + [heading(tomorrow)]


async def test_kill_9_during_the_0800_run_then_restart_sends_nothing_twice(tmp_path: Path, api: FakeBotAPI) -> None:
    """The data dir is copied while the 08:00 run's push is on the wire (claimed, not yet marked sent)."""
    clock = Clock(at(DAY, "07:00"))
    crashed = tmp_path / "crashed"
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await subscribe_group(bot)
        await ticker(bot).wait_idle(1)
        mark = api.mark()
        api.inject("sendMessage", Fault.slow(1.0), chat_id=GROUP)
        clock.set(at(DAY, "08:00"))
        await tick_job(bot).run(bot.app)
        await api.wait_for("sendMessage", chat_id=GROUP, since=mark, answered=False)
        shutil.copytree(tmp_path / "data", crashed / "data", ignore=shutil.ignore_patterns("store.lock", "cache"))
        await ticker(bot).wait_idle(ticker(bot).fires)
        assert pushed_days(api, GROUP) == [heading(DAY)]
    clock.set(at(DAY, "08:00") + timedelta(seconds=20))
    async with running_bot(crashed, api=api, clock=clock) as bot:
        await ticker(bot).wait_idle(1)  # the first run at start, inside the grace: the claim holds it back
        for when in ("08:01", "08:02", "09:59"):
            await fire_at(bot, at(DAY, when))
        assert pushed_days(api, GROUP) == [heading(DAY)]
        tomorrow: date = DAY + timedelta(days=1)
        await fire_at(bot, at(tomorrow, "08:00"))
        assert pushed_days(api, GROUP) == [heading(DAY), heading(tomorrow)]
