"""The command table: every command has help text and appears in /help (the README's table: tests/test_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands import TABLE, match_alias

ROOT = Path(__file__).resolve().parent.parent


def test_names_are_telegram_commands_and_unique() -> None:
    names = [c.name for c in TABLE]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name), name


def test_aliases_are_unique() -> None:
    aliases = [a for c in TABLE for a in c.aliases]
    assert len(aliases) == len(set(aliases))


@pytest.mark.parametrize("cmd", TABLE, ids=lambda c: c.name)
def test_every_command_has_help_and_is_in_help(cmd) -> None:  # type: ignore[no-untyped-def]
    from bot.texts import help_text

    assert cmd.help.strip(), f"/{cmd.name} has no help text"
    help_ = help_text(TABLE)
    assert f"/{cmd.name}" in help_
    for alias in cmd.aliases:
        assert alias in help_, f"alias {alias} of /{cmd.name} missing from /help"


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [("搜索 职代会", "search", "职代会"), ("搜索：职代会", "search", "职代会"), ("搜索:职代会", "search", "职代会"),
     ("查询 集体合同", "search", "集体合同"), ("帮助", "help", "")],
)
def test_chinese_aliases_match(text: str, name: str, args: str) -> None:
    hit = match_alias(text)
    assert hit is not None and hit[0].name == name and hit[1] == args


def test_alias_needs_a_separator() -> None:
    hit = match_alias("搜索引擎怎么用")
    assert hit is None or hit[0].name != "search"


async def test_pending_flow_gets_text_that_starts_with_a_trigger(tmp_path: Path) -> None:
    from bot.commands import dispatch, start_flow
    from bot.config import Config, ContentConfig, StorageConfig
    from bot.core import Reply, Request
    from bot.services import create_services

    cfg = Config(storage=StorageConfig(dir=str(tmp_path)), content=ContentConfig(dir=str(ROOT / "content")))
    svc = create_services(cfg)
    try:
        req = Request(chat_id="tg:7", chat_type="private", user_id="tg:7", user_name="张三",
                      text="建议：食堂应增加蔬菜品种")

        async def flow(r: Request, s: object, text: str) -> list[Reply]:
            return [Reply(f"flow got {text}")]

        start_flow(req, svc, flow)
        assert [r.text for r in await dispatch(req, svc)] == ["flow got 建议：食堂应增加蔬菜品种"]
        req.text = "查 集体合同"
        assert [r.text for r in await dispatch(req, svc)] == ["flow got 查 集体合同"]
        req.text = "取消"
        replies = await dispatch(req, svc)
        assert replies and "flow got" not in replies[0].text
        req.text = "查 集体合同"
        assert "flow got" not in (await dispatch(req, svc))[0].text
    finally:
        svc.close()


@pytest.mark.parametrize(
    ("text", "chat", "addressed", "kind", "name", "args"),
    [
        ("/search 职代会", "group", False, "command", "search", "职代会"),
        ("/search@union_helper_bot 职代会", "group", False, "command", "search", "职代会"),
        ("/search@other_bot 职代会", "group", False, "ignore", None, ""),
        ("/nosuch", "private", False, "unknown", None, "nosuch"),
        ("/nosuch", "group", False, "ignore", None, ""),
        ("/nosuch", "group", True, "unknown", None, "nosuch"),  # addressed to the bot: it answers
        ("搜索 职代会", "group", False, "command", "search", "职代会"),
        ("@union_helper_bot 搜索 职代会", "group", True, "command", "search", "职代会"),
        ("@union_helper_bot 集体合同", "group", True, "text", None, "集体合同"),
        ("@union_helper_bot", "group", True, "help", None, ""),
        ("大家早上好", "group", False, "ignore", None, ""),
        ("集体合同", "private", False, "text", None, "集体合同"),
    ],
)
def test_route_decides_once_for_dispatcher_and_flood_guard(
    svc, text: str, chat: str, addressed: bool, kind: str, name: str | None, args: str  # type: ignore[no-untyped-def]
) -> None:
    """The one routing step: what kind of request a message is, and for the flood guard the same answer."""
    from bot.commands import route
    from bot.core import Request
    from bot.flood import request_key

    chat_id = "tg:-100" if chat == "group" else "tg:7"
    req = Request(chat_id=chat_id, chat_type=chat, user_id="tg:7", user_name="x", text=text,  # type: ignore[arg-type]
                  addressed=addressed)
    r = route(req, svc)
    assert (r.kind, r.command.name if r.command else None, r.args) == (kind, name, args)
    key = request_key(req, svc)
    if chat == "group" and (name == "search" or kind == "text"):
        assert key == ("search", args)
    elif chat == "group" and kind == "help":
        assert key == ("help", "")
    elif name is None:
        assert key is None


def test_route_peeks_at_a_numbered_choice_and_dispatch_uses_it_up(svc) -> None:  # type: ignore[no-untyped-def]
    from bot import choices
    from bot.commands import route
    from bot.core import Button, Request

    choices.offer(svc, "tg:7", [[Button("甲", data="sg:a"), Button("乙", data="sg:b")]])
    req = Request(chat_id="tg:7", chat_type="private", user_id="tg:7", user_name="x", text="2")
    assert route(req, svc).data == "sg:b"
    assert route(req, svc).data == "sg:b"  # routing twice (guard, then dispatcher) does not use the offer up
    assert choices.take(svc, "tg:7", "2") == "sg:b"
    assert route(req, svc).kind == "text"
