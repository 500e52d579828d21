"""The command table: every command has help text and appears in /help and in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands import TABLE, match_alias

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_names_are_telegram_commands_and_unique() -> None:
    names = [c.name for c in TABLE]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name), name


def test_aliases_are_unique() -> None:
    aliases = [a for c in TABLE for a in c.aliases]
    assert len(aliases) == len(set(aliases))


@pytest.mark.parametrize("cmd", TABLE, ids=lambda c: c.name)
def test_every_command_has_help_and_is_documented(cmd) -> None:  # type: ignore[no-untyped-def]
    from bot.texts import help_text

    assert cmd.help.strip(), f"/{cmd.name} has no help text"
    help_ = help_text(TABLE)
    assert f"/{cmd.name}" in help_
    for alias in cmd.aliases:
        assert alias in help_, f"alias {alias} of /{cmd.name} missing from /help"
        assert alias in README, f"alias {alias} of /{cmd.name} missing from README"
    assert f"`/{cmd.name}" in README, f"/{cmd.name} missing from the README's command table"


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
