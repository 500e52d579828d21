"""Daily push end to end: the real PTB bot over HTTP against the fake Telegram (subscribe, push, kicked, migrated)."""

from __future__ import annotations

from datetime import datetime

from e2e import ALICE, GROUP, START, SUPERGROUP, RunningBot
from fakebotapi import DEFAULT_USER, Fault

from bot.handlers import push

TEN = START.replace(hour=10, minute=0, second=5)


async def subscribed_group(tg: RunningBot, chat_id: int = GROUP, at: str = "10:00") -> None:
    tg.api.chat(chat_id)
    tg.api.set_admins(chat_id, [ALICE.id])
    assert "已订阅" in await tg.said(f"/subscribe {at}", user=ALICE, chat_id=chat_id)
    assert (tg.services.store.push_doc(f"tg:{chat_id}") or {}).get("sub") is not None  # the store's id form


async def barrier(tg: RunningBot) -> None:
    """Updates are handled in order: once this private /help is answered, earlier updates were handled."""
    await tg.said("/help", user=DEFAULT_USER)


async def tick_at(tg: RunningBot, when: datetime) -> None:
    tg.clock.set(when)
    await push.tick(tg.services)


def pushes(tg: RunningBot, chat_id: int, since: int) -> list[str]:
    return [c.params["text"] for c in tg.api.find("sendMessage", chat_id=chat_id, since=since, ok=True)]


async def test_group_subscribes_and_gets_exactly_one_push_matching_today(tg: RunningBot) -> None:
    await subscribed_group(tg)
    assert "抱歉" in await tg.said("订阅 09:00", chat_id=GROUP)  # not an admin of this group
    assert "用法" in await tg.said("/subscribe 25:00", user=ALICE, chat_id=GROUP)
    mark = tg.api.mark()
    await tick_at(tg, TEN)
    await tick_at(tg, TEN.replace(minute=1))
    sent = pushes(tg, GROUP, mark)
    assert len(sent) == 1 and "每日一招" in sent[0] and "回复“搜索 关键词”查更多" in sent[0]
    assert sent[0].count("<b>") == sent[0].count("</b>")  # the fake server parsed the HTML: it was valid
    today = await tg.say("/today", chat_id=GROUP)
    assert [c.params["text"] for c in today] == sent
    status = await tg.said("/status", chat_id=GROUP)
    assert "已订阅" in status and "2026年3月3日（周二） 10:00（北京时间）" in status


async def test_kicked_group_is_unsubscribed(tg: RunningBot) -> None:
    await subscribed_group(tg)
    tg.api.kick_bot(GROUP)
    await barrier(tg)
    mark = tg.api.mark()
    await tick_at(tg, TEN)
    assert pushes(tg, GROUP, mark) == []
    assert (tg.services.store.push_doc(f"tg:{GROUP}") or {}).get("sub") is None


async def test_forbidden_on_push_unsubscribes_and_others_still_get_theirs(tg: RunningBot) -> None:
    other = -4002
    await subscribed_group(tg)
    await subscribed_group(tg, other)
    tg.api.inject("sendMessage", Fault.kicked(), chat_id=GROUP)
    mark = tg.api.mark()
    await tick_at(tg, TEN)
    assert len(pushes(tg, other, mark)) == 1 and pushes(tg, GROUP, mark) == []
    assert (tg.services.store.push_doc(f"tg:{GROUP}") or {}).get("sub") is None


async def test_migrated_group_gets_the_next_push_under_its_new_id(tg: RunningBot) -> None:
    await subscribed_group(tg)
    tg.api.migrate_group(GROUP, SUPERGROUP)
    await barrier(tg)
    mark = tg.api.mark()
    await tick_at(tg, TEN)
    assert len(pushes(tg, SUPERGROUP, mark)) == 1
    assert "已订阅" in await tg.said("/status", chat_id=SUPERGROUP)


async def test_migration_discovered_while_pushing_delivers_to_the_new_id(tg: RunningBot) -> None:
    await subscribed_group(tg)
    tg.api.chat(SUPERGROUP, "supergroup")
    tg.api.inject("sendMessage", Fault.migrated(SUPERGROUP), chat_id=GROUP)
    mark = tg.api.mark()
    await tick_at(tg, TEN)
    await tick_at(tg, TEN.replace(minute=2))
    assert len(pushes(tg, SUPERGROUP, mark)) == 1 and pushes(tg, GROUP, mark) == []
    await tick_at(tg, TEN.replace(day=3))
    assert len(pushes(tg, SUPERGROUP, mark)) == 2
