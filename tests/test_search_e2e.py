"""End to end: search through the real PTB bot against the fake Telegram (commands, aliases, buttons, inline)."""

from __future__ import annotations

from e2e import ALICE, BOB, GROUP, RunningBot


async def test_search_command_alias_and_private_text(tg_any: RunningBot) -> None:
    for text in ("/search 集体合同", "搜索 职代会", "厂务公开"):
        [call] = await tg_any.say(text, user=ALICE)
        assert "来源" in call.text and call.params["parse_mode"] == "HTML"
        assert "<b>" in call.params["text"]
        assert any(b["text"].startswith("全文") for row in call.buttons for b in row)
    assert "职工代表大会" in await tg_any.said("搜索：职代会", user=ALICE)


async def test_group_needs_a_trigger_or_mention(tg: RunningBot) -> None:
    assert await tg.silent("集体合同", user=BOB, chat_id=GROUP) == []
    assert "集体合同" in await tg.said("@union_helper_bot 集体合同", user=BOB, chat_id=GROUP)
    assert "厂务公开" in await tg.said("查 厂务公开", user=BOB, chat_id=GROUP)


async def test_more_and_full_text_buttons(tg: RunningBot) -> None:
    [first] = await tg.say("/search 工会", user=ALICE)
    msg_id = first.result["message_id"]
    mark = tg.api.mark()
    tg.api.press_button(ALICE.id, msg_id, text="更多 ▸", user=ALICE)
    [page2] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "第 4–6 条" in page2.text
    mark = tg.api.mark()
    tg.api.press_button(ALICE.id, msg_id, text="全文 1", user=ALICE)
    [full] = await tg.api.wait_for("sendMessage", chat_id=ALICE.id, since=mark, ok=True)
    assert "来源" in full.text and len(full.text) > 50
    mark = tg.api.mark()
    tg.api.push_callback(ALICE.id, msg_id, "srch:k:3:ffffffffff", user=ALICE)  # from before a restart
    [answer] = await tg.api.wait_for("answerCallbackQuery", since=mark, ok=True)
    assert "过期" in str(answer.params.get("text", ""))


async def test_inline_query(tg: RunningBot) -> None:
    mark = tg.api.mark()
    tg.api.push_inline_query("职代会", user=ALICE)
    [answer] = await tg.api.wait_for("answerInlineQuery", since=mark, ok=True)
    results = answer.params["results"]
    assert results and "职工代表大会" in str(results[0])
