"""WeCom end to end: the real adapter on Tencent's SDK over TLS against the fake long-connection server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakewecom import MAX_MARKDOWN_BYTES
from wecom_e2e import GROUP, OFFICER, RunningWecom, running_wecom

from bot.adapters.wecom import EXIT_AUTH, EXIT_TAKEN_OVER, AuthRejected, WecomAdapter, run_wecom


@pytest.fixture
async def wc(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_wecom(tmp_path) as bot:
        yield bot


async def test_group_mention_search(wc: RunningWecom) -> None:
    (reply,) = await wc.say("搜索 集体合同", chatid=GROUP)
    assert reply.body["msgtype"] == "stream" and reply.body["stream"]["finish"] is True
    assert "集体合同" in reply.content
    assert "<b>" not in reply.content and "**" in reply.content  # markdown, not Telegram HTML


async def test_help_says_what_wecom_needs(wc: RunningWecom) -> None:
    (reply,) = await wc.say("/help", chatid=GROUP)
    assert "@我" in reply.content and "工会干部" in reply.content
    assert "/search" in reply.content


async def test_welcome_on_enter_chat(wc: RunningWecom) -> None:
    frame = await wc.server.enter_chat("newcomer")
    (welcome,) = await wc.server.wait_for("aibot_respond_welcome_msg", req_id=frame.req_id)
    assert "工会助手" in welcome.content and "<b>" not in welcome.content


async def test_group_suggest_points_to_single_chat_not_telegram(wc: RunningWecom) -> None:
    (reply,) = await wc.say("/suggest", chatid=GROUP)
    assert "t.me" not in reply.content and "私聊" in reply.content
    assert reply.body["msgtype"] == "stream"


async def test_mixed_message_uses_its_text(wc: RunningWecom) -> None:
    (reply,) = await wc.say("搜索 职代会", mixed=True)
    assert "职代会" in reply.content or "职工代表大会" in reply.content


async def test_guided_suggestion_with_card_buttons(wc: RunningWecom) -> None:
    # 6 categories + 取消 = 7 buttons: more than a card holds, so a numbered list the member answers with a number
    (first,) = await wc.say("/suggest")
    assert first.body["msgtype"] == "stream" and "1. 安全生产" in first.content.replace("\\", "")
    (ask_text,) = await wc.say("3")
    assert "技术革新" in ask_text.content
    sign = await wc.say("建议车间增加一台空压机的备用机组，减少停机时间", replies=1)
    card = sign[0].body["template_card"]
    assert card["card_type"] == "button_interaction" and len(card["button_list"]) == 3
    keys = {b["text"]: b["key"] for b in card["button_list"]}
    mark = len(wc.server.frames)
    await wc.server.click(keys["署名"], card["task_id"])
    (upd,) = await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    confirm = upd.body["template_card"]
    assert confirm["task_id"] == card["task_id"]
    confirm_key = next(b["key"] for b in confirm["button_list"] if "确认" in b["text"])
    mark = len(wc.server.frames)
    await wc.server.click(confirm_key, card["task_id"])
    frames = await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    await wc.server.wait_until(lambda: any("JY-" in f.content for f in wc.server.delivered(mark)))
    assert frames
    assert wc.services.store.suggestions_all()[0]["proposer_id"] == "wecom:zhangsan"


async def test_twice_delivered_msgid_answered_once(wc: RunningWecom) -> None:
    first = await wc.server.message("今日", msgid="dup-1")
    await wc.server.wait_for("aibot_respond_msg", req_id=first.req_id)
    mark = len(wc.server.frames)
    again = await wc.server.redeliver(first)
    probe = await wc.server.message("/help")  # answered after the duplicate would have been
    await wc.server.wait_for("aibot_respond_msg", since=mark, req_id=probe.req_id)
    assert wc.server.find("aibot_respond_msg", since=mark, req_id=again.req_id, ok=None) == []


async def test_reconnect_after_drop_and_push_not_lost(wc: RunningWecom) -> None:
    await wc.say("今日", chatid=GROUP)
    await wc.server.drop()
    from bot.core import Reply

    push = asyncio.ensure_future(wc.adapter.send(Reply("<b>通知</b> 断线后补发", chat_id="wecom:" + GROUP)))
    await wc.server.wait_until(lambda: wc.server.connections >= 2)
    await push
    (sent,) = await wc.server.wait_for("aibot_send_msg", chatid=GROUP)
    assert "断线后补发" in sent.content
    assert len(wc.server.find("aibot_send_msg", chatid=GROUP)) == 1


async def test_reconnect_after_clean_close(wc: RunningWecom) -> None:
    await wc.server.drop(clean=True)
    await wc.server.wait_until(lambda: wc.server.connections >= 2)
    await wc.server.wait_connected()
    (reply,) = await wc.say("今日")
    assert "每日一招" in reply.content


async def test_push_dropped_mid_send_is_resent(wc: RunningWecom) -> None:
    from bot.core import Reply

    await wc.say("今日", chatid=GROUP)
    wc.server.drop_on_next("aibot_send_msg")
    await wc.adapter.send(Reply("重要通知", chat_id="wecom:" + GROUP))
    assert [f.content for f in wc.server.find("aibot_send_msg", chatid=GROUP)] == ["重要通知"]


async def test_45009_retried_without_loss(wc: RunningWecom) -> None:
    from bot.core import Reply

    await wc.say("今日", chatid=GROUP)
    wc.server.fail_next(45009, 3)
    await asyncio.gather(*(wc.adapter.send(Reply(f"第{i}条", chat_id="wecom:" + GROUP)) for i in range(5)))
    got = [f.content for f in wc.server.find("aibot_send_msg", chatid=GROUP)]
    assert sorted(got) == sorted(f"第{i}条" for i in range(5))
    assert wc.adapter.retries >= 3


async def test_proactive_push_only_where_someone_talked(wc: RunningWecom) -> None:
    from bot.core import DeliveryError, Reply

    with pytest.raises(DeliveryError):
        await wc.adapter.send(Reply("没人说过话的群", chat_id="wecom:wrNobodyHere"))


async def test_hostile_text_rendered_safely(wc: RunningWecom) -> None:
    hostile = "**粗** [点我](https://evil.example) <b>x</b> `code` \n# 标题 😀👍🏽"
    (reply,) = await wc.say(f"/suggest {hostile}")
    assert "**粗**" not in reply.content.replace("\\*\\*粗\\*\\*", "")
    huge = "😀**[x](y)**" * 3000
    frames = await wc.say("搜索 " + huge, replies=1)
    assert all(len(f.content.encode()) <= MAX_MARKDOWN_BYTES for f in frames)
    assert not [f for f in wc.server.frames if f.direction == "in" and f.errcode not in (0, None)]


async def test_bad_secret_exits_2(tmp_path: Path) -> None:
    async with running_wecom(tmp_path, start=False, secret="wrong") as bot:
        code = await asyncio.wait_for(run_wecom(bot.config, bot.services), 20)
        assert code == EXIT_AUTH
        assert bot.server.auth_failures == 1


async def test_bad_secret_start_raises(tmp_path: Path) -> None:
    async with running_wecom(tmp_path, start=False, secret="wrong") as bot:
        adapter = WecomAdapter(bot.config, bot.services, reconnect_ms=50)
        with pytest.raises(AuthRejected) as e:
            await adapter.start(timeout=10)
        await adapter.stop()
    assert str(e.value).startswith("[wecom] bot_id / secret：企业微信拒绝了 Bot ID / Secret（errcode ")
    assert "\n" not in str(e.value) and "wrong" not in str(e.value)


async def test_disconnected_event_exits_nonzero(tmp_path: Path) -> None:
    async with running_wecom(tmp_path, start=False) as bot:
        task = asyncio.ensure_future(run_wecom(bot.config, bot.services))
        await bot.server.wait_connected()
        await bot.server.kick()
        code = await asyncio.wait_for(task, 10)
        assert code == EXIT_TAKEN_OVER != 0
        assert bot.server.connections == 1  # it did not fight back


async def test_officer_subscribes_group_and_push_arrives(wc: RunningWecom) -> None:
    from bot.ticks import run_ticks

    (reply,) = await wc.say("订阅 07:30", chatid=GROUP, userid=OFFICER)
    assert "只有" not in reply.content and "07:30" in reply.content
    wc.clock.advance(days=1)
    wc.clock.set(wc.clock.now.replace(hour=7, minute=30))
    await run_ticks(wc.services)
    (push,) = await wc.server.wait_for("aibot_send_msg", chatid=GROUP)
    assert "每日一招" in push.content


async def test_member_cannot_subscribe_group(wc: RunningWecom) -> None:
    (reply,) = await wc.say("订阅 07:30", chatid=GROUP, userid="someone")
    assert "只有" in reply.content


async def test_officer_review_by_card_buttons_tells_proposer(wc: RunningWecom) -> None:
    (receipt,) = await wc.say("/suggest 建议食堂延长晚餐供应时间到八点", userid="proposer1")
    number = next(w for w in receipt.content.replace("*", " ").split() if w.startswith("JY-"))
    (page,) = await wc.say("/review", userid=OFFICER)
    card = page.body["template_card"]
    view = next(b["key"] for b in card["button_list"] if number in b["text"])
    mark = len(wc.server.frames)
    await wc.server.click(view, card["task_id"], userid=OFFICER)
    (detail,) = await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    accept = next(b["key"] for b in detail.body["template_card"]["button_list"] if "受理" in b["text"])
    mark = len(wc.server.frames)
    await wc.server.click(accept, card["task_id"], userid=OFFICER)
    await wc.server.wait_for("aibot_respond_update_msg", since=mark)
    (told,) = await wc.server.wait_for("aibot_send_msg", since=mark, chatid="proposer1")
    assert number in told.content


async def test_busy_group_gets_one_answer_for_many_and_others_are_not_delayed(wc: RunningWecom) -> None:
    """Issue 10 on WeCom: the shared ChatQueue and FloodGuard, with WeCom's own per-chat limits as the budget."""
    asked = [await wc.server.message("今日", chatid=GROUP, userid=f"m{i}") for i in range(25)]
    private = await wc.server.message("/help", userid="lonely")
    # the private member is answered although 25 group requests came first (chats are handled concurrently)
    (help_reply,) = await wc.server.wait_for("aibot_respond_msg", req_id=private.req_id, timeout=10)
    assert "命令" in help_reply.content
    await asyncio.wait_for(wc.adapter.queue.join(), 20)  # every queued frame handled
    answers = [f for a in asked for f in wc.server.find("aibot_respond_msg", req_id=a.req_id)]
    practices = [f for f in answers if "每日一招" in f.content]
    # fifty identical requests are not fifty identical messages: once the group is busy, one answer covers them
    assert 1 <= len(practices) < len(asked)
    assert any("一并答复" in f.content for f in answers)
    assert not wc.server.find("aibot_respond_msg", ok=False) and not wc.server.find("aibot_send_msg", ok=False)


async def test_one_chats_steps_stay_in_order(wc: RunningWecom) -> None:
    """A guided flow's steps sent back to back in one chat are handled one after another, never raced."""
    first = await wc.server.message("/suggest", userid="fast")
    await wc.server.wait_for("aibot_respond_msg", req_id=first.req_id)
    frames = [await wc.server.message(t, userid="fast") for t in ("1", "车间照明不足，建议更换为LED灯具", "1")]
    for f in frames:
        await wc.server.wait_for("aibot_respond_msg", req_id=f.req_id, timeout=10)
    texts_in_order = [wc.server.find("aibot_respond_msg", req_id=f.req_id)[0].content for f in frames]
    assert "署名" in texts_in_order[1] or "匿名" in texts_in_order[1], texts_in_order


async def test_a_notice_with_buttons_to_a_member_is_a_card_even_after_a_restart(wc: RunningWecom) -> None:
    """Single chats are not remembered in memory: anything not known as a group is a member's own chat, where
    WeCom allows cards, so a proposer's 满意度 question keeps its buttons after a restart."""
    from bot.core import Button, Reply

    await wc.say("/help", userid="proposer9")  # the member has talked to the bot (WeCom's proactive rule)
    wc.adapter._groups.clear()  # as after a restart
    buttons = [[Button("满意", data="sg:f:JY-2026-0001:0"), Button("不满意", data="sg:f:JY-2026-0001:2")]]
    mark = len(wc.server.frames)
    await wc.services.sender(Reply("你的建议已实施。", buttons=buttons, chat_id="wecom:proposer9"))
    (card,) = await wc.server.wait_for("aibot_send_msg", since=mark, chatid="proposer9")
    assert [b["text"] for b in card.body["template_card"]["button_list"]] == ["满意", "不满意"]


async def test_group_suggestion_records_a_group_source_not_private(wc: RunningWecom) -> None:
    (receipt,) = await wc.say("建议 车间通风设备噪音太大，建议加装消音罩", chatid=GROUP, userid="wangwu")
    assert "JY-2026-0001" in receipt.content
    rec = wc.services.store.suggestion_get("JY-2026-0001")
    assert rec is not None and rec["chat_id"] == f"wecom:{GROUP}" and rec["chat_title"] == f"企业微信群·{GROUP[-6:]}"


async def test_after_stop_sends_fail_at_once_instead_of_waiting_for_a_reconnect(wc: RunningWecom) -> None:
    from bot.core import DeliveryError, Reply

    send = wc.adapter.send
    await wc.adapter.stop()
    assert "wecom" not in wc.services.senders
    with pytest.raises(DeliveryError):
        await asyncio.wait_for(send(Reply("迟到的通知", chat_id="wecom:someone")), 2)


async def test_a_bare_mention_gets_help_that_names_only_configured_officers(wc: RunningWecom) -> None:
    (reply,) = await wc.say("", chatid=GROUP, userid="wangwu")  # just "@工会助手"
    assert "命令一览" in reply.content and "企业微信说明" in reply.content
    assert "群管理员" not in reply.content  # WeCom tells the bot nothing about group admins
    (refusal,) = await wc.say("订阅 07:30", chatid=GROUP, userid="wangwu")
    assert "配置的工会干部" in refusal.content and "管理员" not in refusal.content


async def test_numbers_work_at_card_steps_too(wc: RunningWecom) -> None:
    """Members who answered the numbered category list keep typing numbers: a card's buttons take them too."""
    await wc.say("/suggest", userid="typist")
    await wc.say("3", userid="typist")
    (sign,) = await wc.say("建议食堂增加一个清真窗口，方便少数民族职工", userid="typist")
    labels = [b["text"] for b in sign.body["template_card"]["button_list"]]
    anon = labels.index("匿名") + 1
    (confirm,) = await wc.say(str(anon), userid="typist")
    confirm_labels = [b["text"] for b in confirm.body["template_card"]["button_list"]]
    (receipt,) = await wc.say(str(next(i for i, t in enumerate(confirm_labels, 1) if "确认" in t)), userid="typist")
    assert "JY-2026-0001" in receipt.content
    [rec] = wc.services.store.suggestions_all()
    assert rec["anonymous"] and rec["proposer_id"] is None
