"""合理化建议 through the real dispatcher and a real Store: submit, validate, review, notify, /mine, flows."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from test_suggest_helpers import (
    ADMIN,
    BOT,
    GROUP,
    GROUP_TITLE,
    MEMBER,
    OFFICER,
    OTHER_ADMIN,
    TZ,
    Clock,
    button,
    grp,
    member,
    pm,
    say,
    text_of,
    to,
)

from bot import suggestions as sg
from bot.services import Services

NUMBER = re.compile(r"JY-\d{4}-\d{4}")


def number_in(replies: list) -> str:
    m = NUMBER.search(text_of(replies))
    assert m, text_of(replies)
    return m.group(0)


# --- submitting ----------------------------------------------------------------------------------


async def test_quick_submission_gets_a_receipt_and_a_full_record(svc: Services) -> None:
    out = await say(svc, pm(MEMBER, "/suggest 食堂午餐窗口太少，建议增加两个窗口"))
    assert "JY-2026-0001" in text_of(out) and "待受理" in text_of(out)
    out = await say(svc, pm(MEMBER, "建议 [安全生产] 车间二楼消防通道堆放杂物，应清理"))
    assert "JY-2026-0002" in text_of(out) and "安全生产" in text_of(out)
    out = await say(svc, pm(MEMBER, "提建议：【技术革新】冲压线加装光幕保护装置"))
    assert "JY-2026-0003" in text_of(out) and "技术革新" in text_of(out)
    rec = svc.store.suggestion_get("JY-2026-0001")
    assert rec is not None
    assert rec["category"] == "其他" and rec["status"] == "待受理" and not rec["anonymous"]
    assert rec["proposer_id"] == MEMBER and rec["proposer_name"] == "张三"
    assert rec["created"] == "2026-03-02T10:00:30+08:00"
    assert rec["history"][0]["action"] == "提交"


async def test_group_submission_records_the_chat(svc: Services) -> None:
    out = await say(svc, grp(MEMBER, "建议：班组休息室空调坏了一个月，请尽快维修"))
    assert "私聊" in text_of(out)  # how to get progress messages
    rec = svc.store.suggestion_get(number_in(out))
    assert rec is not None and rec["chat_id"] == GROUP and rec["chat_title"] == GROUP_TITLE


async def test_numbers_restart_each_year_and_are_never_reused(svc: Services, clock: Clock) -> None:
    assert "JY-2026-0001" in text_of(await say(svc, pm(MEMBER, "建议 第一条建议内容足够长")))
    clock.t = datetime(2027, 1, 1, 0, 5, tzinfo=TZ)
    assert "JY-2027-0001" in text_of(await say(svc, pm(MEMBER, "建议 新年第一条建议内容")))
    assert "JY-2027-0002" in text_of(await say(svc, pm(MEMBER, "建议 新年第二条建议内容")))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("/suggest [安全生产]", "提合理化建议"),  # nothing after the category -> usage
        ("建议 太短", "5–2000 字"),
        ("建议 " + "长" * 2001, "2001 字"),
    ],
)
async def test_bad_text_is_refused_with_limits(svc: Services, text: str, expect: str) -> None:
    out = await say(svc, pm(MEMBER, text))
    assert expect in text_of(out)
    assert svc.store.suggestions_all() == []


async def test_html_and_emoji_are_kept_raw_and_shown_escaped(svc: Services) -> None:
    raw = "<b>加粗</b> & <script>x</script> 👍🏻 工会活动多一些"
    out = await say(svc, pm(MEMBER, "建议 " + raw))
    n = number_in(out)
    assert svc.store.suggestion_get(n)["text"] == raw  # type: ignore[index]
    mine = text_of(await say(svc, pm(MEMBER, "/mine")))
    assert "&lt;script&gt;" in mine and "<script>" not in mine


async def test_duplicate_within_24h_is_not_stored_twice(svc: Services, clock: Clock) -> None:
    await say(svc, pm(MEMBER, "建议 食堂增加素菜窗口，方便大家"))
    out = await say(svc, pm(MEMBER, "建议  食堂增加素菜窗口 方便大家！"))
    assert "24 小时内已经提交过" in text_of(out) and "JY-2026-0001" in text_of(out)
    assert len(svc.store.suggestions_all()) == 1
    other = await say(svc, pm(member(1), "建议 食堂增加素菜窗口，方便大家"))  # someone else: fine
    assert "JY-2026-0002" in text_of(other)
    clock.advance(hours=24, seconds=1)
    again = await say(svc, pm(MEMBER, "建议 食堂增加素菜窗口，方便大家"))
    assert "JY-2026-0003" in text_of(again)


async def test_rate_limit_says_when_to_come_back(svc: Services, clock: Clock) -> None:
    for i in range(5):
        out = await say(svc, pm(MEMBER, f"建议 第{i}条：车间照明需要改进"))
        assert NUMBER.search(text_of(out))
        clock.advance(minutes=1)
    clock.advance(minutes=10)  # 10:15:30
    out = await say(svc, pm(MEMBER, "建议 第六条：车间照明需要改进"))
    assert "每小时最多提交 5 条" in text_of(out) and "11:01" in text_of(out)  # first at 10:00:30
    assert len(svc.store.suggestions_all()) == 5
    clock.t = datetime(2026, 3, 2, 11, 1, tzinfo=TZ)
    assert NUMBER.search(text_of(await say(svc, pm(MEMBER, "建议 第六条：车间照明需要改进"))))


# --- the guided flow ------------------------------------------------------------------------------


async def _flow(svc: Services, uid: str, category: str, text: str, sign: str, name: str = "张三") -> list:
    out = await say(svc, pm(uid, "/suggest", name))
    assert "请选择建议类别" in text_of(out)
    out = await say(svc, pm(uid, name=name, data=button(out, category)))
    assert category in text_of(out) and "请直接发送建议内容" in text_of(out)
    out = await say(svc, pm(uid, text, name))
    out = await say(svc, pm(uid, name=name, data=button(out, sign)))
    assert "请确认提交" in text_of(out)
    return await say(svc, pm(uid, name=name, data=button(out, "确认提交")))


async def test_guided_flow_named(svc: Services) -> None:
    out = await _flow(svc, MEMBER, "节支降耗", "空压机夜间空载运行，建议加装定时控制", "署名")
    rec = svc.store.suggestion_get(number_in(out))
    assert rec is not None
    assert (rec["category"], rec["proposer_id"], rec["anonymous"]) == ("节支降耗", MEMBER, False)
    assert rec["chat_id"] is None  # submitted in a private chat


async def test_guided_flow_anonymous_and_its_duplicate_check(svc: Services) -> None:
    out = await _flow(svc, MEMBER, "管理改进", "考勤制度执行不一，建议统一标准", "匿名")
    assert "匿名" in text_of(out)
    rec = svc.store.suggestion_get(number_in(out))
    assert rec is not None and rec["anonymous"] and rec["proposer_id"] is None and rec["proposer_name"] is None
    again = await _flow(svc, MEMBER, "管理改进", "考勤制度执行不一，建议统一标准！", "匿名")
    assert "24 小时内已经提交过" in text_of(again)
    assert len(svc.store.suggestions_all()) == 1
    assert "你还没有署名提交过建议" in text_of(await say(svc, pm(MEMBER, "/mine")))


async def test_flow_rejects_short_text_and_stays_open(svc: Services) -> None:
    out = await say(svc, pm(MEMBER, "/suggest"))
    await say(svc, pm(MEMBER, data=button(out, "其他")))
    assert "5–2000 字" in text_of(await say(svc, pm(MEMBER, "太短")))
    out = await say(svc, pm(MEMBER, "这次写得足够长了"))
    assert "署名" in text_of(out)


@pytest.mark.parametrize("how", ["/cancel", "取消", "button"])
async def test_flow_can_be_cancelled(svc: Services, how: str) -> None:
    out = await say(svc, pm(MEMBER, "/suggest"))
    out = await say(svc, pm(MEMBER, data=button(out, "其他")))
    out = await say(svc, pm(MEMBER, "想提的建议内容在这里"))
    if how == "button":
        out = await say(svc, pm(MEMBER, data=button(out, "取消")))
    else:
        out = await say(svc, pm(MEMBER, how))
    assert "已取消" in text_of(out)
    assert svc.pending == {}
    assert "没有进行中的操作" in text_of(await say(svc, pm(MEMBER, "/cancel")))
    assert svc.store.suggestions_all() == []


async def test_flow_times_out(svc: Services, clock: Clock) -> None:
    out = await say(svc, pm(MEMBER, "/suggest"))
    out = await say(svc, pm(MEMBER, data=button(out, "其他")))
    out = await say(svc, pm(MEMBER, "超时之前写好的建议内容"))
    clock.advance(minutes=11)
    out = await say(svc, pm(MEMBER, data=button(out, "署名")))
    assert "已超时" in text_of(out)
    assert svc.store.suggestions_all() == []


async def test_group_flow_continues_in_private_via_deep_link(svc: Services) -> None:
    out = await say(svc, grp(MEMBER, "/suggest"))
    urls = [b.url for r in out for row in r.buttons for b in row]
    assert urls == [f"https://t.me/{BOT}?start=suggest"]
    out = await say(svc, pm(MEMBER, "/start suggest"))
    assert "请选择建议类别" in text_of(out)
    out = await say(svc, pm(MEMBER, data=button(out, "职工生活")))
    out = await say(svc, pm(MEMBER, "夜班职工希望食堂延长供餐时间"))
    out = await say(svc, pm(MEMBER, data=button(out, "署名")))
    out = await say(svc, pm(MEMBER, data=button(out, "确认提交")))
    rec = svc.store.suggestion_get(number_in(out))
    assert rec is not None and rec["chat_id"] == GROUP and rec["chat_title"] == GROUP_TITLE
    # the group's admin can therefore review it
    assert "1/1" in text_of(await say(svc, pm(ADMIN, "/review", "王主席")))


# --- reviewing ------------------------------------------------------------------------------------


async def test_full_review_lifecycle_notifies_the_proposer(svc: Services) -> None:
    n1 = number_in(await say(svc, grp(MEMBER, "建议 [安全生产] 叉车通道划线已磨损，建议重新划线")))
    n2 = number_in(await say(svc, grp(MEMBER, "建议 更衣室增加储物柜，现在不够用")))
    page = await say(svc, pm(ADMIN, "/review", "王主席"))
    assert "待处理建议" in text_of(page) and n1 in text_of(page) and n2 in text_of(page)
    view = await say(svc, pm(ADMIN, name="王主席", data=button(page, n1)))
    assert "叉车通道" in text_of(view) and view[0].edit

    out = await say(svc, pm(ADMIN, name="王主席", data=button(view, "受理")))
    told = to(out, MEMBER)
    assert len(told) == 1 and n1 in told[0].text and "已受理" in told[0].text
    # impossible: 已实施 before 已采纳 (a stale or forged button)
    out = await say(svc, pm(ADMIN, name="王主席", data=f"sg:t:{n1}:imp"))
    assert "只有“已采纳”的建议才能标记为“已实施”" in text_of(out) and to(out, MEMBER) == []

    out = await say(svc, pm(ADMIN, name="王主席", data=button(out if out[0].buttons else view, "受理")))
    assert "不能把" in text_of(out)  # already 已受理

    view = await say(svc, pm(ADMIN, name="王主席", data=f"sg:v:{n1}"))
    out = await say(svc, pm(ADMIN, name="王主席", data=button(view, "采纳")))
    assert "已采纳" in to(out, MEMBER)[0].text
    ask = await say(svc, pm(ADMIN, name="王主席", data=button(out, "已实施")))
    assert "实施结果" in text_of(ask) and to(ask, MEMBER) == []
    out = await say(svc, pm(ADMIN, "叉车通道已划线", "王主席"))  # no benefit: asked again, nothing changed
    assert "经济效益" in text_of(out) and svc.store.suggestion_get(n1)["status"] == "已采纳"  # type: ignore[index]
    out = await say(svc, pm(ADMIN, "叉车通道已划线；0", "王主席"))
    assert "已实施" in to(out, MEMBER)[0].text and "叉车通道已划线" in to(out, MEMBER)[0].text

    # 不采纳 needs a reason: the button asks for it, the next message is the reason
    await say(svc, pm(ADMIN, "/reject " + n2 + " 理由", "王主席"))  # refused: not yet 受理
    assert svc.store.suggestion_get(n2)["status"] == "待受理"  # type: ignore[index]
    view = await say(svc, pm(ADMIN, name="王主席", data=f"sg:v:{n2}"))
    await say(svc, pm(ADMIN, name="王主席", data=button(view, "受理")))
    view = await say(svc, pm(ADMIN, name="王主席", data=f"sg:v:{n2}"))
    ask = await say(svc, pm(ADMIN, name="王主席", data=button(view, "不采纳")))
    assert "理由" in text_of(ask) and svc.store.suggestion_get(n2)["status"] == "已受理"  # type: ignore[index]
    out = await say(svc, pm(ADMIN, "场地有限，明年改造时统筹考虑", "王主席"))
    told = to(out, MEMBER)
    assert "不采纳" in told[0].text and "场地有限" in told[0].text

    rec = svc.store.suggestion_get(n1)
    assert rec is not None
    assert [h["status"] for h in rec["history"]] == ["待受理", "已受理", "已采纳", "已实施"]
    assert all(h["by_id"] == ADMIN and h["by_name"] == "王主席" for h in rec["history"][1:])

    mine = text_of(await say(svc, pm(MEMBER, "/mine")))
    assert n1 in mine and "已实施" in mine and n2 in mine and "不采纳" in mine
    assert "1/1" not in text_of(await say(svc, pm(ADMIN, "/review", "王主席")))  # nothing open
    assert "没有待处理" in text_of(await say(svc, pm(ADMIN, "/review", "王主席")))


async def test_reject_command_and_notes(svc: Services) -> None:
    n = number_in(await say(svc, pm(MEMBER, "建议 厂区增设电动车充电桩")))
    assert "不采纳必须写明理由" in text_of(await say(svc, pm(OFFICER, f"/reject {n}", "李干事")))
    view = await say(svc, pm(OFFICER, name="李干事", data=f"sg:v:{n}"))
    await say(svc, pm(OFFICER, name="李干事", data=button(view, "受理")))
    out = await say(svc, pm(OFFICER, f"不采纳 {n.lower()} 消防规定不允许室内充电", "李干事"))
    assert "不采纳" in to(out, MEMBER)[0].text and "消防规定" in to(out, MEMBER)[0].text
    out = await say(svc, pm(OFFICER, f"/note {n} 已与保卫科沟通", "李干事"))
    assert "备注已记录" in text_of(out) and to(out, MEMBER) == []  # notes are internal
    view = await say(svc, pm(OFFICER, name="李干事", data=f"sg:v:{n}"))
    out = await say(svc, pm(OFFICER, name="李干事", data=button(view, "备注")))
    out = await say(svc, pm(OFFICER, "第二条备注", "李干事"))
    rec = svc.store.suggestion_get(n)
    assert rec is not None and [h["note"] for h in rec["history"] if h["action"] == "备注"] == [
        "已与保卫科沟通", "第二条备注"
    ]
    assert "找不到" in text_of(await say(svc, pm(OFFICER, "/note JY-2026-0099 内容", "李干事")))


async def test_review_list_is_paged(svc: Services) -> None:
    for i in range(12):
        await say(svc, pm(member(i), f"建议 第{i:02d}条关于班组建设的建议"))
    page = await say(svc, pm(OFFICER, "/review"))
    assert "第 1/3 页" in text_of(page) and "共 12 条" in text_of(page)
    page = await say(svc, pm(OFFICER, data=button(page, "下一页")))
    assert "第 2/3 页" in text_of(page) and "JY-2026-0006" in text_of(page)
    for r in page:
        for row in r.buttons:
            for b in row:
                assert len(b.data.encode()) <= 64


async def test_non_officers_cannot_review_or_export(svc: Services) -> None:
    n = number_in(await say(svc, grp(MEMBER, "建议 职工书屋增加技术类图书")))
    for cmd in ("/review", "/export", "/stats", f"/reject {n} 不行", f"/note {n} x"):
        out = await say(svc, pm(MEMBER, cmd))
        assert "只有工会干部" in text_of(out), cmd
    out = await say(svc, pm(MEMBER, data=f"sg:t:{n}:acc"))
    assert "不能处理" in text_of(out)
    # an admin of another group is not an officer for this group's suggestion
    out = await say(svc, pm(OTHER_ADMIN, data=f"sg:t:{n}:acc"))
    assert "不能处理" in text_of(out)
    assert svc.store.suggestion_get(n)["status"] == "待受理"  # type: ignore[index]
    # officers' commands are not run in the group itself
    assert "私聊" in text_of(await say(svc, grp(ADMIN, "/review")))


async def test_hostile_input_gets_clear_answers(svc: Services) -> None:
    from bot.core import MAX_MESSAGE_CHARS

    n = number_in(await say(svc, pm(MEMBER, "建议 " + "<&>" * 666)))  # 1998 characters, all escaped
    for data in ("sg:zzz", "sg:t:JY:xx", "sg:c:99", "sg:p:abc", "sg:t:JY-2026-0001:zzz", "sg:k", "sg:v:"):
        out = await say(svc, pm(OFFICER, data=data))
        assert out and all(r.text or r.toast for r in out), data
        assert "抱歉，处理时出了点问题" not in text_of(out), data
    for text in ("/reject <b>", "/note", "/review JY-9999-9999", "不采纳 JY-2026-0001", "备注 JY-2026-0001"):
        out = await say(svc, pm(OFFICER, text))
        assert text_of(out).strip(), text
        assert "抱歉，处理时出了点问题" not in text_of(out), text
    view = await say(svc, pm(OFFICER, data=f"sg:v:{n}"))
    assert len(view[0].text) <= MAX_MESSAGE_CHARS and "&lt;&amp;&gt;" in view[0].text
    # emoji-only texts are not mistaken for duplicates of each other
    assert NUMBER.search(text_of(await say(svc, pm(MEMBER, "建议 👍👍👍👍👍"))))
    assert NUMBER.search(text_of(await say(svc, pm(MEMBER, "建议 🎉🎉🎉🎉🎉"))))


async def test_anonymous_quick_submission_in_private_and_refused_in_a_group(svc: Services) -> None:
    """`建议 匿名 内容`: anonymous in a private chat; in a group (where everyone sees the sender) nothing is
    filed under the member's name with 匿名 in its text: they are sent to the private chat instead."""
    out = await say(svc, grp(MEMBER, "建议 匿名 食堂饭菜太咸，建议少放盐"))
    assert "没有提交" in text_of(out) and svc.store.suggestions_all() == []
    out = await say(svc, pm(MEMBER, "建议 匿名：食堂饭菜太咸，建议少放盐"))
    [rec] = svc.store.suggestions_all()
    assert rec["anonymous"] and rec["proposer_id"] is None and rec["text"] == "食堂饭菜太咸，建议少放盐"
    assert NUMBER.search(text_of(out))


async def test_a_command_word_is_not_taken_as_a_reason_and_a_result_may_come_before_its_amount(
    svc: Services,
) -> None:
    out = await say(svc, pm(MEMBER, "建议 车间照明不足，建议更换为LED灯具"))
    number = NUMBER.search(text_of(out)).group(0)  # type: ignore[union-attr]
    for action in ("acc", "ado"):
        await sg.transition(svc, number, action, OFFICER, "李干事")
    view = await say(svc, pm(OFFICER, f"/review {number}", name="李干事"))
    ask = await say(svc, pm(OFFICER, name="李干事", data=button(view, "已实施")))
    assert "实施结果" in text_of(ask)
    # "审核" typed to go back is refused as a result, and the officer is told how to leave
    assert "是一个命令" in text_of(await say(svc, pm(OFFICER, "审核", name="李干事")))
    # the result in one message, the amount in the next
    assert "经济效益" in text_of(await say(svc, pm(OFFICER, "已全部更换为LED灯具", name="李干事")))
    out = await say(svc, pm(OFFICER, "3000", name="李干事"))
    rec = svc.store.suggestion_get(number)
    assert rec is not None and rec["status"] == "已实施" and rec["result"] == "已全部更换为LED灯具"
    assert rec["benefit"] == 3000 and "已全部更换为LED灯具" in to(out, MEMBER)[0].text
