"""Daily push behaviour through dispatch + the tick: real Store in tmp_path, controlled clock, recording sender."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.commands import dispatch
from bot.config import Config, PushConfig, StorageConfig
from bot.content import Content, Practice
from bot.core import ChatGone, ChatMoved, DeliveryError, Reply, Request
from bot.handlers import push
from bot.services import Services
from bot.store import Store

SH = ZoneInfo("Asia/Shanghai")
GROUP = "tg:-1001"
OTHER = "tg:-1002"
PRIVATE = "tg:501"
ADMIN, MEMBER = "tg:11", "tg:12"
OFFICER_TG = 13  # [bot] officers holds Telegram's ints
OFFICER = f"tg:{OFFICER_TG}"


def make_content(n: int = 5) -> Content:
    practices = tuple(
        Practice(f"p{i}", f"好做法{i}", f"第一段<{i}>。\n第二段 & 说明{i}。", f"来源{i}", ("标签",), ())
        for i in range(n)
    )
    return Content(passages=(), practices=practices, version="test")


@dataclass
class Clock:
    t: datetime

    def __call__(self) -> datetime:
        return self.t


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the bot catches it)."""


@dataclass
class Outbox:
    """A recording svc.sender; `fail[chat_id]` is raised (once per entry) instead of delivering."""

    sent: list[Reply] = field(default_factory=list)
    fail: dict[str, list[BaseException]] = field(default_factory=dict)
    crash_after_send: bool = False

    async def __call__(self, reply: Reply) -> None:
        assert reply.chat_id is not None and len(reply.text) <= 4096
        errors = self.fail.get(reply.chat_id)
        if errors:
            raise errors.pop(0)
        self.sent.append(reply)
        if self.crash_after_send:
            raise Crash

    def to(self, chat_id: str) -> list[str]:
        return [r.text for r in self.sent if r.chat_id == chat_id]


@dataclass
class Bot:
    """One running bot process over a data dir; `restart()` simulates stopping and starting it."""

    data_dir: Path
    clock: Clock
    outbox: Outbox
    content: Content
    push_config: PushConfig
    svc: Services | None = None

    def start(self) -> Services:
        cfg = Config(storage=StorageConfig(dir=str(self.data_dir)), push=self.push_config)
        cfg = Config(storage=cfg.storage, push=cfg.push, bot=type(cfg.bot)(officers=(OFFICER_TG,)))
        self.svc = Services(cfg, self.content, Store(self.data_dir), clock=self.clock,
                            senders={"tg": self.outbox})
        return self.svc

    def restart(self) -> Services:
        assert self.svc is not None
        self.svc.close()
        return self.start()

    async def say(self, text: str, chat_id: str = GROUP, user_id: str = ADMIN) -> str:
        assert self.svc is not None
        chat_type = "private" if chat_id == user_id else "supergroup"  # a private chat's id is its user's

        async def is_admin() -> bool:
            return user_id == ADMIN

        req = Request(chat_id=chat_id, chat_type=chat_type, user_id=user_id, user_name="张三", text=text,
                      chat_title="测试工会群", is_chat_admin=is_admin)
        return "\n".join(r.text for r in await dispatch(req, self.svc))

    async def tick_at(self, t: datetime) -> None:
        self.clock.t = t
        assert self.svc is not None
        await push.tick(self.svc)


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    b = Bot(tmp_path / "data", Clock(at(7, 0)), Outbox(), make_content(), PushConfig())
    b.start()
    yield b
    if b.svc is not None:
        b.svc.close()


def at(hour: int, minute: int = 0, day: int = 2, month: int = 3) -> datetime:
    """A Beijing time on 2026-03-<day> (2026-03-02 is a Monday)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


# --- subscribing ---------------------------------------------------------------------------------


async def test_subscribe_then_pushed_once_at_the_time_and_today_matches(bot: Bot) -> None:
    answer = await bot.say("/subscribe 08:00")
    assert "已订阅" in answer and "2026年3月2日（周一） 08:00（北京时间）" in answer
    await bot.tick_at(at(7, 59))
    assert bot.outbox.sent == []
    await bot.tick_at(at(8, 0, ) + timedelta(seconds=20))
    pushed = bot.outbox.to(GROUP)
    assert len(pushed) == 1 and "好做法" in pushed[0] and "2026年3月2日" in pushed[0]
    assert "&lt;" in pushed[0] and "回复“搜索 关键词”查更多" in pushed[0]
    await bot.tick_at(at(8, 1))
    await bot.tick_at(at(9, 30))
    assert len(bot.outbox.to(GROUP)) == 1
    assert await bot.say("/today") == pushed[0]
    assert await bot.say("今日一招", user_id=MEMBER) == pushed[0]
    status = await bot.say("状态", user_id=MEMBER)
    assert "已订阅" in status and "2026年3月3日（周二） 08:00" in status and "本轮还剩：4 / 5" in status


async def test_next_days_walk_the_whole_rotation_without_repeats(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    for d in range(2, 12):
        await bot.tick_at(at(8, 0, day=d))
    titles = [t.split("<b>")[2].split("</b>")[0] for t in bot.outbox.to(GROUP)]
    assert len(titles) == 10
    assert sorted(titles[:5]) == sorted(titles[5:]) == [f"好做法{i}" for i in range(5)]


async def test_today_before_the_push_predicts_it(bot: Bot) -> None:
    await bot.say("/subscribe 09:00 每天")
    shown = await bot.say("/today", user_id=MEMBER)
    await bot.tick_at(at(9, 0))
    assert bot.outbox.to(GROUP) == [shown]


async def test_private_chat_subscribes_and_unsubscribed_chat_still_gets_today(bot: Bot) -> None:
    assert "好做法" in await bot.say("/today", chat_id=PRIVATE, user_id=PRIVATE)
    assert "未订阅" in await bot.say("/status", chat_id=PRIVATE, user_id=PRIVATE)
    assert "已订阅" in await bot.say("订阅 07:30", chat_id=PRIVATE, user_id=PRIVATE)
    await bot.tick_at(at(7, 30))
    assert len(bot.outbox.to(PRIVATE)) == 1


@pytest.mark.parametrize("user_id", [MEMBER])
async def test_non_admin_in_group_is_refused(bot: Bot, user_id: str) -> None:
    for text in ("/subscribe", "订阅 08:00", "/settime 09:00", "/unsubscribe", "/push"):
        assert "抱歉" in await bot.say(text, user_id=user_id)
    assert "未订阅" in await bot.say("/status", user_id=user_id)
    assert "已订阅" in await bot.say("/subscribe", user_id=OFFICER)  # a configured officer may
    assert "好做法" in await bot.say("/push", user_id=OFFICER)


@pytest.mark.parametrize("bad", ["25:00", "8点", "abc", "<b>x</b>", "08:00 08:30", "😀" * 500])
async def test_bad_times_get_usage(bot: Bot, bad: str) -> None:
    assert "用法：/subscribe" in await bot.say(f"/subscribe {bad}")
    assert "用法：/settime" in await bot.say(f"/settime {bad}")
    assert "未订阅" in await bot.say("/status")


async def test_settime_and_unsubscribe(bot: Bot) -> None:
    assert "尚未订阅" in await bot.say("/settime 09:00")
    await bot.say("/subscribe")  # defaults from config.push: 每天 08:00
    assert "每天 08:00" in await bot.say("/status")
    assert "已订阅" in await bot.say("/subscribe")  # already: tells the settings
    answer = await bot.say("推送时间 18:30 工作日")
    assert "工作日 18:30" in answer and "含调休上班日" in answer
    await bot.tick_at(at(8, 0))
    assert bot.outbox.sent == []
    await bot.tick_at(at(18, 30))
    assert len(bot.outbox.to(GROUP)) == 1
    assert "已取消" in await bot.say("取消订阅")
    assert "尚未订阅" in await bot.say("/unsubscribe")
    await bot.tick_at(at(18, 30, day=3))
    assert len(bot.outbox.to(GROUP)) == 1


async def test_workdays_skip_national_day_and_push_on_make_up_saturday(bot: Bot) -> None:
    bot.clock.t = datetime(2026, 9, 30, 12, 0, tzinfo=SH)
    await bot.say("/subscribe 08:00 工作日")
    assert "2026年10月8日（周四） 08:00" in await bot.say("/status")
    for d in range(1, 8):
        await bot.tick_at(datetime(2026, 10, d, 8, 0, tzinfo=SH))
    assert bot.outbox.sent == []
    await bot.tick_at(datetime(2026, 10, 10, 8, 0, tzinfo=SH))  # Saturday, 调休 working day
    await bot.tick_at(datetime(2026, 10, 11, 8, 0, tzinfo=SH))  # Sunday
    assert len(bot.outbox.to(GROUP)) == 1 and "2026年10月10日（周六）" in bot.outbox.to(GROUP)[0]


async def test_status_states_the_calendar_fallback(bot: Bot) -> None:
    bot.clock.t = datetime(2026, 12, 31, 12, 0, tzinfo=SH)
    await bot.say("/subscribe 08:00 工作日")
    status = await bot.say("/status")
    assert "2027 年的法定节假日与调休安排尚未收录" in status and "周一至周五" in status
    assert "尚未收录" not in await bot.say("/status", chat_id=PRIVATE, user_id=PRIVATE)


# --- restarts ------------------------------------------------------------------------------------


async def test_restart_within_grace_delivers_exactly_once(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    bot.restart()  # down over 08:00 ...
    await bot.tick_at(at(9, 50))  # ... back before 10:00 (grace 120 min)
    assert len(bot.outbox.to(GROUP)) == 1
    await bot.tick_at(at(9, 51))
    bot.restart()
    await bot.tick_at(at(9, 52))
    await bot.tick_at(at(12, 0))
    assert len(bot.outbox.to(GROUP)) == 1


async def test_restart_after_grace_skips_and_logs(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    await bot.say("/subscribe 08:00")
    bot.restart()
    with caplog.at_level(logging.WARNING, logger="bot.handlers.push"):
        await bot.tick_at(at(10, 1))
    assert bot.outbox.sent == []
    assert any("missed" in r.getMessage() and str(GROUP) in r.getMessage() for r in caplog.records)
    caplog.clear()
    await bot.tick_at(at(10, 2))
    assert not any("missed" in r.getMessage() for r in caplog.records)  # logged once
    assert "2026年3月3日（周二） 08:00" in await bot.say("/status")
    await bot.tick_at(at(8, 0, day=3))
    assert len(bot.outbox.to(GROUP)) == 1


async def test_crash_right_after_sending_never_sends_again(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    bot.outbox.crash_after_send = True
    with pytest.raises(Crash):
        await bot.tick_at(at(8, 0))
    assert len(bot.outbox.to(GROUP)) == 1
    bot.outbox.crash_after_send = False
    bot.restart()
    await bot.tick_at(at(8, 1))
    await bot.tick_at(at(9, 0))
    assert len(bot.outbox.to(GROUP)) == 1
    await bot.tick_at(at(8, 0, day=3))
    assert len(bot.outbox.to(GROUP)) == 2


async def test_definite_failure_is_retried_then_delivered_once(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    bot.outbox.fail[GROUP] = [DeliveryError("Bad Gateway")]
    await bot.tick_at(at(8, 0))
    assert bot.outbox.sent == []
    await bot.tick_at(at(8, 1))
    await bot.tick_at(at(8, 2))
    assert len(bot.outbox.to(GROUP)) == 1


# --- chats leaving and moving --------------------------------------------------------------------


async def test_kicked_chat_is_unsubscribed_and_others_still_get_theirs(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    await bot.say("/subscribe 08:00", chat_id=OTHER)
    await bot.say("/subscribe 08:00", chat_id=PRIVATE, user_id=PRIVATE)
    bot.outbox.fail[GROUP] = [ChatGone(GROUP, "Forbidden: bot was kicked from the supergroup chat")]
    bot.outbox.fail[PRIVATE] = [RuntimeError("unexpected")]
    await bot.tick_at(at(8, 0))
    assert len(bot.outbox.to(OTHER)) == 1
    assert "未订阅" in await bot.say("/status")
    await bot.tick_at(at(8, 0, day=3))
    assert bot.outbox.to(GROUP) == [] and len(bot.outbox.to(OTHER)) == 2
    assert len(bot.outbox.to(PRIVATE)) == 1  # the unexpected error was not retried on day 2, day 3 came


async def test_chat_removed_by_adapter_unsubscribes(bot: Bot) -> None:
    await bot.say("/subscribe 08:00")
    push.chat_removed(bot.svc, GROUP)  # type: ignore[arg-type]
    push.chat_removed(bot.svc, "tg:999")  # type: ignore[arg-type]  # unknown chat: nothing happens
    await bot.tick_at(at(8, 0))
    assert bot.outbox.sent == []


async def test_migrated_during_push_delivers_to_new_id_and_moves_subscription(bot: Bot) -> None:
    new_id = "tg:-1009999"
    await bot.say("/subscribe 08:00")
    shown = await bot.say("/today")
    bot.outbox.fail[GROUP] = [ChatMoved(GROUP, new_id)]
    await bot.tick_at(at(8, 0))
    assert bot.outbox.to(new_id) == [shown]
    await bot.tick_at(at(8, 1))
    assert len(bot.outbox.sent) == 1
    assert "已订阅" in await bot.say("/status", chat_id=new_id)
    assert "未订阅" in await bot.say("/status")
    await bot.tick_at(at(8, 0, day=3))
    assert len(bot.outbox.to(new_id)) == 2 and bot.outbox.to(GROUP) == []


async def test_migration_message_moves_subscription_and_rotation(bot: Bot) -> None:
    new_id = "tg:-1008888"
    await bot.say("/subscribe 08:00")
    await bot.tick_at(at(8, 0))
    push.chat_migrated(bot.svc, GROUP, new_id)  # type: ignore[arg-type]
    await bot.tick_at(at(8, 5))
    assert len(bot.outbox.sent) == 1  # the day's push already went to the group: not again
    assert "本轮还剩：4 / 5" in await bot.say("/status", chat_id=new_id)
    await bot.tick_at(at(8, 0, day=3))
    assert len(bot.outbox.to(new_id)) == 1 and bot.outbox.to(new_id)[0] != bot.outbox.to(GROUP)[0]


async def test_no_content_is_answered_not_crashed(tmp_path: Path) -> None:
    b = Bot(tmp_path / "d", Clock(at(7, 0)), Outbox(), make_content(0), PushConfig())
    b.start()
    try:
        assert "暂时还没有" in await b.say("/today")
        await b.say("/subscribe 08:00")
        assert "本轮还剩：0 / 0" in await b.say("/status")
        await b.tick_at(at(8, 0))
        assert b.outbox.sent == []
    finally:
        assert b.svc is not None
        b.svc.close()


async def test_a_chat_whose_platform_is_not_running_is_left_for_the_process_that_runs_it(bot: Bot) -> None:
    """`run.py telegram` alone must not claim (and so lose) or retry a WeCom group's push every tick."""
    wecom_group = "wecom:wrGroupX"
    await bot.say("/subscribe 08:00", chat_id=wecom_group)
    await bot.say("/subscribe 08:00")  # the Telegram group, for comparison
    await bot.tick_at(at(8, 0))
    await bot.tick_at(at(8, 1))
    assert len(bot.outbox.to(GROUP)) == 1 and bot.outbox.to(wecom_group) == []
    assert bot.svc is not None
    doc = bot.svc.store.push_doc(wecom_group)
    assert doc is not None and doc.get("deliveries", {}) == {}  # nothing claimed: a WeCom process pushes it later
    bot.svc.senders["wecom"] = bot.outbox  # now WeCom runs too
    await bot.tick_at(at(8, 2))
    assert len(bot.outbox.to(wecom_group)) == 1 and len(bot.outbox.to(GROUP)) == 1
