"""每日一题 end to end on Telegram: the real PTB bot against the fake Bot API, whose sendPoll/stopPoll are validated
like Telegram's and whose members vote (poll_answer updates). What a chat receives is checked on the fake."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e import ALICE, BOB, GROUP, Clock, RunningBot, running_bot
from fakebotapi import Call, FakeBotAPI, Fault, User
from quiz_helpers import q, use_bank

from bot import texts
from bot.handlers import quiz as quiz_handlers
from bot.ticks import run_ticks

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 2)  # a Monday


def at(day: date, hhmm: str, second: int = 0) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, second, tzinfo=TZ)


@pytest.fixture
async def api() -> FakeBotAPI:  # type: ignore[misc]
    async with FakeBotAPI() as server:
        yield server


async def tick_at(bot: RunningBot, when: datetime) -> None:
    bot.clock.set(when)
    await quiz_handlers.tick(bot.services)


async def quizsub(bot: RunningBot, args: str = "08:00", chat_id: int = GROUP) -> None:
    bot.api.set_admins(chat_id, [ALICE.id])
    assert "已订阅每日一题" in await bot.said(f"/quizsub {args}", user=ALICE, chat_id=chat_id)


def polls(api: FakeBotAPI, chat_id: int, since: int = 0) -> list[Call]:
    return api.find("sendPoll", chat_id=chat_id, since=since, ok=True)


async def test_the_push_is_a_native_quiz_poll_and_votes_are_counted(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        use_bank(bot.services, tmp_path, [q(1, explanation="原文：某段。")])
        getupdates = api.find("getUpdates", answered=False)
        assert all("poll_answer" in c.params["allowed_updates"] for c in getupdates)  # votes reach the bot
        await quizsub(bot)
        await tick_at(bot, at(DAY, "08:00"))
        [poll] = await api.wait_for("sendPoll", chat_id=GROUP, ok=True)
        p = poll.params
        assert p["type"] == "quiz" and p["is_anonymous"] is False and p["correct_option_ids"] == [1]
        assert poll.result["poll"]["question"] == "每日一题 · 3月2日\n第1题？"
        assert [o["text"] for o in poll.result["poll"]["options"]] == ["甲", "乙", "丙", "丁"]
        assert poll.result["poll"]["explanation"] == "解析：原文：某段。"
        await tick_at(bot, at(DAY, "08:01"))
        assert len(polls(api, GROUP)) == 1  # once a day
        mark = api.mark()
        api.vote(GROUP, poll.result["message_id"], [1], user=ALICE)
        api.vote(GROUP, poll.result["message_id"], [0], user=BOB)
        await bot.settled()
        assert api.find("sendMessage", since=mark) == []  # a vote spoils nothing: Telegram shows the voter alone
        board = await bot.said("/rank", user=BOB, chat_id=GROUP)
        assert "🥇 李四  答对 1 题" in board and "共 2 人参与" in board and "你：第 2 名，答对 0 / 1 题" in board
        # the next day: yesterday's poll is stopped and its answer revealed, then the new question goes out
        mark = api.mark()
        await tick_at(bot, at(DAY + timedelta(days=1), "00:00", 30))
        [stop] = await api.wait_for("stopPoll", since=mark, chat_id=GROUP, ok=True)
        assert stop.params["message_id"] == poll.result["message_id"]
        [reveal] = await api.wait_for("sendMessage", since=mark, chat_id=GROUP, ok=True)
        assert "答案揭晓" in reveal.text and "正确答案：B. 乙" in reveal.text
        assert "本群 2 人作答，1 人答对" in reveal.text
        assert api.calls.index(stop) < api.calls.index(reveal)
        await tick_at(bot, at(DAY + timedelta(days=1), "08:00"))
        assert len(await api.wait_for("sendPoll", 2, chat_id=GROUP, ok=True)) == 2


async def test_a_second_poll_the_same_day_counts_only_the_first_answer(tg: RunningBot, tmp_path: Path) -> None:
    use_bank(tg.services, tmp_path, [q(1), q(2)])
    tg.api.chat(GROUP)
    mark = tg.api.mark()
    tg.api.push_message("/quiz", user=ALICE, chat_id=GROUP, chat_title="工会群")
    tg.api.push_message("每日一题", user=BOB, chat_id=GROUP)
    first, second = await tg.api.wait_for("sendPoll", 2, chat_id=GROUP, since=mark, ok=True)
    assert first.result["poll"]["question"] == second.result["poll"]["question"]  # the same question all day
    tg.api.vote(GROUP, first.result["message_id"], [0], user=ALICE)
    tg.api.vote(GROUP, second.result["message_id"], [1], user=ALICE)  # the same member in the other poll
    await tg.settled()
    assert "答对 0 / 1 题" in await tg.said("/myscore", user=ALICE, chat_id=GROUP)


async def test_multiple_answer_question_is_a_regular_poll_and_a_private_vote_gets_the_verdict(
    tg: RunningBot, tmp_path: Path,
) -> None:
    use_bank(tg.services, tmp_path, [q(1, "multi", (0, 2))])
    mark = tg.api.mark()
    tg.api.push_message("/quiz", user=ALICE)
    [poll] = await tg.api.wait_for("sendPoll", chat_id=ALICE.id, since=mark, ok=True)
    p = poll.params
    assert p.get("type") == "regular" and p["allows_multiple_answers"] is True and "explanation" not in p
    assert "correct_option_ids" not in p
    mark = tg.api.mark()
    tg.api.vote(ALICE.id, poll.result["message_id"], [2, 0], user=ALICE)
    [verdict] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "回答正确" in verdict.text and "正确答案：A. 甲；C. 丙" in verdict.text
    tg.api.vote(ALICE.id, poll.result["message_id"], [], user=ALICE)  # retracted and voted again: first counts
    mark = tg.api.mark()
    tg.api.vote(ALICE.id, poll.result["message_id"], [1], user=ALICE)
    [note] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "已经答过" in note.text and "你选的是：A. 甲；C. 丙" in note.text
    assert "答对 1 / 1 题" in await tg.said("/myscore", user=ALICE)


async def test_a_long_question_goes_first_as_a_message_and_a_long_explanation_follows_at_the_close(
    tg: RunningBot, tmp_path: Path,
) -> None:
    long_q = "关于职工代表大会制度的一道长题：" + "职代会要听取职工意见并办好实事项目。" * 16
    long_e = "原文说明：" + "这是一段很长的解析。" * 30
    use_bank(tg.services, tmp_path, [q(1, text=long_q, explanation=long_e)])
    mark = tg.api.mark()
    tg.api.push_message("/quiz", user=ALICE)
    [poll] = await tg.api.wait_for("sendPoll", chat_id=ALICE.id, since=mark, ok=True)
    [lead] = tg.api.find("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert tg.api.calls.index(lead) < tg.api.calls.index(poll)
    assert long_q in lead.text and "A. 甲" in lead.text
    assert poll.result["poll"]["question"] == "每日一题 · 3月2日" + texts.QUIZ_POLL_SEE_ABOVE
    explanation = poll.result["poll"]["explanation"]
    assert len(explanation) == 200 and explanation.endswith(texts.QUIZ_POLL_MORE)
    tg.clock.advance(days=1)
    mark = tg.api.mark()
    await quiz_handlers.tick(tg.services)
    await tg.api.wait_for("stopPoll", chat_id=ALICE.id, since=mark, ok=True)
    [reveal] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert long_e in reveal.text  # the whole 解析


async def test_typed_answers_replying_to_the_poll_in_a_group(tg: RunningBot, tmp_path: Path) -> None:
    use_bank(tg.services, tmp_path, [q(1)])
    tg.api.push_message("/quiz", user=ALICE, chat_id=GROUP, chat_title="工会群")
    [poll] = await tg.api.wait_for("sendPoll", chat_id=GROUP, ok=True)
    mid = poll.result["message_id"]
    assert await tg.silent("B", user=BOB, chat_id=GROUP) == []  # not addressed: ordinary chatter
    tg.api.chat(ALICE.id)  # ALICE has a private chat with the bot; BOB never started it
    mark = tg.api.mark()
    got = await tg.said("B", user=ALICE, chat_id=GROUP, reply_to=mid)
    assert got == texts.quiz_taken("李四", told=True)
    [private] = tg.api.find("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "回答正确" in private.text
    got = await tg.said("答 C", user=BOB, chat_id=GROUP, reply_to=mid)
    assert got == texts.quiz_taken("王五", told=False)


async def test_a_repeated_answer_in_a_group_says_who_and_tells_the_choice_only_privately(
    tg: RunningBot, tmp_path: Path,
) -> None:
    use_bank(tg.services, tmp_path, [q(1)])
    tg.api.push_message("/quiz", user=ALICE, chat_id=GROUP, chat_title="工会群")
    [poll] = await tg.api.wait_for("sendPoll", chat_id=GROUP, ok=True)
    mid = poll.result["message_id"]
    tg.api.chat(ALICE.id)  # ALICE has a private chat with the bot; BOB and CAROL never started it
    await tg.said("答 B", user=ALICE, chat_id=GROUP, reply_to=mid)
    mark = tg.api.mark()
    got = await tg.said("C", user=ALICE, chat_id=GROUP, reply_to=mid)  # a second answer, replying to the poll
    assert "李四" in got and "已经答过" in got and "以第一次回答为准" in got
    assert "乙" not in got and "私信" in got  # her choice is not shown to the group: it goes privately
    [private] = tg.api.find("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "你今天已经答过这道题了" in private.text and "你选的是：B. 乙" in private.text and "回答正确" in private.text
    await tg.said("答 C", user=BOB, chat_id=GROUP, reply_to=mid)
    got = await tg.said("答 B", user=BOB, chat_id=GROUP, reply_to=mid)  # no private chat: said in the group
    assert "王五" in got and "已经答过" in got and "私聊我一次" in got  # who, never the choice or right / wrong
    assert "丙" not in got and "错误" not in got
    carol = User(2003, "赵六", "zhaoliu")
    await tg.handled(tg.api.vote(GROUP, mid, [1], user=carol))  # the poll shows 乙 (no letter)
    got = await tg.said("答 A", user=carol, chat_id=GROUP, reply_to=mid)
    assert "赵六" in got and "已经答过" in got and "乙" not in got


async def test_a_chat_may_have_both_pushes(tmp_path: Path, api: FakeBotAPI) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await quizsub(bot)
        assert "已订阅" in await bot.said("/subscribe 08:00", user=ALICE, chat_id=GROUP)
        bot.clock.set(at(DAY, "08:00"))
        await run_ticks(bot.services)
        await api.wait_for("sendPoll", chat_id=GROUP, ok=True)
        pushes = [c for c in api.find("sendMessage", chat_id=GROUP, ok=True) if texts.PUSH_FOOTER in c.text]
        assert len(pushes) == 1


async def test_a_kill_right_after_sending_the_poll_never_sends_it_twice(tmp_path: Path, api: FakeBotAPI) -> None:
    """The data dir is copied while the poll is on the wire (the claim is on disk, "sent" is not): a crash image."""
    clock = Clock(at(DAY, "07:00"))
    crashed = tmp_path / "crashed"
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await quizsub(bot)
        mark = api.mark()
        api.inject("sendPoll", Fault.slow(1.0), chat_id=GROUP)
        clock.set(at(DAY, "08:00"))
        ticking = bot.app.create_task(quiz_handlers.tick(bot.services))
        await api.wait_for("sendPoll", chat_id=GROUP, since=mark, answered=False)
        shutil.copytree(tmp_path / "data", crashed / "data", ignore=shutil.ignore_patterns("store.lock", "cache"))
        await ticking
        assert len(polls(api, GROUP)) == 1
    clock.set(at(DAY, "08:01"))
    async with running_bot(crashed, api=api, clock=clock) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        for hhmm in ("08:01", "08:30", "09:59"):
            await tick_at(bot, at(DAY, hhmm))
        assert len(polls(api, GROUP)) == 1
        await tick_at(bot, at(DAY + timedelta(days=1), "08:00"))
        assert len(await api.wait_for("sendPoll", 2, chat_id=GROUP, ok=True)) == 2


# --- the day's close when stopPoll fails ------------------------------------------------------------------


def is_open(api: FakeBotAPI, poll: Call) -> bool:
    return not api.poll(poll.result["poll"]["id"])["is_closed"]


@pytest.mark.parametrize("status", [500, 502])
async def test_a_poll_whose_stop_failed_is_stopped_on_a_later_tick_and_late_votes_do_not_count(
    tmp_path: Path, api: FakeBotAPI, status: int,
) -> None:
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await quizsub(bot)
        await tick_at(bot, at(DAY, "08:00"))
        [poll] = await api.wait_for("sendPoll", chat_id=GROUP, ok=True)
        await bot.handled(api.vote(GROUP, poll.result["message_id"], [1], user=ALICE))
        api.inject("stopPoll", Fault.server_error(status), chat_id=GROUP)
        mark = api.mark()
        await tick_at(bot, at(DAY + timedelta(days=1), "00:00", 30))
        [failed] = await api.wait_for("stopPoll", since=mark, chat_id=GROUP, ok=False)
        [reveal] = await api.wait_for("sendMessage", since=mark, chat_id=GROUP, ok=True)
        assert "答案揭晓" in reveal.text and "本群 1 人作答，1 人答对" in reveal.text  # the reveal is not held up
        assert is_open(api, poll)
        await bot.handled(api.vote(GROUP, poll.result["message_id"], [1], user=BOB))  # still open: a late vote
        assert "还没有答题" in await bot.said("/myscore", user=BOB, chat_id=GROUP)  # counted nowhere
        await tick_at(bot, at(DAY + timedelta(days=1), "00:00", 45))  # no hammering within the minute
        assert len(api.find("stopPoll", since=mark, chat_id=GROUP)) == 1
        mark = api.mark()
        await tick_at(bot, at(DAY + timedelta(days=1), "01:00"))
        await api.wait_for("stopPoll", since=mark, chat_id=GROUP, ok=True,
                           message_id=poll.result["message_id"])
        assert not is_open(api, poll)
        assert api.find("sendMessage", since=mark, chat_id=GROUP) == []  # revealed once only
        await tick_at(bot, at(DAY + timedelta(days=1), "02:00"))
        assert len(api.find("stopPoll", chat_id=GROUP)) == 2  # stopped: never tried again


async def test_a_stop_still_failing_never_holds_up_the_days_push(tmp_path: Path, api: FakeBotAPI) -> None:
    """The minute tick pushes the day's question before it retries yesterday's stops (a platform failing its
    stopPoll, slowly, must not make the 08:00 question late)."""
    async with running_bot(tmp_path, api=api, clock=Clock(at(DAY, "07:00"))) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await quizsub(bot)
        await tick_at(bot, at(DAY, "08:00"))
        [poll] = await api.wait_for("sendPoll", chat_id=GROUP, ok=True)
        api.inject("stopPoll", Fault.server_error(500), chat_id=GROUP, times=2)
        await tick_at(bot, at(DAY + timedelta(days=1), "00:00", 30))
        await api.wait_for("stopPoll", chat_id=GROUP, ok=False)
        mark = api.mark()
        await tick_at(bot, at(DAY + timedelta(days=1), "08:00"))  # the retry is due too (backoff long past)
        await api.wait_for("stopPoll", since=mark, chat_id=GROUP, ok=False)
        [today] = await api.wait_for("sendPoll", since=mark, chat_id=GROUP, ok=True)
        order = [c.method for c in api.calls[mark:] if c.method in ("sendPoll", "stopPoll")]
        assert order == ["sendPoll", "stopPoll"], order
        assert is_open(api, poll) and today.result["message_id"] != poll.result["message_id"]


async def test_a_failed_stop_is_retried_after_a_restart(tmp_path: Path, api: FakeBotAPI) -> None:
    clock = Clock(at(DAY, "07:00"))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await quizsub(bot)
        await tick_at(bot, at(DAY, "08:00"))
        [poll] = await api.wait_for("sendPoll", chat_id=GROUP, ok=True)
        api.inject("stopPoll", Fault.server_error(503), chat_id=GROUP)
        await tick_at(bot, at(DAY + timedelta(days=1), "00:00", 30))
        await api.wait_for("stopPoll", chat_id=GROUP, ok=False)
        assert is_open(api, poll)
    clock.set(at(DAY + timedelta(days=1), "00:30"))
    async with running_bot(tmp_path, api=api, clock=clock) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        await tick_at(bot, at(DAY + timedelta(days=1), "00:30"))
        await api.wait_for("stopPoll", chat_id=GROUP, ok=True, message_id=poll.result["message_id"])
        assert not is_open(api, poll)
        assert len([c for c in api.find("sendMessage", chat_id=GROUP, ok=True) if "答案揭晓" in c.text]) == 1


async def test_a_vote_in_a_private_poll_after_the_close_is_refused(tg: RunningBot, tmp_path: Path) -> None:
    use_bank(tg.services, tmp_path, [q(1), q(2)])
    mark = tg.api.mark()
    tg.api.push_message("/quiz", user=ALICE)
    [poll] = await tg.api.wait_for("sendPoll", chat_id=ALICE.id, since=mark, ok=True)
    tg.api.inject("stopPoll", Fault.server_error(500), chat_id=ALICE.id)
    tg.clock.advance(days=1)
    mark = tg.api.mark()
    await quiz_handlers.tick(tg.services)
    await tg.api.wait_for("stopPoll", chat_id=ALICE.id, since=mark, ok=False)
    mark = tg.api.mark()
    tg.api.vote(ALICE.id, poll.result["message_id"], [1], user=ALICE)
    [note] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert note.text == texts.quiz_poll_late(DAY)
    assert "还没有答题" in await tg.said("/myscore", user=ALICE)


async def test_in_a_private_chat_only_a_clear_answer_is_taken_as_one(tg: RunningBot, tmp_path: Path) -> None:
    use_bank(tg.services, tmp_path, [q(1, "judge", (0,))])
    mark = tg.api.mark()
    tg.api.push_message("/quiz", user=ALICE)
    await tg.api.wait_for("sendPoll", chat_id=ALICE.id, since=mark, ok=True)
    for word in ("是", "yes", "好的"):
        assert await tg.said(word, user=ALICE) == await tg.said(word, user=BOB), word  # a search, as before
    got = await tg.said("对", user=ALICE)
    assert "回答正确" in got and "正确答案：对" in got
