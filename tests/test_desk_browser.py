"""The desk in a real browser (headless Debian Chromium via Playwright) against the real bot, which talks to the
fake Telegram server: login by the link from /desk, filters, an action and the proposer's notification, a POST
without the CSRF token, expired and reused links, a non-officer. Also takes the README screenshots.

Chromium comes from Debian (`apt-get install chromium`); `playwright install` is not used. Without it these
tests skip locally but fail in CI (env CI=true). DESK_SCREENSHOTS=docs writes the screenshots into docs/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from e2e import ALICE, BOB, ROOT, SUPERGROUP, Clock, RunningBot, free_port, make_config, start_updater, stop_app
from fakebotapi import FakeBotAPI, User

from bot import suggestions as sg
from bot.adapters.telegram import build_application
from bot.config import DeskConfig
from bot.desk import DeskServer
from bot.services import create_services

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
OFFICER = User(2009, "李干事", "liganshi")
CAROL = User(2003, "赵六", "zhaoliu")


def _need_browser() -> None:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e .[test])"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    _need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@contextlib.asynccontextmanager
async def bot_with_desk(tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real bot (polling the fake Telegram) with the desk enabled on a free port, as bot/runtime.py starts it."""
    api = await FakeBotAPI().start()
    try:
        port = free_port()
        config = make_config(api, tmp_path / "data", officers=(OFFICER.id,))
        config = dataclasses.replace(
            config, desk=DeskConfig(enabled=True, listen="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}")
        )
        clock = Clock()
        services = create_services(config, clock=clock)
        app = build_application(config, services)
        await app.initialize()
        try:
            await app.post_init(app)  # type: ignore[misc]
            await start_updater(app, config, api)
            await app.start()
            desk = DeskServer(services)  # as bot/runtime.py starts it, once the platforms run
            await desk.start()
            try:
                yield RunningBot(api, app, services, config, clock, "polling")
            finally:
                await desk.stop()
        finally:
            await stop_app(app)
        assert not api.rejected(), api.rejected()
    finally:
        await api.stop()


async def desk_link(bot: RunningBot, user: User = OFFICER) -> str:
    [reply] = await bot.say("/desk", user=user)
    m = re.search(r"http://127\.0\.0\.1:\d+/login/[\w-]+", reply.text)
    assert m, reply.text
    return m.group(0)


async def seed(bot: RunningBot) -> None:
    await bot.say("/start", user=ALICE)
    bot.api.chat(SUPERGROUP, title="一车间工会群")
    await bot.say("建议 [安全生产] 叉车通道划线磨损，建议重新划线并加装反光镜", user=ALICE, chat_id=SUPERGROUP)
    await bot.say("建议 [节支降耗] 空压机房加装变频器，预计每年节约电费十余万元", user=BOB, chat_id=SUPERGROUP)
    await bot.say("建议 [职工生活] 更衣室储物柜不够用，建议增加一排", user=ALICE)
    origin = sg.Origin(CAROL.id, "", False, CAROL.id, CAROL.first_name)
    sg.submit(bot.services, origin, "夜班巡检路线照明不足，建议加装灯具", "安全生产", anonymous=True)


def save_shot(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    if os.environ.get("DESK_SCREENSHOTS") == "docs":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(tmp_path / name, ROOT / "docs" / name)


async def test_desk_in_a_browser(tmp_path: Path, browser: Any) -> None:
    async with bot_with_desk(tmp_path) as bot:
        await seed(bot)
        # a member gets no link
        [refusal] = await bot.say("/desk", user=CAROL)
        assert "只有配置的工会干部" in refusal.text and "/login/" not in refusal.text
        link = await desk_link(bot)
        base = link.split("/login/")[0]

        context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = await context.new_page()
        # nothing without a session
        await page.goto(base + "/")
        assert "请先登录" in await page.inner_text("main")
        # login: GET shows a confirmation page, only its POST logs in
        await page.goto(link)
        assert "确认登录" in await page.inner_text("main")
        await page.click("text=确认登录")
        await page.wait_for_selector("#total")
        assert "共 4 条" in await page.inner_text("#total")
        assert "匿名" in await page.inner_text("table.list") and "赵六" not in await page.content()
        save_shot(tmp_path, "desk-list.png", await page.screenshot(full_page=True))

        # filters
        await page.select_option("select[name=category]", "安全生产")
        await page.click("button:has-text('筛选')")
        await page.wait_for_url(re.compile(r"category="))
        assert "共 2 条" in await page.inner_text("#total")
        await page.fill("input[name=q]", "叉车")
        await page.click("button:has-text('筛选')")
        await page.wait_for_url(re.compile(r"q="))
        assert "共 1 条" in await page.inner_text("#total")
        await page.select_option("select[name=source]", "一车间工会群")
        await page.fill("input[name=q]", "")
        await page.select_option("select[name=category]", "")
        await page.click("button:has-text('筛选')")
        await page.wait_for_url(re.compile(r"source="))
        assert "共 2 条" in await page.inner_text("#total")

        # an action, and the proposer is told in her chat
        await page.click("text=JY-2026-0001")
        await page.wait_for_selector("#text")
        assert "叉车通道" in await page.inner_text("#text") and "李四" in await page.inner_text("#proposer")
        mark = bot.api.mark()
        await page.click("button:has-text('受理')")
        await page.wait_for_selector(".flash.ok")
        assert "已保存" in await page.inner_text(".flash.ok")
        assert bot.services.store.suggestion_get("JY-2026-0001")["status"] == sg.RECEIVED  # type: ignore[index]
        [told] = await bot.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
        assert "JY-2026-0001" in told.text and "已受理" in told.text
        # 不采纳 without a reason: a clear message, nothing changes
        await page.click("button:has-text('不采纳')")
        await page.wait_for_selector(".flash.err")
        assert "理由" in await page.inner_text(".flash.err")
        await page.select_option("select[name=department]", "设备管理部")
        await page.click("button:has-text('指定承办部门')")
        await page.wait_for_selector(".flash.ok")
        assert "设备管理部" in await page.inner_text("dl.fields")
        save_shot(tmp_path, "desk-suggestion.png", await page.screenshot(full_page=True))
        # the chat review shows the same state
        view = await bot.said("/review JY-2026-0001", user=OFFICER)
        assert "已受理" in view and "设备管理部" in view

        # a POST without the CSRF token is refused (the browser's own session cookie is sent)
        r = await context.request.post(base + "/s/JY-2026-0001", form={"op": "ado"})
        assert r.status == 403 and "安全令牌" in await r.text()
        assert bot.services.store.suggestion_get("JY-2026-0001")["status"] == sg.RECEIVED  # type: ignore[index]
        # unknown number: a 404 page
        r404 = await page.goto(base + "/s/JY-2026-0999")
        assert r404 is not None and r404.status == 404 and "找不到" in await page.inner_text("main")

        # statistics with the chart, then log out
        await page.click("header >> text=统计")
        await page.wait_for_selector("#st-total")
        assert await page.inner_text("#st-total") == "4" and "实施率" in await page.inner_text("main")
        await page.wait_for_function("document.querySelector('img.chart').complete")
        assert await page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
        save_shot(tmp_path, "desk-stats.png", await page.screenshot(full_page=True))
        await page.click("text=退出登录")
        await page.wait_for_selector(".message")
        await page.goto(base + "/s/JY-2026-0001")
        assert "请先登录" in await page.inner_text("main") and "叉车" not in await page.content()

        # a reused link is refused, and an expired one
        other = await browser.new_context()
        page2 = await other.new_page()
        resp = await page2.goto(link)
        assert resp is not None and resp.status == 403 and "已被使用" in await page2.inner_text("main")
        late = await desk_link(bot)
        bot.clock.advance(minutes=11)
        resp = await page2.goto(late)
        assert resp is not None and resp.status == 403 and "已过期" in await page2.inner_text("main")
        await page2.goto(base + "/")
        assert "请先登录" in await page2.inner_text("main")
        await other.close()
        await context.close()
