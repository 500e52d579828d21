"""Lifecycle additions through the real core and store: deadlines (major), departments, 已实施 with result and
benefit, reward, 公示 and /adopted, the proposer's satisfaction, merging duplicates, older records loading."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from test_suggest_helpers import MEMBER, OFFICER, Clock, button, pm, say, text_of, to

from bot import suggestions as sg
from bot.desk.query import desk_stats
from bot.services import Services

CAROL = "tg:700011"


async def submit(svc: Services, uid: str, text: str, name: str = "张三") -> str:
    out = await say(svc, pm(uid, f"建议 {text}", name=name))
    return next(w for w in text_of(out).replace("<b>", " ").replace("</b>", " ").split() if w.startswith("JY-"))


async def test_major_items_get_the_longer_deadline_and_drive_the_overdue_list(svc: Services, clock: Clock) -> None:
    a = await submit(svc, MEMBER, "食堂窗口太少，建议增加两个窗口")
    b = await submit(svc, CAROL, "冲压线加装光幕保护装置，防止夹手", name="赵六")
    await sg.set_major(svc, b, OFFICER, "李干事", True)
    rec_a, rec_b = svc.store.suggestion_get(a), svc.store.suggestion_get(b)
    assert rec_a and rec_b
    assert sg.deadline(rec_a, svc.config) - clock.t == timedelta(days=30)
    assert sg.deadline(rec_b, svc.config).date().isoformat() == "2026-05-31"  # 90 days
    clock.advance(days=31)
    assert [r["number"] for r in sg.overdue(svc)] == [a]
    clock.advance(days=60)
    assert [r["number"] for r in sg.overdue(svc)] == [a, b]
    assert "标记为重大建议" in [h["action"] for h in svc.store.suggestion_get(b)["history"]]  # type: ignore[index]


async def test_department_must_come_from_the_configured_list(svc: Services) -> None:
    n = await submit(svc, MEMBER, "更衣室储物柜不够用，建议增加")
    with pytest.raises(sg.SuggestError, match="承办部门请从以下选择"):
        await sg.set_department(svc, n, OFFICER, "李干事", "不存在的部门")
    rec = await sg.set_department(svc, n, OFFICER, "李干事", "设备管理部")
    assert rec["department"] == "设备管理部" and rec["history"][-1]["by_name"] == "李干事"
    assert svc.store.suggestion_get(n)["department"] == "设备管理部"  # type: ignore[index]


async def test_implementation_needs_a_result_and_a_benefit_in_yuan(svc: Services) -> None:
    n = await submit(svc, MEMBER, "空压机加装变频器，节约电费")
    await sg.transition(svc, n, "acc", OFFICER, "李干事")
    await sg.transition(svc, n, "ado", OFFICER, "李干事")
    with pytest.raises(sg.SuggestError, match="实施结果"):
        await sg.implement(svc, n, OFFICER, "李干事", "", "1000")
    with pytest.raises(sg.SuggestError, match="经济效益"):
        await sg.implement(svc, n, OFFICER, "李干事", "已改造", "")
    with pytest.raises(sg.SuggestError, match="不是有效金额"):
        await sg.implement(svc, n, OFFICER, "李干事", "已改造", "很多")
    with pytest.raises(sg.SuggestError, match="不是有效金额"):
        await sg.implement(svc, n, OFFICER, "李干事", "已改造", "-5")
    assert svc.store.suggestion_get(n)["status"] == sg.ADOPTED  # type: ignore[index]
    rec = await sg.implement(svc, n, OFFICER, "李干事", "三台空压机已改造", "1.2万")
    assert rec["status"] == sg.DONE and rec["benefit"] == 12000 and rec["result"] == "三台空压机已改造"
    with pytest.raises(sg.SuggestError, match="奖励等级"):
        await sg.set_reward(svc, n, OFFICER, "李干事", "特等奖", "500")
    rec = await sg.set_reward(svc, n, OFFICER, "李干事", "二等奖", "800元")
    assert rec["reward_tier"] == "二等奖" and rec["reward_amount"] == 800


@pytest.mark.parametrize(("text", "value"), [("12000", 12000), ("1,200.5 元", 1200.5), ("０", 0), ("3万", 30000)])
def test_money_parsing(text: str, value: float) -> None:
    assert sg.parse_money(text, "经济效益", required=True) == value


async def test_publication_and_adopted_names_only_signed_proposers(svc: Services) -> None:
    named = await submit(svc, MEMBER, "班组休息室空调维修后效果很好，建议推广")
    anon_out = await say(svc, pm(CAROL, "/suggest"))
    await say(svc, pm(CAROL, data=button(anon_out, "职工生活")))
    await say(svc, pm(CAROL, "夜班职工希望食堂延长供餐时间", name="赵六"))
    sign = await say(svc, pm(CAROL, data="sg:s:a", name="赵六"))
    done = await say(svc, pm(CAROL, data=button(sign, "确认提交"), name="赵六"))
    anon = "JY-2026-0002"
    assert anon in text_of(done)
    assert "没有公示" in text_of(await say(svc, pm(MEMBER, "/adopted")))
    with pytest.raises(sg.SuggestError, match="才能公示"):
        await sg.set_public(svc, named, OFFICER, "李干事", True)
    for n in (named, anon):
        await sg.transition(svc, n, "acc", OFFICER, "李干事")
        await sg.transition(svc, n, "ado", OFFICER, "李干事")
    # in chat: the officer's detail view has the 公示 button
    view = await say(svc, pm(OFFICER, f"/review {named}", name="李干事"))
    await say(svc, pm(OFFICER, data=button(view, "公示"), name="李干事"))
    await sg.set_public(svc, anon, OFFICER, "李干事", True)
    board = text_of(await say(svc, pm(MEMBER, "采纳公示")))
    assert named in board and anon in board
    assert "提议人：张三" in board and "提议人：匿名" in board and "赵六" not in board


async def test_satisfaction_after_reject_and_done_feeds_the_rate(svc: Services) -> None:
    a = await submit(svc, MEMBER, "厂区道路照明不足，建议加装路灯")
    b = await submit(svc, MEMBER, "建议每月组织一次职工篮球赛")
    await say(svc, pm(OFFICER, f"/review {a}", name="李干事"))
    for n in (a, b):
        await sg.transition(svc, n, "acc", OFFICER, "李干事")
    out = await say(svc, pm(OFFICER, f"/reject {a} 预算已用完，明年考虑", name="李干事"))
    [told] = to(out, MEMBER)
    assert "不采纳" in told.text and "满意吗" in told.text
    assert [x.text for row in told.buttons for x in row] == ["满意", "基本满意", "不满意"]
    # only the proposer may rate
    refused = await say(svc, pm(CAROL, data=told.buttons[0][0].data))
    assert refused[0].toast and "提议人本人" in refused[0].toast
    thanks = await say(svc, pm(MEMBER, data=told.buttons[0][1].data))
    assert "基本满意" in text_of(thanks)
    await sg.transition(svc, b, "ado", OFFICER, "李干事")
    rec = await sg.implement(svc, b, OFFICER, "李干事", "已组织三次", "0")
    [msg] = sg.notices(svc, rec, "", OFFICER)
    assert "实施结果：已组织三次" in msg.text and msg.buttons
    await say(svc, pm(MEMBER, data=msg.buttons[0][2].data))
    st = desk_stats(svc.store.suggestions_all(), svc.config, svc.now())
    assert st.rated == 2 and st.satisfaction_rate == 0.5
    assert st.adoption_rate == 0.5 and st.implementation_rate == 1.0
    chat_stats = text_of(await say(svc, pm(OFFICER, "/stats", name="李干事")))
    assert "实施率 100.0%" in chat_stats and "满意率 50.0%" in chat_stats


async def test_merge_tells_both_named_proposers(svc: Services) -> None:
    keep = await submit(svc, MEMBER, "停车棚不够，建议扩建")
    dup = await submit(svc, CAROL, "电动车停车棚太小，建议扩建", name="赵六")
    with pytest.raises(sg.SuggestError, match="它自己"):
        await sg.merge(svc, dup, dup, OFFICER, "李干事")
    merged, kept = await sg.merge(svc, dup, keep, OFFICER, "李干事")
    assert merged["status"] == sg.MERGED and merged["merged_into"] == keep
    assert kept["history"][-1]["action"] == "合并重复建议"
    told = sg.merge_notices(merged, kept, OFFICER)
    assert {r.chat_id for r in told} == {MEMBER, CAROL}
    with pytest.raises(sg.SuggestError, match="已合并到其他建议"):
        await sg.merge(svc, keep, dup, OFFICER, "李干事")


async def test_records_stored_before_the_lifecycle_fields_still_load(svc: Services) -> None:
    old = {
        "number": "JY-2025-0001", "year": 2025, "seq": 1, "chat_id": None, "chat_title": "", "anonymous": False,
        "proposer_id": MEMBER, "proposer_name": "张三", "category": "其他", "text": "老建议的内容", "created":
        "2025-12-01T09:00:00+08:00", "status": "已受理", "history": [],
    }  # fmt: skip
    svc.store.suggestion_add(old)
    assert sg.deadline(old, svc.config).date().isoformat() == "2025-12-31"
    view = text_of(await say(svc, pm(OFFICER, "/review JY-2025-0001", name="李干事")))
    assert "答复期限：2025-12-31（已超期）" in view
    assert [r["number"] for r in sg.overdue(svc)] == ["JY-2025-0001"]
    assert desk_stats(svc.store.suggestions_all(), svc.config, svc.now()).overdue == 1


async def test_chat_review_sets_department_and_major(svc: Services) -> None:
    n = await submit(svc, MEMBER, "锅炉房巡检记录改为电子化，减少纸质台账")
    view = await say(svc, pm(OFFICER, f"/review {n}", name="李干事"))
    picker = await say(svc, pm(OFFICER, data=button(view, "承办部门"), name="李干事"))
    assert "请选择" in picker[0].text
    done = await say(svc, pm(OFFICER, data=button(picker, "设备管理部"), name="李干事"))
    assert "承办部门：设备管理部" in done[0].text
    major = await say(svc, pm(OFFICER, data=button(done, "标为重大"), name="李干事"))
    assert "重大建议" in major[0].text and "2026-05-31" in major[0].text
    rec = svc.store.suggestion_get(n)
    assert rec and rec["department"] == "设备管理部" and rec["major"]
    assert (await say(svc, pm(MEMBER, data=f"sg:d:{n}:0")))[0].toast  # a member's press does nothing
    assert svc.store.suggestion_get(n)["history"][-1]["by_name"] == "李干事"  # type: ignore[index]


async def test_a_merge_is_one_durable_write_and_survives_a_reopen(svc: Services, tmp_path: Path) -> None:
    keep = await submit(svc, MEMBER, "停车棚不够，建议扩建")
    dup = await submit(svc, CAROL, "电动车停车棚太小，建议扩建", name="赵六")
    journal = tmp_path / "data" / "store.journal"
    before = journal.read_bytes().count(b"\n")
    await sg.merge(svc, dup, keep, OFFICER, "李干事")
    assert journal.read_bytes().count(b"\n") == before + 1
    svc.store.close()
    from bot.store import Store

    with Store(tmp_path / "data", read_only=True) as again:
        assert again.suggestion_get(dup)["merged_into"] == keep  # type: ignore[index]
        assert again.suggestion_get(keep)["history"][-1]["action"] == "合并重复建议"  # type: ignore[index]
    svc.store = Store(tmp_path / "data")  # for the fixture's close
