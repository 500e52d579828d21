"""The desk application through HTTP (Starlette's TestClient, the real app, store and core): login by one-time
link, sessions and CSRF, officer re-checks, filters, actions with notifications, validation, 404s, export of
exactly the current filter, statistics, anonymity on every page and in the export."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from starlette.testclient import TestClient
from test_suggest_helpers import MEMBER, OFFICER, OFFICER_TG, Clock, grp, make_services, pm, say

from bot import suggestions as sg
from bot.config import BotConfig, DeskConfig
from bot.core import Reply
from bot.desk import links
from bot.desk.app import build_app
from bot.services import Services

CAROL = "tg:700011"
BASE = "http://desk.test"


class Outbox:
    """svc.sender for the tests: records what the core sends, and lets a test wait for it."""

    def __init__(self) -> None:
        self.sent: list[Reply] = []
        self.cond = threading.Condition()

    async def __call__(self, reply: Reply) -> None:
        with self.cond:
            self.sent.append(reply)
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 5.0) -> list[Reply]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.sent) >= n, timeout), self.sent
            return list(self.sent)


@pytest.fixture
def svc(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    s = make_services(tmp_path / "data", clock)
    s.config = dataclasses.replace(s.config, desk=DeskConfig(enabled=True, public_url=BASE))
    s.senders["tg"] = Outbox()
    yield s
    s.close()


@pytest.fixture
def client(svc: Services) -> Iterator[TestClient]:
    with TestClient(build_app(svc), base_url=BASE, follow_redirects=True) as c:
        yield c


def csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def login(client: TestClient, svc: Services, uid: str = OFFICER) -> str:
    """Log in by a fresh one-time link; returns the CSRF token of the session."""
    token = links.create(svc, uid, "李干事")
    page = client.get(f"/login/{token}")
    assert page.status_code == 200 and "确认登录" in page.text
    home = client.post(f"/login/{token}", data={"csrf": csrf(page.text)})
    assert home.status_code == 200 and "建议列表" in home.text, home.text
    return csrf(home.text)


async def seed(svc: Services) -> None:
    await say(svc, pm(MEMBER, "建议 [安全生产] 车间二楼消防通道堆放杂物，应清理"))
    await say(svc, grp(CAROL, "建议 食堂午餐窗口太少，建议增加两个窗口", name="赵六"))
    anon = await say(svc, pm(CAROL, "/suggest"))
    await say(svc, pm(CAROL, data=anon[0].buttons[0][0].data))  # 安全生产
    await say(svc, pm(CAROL, "夜班巡检路线照明不足，建议加装灯具"))
    await say(svc, pm(CAROL, data="sg:s:a"))
    await say(svc, pm(CAROL, data="sg:k"))


async def test_nothing_is_readable_without_a_session(client: TestClient, svc: Services) -> None:
    await seed(svc)
    for path in ("/", "/s/JY-2026-0001", "/stats", "/stats/chart.png", "/export?fmt=csv"):
        r = client.get(path)
        assert r.status_code == 401 and "/desk" in r.text and "消防通道" not in r.text, path
    assert client.post("/s/JY-2026-0001", data={"op": "acc"}).status_code in (401, 403)
    assert svc.store.suggestion_get("JY-2026-0001")["status"] == sg.PENDING  # type: ignore[index]


async def test_a_link_logs_in_once_only_by_post_and_expires(client: TestClient, svc: Services, clock: Clock) -> None:
    token = links.create(svc, OFFICER, "李干事")
    page = client.get(f"/login/{token}")
    again = client.get(f"/login/{token}")  # a link-preview robot's GET does not use it up
    assert again.status_code == 200
    cookie = client.cookies.get("desk_session")
    assert cookie
    assert client.post(f"/login/{token}", data={}).status_code == 403  # no CSRF token: refused, link kept
    assert client.post(f"/login/{token}", data={"csrf": csrf(page.text)}).status_code == 200
    client.cookies.clear()
    assert client.get(f"/login/{token}").status_code == 403
    fresh = client.get(f"/login/{links.create(svc, OFFICER, '李干事')}")  # a valid CSRF token for this session
    reused = client.post(f"/login/{token}", data={"csrf": csrf(fresh.text)})
    assert reused.status_code == 403 and "已被使用" in reused.text and client.get("/").status_code == 401
    old = links.create(svc, OFFICER, "李干事")
    clock.advance(minutes=10, seconds=1)
    expired = client.get(f"/login/{old}")
    assert expired.status_code == 403 and "已过期" in expired.text
    assert client.get("/login/not-a-token").status_code == 403


async def test_session_cookie_flags(svc: Services, tmp_path: Path) -> None:
    svc.config = dataclasses.replace(svc.config, desk=DeskConfig(enabled=True, public_url="https://desk.example.org"))
    with TestClient(build_app(svc), base_url="https://desk.example.org") as c:
        token = links.create(svc, OFFICER, "李干事")
        page = c.get(f"/login/{token}")
        r = c.post(f"/login/{token}", data={"csrf": csrf(page.text)}, follow_redirects=False)
        cookie = r.headers["set-cookie"].lower()
        assert r.status_code == 303 and "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


async def test_rights_are_checked_on_every_request(client: TestClient, svc: Services) -> None:
    await seed(svc)
    login(client, svc)
    assert client.get("/").status_code == 200
    svc.config = dataclasses.replace(svc.config, bot=BotConfig(officers=()))  # no longer an officer
    r = client.get("/s/JY-2026-0001")
    assert r.status_code == 403 and "不是配置的工会干部" in r.text and "消防通道" not in r.text
    svc.config = dataclasses.replace(svc.config, bot=BotConfig(officers=(OFFICER_TG,)))
    assert client.get("/").status_code == 401  # the session was dropped


async def test_a_link_of_a_non_officer_does_not_log_in(client: TestClient, svc: Services) -> None:
    token = links.create(svc, MEMBER, "张三")  # forged in the store: the bot never makes one for a member
    page = client.get(f"/login/{token}")
    r = client.post(f"/login/{token}", data={"csrf": csrf(page.text)})
    assert r.status_code == 403 and client.get("/").status_code == 401


async def test_desk_command_gives_links_to_officers_only(svc: Services) -> None:
    out = await say(svc, pm(OFFICER, "/desk", name="李干事"))
    assert f"{BASE}/login/" in out[0].text and "10 分钟" in out[0].text
    assert "只有配置的工会干部" in (await say(svc, pm(MEMBER, "工作台")))[0].text
    assert "私聊" in (await say(svc, grp(OFFICER, "/desk")))[0].text
    svc.config = dataclasses.replace(svc.config, desk=DeskConfig())
    assert "未启用" in (await say(svc, pm(OFFICER, "/desk")))[0].text


async def test_post_without_csrf_is_refused(client: TestClient, svc: Services) -> None:
    await seed(svc)
    login(client, svc)
    r = client.post("/s/JY-2026-0001", data={"op": "acc"})
    assert r.status_code == 403 and "安全令牌" in r.text
    r = client.post("/s/JY-2026-0001", data={"op": "acc", "csrf": "wrong"})
    assert r.status_code == 403
    assert svc.store.suggestion_get("JY-2026-0001")["status"] == sg.PENDING  # type: ignore[index]


async def test_actions_go_through_the_core_and_tell_the_proposer(client: TestClient, svc: Services) -> None:
    await seed(svc)
    token = login(client, svc)
    page = client.post("/s/JY-2026-0001", data={"op": "acc", "csrf": token})
    assert "已保存" in page.text and "已受理" in page.text
    assert svc.store.suggestion_get("JY-2026-0001")["status"] == sg.RECEIVED  # type: ignore[index]
    [told] = svc.senders["tg"].wait(1)  # type: ignore[union-attr]
    assert told.chat_id == MEMBER and "已受理" in told.text
    # 不采纳 without a reason: a clear message, nothing changes
    page = client.post("/s/JY-2026-0001", data={"op": "rej", "reason": " ", "csrf": token})
    assert "理由" in page.text and svc.store.suggestion_get("JY-2026-0001")["status"] == sg.RECEIVED  # type: ignore
    page = client.post("/s/JY-2026-0001", data={"op": "rej", "reason": "已列入年度计划", "csrf": token})
    told = svc.senders["tg"].wait(2)[-1]  # type: ignore[union-attr]
    assert "不采纳" in told.text and "已列入年度计划" in told.text and told.buttons  # satisfaction asked
    # the chat review shows the same state and history
    view = (await say(svc, pm(OFFICER, "/review JY-2026-0001", name="李干事")))[0].text
    assert "不采纳" in view and "已列入年度计划" in view and "李干事" in view
    # department, note, bad department
    client.post("/s/JY-2026-0002", data={"op": "dept", "department": "综合办公室", "csrf": token})
    bad = client.post("/s/JY-2026-0002", data={"op": "dept", "department": "火星部", "csrf": token})
    assert "承办部门请从以下选择" in bad.text
    client.post("/s/JY-2026-0002", data={"op": "note", "note": "请综合办核实窗口数", "csrf": token})
    rec = svc.store.suggestion_get("JY-2026-0002")
    assert rec and rec["department"] == "综合办公室" and rec["history"][-1]["note"] == "请综合办核实窗口数"
    # 已实施 validates result and benefit
    for op in ("acc", "ado"):
        client.post("/s/JY-2026-0002", data={"op": op, "csrf": token})
    bad = client.post("/s/JY-2026-0002", data={"op": "imp", "result": "已增加", "benefit": "abc", "csrf": token})
    assert "不是有效金额" in bad.text
    ok = client.post("/s/JY-2026-0002", data={"op": "imp", "result": "已增加两个窗口", "benefit": "0", "csrf": token})
    assert "已实施" in ok.text and "已增加两个窗口" in ok.text


async def test_batch_accept_and_merge(client: TestClient, svc: Services) -> None:
    await seed(svc)
    token = login(client, svc)
    client.post("/s/JY-2026-0002", data={"op": "acc", "csrf": token})
    page = client.post("/batch", data={"csrf": token, "n": ["JY-2026-0001", "JY-2026-0002", "JY-2026-0003"]})
    assert "已受理 2 条" in page.text and "1 条未受理" in page.text and "JY-2026-0002" in page.text
    assert client.post("/batch", data={"csrf": token}).text.count("请先勾选") == 1
    page = client.post("/s/JY-2026-0001", data={"op": "merge", "into": "JY-2026-0002", "csrf": token})
    assert "已合并" in page.text
    told = svc.senders["tg"].wait(4)  # type: ignore[union-attr]
    merged = [r for r in told if "合并" in r.text or "并入" in r.text]
    assert {r.chat_id for r in merged} == {MEMBER, CAROL}
    assert "编号" in client.post("/s/JY-2026-0003", data={"op": "merge", "into": "xyz", "csrf": token}).text


async def test_unknown_numbers_and_pages_are_404_pages(client: TestClient, svc: Services) -> None:
    login(client, svc)
    for path in ("/s/JY-2026-9999", "/s/nonsense", "/s/" + "9" * 500, "/nowhere"):
        r = client.get(path)
        assert r.status_code == 404 and "找不到" in r.text and "Traceback" not in r.text, path
    r = client.get("/?from=2026-13-45&page=abc&status=bogus")
    assert r.status_code == 200 and "日期格式" in r.text


async def test_filters_search_sort_paging_and_export_of_exactly_the_filter(client: TestClient, svc: Services) -> None:
    await seed(svc)
    for i in range(25):
        await say(svc, pm(900000 + i, f"建议 第{i}条关于节能的建议内容"))
    login(client, svc)
    page = client.get("/?category=安全生产")
    assert "共 2 条" in page.text and "消防通道" in page.text and "节能" not in page.text
    page = client.get("/?q=节能")
    assert "共 25 条" in page.text and "第 1/2 页" in page.text
    assert "共 1 条" in client.get("/?source=一车间工会群").text
    assert "共 0 条" in client.get("/?overdue=1").text
    assert "共 25 条" in client.get("/?q=节能&page=2").text and "第 2/2 页" in client.get("/?q=节能&page=2").text
    first = client.get("/?sort=number").text
    assert first.index("JY-2026-0001") < first.index("JY-2026-0002")
    exported = client.get("/export?fmt=csv&category=安全生产").content.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(exported)))
    assert [r[0] for r in csv_rows[1:]] == ["JY-2026-0001", "JY-2026-0003"]
    book = openpyxl.load_workbook(io.BytesIO(client.get("/export?q=节能&page=2").content))
    assert len(list(book.active.iter_rows(values_only=True))) == 26  # header + the 25 of the filter, all pages


async def test_anonymous_proposers_stay_anonymous_everywhere(client: TestClient, svc: Services, caplog) -> None:
    await seed(svc)
    token = login(client, svc)
    client.post("/s/JY-2026-0003", data={"op": "acc", "csrf": token})
    pages = [client.get("/").text, client.get("/s/JY-2026-0003").text, client.get("/stats").text]
    rows = list(csv.reader(io.StringIO(client.get("/export?fmt=csv").content.decode("utf-8-sig"))))
    anon = next(r for r in rows if r[0] == "JY-2026-0003")
    assert "匿名" in pages[1] and anon[5] == "匿名" and anon[6] == ""
    for text in [*pages, ",".join(anon), caplog.text]:
        assert str(CAROL) not in text
    assert "赵六" not in pages[1] and "赵六" not in ",".join(anon)


async def test_stats_page(client: TestClient, svc: Services) -> None:
    await seed(svc)
    token = login(client, svc)
    for op in ("acc", "ado"):
        client.post("/s/JY-2026-0001", data={"op": op, "csrf": token})
    client.post("/s/JY-2026-0001", data={"op": "imp", "result": "已清理", "benefit": "5000", "csrf": token})
    page = client.get("/stats").text
    for label in ("采纳率", "实施率", "平均答复天数", "超期未答复", "满意率", "按承办部门", "按月份"):
        assert label in page
    assert 'id="st-implementation">100.0%' in page and "5,000 元" in page
    chart = client.get("/stats/chart.png")
    assert chart.status_code in (200, 404)  # 404 only without a CJK font
    if chart.status_code == 200:
        assert chart.content.startswith(b"\x89PNG")

