"""Daily push across bot restarts, end to end: the real PTB bot against the fake Telegram, one data dir.

`running_bot(tmp_path, api=..., clock=...)` keeps its store in `tmp_path / "data"`, so entering it twice over the
same tmp_path (and the same fake server) is a restart: the second bot only has what the first one stored.
Every assertion is on what the chat received from the server, never on the store.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e import ALICE, BOB, GROUP, Clock, RunningBot, running_bot
from fakebotapi import FakeBotAPI, Fault

from bot import texts
from bot.handlers import push

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 2)  # a Monday
HEADING = re.compile(r"每日一招 · (\d{4}年\d{1,2}月\d{1,2}日)")


def at(day: date, hhmm: str) -> datetime:
    """`hhmm` on `day`, Beijing time."""
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=TZ)


def heading(day: date) -> str:
    """The date as a push's heading shows it."""
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """One fake Telegram that outlives the bot's restarts."""
    async with FakeBotAPI() as server:
        yield server


async def tick_at(bot: RunningBot, when: datetime) -> None:
    """Set the clock and run the push tick, as the adapter's job does every minute."""
    bot.clock.set(when)
    await push.tick(bot.services)


def pushes(api: FakeBotAPI, chat_id: int, since: int = 0) -> list[str]:
    """The daily pushes the chat received (plain text), oldest first."""
    return [c.text for c in api.find("sendMessage", chat_id=chat_id, since=since, ok=True)
            if texts.PUSH_FOOTER in c.text and HEADING.search(c.text)]


def pushed_days(api: FakeBotAPI, chat_id: int, since: int = 0) -> list[str]:
    """The dates in the headings of the chat's pushes."""
    return [m.group(1) for t in pushes(api, chat_id, since) if (m := HEADING.search(t))]


async def subscribe_group(bot: RunningBot, args: str = "08:00", chat_id: int = GROUP) -> None:
    """ALICE, an admin of the group, subscribes it."""
    bot.api.set_admins(chat_id, [ALICE.id])
    assert "已订阅" in await bot.said(f"/subscribe {args}", user=ALICE, chat_id=chat_id)


async def settle(bot: RunningBot, chat_id: int, count: int) -> None:
    """Wait until `count` pushes reached the chat (the adapter's own job may be the one sending them)."""
    others = len(bot.api.find("sendMessage", chat_id=chat_id, ok=True)) - len(pushes(bot.api, chat_id))
    await bot.api.wait_for("sendMessage", others + count, chat_id=chat_id, ok=True)
    await tick_at(bot, bot.clock.now + timedelta(seconds=30))  # one more tick: nothing further is sent


# ----------------------------------------------------------------------------- one bot


async def test_pushed_at_0800_exactly_once(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        await subscribe_group(bot)
        await tick_at(bot, at(DAY, "07:59"))
        assert pushes(api, GROUP) == []
        await tick_at(bot, at(DAY, "08:00"))
        await settle(bot, GROUP, 1)
        for later in ("08:00", "08:01", "09:00", "23:59"):
            await tick_at(bot, at(DAY, later))
        assert pushed_days(api, GROUP) == [heading(DAY)]
        await tick_at(bot, at(DAY + timedelta(days=1), "08:00"))
        assert pushed_days(api, GROUP) == [heading(DAY), heading(DAY + timedelta(days=1))]


async def test_non_admin_is_refused_and_admin_accepted(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        api.set_admins(GROUP, [ALICE.id])
        assert await bot.said("/subscribe 08:00", user=BOB, chat_id=GROUP) == texts.PUSH_ADMINS_ONLY
        assert await bot.said("订阅 08:00", user=BOB, chat_id=GROUP) == texts.PUSH_ADMINS_ONLY
        await tick_at(bot, at(DAY, "08:00"))
        assert pushes(api, GROUP) == []
        assert "已订阅" in await bot.said("/subscribe 09:00", user=ALICE, chat_id=GROUP)
        await tick_at(bot, at(DAY, "09:00"))
        await settle(bot, GROUP, 1)
        assert pushed_days(api, GROUP) == [heading(DAY)]


# ----------------------------------------------------------------------------- restarts


@pytest.mark.parametrize(
    ("restart", "expected"),
    [("08:30", 1), ("09:30", 1), ("09:59", 1), ("10:00", 0), ("10:30", 0)],
    ids=["0830-in-grace", "0930-in-grace", "0959-last-minute", "1000-grace-over", "1030-past-grace"],
)
async def test_down_over_0800_then_restarted(tmp_path: Path, api: FakeBotAPI, restart: str, expected: int) -> None:
    clock = Clock(at(DAY, "07:00"))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await subscribe_group(bot)
    clock.set(at(DAY, restart))  # down from 07:00 to the restart, 08:00 passed meanwhile
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await tick_at(bot, at(DAY, restart))
        if expected:
            await settle(bot, GROUP, expected)
        for later in ("10:00", "12:00", "23:59"):
            await tick_at(bot, at(DAY, later))
        assert pushed_days(api, GROUP) == [heading(DAY)] * expected
        tomorrow = DAY + timedelta(days=1)
        await tick_at(bot, at(tomorrow, "08:00"))  # a missed day does not stop the next one
        await settle(bot, GROUP, expected + 1)
        assert pushed_days(api, GROUP) == [heading(DAY)] * expected + [heading(tomorrow)]


async def test_crash_right_after_sending_never_pushes_twice(tmp_path: Path, api: FakeBotAPI) -> None:
    """The data dir is copied while the push is on the wire (the claim is on disk, "sent" is not): a crash image."""
    clock = Clock(at(DAY, "07:00"))
    crashed = tmp_path / "crashed"
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        await subscribe_group(bot)
        mark = api.mark()
        api.inject("sendMessage", Fault.slow(1.0), chat_id=GROUP)
        clock.set(at(DAY, "08:00"))
        ticking = bot.app.create_task(push.tick(bot.services))
        await api.wait_for("sendMessage", chat_id=GROUP, since=mark, answered=False)
        # The search cache is left out: the index warm-up may be writing it at this moment.
        skip = shutil.ignore_patterns("store.lock", "cache")
        shutil.copytree(tmp_path / "data", crashed / "data", ignore=skip)
        await ticking
        assert pushed_days(api, GROUP) == [heading(DAY)]
    clock.set(at(DAY, "08:01"))
    async with running_bot(crashed, api=api, clock=clock) as bot:
        for when in ("08:01", "08:30", "09:59"):
            await tick_at(bot, at(DAY, when))
        assert "已订阅" in await bot.said("/status", chat_id=GROUP)
        assert pushed_days(api, GROUP) == [heading(DAY)]
        tomorrow = DAY + timedelta(days=1)
        await tick_at(bot, at(tomorrow, "08:00"))
        await settle(bot, GROUP, 2)
        assert pushed_days(api, GROUP) == [heading(DAY), heading(tomorrow)]


# ----------------------------------------------------------------------------- rotation and calendar


def practice_title(bot: RunningBot, text: str) -> str:
    """The practice title line of a push."""
    titles = {p.title.strip() for p in bot.services.content.practices}
    found = [line.strip() for line in text.splitlines() if line.strip() in titles]
    assert len(found) == 1, text[:300]
    return found[0]


async def test_full_rotation_before_any_repeat_across_restarts(tmp_path: Path, api: FakeBotAPI) -> None:
    """Day by day in a private chat (a group's 20 messages a minute would make this slow); restarted halfway."""
    clock = Clock(at(DAY, "07:00"))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        assert "已订阅" in await bot.said("/subscribe 08:00", user=ALICE)
        n = len(bot.services.content.practices)
        assert n >= 2
        for i in range(n // 2):
            await tick_at(bot, at(DAY + timedelta(days=i), "08:00"))
        await settle(bot, ALICE.id, n // 2)
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        for i in range(n // 2, n + 1):
            await tick_at(bot, at(DAY + timedelta(days=i), "08:00"))
        await settle(bot, ALICE.id, n + 1)
        sent = pushes(api, ALICE.id)
        assert pushed_days(api, ALICE.id) == [heading(DAY + timedelta(days=i)) for i in range(n + 1)]
        titles = [practice_title(bot, t) for t in sent]
        all_titles = {p.title.strip() for p in bot.services.content.practices}
        assert len(set(titles[:n])) == n and set(titles[:n]) == all_titles  # every practice once
        assert titles[n] in all_titles and titles[n] != titles[n - 1]  # the next round, no back-to-back repeat


async def test_workdays_skip_national_day_and_push_on_makeup_saturday(tmp_path: Path, api: FakeBotAPI) -> None:
    start = date(2026, 9, 30)
    async with running_bot(tmp_path, api=api, clock=Clock(at(start, "07:00"))) as bot:
        await subscribe_group(bot, "08:00 工作日")
        for i in range(13):  # 2026-09-30 (Wed) .. 2026-10-12 (Mon)
            await tick_at(bot, at(start + timedelta(days=i), "08:00"))
        expected = [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)]
        await settle(bot, GROUP, len(expected))
        assert pushed_days(api, GROUP) == [heading(d) for d in expected]
        assert heading(date(2026, 10, 1)) not in "".join(pushes(api, GROUP))
