"""Search as a user meets it: triggers through the dispatcher, pages (更多), 全文, expired buttons, inline mode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakebotapi import parse_html

from bot.commands import dispatch
from bot.config import Config, ContentConfig, StorageConfig
from bot.content import Content, Passage
from bot.core import MAX_MESSAGE_CHARS, Reply, Request
from bot.handlers import search as handler
from bot.services import Services, create_services
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    cfg = Config(storage=StorageConfig(dir=str(tmp_path / "data")), content=ContentConfig(dir=str(ROOT / "content")))
    services = create_services(cfg)
    yield services
    services.close()


def private(text: str = "", data: str | None = None) -> Request:
    return Request(chat_id="tg:1001", chat_type="private", user_id="tg:1001", user_name="张三", text=text,
                   callback_data=data)


def group(text: str, addressed: bool = False) -> Request:
    return Request(chat_id="tg:-5001", chat_type="supergroup", user_id="tg:1001", user_name="张三", text=text,
                   chat_title="工会群", addressed=addressed)


def plain(reply: Reply) -> str:
    text, _ = parse_html(reply.text)  # Telegram's parser: raises on broken HTML
    assert len(reply.text) <= MAX_MESSAGE_CHARS
    return text


def data_of(reply: Reply, label_start: str) -> str:
    return next(b.data for row in reply.buttons for b in row if b.text.startswith(label_start))


@pytest.mark.parametrize("text", ["/search 集体合同", "/s 集体合同", "搜索 集体合同", "搜索：集体合同", "查 集体合同",
                                  "查询:集体合同", "集体合同", "怎么签订集体合同？"])
async def test_triggers_in_private(svc: Services, text: str) -> None:
    replies = await dispatch(private(text), svc)
    assert len(replies) == 1
    shown = plain(replies[0])
    assert "集体合同" in shown and "来源" in shown
    assert "<b>集体合同</b>" in replies[0].text
    assert data_of(replies[0], "全文")


async def test_group_plain_text_is_ignored_unless_addressed(svc: Services) -> None:
    assert await dispatch(group("集体合同"), svc) == []
    replies = await dispatch(group("@union_helper_bot 集体合同", addressed=True), svc)
    assert "集体合同" in plain(replies[0])
    replies = await dispatch(group("搜索 职代会"), svc)
    assert "职工代表大会" in plain(replies[0])
    replies = await dispatch(group("/search@union_helper_bot 厂务公开"), svc)
    assert "厂务公开" in plain(replies[0])


@pytest.mark.parametrize("text", ["/search", "搜索", "/s   "])
async def test_empty_query_gives_usage(svc: Services, text: str) -> None:
    shown = plain((await dispatch(private(text), svc))[0])
    assert "关键词" in shown and "集体合同" in shown


@pytest.mark.parametrize("text", ["/search " + "集体合同" * 2500, "/search <b>&amp;<script>alert(1)</script>",
                                  "😀🎉", "/search 😀" * 3, "<i>职代会</i>"])
async def test_hostile_queries_get_a_clear_answer_fast(svc: Services, text: str) -> None:
    await dispatch(private("/search 预热"), svc)
    t = time.perf_counter()
    replies = await dispatch(private(text), svc)
    assert time.perf_counter() - t < 0.5
    assert len(replies) == 1 and plain(replies[0]).strip()
    assert "出了点问题" not in replies[0].text
    for b in (b for row in replies[0].buttons for b in row):
        assert len(b.data.encode()) <= 64


async def test_long_query_is_cut_and_said_so(svc: Services) -> None:
    replies = await dispatch(private("/search " + "集体合同" * 2500), svc)
    assert "前 100 个字" in plain(replies[0])


async def test_more_pages_until_the_end(svc: Services) -> None:
    first = (await dispatch(private("搜索 工会"), svc))[0]
    seen = [plain(first)]
    reply = first
    for _ in range(40):
        try:
            data = data_of(reply, "更多")
        except StopIteration:
            break
        assert len(data.encode()) <= 64
        replies = await dispatch(private(data=data), svc)
        reply = replies[0]
        seen.append(plain(reply))
    assert len(seen) > 2 and "第 4–6 条" in seen[1]
    total = svc.search.search("工会").total
    assert f"第 {total}" in seen[-1] or f"–{total} 条" in seen[-1]


async def test_long_query_pages_through_a_key_and_expires_after_restart(svc: Services, tmp_path: Path) -> None:
    query = "工会 " + "职工群众的合法权益维护" * 3
    first = (await dispatch(private("/search " + query), svc))[0]
    data = data_of(first, "更多")
    assert data.startswith("srch:k:") and len(data.encode()) <= 64
    second = await dispatch(private(data=data), svc)
    assert "第 4–6 条" in plain(second[0])
    # a new process (restart): the key is unknown -> a polite answer, no crash
    cfg = Config(
        storage=StorageConfig(dir=str(tmp_path / "restarted")), content=ContentConfig(dir=str(ROOT / "content"))
    )
    fresh = create_services(cfg)
    try:
        replies = await dispatch(private(data=data), fresh)
        assert replies == [Reply(toast="这次搜索已过期，请重新搜索。")]
        short = data_of((await dispatch(private("/search 工会"), svc))[0], "更多")
        assert "第 4–6 条" in plain((await dispatch(private(data=short), fresh))[0])  # short queries survive
    finally:
        fresh.close()


async def test_stale_and_garbage_buttons(svc: Services) -> None:
    for data in ("srch:f:0000000000", "srch:m:x:集体合同", "srch:zz", "srch:", "srch:k:3:"):
        replies = await dispatch(private(data=data), svc)
        assert len(replies) == 1 and replies[0].toast and not replies[0].text


async def test_full_text_button(svc: Services) -> None:
    reply = (await dispatch(private("/search 送温暖"), svc))[0]
    full = await dispatch(private(data=data_of(reply, "全文 1")), svc)
    hit = svc.search.search("送温暖").hits[0]
    assert len(full) == 1 and hit.passage.text in plain(full[0])


def _big_content() -> Content:
    long_text = "\n".join(f"第{i}段：集体合同要依法签订，工会要监督执行 <b>&amp; 😀。" * 12 for i in range(60))
    passages = (
        Passage("big", "测试 › 长文", long_text, "长文.txt", ("长文.txt",)),
        Passage("small", "测试 › 短文", "厂务公开要坚持。", "短文.txt", ("短文.txt",)),
    )
    return Content(passages, (), "big-test")


async def test_full_text_over_4096_is_split_at_paragraphs(tmp_path: Path) -> None:
    content = _big_content()
    cfg = Config(storage=StorageConfig(dir=str(tmp_path / "data")), content=ContentConfig(dir=str(ROOT / "content")))
    svc = Services(config=cfg, content=content, store=Store(tmp_path / "data"))
    try:
        reply = (await dispatch(private("/search 集体合同"), svc))[0]
        parts = await dispatch(private(data=data_of(reply, "全文 1")), svc)
        assert len(parts) >= 2
        texts = [plain(p) for p in parts]
        body = "\n".join(texts)
        assert all(len(p.text) <= MAX_MESSAGE_CHARS for p in parts)
        for i, t in enumerate(texts[:-1], 1):
            assert t.rstrip().endswith(f"（{i}/{len(parts)}）")
            assert t.rstrip()[: -len(f"（{i}/{len(parts)}）")].rstrip().endswith("😀。")  # cut at a paragraph end
        assert "第0段" in texts[0] and "第59段" in body and "长文.txt" in texts[-1]
    finally:
        svc.close()


async def test_fallback_and_did_you_mean(svc: Services) -> None:
    fb = plain((await dispatch(private("诸葛亮会议"), svc))[0])
    assert "诸葛亮" in fb
    nothing = (await dispatch(private("量子计算机"), svc))[0]
    shown = plain(nothing)
    assert "你是不是想找" in shown
    assert nothing.buttons and all(b.data.startswith("srch:m:0:") for row in nothing.buttons for b in row)
    follow = await dispatch(private(data=nothing.buttons[0][0].data), svc)
    assert "来源" in plain(follow[0])


async def test_inline_mode(svc: Services) -> None:
    results = await handler.inline("职代会", svc)
    assert results and "职工代表大会" in results[0].text
    assert all(len(r.id.encode()) <= 64 and len(r.text) <= MAX_MESSAGE_CHARS for r in results)
    for r in results:
        parse_html(r.text)
    empty = await handler.inline("", svc)
    assert len(empty) <= 5
    assert all(r.title and r.text for r in empty)
    assert isinstance(await handler.inline("😀" * 500, svc), list)
