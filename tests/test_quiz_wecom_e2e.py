"""每日一题 end to end on WeCom: the real adapter (Tencent's SDK over TLS) against the fake long connection, with
card clicks. In a group the verdict goes to the member's single chat where WeCom allows it (someone who has
talked to the bot there), and the card only says how many answered; otherwise the answer waits for the close."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from quiz_helpers import q, use_bank
from wecom_e2e import GROUP, OFFICER, RunningWecom, running_wecom

from bot import texts
from bot.handlers import quiz as quiz_handlers
from bot.ticks import run_ticks


@pytest.fixture
async def wc(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_wecom(tmp_path) as bot:
        use_bank(bot.services, tmp_path, [q(1), q(2)])
        yield bot


def card_of(frames: list) -> dict:  # type: ignore[type-arg]
    return next(f.body["template_card"] for f in frames if f.body.get("msgtype") == "template_card")


async def show(wc: RunningWecom, chatid: str | None = GROUP, userid: str = "zhangsan") -> dict:  # type: ignore[type-arg]
    """`@bot /quiz`: a card with the question and one button per option (a question too long for a card goes
    first as markdown)."""
    mark = len(wc.server.frames)
    frames = await wc.say("/quiz", chatid=chatid, userid=userid)
    if frames[0].body.get("msgtype") != "template_card":
        frames = await wc.server.wait_for("aibot_respond_msg", 2, since=mark)
    assert "每日一题" in frames[0].content and "A. 甲" in frames[0].content
    card = card_of(frames)
    assert card["card_type"] == "button_interaction" and [b["text"] for b in card["button_list"]] == list("ABCD")
    return card


async def test_a_click_in_a_group_tells_the_member_privately_and_spoils_nothing(wc: RunningWecom) -> None:
    await wc.say("你好", userid="zhangsan")  # zhangsan has a single chat with the bot; lisi has not
    card = await show(wc)
    keys = {b["text"]: b["key"] for b in card["button_list"]}
    mark = len(wc.server.frames)
    await wc.server.click(keys["B"], card["task_id"], userid="zhangsan", chatid=GROUP)
    [update] = await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    updated = update.body["template_card"]
    assert "已有 1 人作答" in wc.server.card(card["task_id"])["sub_title_text"]
    assert [b["text"] for b in updated["button_list"]] == list("ABCD")  # still open for the others
    [private] = await wc.server.wait_for("aibot_send_msg", since=mark, chatid="zhangsan")
    assert "回答正确" in private.content and "正确答案：B. 乙" in private.content
    seen_by_group = [f for f in wc.server.delivered(mark) if f.cmd != "aibot_send_msg" or f.chatid == GROUP]
    assert seen_by_group and not any("正确" in f.content for f in seen_by_group)
    mark = len(wc.server.frames)
    await wc.server.click(keys["C"], card["task_id"], userid="lisi", chatid=GROUP)
    await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    await wc.server.wait_until(lambda: any(texts.quiz_taken("lisi", told=False)[:8] in f.content
                                           for f in wc.server.delivered(mark)))
    assert "已有 2 人作答" in wc.server.card(card["task_id"])["sub_title_text"]
    mark = len(wc.server.frames)
    await wc.server.click(keys["A"], card["task_id"], userid="zhangsan", chatid=GROUP)  # a second click
    await wc.server.wait_until(lambda: any("已经答过" in f.content for f in wc.server.delivered(mark)))
    board = (await wc.say("/rank", chatid=GROUP, userid="lisi"))[0].content
    assert "zhangsan" in board and "答对 1 题" in board and "第 2 名" in board  # names as WeCom gives them


async def test_typed_answers_in_a_group_and_numbers(wc: RunningWecom) -> None:
    await show(wc)
    [reply] = await wc.say("答 B", chatid=GROUP, userid="wangwu")
    assert "已记下 wangwu 的答案" in reply.content and "正确" not in reply.content
    [reply] = await wc.say("3", chatid=GROUP, userid="zhaoliu")  # a number is an option too (C)
    assert "已记下 zhaoliu 的答案" in reply.content
    [reply] = await wc.say("/myscore", chatid=GROUP, userid="zhaoliu")
    assert "答对 0 / 1 题" in reply.content


async def test_in_a_single_chat_a_click_gives_the_verdict_at_once(wc: RunningWecom) -> None:
    card = await show(wc, chatid=None, userid="zhangsan")
    mark = len(wc.server.frames)
    await wc.server.click(card["button_list"][1]["key"], card["task_id"], userid="zhangsan")
    await wc.server.wait_until(lambda: any("回答正确" in f.content for f in wc.server.delivered(mark)))


async def test_the_group_push_is_text_to_answer_in_words_and_the_day_closes_with_the_answer(
    wc: RunningWecom,
) -> None:
    [reply] = await wc.say("/quizsub 08:00", chatid=GROUP, userid=OFFICER)
    assert "已订阅每日一题" in reply.content
    [refused] = await wc.say("/quizsub 09:00", chatid=GROUP, userid="someone")
    assert "配置的工会干部" in refused.content
    wc.adapter._groups.clear()  # as after a restart: the group is known from its quiz subscription alone
    day = wc.clock.now.date() + timedelta(days=1)
    wc.clock.set(datetime.combine(day, datetime.min.time(), wc.clock.now.tzinfo).replace(hour=8))
    mark = len(wc.server.frames)
    await run_ticks(wc.services)
    [push] = await wc.server.wait_for("aibot_send_msg", since=mark, chatid=GROUP)
    assert push.body["msgtype"] == "markdown" and "群里请 @我" in push.content and "加选项字母作答" in push.content
    assert not wc.server.find("aibot_send_msg", since=mark, ok=False)  # no card with buttons pushed to a group
    await wc.say("答 B", chatid=GROUP, userid="wangwu")
    await wc.say("答 A", chatid=GROUP, userid="zhaoliu")
    wc.clock.advance(days=1)
    wc.clock.set(wc.clock.now.replace(hour=0, minute=0, second=30))
    mark = len(wc.server.frames)
    await quiz_handlers.tick(wc.services)
    [reveal] = await wc.server.wait_for("aibot_send_msg", since=mark, chatid=GROUP)
    assert "答案揭晓" in reveal.content and "本群 2 人作答，1 人答对" in reveal.content


async def test_a_repeated_answer_in_a_group_names_the_member_and_tells_the_choice(wc: RunningWecom) -> None:
    await wc.say("你好", userid="zhangsan")  # zhangsan has a single chat with the bot; lisi has not
    card = await show(wc)
    keys = {b["text"]: b["key"] for b in card["button_list"]}
    mark = len(wc.server.frames)
    await wc.server.click(keys["B"], card["task_id"], userid="zhangsan", chatid=GROUP)
    await wc.server.wait_for("aibot_send_msg", since=mark, chatid="zhangsan")
    mark = len(wc.server.frames)
    await wc.server.click(keys["A"], card["task_id"], userid="zhangsan", chatid=GROUP)  # a second click
    [private] = await wc.server.wait_for("aibot_send_msg", since=mark, chatid="zhangsan")
    assert "你今天已经答过这道题了" in private.content and "你选的是：B. 乙" in private.content
    [reply] = await wc.say("答 A", chatid=GROUP, userid="zhangsan")  # typed again in the group
    assert "zhangsan" in reply.content and "已经答过" in reply.content and "乙" not in reply.content
    assert not [f for f in wc.server.find("aibot_send_msg", since=mark, chatid=GROUP)]  # the click: nothing there
    await wc.say("答 C", chatid=GROUP, userid="lisi")
    [reply] = await wc.say("A", chatid=GROUP, userid="lisi")
    assert "lisi" in reply.content and "已经答过" in reply.content and "丙" not in reply.content


async def test_a_repeated_click_never_shows_the_group_a_choice_it_did_not_see(wc: RunningWecom) -> None:
    """lisi (no single chat with the bot) clicks C: the group sees only that an answer was taken. Clicking again, or
    typing another answer, must not tell the group what lisi chose while the question is still open."""
    card = await show(wc)
    keys = {b["text"]: b["key"] for b in card["button_list"]}
    mark = len(wc.server.frames)
    await wc.server.click(keys["C"], card["task_id"], userid="lisi", chatid=GROUP)
    await wc.server.wait_until(lambda: any(texts.quiz_taken("lisi", told=False)[:8] in f.content
                                           for f in wc.server.delivered(mark)))
    assert not any("丙" in f.content for f in wc.server.delivered(mark))  # the first click: choice unseen
    mark = len(wc.server.frames)
    await wc.server.click(keys["A"], card["task_id"], userid="lisi", chatid=GROUP)  # a second click
    await wc.server.wait_until(lambda: any("已经答过" in f.content for f in wc.server.delivered(mark)))
    [reply] = await wc.say("答 B", chatid=GROUP, userid="lisi")  # and typed again
    assert "lisi" in reply.content and "已经答过" in reply.content and "以第一次回答为准" in reply.content
    assert not any("丙" in f.content or "你选的是" in f.content for f in wc.server.delivered(mark))
