"""Issue 10 end to end: one flooded group never silences the bot for everyone else.

The real Application (tests/e2e.py) against the fake Bot API with its flood model on (20 sends a minute
per group, 30 a second overall, 429 beyond). One group sends 300 messages that mention the bot within
10 s while 20 private users each send `/help` and `搜索 职代会`. Times are real: when the scenario pushed
an update, and when the fake server received the bot's answer (its recorded call time, same clock).
`flood_scenario` is shared with bench/flood.py.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e import running_bot
from fakebotapi import Call, FakeBotAPI, Fault, FloodLimits, User, parse_html

from bot import texts
from bot.flood import normalise

BOT = "union_helper_bot"
FLOOD_GROUP = -1009876543210
COMMON = ["职代会", "集体合同", "厂务公开", "劳动保护", "女职工"]
TOPICS = ["工资", "休假", "加班", "培训", "体检", "食堂", "宿舍", "通勤", "安全", "奖金"]
#: Plain texts of the flood notes, as members see them.
ANSWERS_OTHERS = parse_html(texts.FLOOD_ANSWERS_OTHERS)[0]
BUSY = parse_html(texts.flood_busy(True))[0]


def group_text(i: int) -> tuple[str, tuple[str, str]]:
    """The i-th flood message and its read request: a third 今日, a third five common searches, a third distinct."""
    if i % 3 == 0:
        return f"@{BOT} 今日", ("today", "")
    if i % 3 == 1:
        word = COMMON[i % len(COMMON)]
        return f"@{BOT} 搜索 {word}", ("search", word)
    words = f"{TOPICS[i % len(TOPICS)]} 第{i}条"
    return f"@{BOT} {words}", ("search", normalise(words))


def rss_mb() -> float:
    """This process's resident memory (the bot runs in it), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


@dataclass
class Asked:
    message_id: int
    key: tuple[str, str]


@dataclass
class FloodResult:
    private_latencies: list[float] = field(default_factory=list)  # seconds; inf = not answered in time
    asked: list[Asked] = field(default_factory=list)
    group_calls: list[Call] = field(default_factory=list)
    rss_growth_mb: float = 0.0
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        xs = sorted(self.private_latencies)
        return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))] if xs else math.nan

    def uncovered(self) -> list[Asked]:
        """Group askers who got neither an answer, nor a covering answer to the same request, nor the busy note."""
        replied_to: dict[int, Call] = {}
        for c in self.group_calls:
            target = (c.result or {}).get("reply_to_message", {}).get("message_id")
            if target is not None:
                replied_to[target] = c
        keys = {a.message_id: a.key for a in self.asked}
        covering = [(t, keys.get(t), c) for t, c in replied_to.items() if ANSWERS_OTHERS in c.text]
        busy = [t for t, c in replied_to.items() if BUSY in c.text]
        return [
            a for a in self.asked
            if a.message_id not in replied_to
            and not any(t <= a.message_id and k == a.key for t, k, _ in covering)
            and not any(t <= a.message_id for t in busy)
        ]


async def _private_user(api: FakeBotAPI, user: User, start: float, deadline: float, out: list[float]) -> None:
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    requests = ("/help", "搜索 职代会")
    for n, text in enumerate(requests):
        mark = api.mark()
        sent = time.monotonic()
        api.push_message(text, user=user)
        try:
            [reply] = await api.wait_for("sendMessage", chat_id=user.id, since=mark, ok=True,
                                         timeout=max(0.1, deadline - time.monotonic()))
        except AssertionError:
            out.extend([math.inf] * (len(requests) - n))  # this one and those never sent
            return
        out.append(reply.time - sent)


async def flood_scenario(
    api: FakeBotAPI, *, group_messages: int = 300, seconds: float = 10.0, private_users: int = 20,
    private_timeout: float = 30.0, owed: int = 0,
) -> FloodResult:
    """Push the group flood and the private users' requests; return the private latencies (not waiting for the group).

    `owed`: that many of the group's messages (spread evenly) are suggestions instead, whose receipts the bot
    owes and sends however long the group's send budget makes them wait.
    """
    result = FloodResult()
    members = [User(5000 + i, f"群成员{i}") for i in range(60)]
    users = [User(6000 + i, f"会员{i}", f"member{i}") for i in range(private_users)]
    t0 = time.monotonic()
    deadline = t0 + seconds + private_timeout
    step = group_messages // owed if owed else 0
    privates = [
        asyncio.create_task(_private_user(api, u, t0 + (i + 0.5) * seconds / private_users, deadline,
                                          result.private_latencies))
        for i, u in enumerate(users)
    ]
    for i in range(group_messages):
        await asyncio.sleep(max(0.0, t0 + i * seconds / group_messages - time.monotonic()))
        text, key = group_text(i)
        member = members[i % len(members)]
        if step and i % step == step // 2 and i // step < owed:
            api.push_message(f"@{BOT} 建议 食堂第{i}号窗口希望增加素菜品种", user=member, chat_id=FLOOD_GROUP)
            continue
        update = api.push_message(text, user=member, chat_id=FLOOD_GROUP, chat_title="职工之家群")
        result.asked.append(Asked(update["message"]["message_id"], key))
    await asyncio.gather(*privates)
    result.seconds = time.monotonic() - t0
    return result


def group_calls(api: FakeBotAPI) -> list[Call]:
    return [c for c in api.calls if c.method == "sendMessage" and c.ok and c.chat_id == FLOOD_GROUP]


@pytest.mark.filterwarnings("ignore:.*retry_after.*")
async def test_a_flooded_group_never_silences_private_chats(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tmp_path, flood=FloodLimits()) as bot:
        api = bot.api
        warm = User(5999, "预热", "warmup")
        await bot.say("搜索 职代会", user=warm, timeout=30)  # the search index is loaded before measuring
        await bot.say("/help", user=warm)
        before = rss_mb()
        result = await flood_scenario(api)
        await bot.settled(timeout=30)
        result.rss_growth_mb = rss_mb() - before
        result.group_calls = group_calls(api)
        failed_sends = [c for c in api.calls if c.method == "sendMessage" and c.ok is False]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]  # before PTB's shutdown notices

    latencies = result.private_latencies
    print(f"private replies: p50 {result.percentile(50):.3f}s p99 {result.percentile(99):.3f}s, "  # noqa: T201
          f"max {max(latencies):.3f}s; group sends {len(result.group_calls)}; 429s {api.flood_429s}; "
          f"rss +{result.rss_growth_mb:.1f} MB")
    assert len(latencies) == 40 and result.percentile(99) < 2.0, sorted(latencies)[-5:]
    assert not result.uncovered(), result.uncovered()[:5]
    assert any(BUSY in c.text for c in result.group_calls)  # distinct searches beyond the budget got the note
    assert len(result.group_calls) <= 20  # nothing queued for minutes: all within the group's first minute
    sent = api.sent_texts()
    assert not any(texts.INTERNAL_ERROR in t for t in sent)
    assert all(c.error is not None and c.error.code == 429 for c in failed_sends)  # retried, none lost
    assert not errors, caplog.text[-2000:]
    assert result.rss_growth_mb < 50
    assert bot.app.bot_data["updates"].shed.total() == 0


# --- per-chat order and cross-chat concurrency, over the wire -----------------------------------------------


async def test_a_slow_chat_never_delays_another_and_inline_queries_go_straight_through(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        slow, quick = User(7001, "慢"), User(7002, "快")
        await bot.say("/help", user=slow)  # both chats known to the fake server
        bot.api.inject("sendMessage", Fault.slow(3.0), chat_id=slow.id)
        mark = bot.api.mark()
        bot.api.push_message("/help", user=slow)
        await bot.api.wait_for("sendMessage", chat_id=slow.id, answered=False, since=mark)
        start = time.monotonic()
        assert "命令一览" in await bot.said("/help", user=quick)
        mark = bot.api.mark()
        bot.api.push_inline_query("集体合同", user=quick)
        [inline] = await bot.api.wait_for("answerInlineQuery", since=mark, ok=True)
        assert inline.time - start < 2.0 and time.monotonic() - start < 2.5  # the slow chat still waits
        await bot.settled()


async def test_a_chats_messages_and_button_presses_share_one_order(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        user = User(7003, "按钮")
        [results] = await bot.say("搜索 职代会", user=user)
        msg_id = results.result["message_id"]
        bot.api.inject("sendMessage", Fault.slow(1.0), chat_id=user.id)
        mark = bot.api.mark()
        bot.api.push_message("/help", user=user)
        bot.api.press_button(user.id, msg_id, text=texts.SEARCH_BTN_MORE, user=user)
        [slow_help] = await bot.api.wait_for("sendMessage", chat_id=user.id, since=mark)
        [pressed] = await bot.api.wait_for("answerCallbackQuery", since=mark)
        assert pressed.time >= slow_help.time + 0.9  # the press waited for the message before it
