"""DingTalk end to end: the real adapter on DingTalk's SDK over the Stream WebSocket, against the fake DingTalk."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import pytest
from dingtalk_e2e import GROUP, OFFICER, SECRET, RunningDingtalk, running_dingtalk, taps
from fakedingtalk import MAX_MSG_PARAM_BYTES, MAX_WEBHOOK_BYTES, escaped_size
from markdown_it import MarkdownIt

from bot.adapters.dingtalk import EXIT_AUTH, AuthRejected, DingtalkAdapter
from bot.core import Button, DeliveryError, Reply


@pytest.fixture
async def dt(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_dingtalk(tmp_path) as bot:
        yield bot


def plain(md: str) -> str:
    return md.replace("\\", "").replace("**", "")


def number_of(text: str) -> str:
    m = re.search(r"JY-\d{4}-\d{4}", text)
    assert m, text
    return m.group(0)


# ------------------------------------------------------------------------------------------- receiving, replying


async def test_group_mention_search_answered_in_markdown_and_acked(dt: RunningDingtalk) -> None:
    sent = await dt.send("搜索 集体合同", conversation=GROUP)  # DingTalk hands it over as " 搜索 集体合同"
    (reply,) = await dt.server.wait_replies(sent)
    assert await dt.server.wait_ack(sent) == 200
    assert "集体合同" in reply.text and "**" in reply.text and "<b>" not in reply.text
    assert reply.title.startswith("🔍")
    # in a group a tap would not reach the robot (only @-mentions do): numbered choices, no dtmd links
    assert "dtmd://" not in reply.text and "请 @我 并回复数字" in reply.text
    assert not dt.server.refusals()


async def test_pings_are_acked_with_their_opaque(dt: RunningDingtalk) -> None:
    mid = await dt.server.ping()
    await dt.server.wait_until(lambda: dt.server.ping_acked(mid))
    assert dt.server.pings_acked >= 1


async def test_help_names_configured_officers_not_org_admins(dt: RunningDingtalk) -> None:
    (reply,) = await dt.say("", conversation=GROUP, user="wangwu")  # a bare @工会助手
    text = plain(reply.text)
    assert "命令一览" in text and "钉钉说明" in text and "组织管理员" in text
    assert "群管理员" not in text
    # an organisation admin (isAdmin) is no union officer: subscribing a group is refused
    (refusal,) = await dt.say("订阅 07:30", conversation=GROUP, user="itadmin", is_admin=True)
    assert "配置的工会干部" in refusal.text


async def test_an_unknown_command_in_a_group_gets_an_answer(dt: RunningDingtalk) -> None:
    (reply,) = await dt.say("/nosuch", conversation=GROUP)  # the member @-mentioned the robot: not silence
    assert "没有 /nosuch 这个命令" in plain(reply.text)


async def test_rich_text_is_read_and_a_picture_gets_a_clear_answer(dt: RunningDingtalk) -> None:
    (reply,) = await dt.say("", msgtype="richText", rich=[{"text": "搜索 职代会"}, {"downloadCode": "x"}])
    assert "职代会" in reply.text or "职工代表大会" in reply.text
    (reply,) = await dt.say("", msgtype="picture")
    assert "只能处理文字" in reply.text


async def test_twice_delivered_msgid_answered_once(dt: RunningDingtalk) -> None:
    first = await dt.send("今日", msg_id="dup-1")
    await dt.server.wait_replies(first)
    again = await dt.server.redeliver(first)
    probe = await dt.send("/help")  # answered after the duplicate would have been
    await dt.server.wait_replies(probe)
    assert await dt.server.wait_ack(again) == 200  # acknowledged, so DingTalk stops delivering it
    assert len(dt.server.replies_to(first)) == 1


async def test_a_message_the_full_queue_cannot_take_is_not_acked_and_its_redelivery_is_answered(
        dt: RunningDingtalk) -> None:
    from bot.adapters.chatqueue import ChatQueue

    dt.adapter.queue = ChatQueue(max_concurrent=1, max_pending=1, name="dingtalk")  # the hard cap, made small
    started, gate = asyncio.Event(), asyncio.Event()

    async def busy() -> None:
        started.set()
        await gate.wait()

    dt.adapter.queue.submit_nowait("other", busy)
    await started.wait()
    dt.adapter.queue.submit_nowait("third", gate.wait)  # waits: the queue is at its cap
    sent = await dt.send("建议 食堂的饭菜价格太高，建议公开成本", user="owed1")
    assert await dt.server.wait_ack(sent) != 200  # not acknowledged: DingTalk will deliver it again
    gate.set()
    await dt.adapter.queue.join()
    again = await dt.server.redeliver(sent)
    assert await dt.server.wait_ack(again) == 200
    (receipt,) = await dt.server.wait_replies(sent)
    assert number_of(receipt.text)


async def test_a_failure_while_accepting_is_logged_and_left_for_redelivery(
        dt: RunningDingtalk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(msg: object) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(dt.adapter, "_droppable", broken)
    sent = await dt.send("今日", conversation=GROUP)
    assert await dt.server.wait_ack(sent) != 200
    assert any("accepting a robot message failed" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    again = await dt.server.redeliver(sent)
    assert await dt.server.wait_ack(again) == 200
    (reply,) = await dt.server.wait_replies(sent)
    assert "每日一招" in reply.title + reply.text


async def test_group_suggestion_names_the_proposer_by_nick_and_records_the_group(dt: RunningDingtalk) -> None:
    (receipt,) = await dt.say("建议 车间通风设备噪音太大，建议加装消音罩", conversation=GROUP, user="wangwu",
                              nick="王五", title="一车间工会群")
    number = number_of(receipt.text)
    rec = dt.services.store.suggestion_get(number)
    assert rec is not None and rec["proposer_id"] == "dingtalk:wangwu" and rec["proposer_name"] == "王五"
    assert rec["chat_id"] == f"dingtalk:{GROUP}" and rec["chat_title"] == "一车间工会群"


# --------------------------------------------------------------------------------------------- buttons


async def test_guided_suggestion_by_tapping_dtmd_links(dt: RunningDingtalk) -> None:
    (first,) = await dt.say("/suggest", user="lisi", nick="李四")
    options = taps(first.text)
    assert "技术革新" in options and all(v.startswith(k) for k, v in options.items())
    (ask,) = await dt.tap(first, "技术革新", user="lisi", nick="李四")
    assert "技术革新" in plain(ask.text)
    (sign,) = await dt.say("建议车间增加一台空压机的备用机组，减少停机时间", user="lisi", nick="李四")
    assert {"署名", "匿名"} <= set(taps(sign.text))
    (confirm,) = await dt.tap(sign, "署名", user="lisi", nick="李四")
    (receipt,) = await dt.tap(confirm, "确认", user="lisi", nick="李四")
    number = number_of(receipt.text)
    rec = dt.services.store.suggestion_get(number)
    assert rec is not None and rec["proposer_id"] == "dingtalk:lisi" and rec["proposer_name"] == "李四"
    assert rec["category"] == "技术革新"


async def test_guided_suggestion_by_typed_numbers(dt: RunningDingtalk) -> None:
    (first,) = await dt.say("/suggest", user="typist")
    assert "1\\. [安全生产]" in first.text
    await dt.say("3", user="typist")
    (sign,) = await dt.say("建议食堂增加一个清真窗口，方便少数民族职工", user="typist")
    labels = list(taps(sign.text))
    (confirm,) = await dt.say(str(labels.index("匿名") + 1), user="typist")
    confirm_labels = list(taps(confirm.text))
    (receipt,) = await dt.say(str(next(i for i, t in enumerate(confirm_labels, 1) if "确认" in t)), user="typist")
    number = number_of(receipt.text)
    rec = dt.services.store.suggestion_get(number)
    assert rec is not None and rec["anonymous"] and rec["proposer_id"] is None


async def test_a_stale_tap_gets_a_clear_answer_not_a_wrong_press(dt: RunningDingtalk) -> None:
    (reply,) = await dt.say("取消 #kzz999")  # a token this process never issued (e.g. before a restart)
    assert "已失效" in reply.text
    (first,) = await dt.say("/suggest", user="a")
    tap = taps(first.text)["技术革新"]
    (other,) = await dt.say(tap, user="b")  # another member's chat: the token is not theirs
    assert "已失效" in other.text


async def test_link_buttons_stay_links(dt: RunningDingtalk) -> None:
    await dt.say("/help", user="u1")
    mark = len(dt.server.deliveries)
    await dt.adapter.send(Reply("工作台", buttons=[[Button("打开工作台", url="https://desk.example.org/login/x")]],
                                chat_id="dingtalk:u1"))
    (notice,) = dt.server.delivered("u1", since=mark)
    assert "[打开工作台](https://desk.example.org/login/x)" in notice.text


# ------------------------------------------------------------------------------------------ pushes and notices


async def test_officer_subscribes_group_and_practice_arrives_at_its_minute(dt: RunningDingtalk) -> None:
    from bot.ticks import run_ticks

    (reply,) = await dt.say("订阅 07:30", conversation=GROUP, user=OFFICER)
    assert "已订阅" in plain(reply.text) and "07:30" in reply.text
    dt.clock.advance(days=1)
    dt.clock.set(dt.clock.now.replace(hour=7, minute=29, second=30))
    await run_ticks(dt.services)
    assert dt.server.find("group") == []
    dt.clock.set(dt.clock.now.replace(minute=30, second=5))
    await run_ticks(dt.services)
    await run_ticks(dt.services)
    (push,) = await dt.server.wait_delivered(GROUP, via="group")
    assert "每日一招" in push.title + push.text and "<b>" not in push.text
    (call,) = dt.server.find("group")
    assert call.body["msgKey"] == "sampleMarkdown" and call.body["robotCode"] == dt.config.dingtalk.robot
    assert call.body["openConversationId"] == GROUP
    assert len(dt.server.delivered(GROUP, via="group")) == 1


async def test_officer_review_tells_the_proposer_through_batch_send(dt: RunningDingtalk) -> None:
    (receipt,) = await dt.say("/suggest 建议食堂延长晚餐供应时间到八点", user="proposer1", nick="赵六")
    number = number_of(receipt.text)
    (page,) = await dt.say("/review", user=OFFICER)
    (detail,) = await dt.tap(page, number, user=OFFICER)
    mark = len(dt.server.deliveries)
    await dt.tap(detail, "受理", user=OFFICER)
    (told,) = await dt.server.wait_delivered("proposer1", since=mark, via="batch")
    assert number in told.text and "已受理" in plain(told.text)
    (call,) = [c for c in dt.server.find("batch") if "proposer1" in c.body["userIds"]]
    assert call.body["msgKey"] == "sampleMarkdown" and call.body["userIds"] == ["proposer1"]


async def test_identical_notices_share_one_batch_and_flow_controlled_users_are_retried(dt: RunningDingtalk) -> None:
    users = [f"officer{i}" for i in range(25)]
    dt.server.fail_next("flow", 2)
    await asyncio.gather(*(dt.adapter.send(Reply("<b>本周超期建议</b> 3 条", chat_id=f"dingtalk:{u}")) for u in users))
    got = {u: len(dt.server.delivered(u)) for u in users}
    assert got == dict.fromkeys(users, 1)  # each exactly once, the two flow-controlled ones later
    calls = dt.server.find("batch")
    assert all(len(c.body["userIds"]) <= 20 for c in calls)
    assert len(calls) < len(users) // 2  # batched, not one call each
    assert dt.adapter.retries >= 1


async def test_a_removed_member_is_reported_gone(dt: RunningDingtalk) -> None:
    from bot.core import ChatGone

    dt.server.unknown_users.add("left1")
    with pytest.raises(ChatGone):
        await dt.adapter.send(Reply("你的建议已受理", chat_id="dingtalk:left1"))


async def test_a_gone_webhook_falls_back_to_the_openapi(dt: RunningDingtalk) -> None:
    await dt.say("今日", conversation=GROUP)
    sent = await dt.send("搜索 职代会", conversation=GROUP, session_gone=True)  # DingTalk answers 300001
    (push,) = await dt.server.wait_delivered(GROUP, via="group")
    assert "职代会" in plain(push.text) or "职工代表大会" in push.text
    assert [c.answer["errcode"] for c in dt.server.find("webhook", ok=False, session=sent.session)] == [300001]
    await dt.say("/help", user="solo")  # a single chat: the member's notice goes through batchSend
    mark = len(dt.server.deliveries)
    await dt.send("/help", user="solo", session_gone=True)
    (told,) = await dt.server.wait_delivered("solo", since=mark, via="batch")
    assert "命令一览" in told.text


async def test_an_expired_webhook_is_not_even_tried(dt: RunningDingtalk) -> None:
    sent = await dt.send("今日", user="late", session_life=30)  # within its last minute: not used
    (told,) = await dt.server.wait_delivered("late", via="batch")
    assert "每日一招" in told.title + told.text
    assert dt.server.find("webhook", ok=None, session=sent.session) == []


async def test_token_is_renewed_before_it_expires(tmp_path: Path) -> None:
    now = [1000.0]  # one monotonic clock for the adapter's token cache and the fake's token expiry

    def clock() -> float:
        return now[0]

    async with running_dingtalk(tmp_path, fake={"token_life": 7200, "clock": clock, "ping_every": None},
                                adapter={"clock": clock}) as dt:
        dt.server.add_group(GROUP)
        await dt.adapter.send(Reply("第一条", chat_id=f"dingtalk:{GROUP}"))
        assert dt.server.tokens_issued == 1
        now[0] += 7200 - 300 - 1  # not yet within the renewal margin: the cached token
        await dt.adapter.send(Reply("第二条", chat_id=f"dingtalk:{GROUP}"))
        assert dt.server.tokens_issued == 1
        now[0] += 2  # five minutes before DingTalk's expireIn: renewed before it would refuse
        await dt.adapter.send(Reply("第三条", chat_id=f"dingtalk:{GROUP}"))
        assert dt.server.tokens_issued == 2
        now[0] += 7200 - 300 + 1  # the first token long expired, the second within its margin
        await dt.adapter.send(Reply("第四条", chat_id=f"dingtalk:{GROUP}"))
        assert dt.server.texts(GROUP) == ["第一条", "第二条", "第三条", "第四条"]
        assert dt.server.tokens_issued == 3
        assert not [c for c in dt.server.calls if c.status == 401]  # never refused for an expired token


# ------------------------------------------------------------------------------------------ limits and faults


async def test_qps_refusals_are_waited_out_without_loss(dt: RunningDingtalk) -> None:
    groups = [f"cidQps{i:03d}==" for i in range(45)]
    for g in groups:
        dt.server.add_group(g)
    dt.server.fail_next("qps", 3)
    await asyncio.gather(*(dt.adapter.send(Reply(f"通知 {g}", chat_id=f"dingtalk:{g}")) for g in groups))
    assert all(dt.server.texts(g) == [f"通知 {g}"] for g in groups)
    qps = [c for c in dt.server.find("group", ok=False) if c.code == "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"]
    assert len(qps) == 3  # only the injected ones: the adapter keeps to 20 calls a second by itself
    assert dt.adapter.retries >= 3


async def test_webhook_throttling_660026_is_retried_without_loss(dt: RunningDingtalk) -> None:
    dt.server.fail_next("throttle", 2)
    (reply,) = await dt.say("今日", conversation=GROUP)
    assert "每日一招" in reply.title + reply.text
    assert len(dt.server.find("webhook", ok=False)) == 2


async def test_twenty_a_minute_per_conversation_is_never_exceeded_and_others_are_not_delayed(
        dt: RunningDingtalk) -> None:
    dt.server.add_group(GROUP)
    dt.server.add_group("cidOther==")
    burst = [asyncio.ensure_future(dt.adapter.send(Reply(f"第{i}条", chat_id=f"dingtalk:{GROUP}"))) for i in range(23)]
    await dt.server.wait_until(lambda: len(dt.server.delivered(GROUP)) == 20)
    await dt.adapter.send(Reply("另一个群", chat_id="dingtalk:cidOther=="))  # not held up by the busy group
    assert dt.server.texts("cidOther==") == ["另一个群"]
    assert len(dt.server.delivered(GROUP)) == 20 and not any(t.done() for t in burst[20:])
    assert dt.adapter.windows.backlog(GROUP, 1) > 30  # the rest wait for the minute, not for a refusal
    assert not dt.server.refusals()
    for t in burst:
        t.cancel()
    await asyncio.gather(*burst, return_exceptions=True)


async def test_reconnect_after_a_dropped_connection(dt: RunningDingtalk) -> None:
    await dt.say("今日")
    await dt.server.drop()
    await dt.server.wait_until(lambda: dt.server.connections >= 2)
    await dt.server.wait_connected()
    (reply,) = await dt.say("/help")
    assert "命令一览" in reply.text
    tickets = [c for c in dt.server.find("gateway")]
    assert len(tickets) >= 2  # a fresh single-use ticket for the new connection


async def test_disconnect_frame_reconnects(dt: RunningDingtalk) -> None:
    await dt.server.disconnect()
    await dt.server.wait_until(lambda: dt.server.connections >= 2)
    await dt.server.wait_connected()
    (reply,) = await dt.say("今日")
    assert "每日一招" in reply.title + reply.text


def test_long_text_is_cut_at_paragraphs_within_dingtalks_limits() -> None:
    """A 4,096-character part (the handlers' cut, Telegram's limit) is 24 KB as escaped JSON: over both of
    DingTalk's limits, so the adapter cuts again, at paragraphs."""
    from bot.adapters.dingtalk import render_parts

    paragraphs = [f"第{i}段：" + "车间照明不足影响安全生产，建议更换灯具😀。" * 9 for i in range(20)]
    markup = "<b>很长的一条</b>\n\n" + "\n\n".join(paragraphs)
    assert escaped_size(markup) > MAX_WEBHOOK_BYTES
    parts = render_parts(Reply(markup), group=True)
    assert len(parts) >= 2
    for title, text in parts:
        assert title == "很长的一条"
        assert escaped_size({"title": title, "text": text}) <= MAX_MSG_PARAM_BYTES
        assert escaped_size({"msgtype": "markdown", "markdown": {"title": title, "text": text}}) <= MAX_WEBHOOK_BYTES
        assert text.rstrip().endswith("。")  # cut between paragraphs, not inside one
    assert "\n\n".join(t for _, t in parts).count("段：") == 20


async def test_long_pushes_arrive_whole_in_several_messages(dt: RunningDingtalk) -> None:
    dt.server.add_group(GROUP)
    await dt.say("/help", user="reader")
    long = "\n\n".join(f"第{i}段：" + "职工代表大会每年召开一次审议工会工作报告。" * 10 for i in range(20))
    await dt.adapter.send(Reply(long, chat_id=f"dingtalk:{GROUP}"))
    await dt.adapter.send(Reply(long, chat_id="dingtalk:reader"))
    for chat in (GROUP, "reader"):
        got = dt.server.texts(chat)[-3:] if chat == GROUP else dt.server.texts(chat)[1:]
        assert len(got) >= 2
        joined = "\n\n".join(got)
        assert all(f"第{i}段" in joined for i in range(20))
    assert not dt.server.refusals()


async def test_hostile_text_is_rendered_safely(dt: RunningDingtalk) -> None:
    hostile = ("**粗** [点我](https://evil.example) ![t](https://evil.example/t.png) <font color=red>红</font> "
               "[推送](dtmd://dingtalkclient/sendMessage?content=%2Fpush) `code`\n# 标题\n> 引用 😀👍🏽")
    (receipt,) = await dt.say(f"/suggest {hostile}", user="mallory")
    number = number_of(receipt.text)
    (page,) = await dt.say("/review", user=OFFICER)
    (detail,) = await dt.tap(page, number, user=OFFICER)
    md = MarkdownIt("commonmark")
    tokens = [t for block in md.parse(detail.text) for t in [block, *(block.children or [])]]
    links = [t.attrGet("href") for t in tokens if t.type == "link_open"]
    assert not [h for h in links if "evil" in str(h) or "%2Fpush" in str(h)]
    assert not [t for t in tokens if t.type in ("image", "html_inline", "html_block", "heading_open")]
    assert "粗" in detail.text and "😀👍🏽" in detail.text and "红" in detail.text
    assert not dt.server.refusals()


async def test_busy_group_gets_one_answer_for_many_and_private_chats_are_not_delayed(dt: RunningDingtalk) -> None:
    asked = [await dt.send("今日", conversation=GROUP, user=f"m{i}") for i in range(25)]
    private = await dt.send("/help", user="lonely")
    (help_reply,) = await dt.server.wait_replies(private)
    assert "命令一览" in help_reply.text
    await asyncio.wait_for(dt.adapter.queue.join(), 20)
    answers = [d for a in asked for d in dt.server.replies_to(a)]
    assert 1 <= len([d for d in answers if "每日一招" in d.title + d.text]) < len(asked)
    assert not dt.server.refusals()


# ------------------------------------------------------------------------------------------- credentials, stop


async def test_wrong_secret_stops_the_start_after_one_refused_check(tmp_path: Path) -> None:
    """As `python run.py dingtalk` starts it (run.py prints the ConfigError as one line and exits 2)."""
    from bot.runtime import configured_platforms, serve

    async with running_dingtalk(tmp_path, start=False, client_secret="wrong") as dt:
        with pytest.raises(AuthRejected):
            await asyncio.wait_for(serve(configured_platforms(dt.config, dt.services, "dingtalk"), dt.services), 20)
        assert dt.server.auth_failures == 1 and not dt.server.find("gateway", ok=None)


async def test_wrong_secret_start_raises_one_line_naming_the_section(tmp_path: Path) -> None:
    async with running_dingtalk(tmp_path, start=False, client_secret="wrong") as dt:
        adapter = DingtalkAdapter(dt.config, dt.services)
        with pytest.raises(AuthRejected) as e:
            await adapter.start(timeout=10)
        await adapter.stop()
        assert str(e.value).startswith("[dingtalk] client_id / client_secret：钉钉拒绝了 Client ID / Secret（")
        assert "\n" not in str(e.value) and "wrong" not in str(e.value)


async def test_a_secret_revoked_while_running_stops_with_status_2(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    async with running_dingtalk(tmp_path, fake={"token_life": 1}) as dt:
        dt.server.client_secret = "rotated"
        await dt.server.drop()  # the reconnect asks the gateway again: refused (401 authFailed)
        code = await asyncio.wait_for(dt.adapter.wait(), 10)
        assert code == EXIT_AUTH
        assert len([r for r in caplog.records if r.levelno >= logging.ERROR and "[dingtalk]" in r.getMessage()]) == 1


async def test_config_endpoint_alone_governs_the_sdks_own_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                ) -> None:
    """The SDK reads DINGTALK_OPENAPI_ENDPOINT once at import; `[dingtalk] endpoint` must still reach the fake."""
    monkeypatch.delenv("DINGTALK_OPENAPI_ENDPOINT", raising=False)
    async with running_dingtalk(tmp_path) as dt:
        client = dt.adapter.client
        monkeypatch.setattr(client, "get_host_ip", lambda: "127.0.0.1")  # the SDK would probe a public address
        before = len(dt.server.calls)
        opened = await asyncio.to_thread(client.open_connection)  # the SDK's own blocking gateway call
        token = await asyncio.to_thread(client.get_access_token)  # and its own OAuth call
        assert opened is not None and opened["endpoint"].startswith("ws://127.0.0.1")
        assert token is not None
        assert [c.kind for c in dt.server.calls[before:]] == ["gateway", "oauth"]


async def test_stop_handles_every_acknowledged_message_and_accepts_no_more(dt: RunningDingtalk) -> None:
    sent = [await dt.send(f"搜索 {w}", user=f"s{i}") for i, w in enumerate(["集体合同", "职代会", "工资", "女职工"])]
    for s in sent:
        assert await dt.server.wait_ack(s) == 200
    await dt.adapter.stop()
    assert all(dt.server.replies_to(s) for s in sent)  # every acknowledged message was answered before exit
    assert "dingtalk" not in dt.services.senders
    with pytest.raises(DeliveryError):
        await asyncio.wait_for(dt.adapter.send(Reply("迟到的通知", chat_id="dingtalk:someone")), 2)


async def test_the_sdks_ping_frames_and_member_text_stay_out_of_the_logs(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_dingtalk(tmp_path) as dt:
        mid = await dt.server.ping()
        await dt.server.wait_until(lambda: dt.server.ping_acked(mid))
        await dt.say("建议 机密内容不应出现在日志里", user="whistle")
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "opaque" not in logged and "机密内容" not in logged and SECRET not in logged
    assert not [r for r in caplog.records if r.name.startswith("dingtalk_stream") and r.levelno >= logging.INFO]
    assert json.dumps("whistle") not in logged


async def test_the_fake_keeps_dingtalks_rules_for_tickets_and_pings() -> None:
    """The fake itself: a ticket opens one connection only, a wrong secret gets 401 authFailed, and a
    connection that leaves a ping unanswered is closed (so the adapter's acks are what keeps it up)."""
    import aiohttp
    from fakedingtalk import FakeDingTalk

    async with FakeDingTalk("app", "secret", ping_every=0.1, ping_timeout=0.3) as fake, aiohttp.ClientSession() as http:
        body = {"clientId": "app", "clientSecret": "wrong", "subscriptions": [{"type": "CALLBACK", "topic": "x"}]}
        async with http.post(fake.url + "/v1.0/gateway/connections/open", json=body) as r:
            assert r.status == 401 and (await r.json())["code"] == "authFailed"
        body = {**body, "clientSecret": "secret", "subscriptions": [{"type": "CALLBACK",
                                                                     "topic": "/v1.0/im/bot/messages/get"}]}
        async with http.post(fake.url + "/v1.0/gateway/connections/open", json=body) as r:
            conn = await r.json()
        url = f"{conn['endpoint']}?ticket={conn['ticket']}"
        async with http.ws_connect(url) as ws:  # a client that never answers pings
            await fake.wait_until(lambda: fake.pings_sent >= 1)
            msg = await asyncio.wait_for(ws.receive(), 5)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await asyncio.wait_for(ws.receive(), 5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        with pytest.raises(aiohttp.WSServerHandshakeError):
            async with http.ws_connect(url):  # the ticket was used
                pass
        assert fake.pings_acked == 0


async def test_export_and_chart_point_to_the_desk(dt: RunningDingtalk) -> None:
    await dt.say("/suggest 建议食堂延长晚餐供应时间到八点", user="p1")
    for command in ("/export", "/stats"):
        replies = await dt.say(command, user=OFFICER)
        assert any("工作台" in r.text and "/desk" in r.text for r in replies), [r.text for r in replies]
    assert not dt.server.refusals()


async def test_run_py_dingtalk_alone_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import sys

    from e2e import ROOT
    from fakedingtalk import FakeDingTalk

    async with FakeDingTalk("dingalone", "alone-secret") as fake:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[content]\ndir = "{ROOT / "content"}"\n'
                       f'[dingtalk]\nclient_id = "dingalone"\nendpoint = "{fake.url}"\n', encoding="utf-8")
        env = {**os.environ, "DINGTALK_CLIENT_SECRET": "alone-secret"}
        env.pop("DINGTALK_OPENAPI_ENDPOINT", None)
        env.pop("TELEGRAM_BOT_TOKEN", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "dingtalk", cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await fake.wait_connected(timeout=60)
            sent = await fake.message("/help", user="u1")
            (reply,) = await fake.wait_replies(sent, timeout=30)
            assert "命令一览" in reply.text
            proc.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        text = err.decode("utf-8", "replace")
        assert proc.returncode == 0, text
        assert "dingtalk started" in text and "telegram started" not in text and "alone-secret" not in text


# ------------------------------------------------------------------------------------------- 每日一题 (issue 17)


async def test_quiz_in_a_single_chat_by_tapping_an_option(dt: RunningDingtalk) -> None:
    """DingTalk has no callback buttons: the day's question offers its options as tap links (dtmd)."""
    (question,) = await dt.say("/quiz", user="quizzer", nick="答题人")
    assert "每日一题" in plain(question.text)
    options = taps(question.text)
    assert options, question.text
    (verdict,) = await dt.tap(question, next(iter(options)), user="quizzer", nick="答题人")
    text = plain(verdict.text)
    assert ("回答正确" in text or "回答错误" in text) and "正确答案：" in text
    (again,) = await dt.say("答 A", user="quizzer", nick="答题人")
    assert "以第一次回答为准" in plain(again.text)
    (rank,) = await dt.say("/rank", user="quizzer", nick="答题人")
    assert "答题人" in plain(rank.text)  # DingTalk gives names (senderNick)


async def test_quiz_in_a_group_typed_answer_verdict_told_privately(dt: RunningDingtalk) -> None:
    (question,) = await dt.say("每日一题", conversation=GROUP, user="wangwu", nick="王五")
    assert "群里请 @我" in plain(question.text) and "dtmd://" not in question.text
    mark = len(dt.server.deliveries)
    (taken,) = await dt.say("答 对" if "判断题" in plain(question.text) else "答 A", conversation=GROUP,
                            user="wangwu", nick="王五")
    assert "已记下 王五 的答案" in plain(taken.text) and "私信" in plain(taken.text)
    (told,) = await dt.server.wait_delivered("wangwu", since=mark, via="batch")
    assert "正确答案：" in plain(told.text)  # the verdict goes to the member alone, not the group
    assert not any("正确答案：" in plain(t) for t in dt.server.texts(GROUP, since=mark))
