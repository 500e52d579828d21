"""Numbered choices (bot/choices.py) and the dispatcher hook, platform-neutral: opaque string chat ids."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import choices
from bot.commands import dispatch
from bot.config import Config, ContentConfig, StorageConfig
from bot.core import Button, Request
from bot.services import create_services

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def services(tmp_path: Path, now: list[datetime]):  # type: ignore[no-untyped-def]
    cfg = Config(storage=StorageConfig(dir=str(tmp_path)), content=ContentConfig(dir=str(ROOT / "content")))
    return create_services(cfg, clock=lambda: now[0])


def test_offer_and_take(tmp_path: Path) -> None:
    now = [NOW]
    svc = services(tmp_path, now)
    rows = [[Button("<甲>", data="x:1"), Button("乙", data="x:2")], [Button("链接", url="https://e.org/?a=1&b=2")]]
    text = choices.offer(svc, "wecom:g1", rows)
    assert "1. &lt;甲&gt;" in text and "2. 乙" in text and 'href="https://e.org/?a=1&amp;b=2"' in text
    assert choices.take(svc, "wecom:other", "1") is None  # another chat
    assert choices.take(svc, "wecom:g1", "搜索 1") is None
    assert choices.take(svc, "wecom:g1", "3") is None
    assert choices.take(svc, "wecom:g1", "２") == "x:2"  # full-width digit
    assert choices.take(svc, "wecom:g1", "2") is None  # used up
    choices.offer(svc, "wecom:g1", rows)
    now[0] += timedelta(minutes=choices.TTL_MINUTES + 1)
    assert choices.take(svc, "wecom:g1", "1") is None  # expired
    svc.close()


async def test_dispatcher_turns_a_number_into_the_button(tmp_path: Path) -> None:
    now = [NOW]
    svc = services(tmp_path, now)
    req = Request(chat_id="wecom:u1", chat_type="private", user_id="wecom:u1", user_name="u1",  # type: ignore[arg-type]
                  text="/suggest")
    (first,) = await dispatch(req, svc)
    assert len([b for row in first.buttons for b in row]) == 7
    choices.offer(svc, "wecom:u1", first.buttons)
    (second,) = await dispatch(Request(chat_id="wecom:u1", chat_type="private", user_id="wecom:u1",  # type: ignore[arg-type]
                                       user_name="u1", text="1"), svc)
    assert "安全生产" in second.text
    svc.close()
