"""每日一题 through the real core: the day's question, rotation, answers (typed and buttons), scores, streaks,
rankings at the month turn, the push once a day across restarts, the day's close, and durable answers."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from quiz_helpers import q, use_bank, with_bank
from test_suggest_helpers import ADMIN, GROUP, OFFICER, TZ, Clock, grp, make_services, member, pm, say, text_of

from bot import texts
from bot.core import DeliveryError, Reply
from bot.handlers import quiz as quiz_handlers
from bot.quizbank import JUDGE, MULTI, SINGLE, Question
from bot.services import Services
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


class Outbox:
    """svc.sender: records what the core sends outside a request; chats in `refuse` cannot be reached."""

    def __init__(self) -> None:
        self.sent: list[Reply] = []
        self.refuse: set[str] = set()

    async def __call__(self, reply: Reply) -> None:
        if reply.chat_id in self.refuse:
            raise DeliveryError("user has not talked to the bot")
        self.sent.append(reply)

    def to(self, chat_id: str) -> list[Reply]:
        return [r for r in self.sent if r.chat_id == chat_id]


def services(tmp: Path, clock: Clock, questions: list[Question] | None = None) -> tuple[Services, Outbox]:
    svc = make_services(tmp / "data", clock)
    if questions is not None:
        use_bank(svc, tmp, questions)
    out = Outbox()
    svc.senders["tg"] = out
    return svc, out


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def four(tmp_path: Path, clock: Clock) -> Any:
    svc, out = services(tmp_path, clock, [q(1), q(2, MULTI, (0, 2)), q(3, JUDGE, (1,)), q(4)])
    yield svc, out
    svc.close()


def admin(uid: str, text: str) -> Any:
    """A group message from someone the platform reports as an admin of the group."""
    req = grp(uid, text)

    async def yes() -> bool:
        return True

    req.is_chat_admin = yes
    return req


def question_of(replies: list[Reply]) -> str:
    quiz = next(r.quiz for r in replies if r.quiz is not None)
    return quiz.question


# --- the day's question and rotation ---------------------------------------------------------------------


async def test_same_question_for_everyone_all_day_and_a_new_one_tomorrow(four: Any, clock: Clock) -> None:
    svc, _ = four
    first = question_of(await say(svc, grp(member(1), "/quiz")))
    clock.advance(hours=10)
    assert question_of(await say(svc, grp(member(2), "每日一题"))) == first
    clock.advance(hours=5)  # the next day (Beijing time)
    assert question_of(await say(svc, grp(member(2), "/quiz"))) != first


async def test_the_reply_carries_text_buttons_and_the_quiz_for_each_platform(four: Any) -> None:
    svc, _ = four
    shown: set[str] = set()
    for day in range(4):
        svc.clock.t = MONDAY + timedelta(days=day)  # type: ignore[union-attr]
        [reply] = await say(svc, grp(member(1), "/quiz"))
        assert reply.quiz is not None
        shown.add(reply.quiz.question)
        if reply.quiz.multiple:  # 多选: typed answers (and Telegram's multiple-answer poll), no buttons
            assert reply.buttons == [] and "全部正确选项的字母" in reply.text and "C. 丙" in reply.text
        elif reply.quiz.options == ("对", "错"):
            assert [b.text for b in reply.buttons[0]] == ["对", "错"] and "答 对" in reply.text
        else:
            assert [b.text for b in reply.buttons[0]] == ["A", "B", "C", "D"] and "A. 甲" in reply.text
            assert all(b.data.startswith("qz:20260") and len(b.data.encode()) <= 64 for b in reply.buttons[0])
        assert "群里请 @我" in reply.text
    assert len(shown) == 4  # a whole round without a repeat


async def test_rotation_uses_the_whole_bank_before_repeating(tmp_path: Path, clock: Clock) -> None:
    svc, _ = services(tmp_path, clock)  # the real starter bank
    n = len(quiz_handlers.Q.bank(svc).ids)
    assert n >= 30
    seen = []
    for day in range(n + 1):
        clock.t = MONDAY + timedelta(days=day)
        seen.append(question_of(await say(svc, pm(member(1), "/quiz"))))
    assert len(set(seen[:n])) == n and seen[n] != seen[n - 1]
    svc.close()


async def test_removed_questions_are_skipped(tmp_path: Path, clock: Clock) -> None:
    svc, _ = services(tmp_path, clock, [q(1), q(2), q(3)])
    today = question_of(await say(svc, pm(member(1), "/quiz")))
    survivors = [x for x in (q(1), q(2), q(3)) if x.text != today][:1]
    with_bank(tmp_path, survivors)  # the bank was rebuilt without today's question and one other
    from bot.content import load_content

    svc.content = load_content(svc.config.content_dir)
    assert question_of(await say(svc, pm(member(1), "/quiz"))) == survivors[0].text
    clock.advance(days=1)
    assert question_of(await say(svc, pm(member(1), "/quiz"))) == survivors[0].text
    svc.close()


async def test_an_answer_to_a_question_removed_today_says_so(tmp_path: Path, clock: Clock) -> None:
    svc, _ = services(tmp_path, clock, [q(1), q(2)])
    today = question_of(await say(svc, pm(member(1), "/quiz")))
    use_bank(svc, tmp_path, [x for x in (q(1), q(2)) if x.text != today])  # rebuilt without it
    for typed in ("答 B", "B", "/answer B"):
        assert text_of(await say(svc, pm(member(1), typed))) == texts.QUIZ_GONE, typed  # not "no question today"
    svc.close()


async def test_an_empty_bank_says_what_to_do(tmp_path: Path, clock: Clock) -> None:
    svc, _ = services(tmp_path, clock, [])
    assert text_of(await say(svc, pm(member(1), "/quiz"))) == texts.QUIZ_EMPTY
    svc.close()


# --- answers ----------------------------------------------------------------------------------------------


async def show_kind(svc: Services, kind: str, chat: str = GROUP) -> Reply:
    """Move the clock day by day until this chat's question is of `kind`."""
    for _ in range(8):
        [reply] = await say(svc, grp(member(9), "/quiz", chat=chat) if chat.startswith("tg:-") else pm(chat, "/quiz"))
        assert reply.quiz is not None
        is_kind = {MULTI: reply.quiz.multiple, JUDGE: reply.quiz.options == ("对", "错")}.get(
            kind, not reply.quiz.multiple and reply.quiz.options != ("对", "错"))
        if is_kind:
            return reply
        svc.clock.advance(days=1)  # type: ignore[union-attr]
    raise AssertionError(f"no {kind} question came up")


@pytest.mark.parametrize(("typed", "right"), [
    ("答 B", True), ("B", True), ("b", True), ("答：b", True), ("2", True), ("答B", True), ("答案 A", False),
])
async def test_typed_answers_in_a_private_chat(four: Any, typed: str, right: bool) -> None:
    svc, _ = four
    await show_kind(svc, SINGLE, member(1))
    got = text_of(await say(svc, pm(member(1), typed)))
    assert ("回答正确" in got) is right and "正确答案：B. 乙" in got and "解析" in got


async def test_judge_and_multiple_answers(four: Any) -> None:
    svc, _ = four
    await show_kind(svc, JUDGE, member(1))
    assert "回答正确" in text_of(await say(svc, pm(member(1), "×")))
    await show_kind(svc, JUDGE, member(2))
    assert "回答错误" in text_of(await say(svc, pm(member(2), "答 正确")))
    await show_kind(svc, MULTI, member(3))
    assert "没看懂" in text_of(await say(svc, pm(member(3), "答 AZ")))
    assert "回答正确" in text_of(await say(svc, pm(member(3), "答 C、A")))
    await show_kind(svc, MULTI, member(4))
    assert "回答错误" in text_of(await say(svc, pm(member(4), "答 A")))  # 少选不得分


async def test_the_first_answer_counts(four: Any) -> None:
    svc, _ = four
    await show_kind(svc, SINGLE, member(1))
    assert "回答错误" in text_of(await say(svc, pm(member(1), "答 A")))
    again = text_of(await say(svc, pm(member(1), "答 B")))
    assert "你今天已经答过这道题了" in again and "你选的是：A. 甲" in again and "回答错误" in again
    assert "答对 0 / 1 题" in text_of(await say(svc, pm(member(1), "/myscore")))


async def test_a_repeated_answer_shows_the_whole_first_choice_for_every_kind(four: Any) -> None:
    svc, _ = four
    await show_kind(svc, MULTI, member(1))
    await say(svc, pm(member(1), "答 CA"))
    again = text_of(await say(svc, pm(member(1), "答 B")))
    assert "你选的是：A. 甲；C. 丙" in again and "回答正确" in again
    await show_kind(svc, JUDGE, member(2))
    await say(svc, pm(member(2), "答 对"))
    assert "你选的是：对" in text_of(await say(svc, pm(member(2), "答 错")))


async def test_a_repeated_answer_in_a_console_group(tmp_path: Path, clock: Clock) -> None:
    """The console as an operator uses it: a group, a button pressed twice (the console user's private chat is
    the terminal, so the choice is printed as sent there)."""
    import io

    from bot.adapters.console import ConsoleChat

    svc, _ = services(tmp_path, clock, [q(1)])
    out = io.StringIO()
    chat = ConsoleChat(svc, out)
    for line in (":group", "/quiz", ":2"):
        await chat.handle_line(line)
    start = len(out.getvalue())
    await chat.handle_line(":3")  # pressed again: the choice is told privately, the group sees nothing
    shown = out.getvalue()[start:]
    assert [line for line in shown.splitlines() if line.strip()] == [
        texts.console_sent_to(chat.qualified_user) + "你今天已经答过这道题了，你选的是：B. 乙（回答正确 ✅）。",
        "每人每天以第一次回答为准，再次作答不计分。"]
    start = len(out.getvalue())
    await chat.handle_line("@union_helper_bot C")  # typed again in the group: who, not what
    shown = out.getvalue()[start:]
    group_lines = [line for line in shown.splitlines() if "已经答过" in line and "发往" not in line]
    assert group_lines and texts.CONSOLE_USER_NAME in group_lines[0] and "乙" not in group_lines[0]
    assert "你选的是：B. 乙" in shown
    svc.close()


async def test_plain_letters_are_answers_only_when_a_question_is_out(four: Any) -> None:
    svc, _ = four
    assert "回答" not in text_of(await say(svc, pm(member(1), "B")))  # no question yet: an ordinary search
    assert text_of(await say(svc, pm(member(1), "答 B"))) == texts.QUIZ_NOT_SHOWN
    assert "搜索" not in text_of(await say(svc, pm(member(1), "答辩")))  # not an answer word + answer


async def search_of(svc: Services, text: str) -> str:
    """What `text` gets from a member with no question out: the ordinary search."""
    return text_of(await say(svc, pm(member(8), text)))


async def test_everyday_words_in_a_private_chat_stay_chat_while_a_question_is_out(four: Any) -> None:
    svc, _ = four
    await show_kind(svc, JUDGE, member(1))
    for word in ("是", "yes", "好的", "Yes!", "no", "否", "y", "n", "t", "f", "ok", "对的", "是的"):
        assert text_of(await say(svc, pm(member(1), word))) == await search_of(svc, word), word
    assert "回答正确" in text_of(await say(svc, pm(member(1), "×")))  # 对/错/√/× answer a 判断 question
    await show_kind(svc, SINGLE, member(2))
    for word in ("对", "是", "错", "√", "yes"):  # not a 判断 question: chat, as before
        assert text_of(await say(svc, pm(member(2), word))) == await search_of(svc, word), word
    assert "回答正确" in text_of(await say(svc, pm(member(2), "b")))
    assert "已经答过" in text_of(await say(svc, pm(member(2), "C")))  # a letter alone is still an answer
    assert text_of(await say(svc, pm(member(2), "好的"))) == await search_of(svc, "好的")
    await show_kind(svc, JUDGE, member(3))
    assert "回答" in text_of(await say(svc, pm(member(3), "答 是")))  # with 答 in front it is meant as one


async def test_an_addressed_everyday_word_in_a_group_is_a_search_and_the_flood_guard_agrees(four: Any) -> None:
    from bot.flood import request_key

    svc, _ = four
    await show_kind(svc, JUDGE)
    chat = grp(member(1), "@union_helper_bot 是")
    chat.addressed = True
    answer = grp(member(1), "@union_helper_bot 对")
    answer.addressed = True
    assert request_key(chat, svc) == ("search", "是") and request_key(answer, svc) is None
    got = text_of(await say(svc, chat))
    assert "回答" not in got and "已记下" not in got and "没看懂" not in got
    assert text_of(await say(svc, answer)) == texts.quiz_taken("张三", told=True)


async def test_in_a_group_the_verdict_goes_privately_and_chatter_is_ignored(four: Any) -> None:
    svc, out = four
    await show_kind(svc, SINGLE)
    assert await say(svc, grp(member(1), "B")) == []  # unaddressed: 对/B are everyday words in a group
    addressed = grp(member(1), "@union_helper_bot B")
    addressed.addressed = True
    got = text_of(await say(svc, addressed))
    assert got == texts.quiz_taken("张三", told=True) and "正确" not in got  # nothing spoilt for the group
    [private] = out.to(member(1))
    assert "回答正确" in private.text and "正确答案：B. 乙" in private.text
    out.refuse.add(member(2))  # never talked to the bot privately
    got = text_of(await say(svc, grp(member(2), "答 C")))
    assert got == texts.quiz_taken("张三", told=False) and out.to(member(2)) == []


async def test_a_button_in_a_group_updates_the_question_and_tells_privately(four: Any) -> None:
    svc, out = four
    reply = await show_kind(svc, SINGLE)
    data = reply.buttons[0][1].data
    got = await say(svc, grp(member(1), data=data))
    assert len(got) == 1 and got[0].edit and "已有 1 人作答" in got[0].text and len(got[0].buttons[0]) == 4
    assert "回答正确" in out.to(member(1))[0].text
    out.refuse.add(member(2))
    got = await say(svc, grp(member(2), data=reply.buttons[0][0].data))
    assert "已有 2 人作答" in got[0].text and got[1].text == texts.quiz_taken("张三", told=False)
    assert await say(svc, grp(member(1), data=data)) == []  # a second click: told privately, the group sees nothing
    assert "你选的是：B. 乙" in out.to(member(1))[-1].text
    again = text_of(await say(svc, grp(member(2), data=data)))  # no private chat: said in the group
    assert again == texts.quiz_already_in_group("张三", told=False)  # who; never the click the group did not see
    assert "甲" not in again and "正确" not in again and "错误" not in again
    svc.clock.advance(days=1)  # type: ignore[union-attr]
    assert text_of(await say(svc, grp(member(3), data=data))) == texts.quiz_over(MONDAY.date())


# --- scores, streaks, ranking ------------------------------------------------------------------------------


async def answer_today(svc: Services, uid: str, right: bool, chat: str = GROUP, name: str = "") -> None:
    reply = (await say(svc, grp(member(9), "/quiz", chat=chat)))[0]
    assert reply.quiz is not None
    correct = set(reply.quiz.correct)
    n = len(reply.quiz.options)
    pick = sorted(correct) if right else [next(i for i in range(n) if i not in correct)]
    letters = "对错"[pick[0]] if reply.quiz.options == ("对", "错") else "".join("ABCDEF"[i] for i in pick)
    await say(svc, grp(uid, f"答 {letters}", chat=chat, name=name or uid))


async def test_streaks_count_question_days_and_break_on_a_miss_or_a_wrong_answer(four: Any) -> None:
    svc, _ = four
    me = member(1)
    for day, right in ((0, True), (1, True), (2, True)):  # Mon Tue Wed
        svc.clock.t = MONDAY + timedelta(days=day)  # type: ignore[union-attr]
        await answer_today(svc, me, right)
    svc.clock.t = MONDAY + timedelta(days=7)  # no question Thu..Sun: the streak holds  # type: ignore[union-attr]
    await answer_today(svc, me, True)
    assert "当前连续答对 4 天，最长 4 天" in text_of(await say(svc, grp(me, "/myscore")))
    svc.clock.t = MONDAY + timedelta(days=8)  # type: ignore[union-attr]
    await say(svc, grp(member(9), "/quiz"))  # a question day the member missed
    svc.clock.t = MONDAY + timedelta(days=9)  # type: ignore[union-attr]
    assert "连续答对" not in text_of(await say(svc, grp(me, "/rank"))).split("你：")[0]  # streak gone
    await answer_today(svc, me, True)
    assert "当前连续答对 1 天，最长 4 天" in text_of(await say(svc, grp(me, "/myscore")))
    svc.clock.t = MONDAY + timedelta(days=10)  # type: ignore[union-attr]
    await answer_today(svc, me, False)
    assert "答对 5 / 6 题，正确率 83%，当前连续答对 0 天" in text_of(await say(svc, grp(me, "/myscore")))


async def test_ranking_orders_by_right_answers_then_streak_with_the_askers_place(four: Any) -> None:
    svc, _ = four
    # 12 members over 3 days: member i answers right on the days in its pattern
    patterns = {i: [(i >> d) & 1 == 1 for d in range(3)] for i in range(12)}
    for day in range(3):
        svc.clock.t = MONDAY + timedelta(days=day)  # type: ignore[union-attr]
        for i, pattern in patterns.items():
            await answer_today(svc, member(i), pattern[day], name=f"会员{i:02d}")
    board = text_of(await say(svc, grp(member(0), "/rank")))
    lines = board.splitlines()
    assert "共 12 人参与" in lines[0]
    # 3 right: none of 0..11 has all three bits except 7; then 2 right with a live streak (6 = days 1,2) before
    # 2 right without one (3 = days 0,1 and 5 = days 0,2: 5 ends right, streak 1; 3 ends wrong)
    assert lines[1].startswith("🥇 会员07") and "答对 3 题 · 连续答对 3 天" in lines[1]
    assert lines[2].startswith("🥈 会员06") and "连续答对 2 天" in lines[2]
    assert sum(1 for line in lines if "会员" in line) == 10  # top 10 only
    assert "你：第 11 名，答对 0 / 3 题" in board  # members 0 and 8 never right: last place (shared), shown anyway


async def test_last_months_ranking_is_kept_when_the_month_turns(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 2, 26, 9, 0, tzinfo=TZ))  # Thursday
    svc, _ = services(tmp_path, clock, [q(i) for i in range(1, 8)])
    for day in range(3):  # Thu 26, Fri 27, Sat 28 February
        await answer_today(svc, member(1), True, name="王五")
        await answer_today(svc, member(2), day != 1, name="赵六")
        clock.advance(days=1)
    clock.t = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # Monday 2 March
    assert text_of(await say(svc, grp(member(1), "/rank"))).startswith("2026年3月还没有人答题")
    feb = text_of(await say(svc, grp(member(1), "/rank 上月")))
    assert "2026年2月" in feb and feb.splitlines()[1].startswith("🥇 王五") and "答对 3 题" in feb
    assert text_of(await say(svc, grp(member(1), "/rank 2026-02"))) == feb
    await answer_today(svc, member(1), True, name="王五")  # the streak carries over the month turn
    assert "当前连续答对 4 天" in text_of(await say(svc, grp(member(1), "/myscore")))
    mine = text_of(await say(svc, grp(member(1), "/myscore")))
    assert "2026年3月：答对 1 / 1 题" in mine and "上月：答对 3 / 3 题" in mine
    assert "用法" in text_of(await say(svc, grp(member(1), "/rank 明年")))
    svc.close()


# --- subscription, push and the day's close ----------------------------------------------------------------


async def test_quizsub_is_for_admins_and_pushes_once_a_day_across_restarts(tmp_path: Path, clock: Clock) -> None:
    svc, out = services(tmp_path, clock, [q(1), q(2), q(3)])
    assert "抱歉" in text_of(await say(svc, grp(member(1), "/quizsub 12:00")))
    assert "用法" in text_of(await say(svc, admin(ADMIN, "/quizsub 25:00")))
    got = text_of(await say(svc, admin(ADMIN, "订阅每日一题 12:00 工作日")))
    assert "已订阅每日一题" in got and "2026年3月2日（周一） 12:00" in got
    assert "已订阅" in text_of(await say(svc, admin(ADMIN, "/subscribe 12:00")))  # both pushes in one chat
    for hhmm in ("11:59", "12:00", "12:00", "12:01"):
        clock.t = MONDAY.replace(hour=int(hhmm[:2]), minute=int(hhmm[3:]))
        await quiz_handlers.tick(svc)
    pushes = [r for r in out.to(GROUP) if r.quiz is not None]
    assert len(pushes) == 1
    svc.close()
    svc, out = services(tmp_path, clock, [q(1), q(2), q(3)])  # a restart on the same data dir
    for hhmm in ("12:02", "13:30"):
        clock.t = MONDAY.replace(hour=int(hhmm[:2]), minute=int(hhmm[3:]))
        await quiz_handlers.tick(svc)
    assert [r for r in out.to(GROUP) if r.quiz is not None] == []
    assert question_of(await say(svc, grp(member(1), "/quiz"))) == pushes[0].quiz.question  # type: ignore[union-attr]
    assert "已取消" in text_of(await say(svc, grp(OFFICER, "/quizunsub")))
    clock.t = MONDAY.replace(hour=12) + timedelta(days=1)
    await quiz_handlers.tick(svc)
    assert [r for r in out.to(GROUP) if r.quiz is not None] == []
    svc.close()


async def test_down_at_push_time_then_back_within_the_grace(tmp_path: Path, clock: Clock) -> None:
    svc, out = services(tmp_path, clock, [q(1), q(2)])
    await say(svc, admin(ADMIN, "/quizsub 08:00"))
    clock.t = MONDAY.replace(hour=9, minute=30) + timedelta(days=1)  # 08:00 passed while down; grace is 2 h
    await quiz_handlers.tick(svc)
    clock.t = MONDAY.replace(hour=12) + timedelta(days=2)  # 08:00 passed, grace over: skipped
    await quiz_handlers.tick(svc)
    assert len([r for r in out.to(GROUP) if r.quiz is not None]) == 1
    svc.close()


async def test_the_day_closes_once_with_the_answer_for_the_group(four: Any) -> None:
    svc, out = four
    reply = await show_kind(svc, SINGLE)
    day = svc.now().date()
    assert reply.quiz is not None and reply.quiz.on_sent is not None
    reply.quiz.on_sent({"platform": "tg", "poll_id": "5001", "message_id": 77})  # as Telegram reports its poll
    await answer_today(svc, member(1), True)
    await answer_today(svc, member(2), False)
    await quiz_handlers.tick(svc)
    assert out.to(GROUP) == []  # nothing closes during the day
    svc.clock.t = datetime.combine(day + timedelta(days=1), datetime.min.time(), TZ)  # type: ignore[union-attr]
    await quiz_handlers.tick(svc)
    await quiz_handlers.tick(svc)
    [stop, close] = out.to(GROUP)  # the poll is stopped first, then the answer revealed
    assert [r["poll_id"] for r in stop.close_quizzes] == ["5001"] and stop.text == ""
    assert "答案揭晓" in close.text and "正确答案：B. 乙" in close.text
    assert "本群 2 人作答，1 人答对（正确率 50%）" in close.text and close.close_quizzes == ()


class FlakyStops(Outbox):
    """svc.sender whose poll stops fail (DeliveryError, as on a network error or a 5xx) while `failing`."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True
        self.stops: list[str] = []

    async def __call__(self, reply: Reply) -> None:
        if reply.close_quizzes:
            self.stops += [r["poll_id"] for r in reply.close_quizzes]
            if self.failing:
                raise DeliveryError("Internal Server Error")
        await super().__call__(reply)


async def test_a_close_interrupted_before_the_stop_still_stops_the_poll(four: Any) -> None:
    svc, _ = four
    flaky = svc.senders["tg"] = FlakyStops()
    flaky.failing = False
    reply = await show_kind(svc, SINGLE)
    day = svc.now().date()
    assert reply.quiz is not None and reply.quiz.on_sent is not None
    reply.quiz.on_sent({"platform": "tg", "poll_id": "5002", "message_id": 78})
    assert quiz_handlers.Q.claim_close(svc, GROUP, day.isoformat())  # claimed, then killed before stopping
    svc.clock.t = datetime.combine(day + timedelta(days=1), datetime.min.time(), TZ)  # type: ignore[union-attr]
    await quiz_handlers.tick(svc)
    assert flaky.stops == ["5002"]
    await quiz_handlers.tick(svc)
    assert flaky.stops == ["5002"]  # stopped: never again


async def test_a_poll_that_cannot_be_stopped_is_given_up_after_a_week(
    four: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    svc, _ = four
    flaky = svc.senders["tg"] = FlakyStops()
    reply = await show_kind(svc, SINGLE)
    day = svc.now().date()
    assert reply.quiz is not None and reply.quiz.on_sent is not None
    reply.quiz.on_sent({"platform": "tg", "poll_id": "5003", "message_id": 79})
    svc.clock.t = datetime.combine(day + timedelta(days=1), datetime.min.time(), TZ)  # type: ignore[union-attr]
    for _ in range(12):  # backoff: 1, 2, 4 … minutes, then hourly
        await quiz_handlers.tick(svc)
        svc.clock.advance(minutes=70)  # type: ignore[union-attr]
    tries = len(flaky.stops)
    assert tries == 12 and "trying again" in caplog.text
    svc.clock.t = datetime.combine(day + timedelta(days=9), datetime.min.time(), TZ)  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING):
        await quiz_handlers.tick(svc)
        await quiz_handlers.tick(svc)
    assert len(flaky.stops) == tries and "gave up stopping the quiz poll" in caplog.text
    assert quiz_handlers.Q.find_poll(svc, "tg", "5003") is None


class CrashingOutbox(Outbox):
    """Copies the data dir the moment the push is on the wire (a kill -9 image: the claim is on disk, nothing
    written after the send is)."""

    def __init__(self, data: Path, image: Path) -> None:
        super().__init__()
        self.data, self.image = data, image

    async def __call__(self, reply: Reply) -> None:
        if reply.quiz is not None and not self.image.exists():
            shutil.copytree(self.data, self.image, ignore=shutil.ignore_patterns("store.lock", "cache"))
        await super().__call__(reply)


async def test_a_kill_right_after_the_push_leaves_the_question_answerable_and_closed(tmp_path: Path) -> None:
    clock = Clock(MONDAY.replace(hour=7))
    svc, _ = services(tmp_path, clock, [q(1), q(2)])
    crashed = tmp_path / "crashed"
    svc.senders["tg"] = CrashingOutbox(tmp_path / "data", crashed / "data")
    await say(svc, admin(ADMIN, "/quizsub 08:00"))
    clock.t = MONDAY.replace(hour=8)
    await quiz_handlers.tick(svc)
    svc.close()
    svc, out = services(crashed, clock, [q(1), q(2)])  # restarted from the image
    use_bank(svc, tmp_path, [q(1), q(2)])
    clock.t = MONDAY.replace(hour=8, minute=5)
    await quiz_handlers.tick(svc)
    assert [r for r in out.to(GROUP) if r.quiz is not None] == []  # never twice
    got = text_of(await say(svc, grp(member(1), "答 B")))  # the question in the group takes answers
    assert got == texts.quiz_taken("张三", told=True)
    clock.advance(days=1)
    clock.t = clock.t.replace(hour=0, minute=1)
    await quiz_handlers.tick(svc)
    assert any("答案揭晓" in r.text for r in out.to(GROUP))  # and the day closes with the answer
    svc.close()


async def test_a_push_that_definitely_failed_leaves_nothing_to_answer(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture,
) -> None:
    svc, out = services(tmp_path, clock, [q(1), q(2)])
    await say(svc, admin(ADMIN, "/quizsub 08:00"))
    out.refuse.add(GROUP)
    clock.t = MONDAY.replace(hour=8) + timedelta(days=1)
    with caplog.at_level(logging.WARNING, logger="bot.handlers.push"):
        await quiz_handlers.tick(svc)
    assert f"push to chat {GROUP} failed (0/1 parts sent)" in caplog.text  # the group named, as README quotes it
    assert text_of(await say(svc, grp(member(1), "答 B"))) == texts.QUIZ_NOT_SHOWN
    out.refuse.clear()
    clock.t = clock.t.replace(minute=1)  # retried on the next tick
    await quiz_handlers.tick(svc)
    assert len([r for r in out.to(GROUP) if r.quiz is not None]) == 1
    assert text_of(await say(svc, grp(member(1), "答 B"))) == texts.quiz_taken("张三", told=True)
    svc.close()


async def test_a_private_chat_gets_no_reveal_unless_a_poll_must_be_closed(four: Any) -> None:
    svc, out = four
    await show_kind(svc, SINGLE, member(1))
    svc.clock.advance(days=2)  # type: ignore[union-attr]
    await quiz_handlers.tick(svc)
    assert out.sent == []


async def test_a_migrated_group_keeps_its_quiz_push_question_and_scores(four: Any, clock: Clock) -> None:
    svc, out = four
    new_id = "tg:-1009999"
    clock.t = MONDAY.replace(hour=7)
    await say(svc, admin(ADMIN, "/quizsub 08:00"))
    clock.t = MONDAY.replace(hour=8)
    await quiz_handlers.tick(svc)
    [pushed] = [r for r in out.to(GROUP) if r.quiz is not None]
    await answer_today(svc, member(1), True, name="王五")
    quiz_handlers.chat_migrated(svc, GROUP, new_id)
    clock.t = MONDAY.replace(hour=8, minute=5)
    await quiz_handlers.tick(svc)
    assert [r for r in out.sent if r.quiz is not None] == [pushed]  # the day's push went out already: not again
    assert "🥇 王五  答对 1 题" in text_of(await say(svc, grp(member(1), "/rank", chat=new_id)))
    assert question_of(await say(svc, grp(member(2), "/quiz", chat=new_id))) == pushed.quiz.question  # type: ignore
    clock.t = MONDAY.replace(hour=8) + timedelta(days=1)
    await quiz_handlers.tick(svc)
    assert len([r for r in out.to(new_id) if r.quiz is not None]) == 1 and len(out.to(GROUP)) == 1


# --- durability ---------------------------------------------------------------------------------------------


async def test_answers_and_scores_survive_a_reopen(tmp_path: Path, clock: Clock) -> None:
    svc, _ = services(tmp_path, clock, [q(1), q(2)])
    await answer_today(svc, member(1), True, name="王五")
    await answer_today(svc, member(2), False, name="赵六")
    svc.close()
    svc, out = services(tmp_path, clock, [q(1), q(2)])
    board = text_of(await say(svc, grp(member(2), "/rank")))
    assert "🥇 王五  答对 1 题" in board and "你：第 2 名，答对 0 / 1 题" in board
    assert "已经答过" in text_of(await say(svc, grp(member(1), "答 A")))
    assert "你选的是：B. 乙" in out.to(member(1))[-1].text
    svc.close()


WRITER = r"""
import os, sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from bot.store import Store
from bot import quiz as Q

store = Store(sys.argv[1], compact_after=50)
out = sys.stdout.fileno()
start = date(2026, 3, 1)
for n in range(100000):
    day = start + timedelta(days=n // 40)
    user = f"tg:{n % 40}"
    def apply(doc, n=n, day=day):
        doc["days"][f"{day.day:02d}"] = ["q1", "A", n % 2, "t"]
        doc["answered"] += 1
        doc["correct"] += n % 2
    store.quiz_score_update("tg:-1", Q.month_of(day), user, apply, Q.new_score)
    os.write(out, b"%d\n" % n)
"""


def test_every_acknowledged_answer_survives_sigkill(tmp_path: Path) -> None:
    """A writer records answers (one durable write each) and prints each after it returned; it is killed at
    random moments, compactions included; every printed answer is in the store after the next open."""
    import random

    data = tmp_path / "data"
    acked = -1
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE,
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stdout is not None
        deadline = time.monotonic() + random.uniform(0.4, 1.2)
        last = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            last = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert last is not None
        with Store(data) as store:
            for n in range(last + 1):
                day = date(2026, 3, 1) + timedelta(days=n // 40)
                doc = store.quiz_score("tg:-1", f"{day.year}-{day.month:02d}", f"tg:{n % 40}")
                assert doc is not None and f"{day.day:02d}" in doc["days"], n
            acked = max(acked, last)
        shutil.rmtree(data)
    assert acked > 0


async def test_myscore_in_a_private_chat_lists_each_group(four: Any) -> None:
    svc, _ = four
    await answer_today(svc, member(1), True)
    mine = text_of(await say(svc, pm(member(1), "我的成绩")))
    assert "2026年3月：还没有答题" in mine  # in the private chat itself
    assert "2026年3月（一车间工会群）：答对 1 / 1 题，正确率 100%" in mine and "排名第 1 / 1" in mine


async def test_a_poll_of_a_platform_not_running_here_is_given_up_after_a_week(
    four: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    """Another platform's lane drops it: a Telegram poll left open in a process that now runs WeCom only."""
    svc, _ = four
    svc.senders["tg"] = FlakyStops()
    reply = await show_kind(svc, SINGLE)
    day = svc.now().date()
    assert reply.quiz is not None and reply.quiz.on_sent is not None
    reply.quiz.on_sent({"platform": "tg", "poll_id": "5004", "message_id": 80})
    svc.senders["wecom"] = svc.senders.pop("tg")  # restarted serving WeCom only
    svc.clock.t = datetime.combine(day + timedelta(days=9), datetime.min.time(), TZ)  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING):
        await quiz_handlers.tick(svc, "wecom")
    assert quiz_handlers.Q.find_poll(svc, "tg", "5004") is None
    assert "never stopped" in caplog.text
