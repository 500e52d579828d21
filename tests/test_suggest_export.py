"""Export (xlsx/csv read back), /export, /stats with its chart, anonymity everywhere, the overdue reminder."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from test_suggest_helpers import (
    ADMIN,
    GROUP,
    MEMBER,
    OFFICER,
    TZ,
    Clock,
    button,
    grp,
    make_services,
    member,
    pm,
    say,
    text_of,
)

from bot.core import Reply
from bot.export import HEADERS, compute_stats, export_suggestions, find_cjk_font, render_chart
from bot.services import Services
from bot.suggestions import anon_throttle

ANON_RAW = "987654321"  # the Telegram user id, as the platform knows it
ANON_ID = f"tg:{ANON_RAW}"
ANON_NAME = "匿名者赵六"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 10, 0, tzinfo=TZ))


@pytest.fixture
def svc(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    s = make_services(tmp_path / "data", clock)
    yield s
    s.close()


async def _anonymous(svc: Services, uid: str, name: str, text: str, in_group: bool = False) -> str:
    if in_group:
        await say(svc, grp(uid, "/suggest", name))
        out = await say(svc, pm(uid, "/start suggest", name))
    else:
        out = await say(svc, pm(uid, "/suggest", name))
    out = await say(svc, pm(uid, name=name, data=button(out, "职工生活")))
    out = await say(svc, pm(uid, text, name))
    out = await say(svc, pm(uid, name=name, data=button(out, "匿名")))
    out = await say(svc, pm(uid, name=name, data=button(out, "确认提交")))
    assert "JY-2026-" in text_of(out), text_of(out)
    return text_of(out)


async def _sample(svc: Services, clock: Clock) -> None:
    """Three named suggestions over two months (one adopted, one rejected) and one anonymous."""
    await say(svc, grp(MEMBER, "建议 [安全生产] 配电房门锁损坏需更换", "张三"))
    clock.t = datetime(2026, 4, 3, 9, 0, tzinfo=TZ)
    await say(svc, grp(MEMBER, "建议 [节支降耗] 办公区下班后统一关闭空调", "张三"))
    await say(svc, pm(member(1), "建议 =1+1 看看表格会不会当成公式", "李四"))
    await _anonymous(svc, ANON_ID, ANON_NAME, "领导作风问题希望匿名反映一下")
    for n, acts in (("JY-2026-0001", ["acc", "ado"]), ("JY-2026-0002", ["acc"])):
        for a in acts:
            await say(svc, pm(OFFICER, name="李干事", data=f"sg:t:{n}:{a}"))
    await say(svc, pm(OFFICER, "/reject JY-2026-0002 预算不足", "李干事"))


async def test_export_xlsx_and_csv_read_back(svc: Services, clock: Clock, tmp_path: Path) -> None:
    await _sample(svc, clock)
    xlsx, csv_path = tmp_path / "out" / "建议.xlsx", tmp_path / "out" / "建议.csv"
    assert export_suggestions(svc.store, "xlsx", xlsx, TZ) == 4
    assert export_suggestions(svc.store, "csv", csv_path, TZ) == 4

    ws = openpyxl.load_workbook(xlsx).active
    rows = [[c if c is not None else "" for c in r] for r in ws.iter_rows(values_only=True)]
    assert tuple(rows[0]) == HEADERS
    by_number = {r[0]: dict(zip(HEADERS, r, strict=True)) for r in rows[1:]}
    first = by_number["JY-2026-0001"]
    assert [first[k] for k in ("类别", "状态", "提议人", "提议人ID")] == ["安全生产", "已采纳", "张三", str(MEMBER)]
    assert first["来源群ID"] == str(GROUP) and first["提交时间"] == "2026-03-02 10:00"
    assert "采纳（李干事）" in first["处理记录"]
    assert by_number["JY-2026-0002"]["状态"] == "不采纳" and "预算不足" in by_number["JY-2026-0002"]["处理记录"]
    assert by_number["JY-2026-0003"]["建议内容"] == "=1+1 看看表格会不会当成公式"  # text, not a formula
    anon = by_number["JY-2026-0004"]
    assert anon["提议人"] == "匿名" and anon["提议人ID"] == "" and anon["来源群ID"] == ""

    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # utf-8-sig, so Excel shows the Chinese right
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        csv_rows = list(csv.reader(f))
    assert tuple(csv_rows[0]) == HEADERS and len(csv_rows) == 5
    assert [r[0] for r in csv_rows[1:]] == ["JY-2026-0001", "JY-2026-0002", "JY-2026-0003", "JY-2026-0004"]
    assert csv_rows[4][5] == "匿名" and csv_rows[3][2] == "'=1+1 看看表格会不会当成公式"
    with pytest.raises(ValueError):
        export_suggestions(svc.store, "pdf", tmp_path / "x.pdf", TZ)


async def test_export_command_sends_an_xlsx_of_what_the_officer_may_see(svc: Services, clock: Clock) -> None:
    await _sample(svc, clock)
    out = await say(svc, pm(OFFICER, "/export", "李干事"))
    assert len(out) == 1 and out[0].document is not None and "共 4 条" in out[0].text
    assert len(list(openpyxl.load_workbook(out[0].document).active.iter_rows())) == 5
    out = await say(svc, pm(ADMIN, "导出", "王主席"))  # admin of GROUP: only that group's two
    assert "共 2 条" in out[0].text


async def test_stats_counts_rate_and_chart(svc: Services, clock: Clock) -> None:
    await _sample(svc, clock)
    out = await say(svc, pm(OFFICER, "/stats", "李干事"))
    photo = [r for r in out if r.photo]
    assert photo and photo[0].photo[:8] == b"\x89PNG\r\n\x1a\n" and len(photo[0].photo) > 10_000
    table = text_of(out)
    assert "2026-03" in table and "2026-04" in table
    assert "50.0%" in table  # 1 adopted of 2 decided
    st = compute_stats(svc.store.suggestions_all(), TZ)
    assert st.by_status["待受理"] == 2 and st.by_category["安全生产"] == 1
    assert st.by_month == {"2026-03": 1, "2026-04": 3}


def test_chart_font_is_provided_by_the_project() -> None:
    font = find_cjk_font()
    assert font is not None and font.is_file(), "pylopdf-fonts-zh-cn (Noto Sans SC) should be installed"
    st = compute_stats([], TZ)
    assert render_chart(st, font)[:4] == b"\x89PNG"  # type: ignore[index]


async def test_stats_without_a_font_is_a_text_table(svc: Services, clock: Clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import bot.export

    await _sample(svc, clock)
    monkeypatch.setattr(bot.export, "find_cjk_font", lambda: None)
    out = await say(svc, pm(OFFICER, "/stats", "李干事"))
    assert all(r.photo is None for r in out)
    assert "按状态" in text_of(out) and "未找到中文字体" in text_of(out)


async def test_anonymous_identity_is_stored_nowhere(
    svc: Services, clock: Clock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _sample(svc, clock)
    await _anonymous(svc, ANON_ID, ANON_NAME, "群里来的匿名建议，希望改进排班", in_group=True)
    # rate limit and duplicate checks still work for the anonymous proposer
    dup = await say(svc, pm(ANON_ID, "/suggest", ANON_NAME))
    dup = await say(svc, pm(ANON_ID, name=ANON_NAME, data=button(dup, "其他")))
    dup = await say(svc, pm(ANON_ID, "领导作风问题希望匿名反映一下", ANON_NAME))
    dup = await say(svc, pm(ANON_ID, name=ANON_NAME, data=button(dup, "匿名")))
    assert "24 小时内已经提交过" in text_of(await say(svc, pm(ANON_ID, name=ANON_NAME, data=button(dup, "确认"))))
    for n in ("JY-2026-0004", "JY-2026-0005"):
        await say(svc, pm(OFFICER, name="李干事", data=f"sg:t:{n}:acc"))
    await say(svc, pm(OFFICER, "/note JY-2026-0004 已转办", "李干事"))
    out = await say(svc, pm(OFFICER, "/export", "李干事"))
    await say(svc, pm(OFFICER, "/stats", "李干事"))
    export_suggestions(svc.store, "csv", svc.config.data_dir / "all.csv", TZ)
    svc.store.compact()

    # not even the in-memory salted hash of the anonymous proposer reaches a file
    throttle = anon_throttle(svc)
    who = throttle.digest("user", ANON_ID)
    assert who in throttle.entries  # (the duplicate check above used it)
    needles = [ANON_ID.encode(), ANON_RAW.encode(), ANON_NAME.encode(), ANON_NAME.encode("unicode_escape")]
    needles.append(who.encode())
    needles += [what.encode() for what, _at in throttle.entries[who]]
    files = [p for p in svc.config.data_dir.rglob("*") if p.is_file()]
    assert not any(p.name == "suggest.salt" for p in files)
    for p in files:
        data = p.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {p}"
    cells = [str(c) for r in openpyxl.load_workbook(out[0].document).active.iter_rows(values_only=True) for c in r]
    assert not any(ANON_RAW in c or ANON_NAME in c for c in cells)
    assert "匿名" in cells
    assert ANON_RAW not in caplog.text and ANON_NAME not in caplog.text
    # while the named proposer of the same data set is there, as expected
    assert any(str(MEMBER).encode() in p.read_bytes() for p in files)


# --- the weekly overdue reminder ------------------------------------------------------------------


async def test_overdue_reminder_weekly_on_monday_morning(tmp_path: Path) -> None:
    from bot.handlers.suggest import TICKS

    clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=TZ))  # a Monday
    svc = make_services(tmp_path / "data", clock)
    sent: list[Reply] = []

    async def sender(reply: Reply) -> None:
        sent.append(reply)

    svc.senders["tg"] = sender
    await say(svc, pm(MEMBER, "建议 老建议一直没人回复"))
    clock.t = datetime(2026, 3, 10, 10, 0, tzinfo=TZ)
    await say(svc, pm(MEMBER, "建议 新建议还没到期限"))
    tick = TICKS[0]

    clock.t = datetime(2026, 4, 6, 8, 59, tzinfo=TZ)  # Monday, 35 days later, before 09:00
    await tick(svc)
    assert sent == []
    clock.t = datetime(2026, 4, 6, 9, 0, tzinfo=TZ)
    await tick(svc)
    assert len(sent) == 1 and sent[0].chat_id == OFFICER
    assert "JY-2026-0001" in sent[0].text and "JY-2026-0002" not in sent[0].text
    assert "超过 30 天（重大建议 90 天）" in sent[0].text
    clock.advance(hours=3)
    await tick(svc)
    svc.close()

    svc = make_services(tmp_path / "data", clock)  # a restart in the same week does not repeat it
    svc.senders["tg"] = sender
    clock.t = datetime(2026, 4, 8, 12, 0, tzinfo=TZ)
    await tick(svc)
    assert len(sent) == 1
    clock.t = datetime(2026, 4, 13, 9, 0, 30, tzinfo=TZ)  # next Monday: both are overdue now
    await tick(svc)
    assert len(sent) == 2 and "JY-2026-0002" in sent[1].text and "有 2 条" in sent[1].text
    await say(svc, pm(OFFICER, data="sg:t:JY-2026-0001:acc"))
    await say(svc, pm(OFFICER, "/reject JY-2026-0001 不具备条件"))
    await say(svc, pm(OFFICER, data="sg:t:JY-2026-0002:acc"))
    await say(svc, pm(OFFICER, "/reject JY-2026-0002 不具备条件"))
    clock.t = datetime(2026, 4, 20, 9, 5, tzinfo=TZ)
    await tick(svc)
    assert len(sent) == 2  # nothing overdue, nothing sent
    svc.close()
