"""End to end: the real PTB bot, over HTTP, against the fake Telegram: /start, /help, /today and faults."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from e2e import ALICE, BOB, GROUP, SUPERGROUP, RunningBot, running_bot
from fakebotapi import Fault, FloodLimits, User

ADAPTER_LOG = "bot.adapters.telegram"


def practice_titles(bot: RunningBot) -> set[str]:
    return {p.title.strip() for p in bot.services.content.practices}


def title_in(text: str, bot: RunningBot) -> str:
    """The practice title shown in a /today answer (its own line)."""
    found = [line for line in text.splitlines() if line.strip() in practice_titles(bot)]
    assert found, f"no practice title in: {text[:300]}"
    return found[0]


# ----------------------------------------------------------------------------- commands


async def test_start_private_and_group(tg_any: RunningBot) -> None:
    private = await tg_any.said("/start", user=ALICE)
    assert "您好，我是工会助手" in private and "在私聊里直接发关键词即可检索" in private
    group = await tg_any.said("/start@union_helper_bot", user=ALICE, chat_id=GROUP)
    assert "您好，我是工会助手" in group and "在群里请用命令" in group
    [call] = tg_any.api.find("sendMessage", chat_id=GROUP)
    assert "<b>您好，我是工会助手。</b>" in call.params["text"] and call.params["parse_mode"] == "HTML"


async def test_help_lists_commands_private_and_group(tg_any: RunningBot) -> None:
    for chat in (None, GROUP):
        text = await tg_any.said("/help", user=BOB, chat_id=chat)
        assert "工会助手 · 命令一览" in text
        for cmd in ("/today", "/search 关键词", "/suggest", "/help"):
            assert cmd in text
    assert "命令一览" in await tg_any.said("帮助", user=BOB)  # the Chinese alias


async def test_today_private_and_group(tg_any: RunningBot) -> None:
    private = await tg_any.said("/today", user=ALICE)
    assert "每日一招 · 2026年3月2日（周一）" in private
    title = title_in(private, tg_any)
    assert title_in(await tg_any.said("今日", user=ALICE), tg_any) == title  # same practice all day
    group = await tg_any.said("/today", user=BOB, chat_id=GROUP)
    assert "2026年3月2日（周一）" in group and title_in(group, tg_any)
    tg_any.clock.advance(days=1)
    tomorrow = await tg_any.said("/today", user=ALICE)
    assert "2026年3月3日（周二）" in tomorrow and title_in(tomorrow, tg_any) != title


async def test_group_chatter_gets_no_answer(tg: RunningBot) -> None:
    assert await tg.silent("大家好，今天开会", user=ALICE, chat_id=GROUP) == []
    assert await tg.silent("@someone_else 你看下", user=ALICE, chat_id=GROUP) == []


async def test_anonymous_admin_and_reply_to_bot(tg: RunningBot) -> None:
    text = await tg.said("/today", chat_id=GROUP, anonymous_admin=True)
    assert "每日一招" in text
    [sent] = tg.api.find("sendMessage", chat_id=GROUP)
    again = await tg.said("/help", user=ALICE, chat_id=GROUP, reply_to=sent.result["message_id"])
    assert "命令一览" in again


async def test_unknown_command_and_odd_text(tg: RunningBot) -> None:
    assert "没有 /nosuchthing 这个命令" in await tg.said("/nosuchthing", user=ALICE)
    for odd in ("<b>not html</b> & <script>", "😀" * 2000, "x" * 4096):
        replies = await tg.say(odd, user=ALICE)
        assert replies and all(c.ok for c in replies)


async def test_menu_commands_registered(tg: RunningBot) -> None:
    [call] = tg.api.find("setMyCommands", ok=True)
    names = [c["command"] for c in call.params["commands"]]
    assert {"start", "help", "today", "search"} <= set(names)


# ----------------------------------------------------------------------------- faults


async def test_flood_wait_is_retried(tg_any: RunningBot) -> None:
    tg_any.api.inject("sendMessage", Fault.retry_after(1), chat_id=ALICE.id)
    t0 = time.monotonic()
    assert "命令一览" in await tg_any.said("/help", user=ALICE, timeout=8)
    assert time.monotonic() - t0 >= 1.0
    [refused] = tg_any.api.find("sendMessage", ok=False)
    assert refused.error is not None and refused.error.code == 429


@pytest.mark.parametrize(
    ("fault", "chat", "logged"),
    [
        (Fault.kicked(), GROUP, "bot was kicked from the group chat"),
        (Fault.blocked(), ALICE.id, "bot was blocked by the user"),
        (Fault.parse_error(), ALICE.id, "could not deliver"),
        (Fault.server_error(500), GROUP, "could not deliver"),
        (Fault.server_error(502), ALICE.id, "could not deliver"),
    ],
    ids=["kicked", "blocked", "parse-error", "500", "502"],
)
async def test_failed_delivery_is_logged_and_bot_keeps_serving(
    tg: RunningBot, caplog: pytest.LogCaptureFixture, fault: Fault, chat: int, logged: str
) -> None:
    caplog.set_level(logging.INFO, logger=ADAPTER_LOG)
    tg.api.inject("sendMessage", fault, chat_id=chat)
    tg.api.push_message("/today", user=ALICE, chat_id=None if chat == ALICE.id else chat)
    [failed] = await tg.api.wait_for("sendMessage", chat_id=chat, ok=False)
    assert failed.fault is fault
    assert "命令一览" in await tg.said("/help", user=BOB)  # the next update is served
    assert any(logged in r.getMessage() or logged in str(r.exc_info) for r in caplog.records), caplog.text


async def test_migrated_group_reply_goes_to_the_supergroup(tg: RunningBot) -> None:
    tg.api.chat(GROUP, "group", "工会群")
    tg.api.chat(SUPERGROUP, "supergroup", "工会群")
    tg.api.inject("sendMessage", Fault.migrated(SUPERGROUP), chat_id=GROUP)
    tg.api.push_message("/today", user=ALICE, chat_id=GROUP)
    [moved] = await tg.api.wait_for("sendMessage", chat_id=SUPERGROUP, ok=True)
    assert "每日一招" in moved.text


async def test_group_upgrade_service_messages(tg: RunningBot) -> None:
    assert "每日一招" in await tg.said("/today", user=ALICE, chat_id=GROUP)
    tg.api.migrate_group(GROUP, SUPERGROUP)
    assert "每日一招" in await tg.said("/today", user=ALICE, chat_id=SUPERGROUP)


async def test_slow_answer_still_delivers(tg: RunningBot) -> None:
    tg.api.inject("sendMessage", Fault.slow(1.0))
    t0 = time.monotonic()
    assert "命令一览" in await tg.said("/help", user=ALICE)
    assert time.monotonic() - t0 >= 1.0


async def test_answer_that_never_comes_times_out_and_bot_keeps_serving(
    tg: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ADAPTER_LOG)
    tg.api.inject("sendMessage", Fault.timeout(), chat_id=ALICE.id)
    tg.api.push_message("/help", user=ALICE)
    await tg.api.wait_for("sendMessage", chat_id=ALICE.id, answered=False)
    assert "命令一览" in await tg.said("/help", user=BOB, timeout=15)  # at once: Alice's chat waits alone
    await tg.settled()
    assert "timed out" in caplog.text.lower()


async def test_kicked_and_blocked_updates_are_handled(tg: RunningBot) -> None:
    assert "每日一招" in await tg.said("/today", user=ALICE, chat_id=GROUP)
    tg.api.kick_bot(GROUP, by=ALICE)
    tg.api.block_bot(BOB)
    assert "命令一览" in await tg.said("/help", user=ALICE)
    assert not tg.api.find("sendMessage", chat_id=GROUP, ok=False)  # nothing sent to the gone chats
    assert not tg.api.find("sendMessage", chat_id=BOB.id)


async def test_burst_under_flood_model_every_user_answered_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, flood=FloodLimits()) as bot:
        users = [User(3000 + i, f"会员{i}") for i in range(45)]
        for u in users:
            bot.api.push_message("/start", user=u)
        for u in users:
            [reply] = await bot.api.wait_for("sendMessage", chat_id=u.id, ok=True, timeout=15)
            assert "工会助手" in reply.text
        assert all(len(bot.api.find("sendMessage", chat_id=u.id, ok=True)) == 1 for u in users)
        print(f"flood model: {bot.api.flood_429s} x 429 answered, all retried")  # noqa: T201
