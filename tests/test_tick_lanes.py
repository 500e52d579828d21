"""The quiz and the weekly reminder per platform (bot/ticks.py, lanes per platform), through the real core and a
real Ticker: one platform's sender hangs until the test releases it (as a WeCom send waits for a lost link);
the other platform is served on time, and the hung one exactly once when it is released.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from quiz_helpers import q, use_bank
from test_suggest_helpers import ADMIN, GROUP, OFFICER, TZ, Clock, grp, make_services, pm, say, text_of

from bot.core import Reply, Request
from bot.handlers import quiz as quiz_handlers
from bot.handlers import suggest
from bot.services import Services
from bot.ticks import Ticker

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
WGROUP = "wecom:wrLane1"
WOFFICER = "wecom:officer1"


class Platform:
    """One platform's sender: records what reached its chats; while `held`, a send waits for `release`."""

    def __init__(self, held: bool = False) -> None:
        self.sent: list[Reply] = []
        self.waiting = 0
        self.gate = asyncio.Event()
        if not held:
            self.gate.set()
        self._changed = asyncio.Condition()

    async def __call__(self, reply: Reply) -> None:
        self.waiting += 1
        await self._notify()
        await self.gate.wait()
        self.waiting -= 1
        self.sent.append(reply)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), 10)

    def release(self) -> None:
        self.gate.set()

    def quizzes(self, chat_id: str) -> list[Reply]:
        return [r for r in self.sent if r.chat_id == chat_id and r.quiz is not None]


def two_platforms(tmp: Path, clock: Clock, held: str = "wecom") -> tuple[Services, Platform, Platform]:
    """One platform answers at once; the `held` one's sends hang until released. A WeCom officer is configured too."""
    svc = make_services(tmp / "data", clock)
    svc.config = dataclasses.replace(svc.config, wecom=dataclasses.replace(svc.config.wecom, officers=("officer1",)))
    use_bank(svc, tmp, [q(1), q(2), q(3)])
    tg, wecom = Platform(held=held == "tg"), Platform(held=held == "wecom")
    svc.senders.update({"tg": tg, "wecom": wecom})
    return svc, tg, wecom


def admin_of(chat: str, uid: str, text: str) -> Request:
    req = grp(uid, text, chat=chat)

    async def yes() -> bool:
        return True

    req.is_chat_admin = yes  # type: ignore[method-assign]
    return req


async def test_a_hung_wecom_quiz_push_never_holds_telegrams_quiz_of_the_next_minute(tmp_path: Path) -> None:
    clock = Clock(MONDAY)
    svc, tg, wecom = two_platforms(tmp_path, clock)
    assert "已订阅每日一题" in text_of(await say(svc, admin_of(WGROUP, "wecom:boss", "/quizsub 12:00")))
    assert "已订阅每日一题" in text_of(await say(svc, admin_of(GROUP, ADMIN, "/quizsub 12:01")))
    ticker = Ticker(svc, ticks=[quiz_handlers.tick])
    try:
        clock.t = MONDAY.replace(hour=12)
        await ticker.fire()
        await wecom.until(lambda: wecom.waiting == 1)  # WeCom's 12:00 quiz hangs on the wire
        clock.t = MONDAY.replace(hour=12, minute=1)
        await ticker.fire()
        await tg.until(lambda: len(tg.quizzes(GROUP)) == 1)  # Telegram's 12:01 quiz goes out meanwhile
        assert "bot.handlers.quiz.tick[wecom]" in ticker.running and wecom.sent == []
        wecom.release()
        await ticker.wait_idle(2)
        assert len(wecom.quizzes(WGROUP)) == 1 and len(tg.quizzes(GROUP)) == 1
        clock.t = MONDAY.replace(hour=12, minute=2)
        await ticker.fire()
        await ticker.wait_idle(3)
        assert len(wecom.quizzes(WGROUP)) == 1 and len(tg.quizzes(GROUP)) == 1  # never twice a day
    finally:
        wecom.release()
        await ticker.stop()
        svc.close()


async def test_the_weekly_reminder_is_claimed_per_platform_and_never_waits_for_another(tmp_path: Path) -> None:
    """Telegram's officer comes first in the officers' order, and Telegram hangs: WeCom's officer is reminded anyway
    (in one lane, the reminders would wait behind the hung send)."""
    clock = Clock(MONDAY - timedelta(days=35))
    svc, tg, wecom = two_platforms(tmp_path, clock, held="tg")
    assert "JY-2026-0001" in text_of(await say(svc, pm("tg:1", "建议 老建议一直没人回复")))
    ticker = Ticker(svc, ticks=[suggest.overdue_tick])
    try:
        clock.t = MONDAY  # 09:00, 35 days later: overdue
        await ticker.fire()
        await tg.until(lambda: tg.waiting == 1)
        await wecom.until(lambda: len(wecom.sent) == 1)  # the WeCom officer's reminder, while Telegram's hangs
        assert wecom.sent[0].chat_id == WOFFICER and "JY-2026-0001" in wecom.sent[0].text
        tg.release()
        await ticker.wait_idle(1)
        assert [r.chat_id for r in tg.sent] == [OFFICER]
        for hours in (1, 50):  # later in the week: once per week and platform
            clock.t = MONDAY + timedelta(hours=hours)
            await ticker.fire()
            await ticker.wait_idle(ticker.fires)
        assert len(tg.sent) == 1 and len(wecom.sent) == 1
        assert svc.store.suggest_meta("overdue_week:tg") == svc.store.suggest_meta("overdue_week:wecom") == "2026-W10"
    finally:
        tg.release()
        await ticker.stop()
        svc.close()


async def test_a_week_recorded_before_the_reminder_went_per_platform_still_counts(tmp_path: Path) -> None:
    clock = Clock(MONDAY - timedelta(days=35))
    svc, tg, wecom = two_platforms(tmp_path, clock)
    wecom.release()
    await say(svc, pm("tg:1", "建议 老建议一直没人回复"))
    svc.store.set_suggest_meta("overdue_week", "2026-W10")  # an earlier release sent this week's, to everyone
    clock.t = MONDAY + timedelta(hours=2)
    await suggest.overdue_tick(svc)
    assert tg.sent == [] and wecom.sent == []
    clock.t = MONDAY + timedelta(days=7)  # the next week: per platform
    await suggest.overdue_tick(svc)
    assert [r.chat_id for r in tg.sent] == [OFFICER] and [r.chat_id for r in wecom.sent] == [WOFFICER]
    svc.close()
