"""每日一题 for officers: /quizexport (.xlsx per member and month, and every answer) and the desk's page with
participation per day, the hardest questions and the same export."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from quiz_helpers import q, use_bank
from starlette.testclient import TestClient
from test_desk import BASE, Outbox, login
from test_suggest_helpers import ADMIN, GROUP, OFFICER, OTHER_GROUP, TZ, Clock, grp, make_services, member, pm, say

from bot import texts
from bot.config import DeskConfig
from bot.core import Reply
from bot.desk.app import build_app
from bot.services import Services

FEB_26 = datetime(2026, 2, 26, 9, 0, tzinfo=TZ)


@pytest.fixture
def clock() -> Clock:
    return Clock(FEB_26)


@pytest.fixture
def svc(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    s = make_services(tmp_path / "data", clock)
    s.config = dataclasses.replace(s.config, desk=DeskConfig(enabled=True, public_url=BASE))
    s.senders["tg"] = Outbox()
    use_bank(s, tmp_path, [q(1), q(2), q(3), q(4)])
    yield s
    s.close()


async def answer(svc: Services, uid: str, chat: str, right: bool, name: str) -> None:
    reply = (await say(svc, grp(member(9), "/quiz", chat=chat)))[0]
    assert reply.quiz is not None
    pick = reply.quiz.correct[0] if right else (reply.quiz.correct[0] + 1) % 4
    await say(svc, grp(uid, f"答 {'ABCD'[pick]}", chat=chat, name=name))


async def seed(svc: Services, clock: Clock) -> None:
    """Two groups, three days at the end of February: 张三 always right, 李四 right once, 王五 in the other group."""
    for day in range(3):
        clock.t = FEB_26 + timedelta(days=day)
        await answer(svc, member(1), GROUP, True, "张三")
        await answer(svc, member(2), GROUP, day == 0, "李四")
        await answer(svc, member(3), OTHER_GROUP, True, "王五")


def admin(uid: str, text: str, chat: str = GROUP) -> Any:
    req = grp(uid, text, chat=chat)

    async def yes() -> bool:
        return True

    req.is_chat_admin = yes
    return req


async def group_export(svc: Services, text: str = "/quizexport", uid: str = ADMIN) -> list[Reply]:
    """A group admin's export: a one-time link in the group, the workbook in their private chat."""
    [note] = await say(svc, admin(uid, text))
    assert note.document is None and "不在群里发" in note.text  # never every member's answers into the group
    start = note.buttons[0][0].url.split("?start=", 1)[1]
    return await say(svc, pm(uid, f"/start {start}"))


def sheet_rows(path_or_bytes: Path | bytes, name: str) -> list[tuple[Any, ...]]:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [tuple(r) for r in wb[name].iter_rows(values_only=True)]


async def test_quizexport_per_member_and_month(svc: Services, clock: Clock) -> None:
    await seed(svc, clock)
    assert "只有" in (await say(svc, grp(member(1), "/quizexport")))[0].text  # a member cannot
    [doc] = await group_export(svc, "导出答题")  # February is still "this month"
    assert isinstance(doc, Reply) and doc.document is not None and doc.document.suffix == ".xlsx"
    assert "2026年2月答题成绩：2 人次" in doc.text and (doc.document.stat().st_mode & 0o777) == 0o600
    members = sheet_rows(doc.document, texts.QUIZ_EXPORT_SHEET_MEMBERS)
    assert members[0] == texts.QUIZ_EXPORT_HEADERS
    assert [r[2:8] for r in members[1:]] == [("张三", member(1), 1, 3, 3, 1.0), ("李四", member(2), 2, 3, 1, 0.3333)]
    assert members[1][0] == "2026-02" and members[1][1] == "一车间工会群" and members[1][8:] == (3, 3)
    answers = sheet_rows(doc.document, texts.QUIZ_EXPORT_SHEET_DAYS)
    assert len(answers) == 1 + 6 and answers[1][0] == "2026-02-26" and answers[1][8] in ("对", "错")
    clock.t = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # the month turned
    assert (await group_export(svc))[0].text == texts.quiz_export_empty("2026-03")
    [doc] = await group_export(svc, "/quizexport 上月")
    assert doc.document is not None and len(sheet_rows(doc.document, texts.QUIZ_EXPORT_SHEET_MEMBERS)) == 3
    [everything] = await say(svc, pm(OFFICER, "/quizexport 2026-02"))  # a configured officer: every group
    assert everything.document is not None
    assert len(sheet_rows(everything.document, texts.QUIZ_EXPORT_SHEET_MEMBERS)) == 1 + 3
    assert "只有" in (await say(svc, pm(member(1), "/quizexport")))[0].text


async def test_a_group_export_link_is_for_its_asker_once_and_rights_are_checked_again(
        svc: Services, clock: Clock) -> None:
    await seed(svc, clock)
    [note] = await say(svc, admin(ADMIN, "/quizexport"))
    start = note.buttons[0][0].url.split("?start=", 1)[1]
    assert (await say(svc, pm(member(1), f"/start {start}")))[0].text == texts.QUIZ_EXPORT_LINK_EXPIRED  # not theirs
    [note] = await say(svc, admin(ADMIN, "/quizexport"))
    start = note.buttons[0][0].url.split("?start=", 1)[1]
    admins: set[str] = set()  # ADMIN lost the group's admin rights since

    async def check(chat: str, user: str) -> bool:
        return user in admins

    svc.admin_checks["tg"] = check
    assert "只有" in (await say(svc, pm(ADMIN, f"/start {start}")))[0].text
    [note] = await say(svc, admin(ADMIN, "/quizexport"))
    start = note.buttons[0][0].url.split("?start=", 1)[1]
    admins.add(ADMIN)
    clock.t += timedelta(minutes=11)  # too late
    assert (await say(svc, pm(ADMIN, f"/start {start}")))[0].text == texts.QUIZ_EXPORT_LINK_EXPIRED
    [note] = await say(svc, admin(ADMIN, "/quizexport"))
    start = note.buttons[0][0].url.split("?start=", 1)[1]
    [doc] = await say(svc, pm(ADMIN, f"/start {start}"))
    assert doc.document is not None
    assert (await say(svc, pm(ADMIN, f"/start {start}")))[0].text == texts.QUIZ_EXPORT_LINK_EXPIRED  # used up


async def test_earlier_exports_do_not_pile_up_in_the_data_dir(svc: Services, clock: Clock) -> None:
    await seed(svc, clock)
    [first] = await group_export(svc)
    assert first.document is not None and first.document.parent == svc.config.data_dir / "exports"
    hours_ago = time.time() - 2 * 3600
    os.utime(first.document, (hours_ago, hours_ago))  # sent two hours ago
    clock.t += timedelta(seconds=5)
    [second] = await group_export(svc)
    assert second.document is not None and second.document.exists() and not first.document.exists()


async def test_the_desk_shows_participation_and_the_hardest_questions(svc: Services, clock: Clock) -> None:
    await seed(svc, clock)
    with TestClient(build_app(svc), base_url=BASE, follow_redirects=True) as client:
        assert client.get("/quiz").status_code == 401
        login(client, svc)
        page = client.get("/quiz")
        assert page.status_code == 200 and "每日一题 · 答题情况" in page.text and 'href="/quiz"' in page.text
        assert '<dd id="quiz-members">3</dd>' in page.text and '<dd id="quiz-answers">9</dd>' in page.text
        days = page.text.split('id="quiz-days"')[1].split("</table>")[0]
        assert "<td>2026-02-28</td><td>一车间工会群</td><td>2</td><td>1</td><td>50%</td>" in days
        assert "<td>2026-02-26</td><td>二车间</td><td>1</td><td>1</td><td>100%</td>" in days
        hard = page.text.split('id="quiz-hard"')[1].split("</table>")[0]
        assert "题？" in hard and "<td>B</td>" in hard
        export = client.get("/quiz/export?month=2026-02")
        assert export.status_code == 200 and export.headers["content-disposition"].endswith('quiz-2026-02.xlsx"')
        assert len(sheet_rows(export.content, texts.QUIZ_EXPORT_SHEET_MEMBERS)) == 1 + 3
        empty = client.get("/quiz/export?month=2025-01")
        assert texts.quiz_export_empty("2025-01") in empty.text
        bad = client.get("/quiz?month=<script>")
        assert bad.status_code == 200 and "月份格式" in bad.text and "<script>" not in bad.text
