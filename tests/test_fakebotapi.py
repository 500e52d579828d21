"""The fake Bot API server, driven by a real `telegram.Bot` over HTTP."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from fakebotapi import (
    GROUP_ANONYMOUS_BOT_ID,
    FakeBotAPI,
    Fault,
    FloodLimits,
    User,
    parse_html,
)
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut

GROUP = -4001
ALICE = User(2001, "李四", "lisi")
EVERY_TAG = (
    "<b>b</b><strong>strong</strong><i>i</i><em>em</em><u>u</u><ins>ins</ins><s>s</s><strike>strike</strike>"
    '<del>del</del><a href="https://example.org/?a=1&amp;b=2">link</a><code>code</code><pre>pre</pre>'
    '<pre><code class="language-python">x = 1</code></pre><blockquote>quote</blockquote>'
    "<blockquote expandable>long quote</blockquote><tg-spoiler>spoiler</tg-spoiler>"
    '<span class="tg-spoiler">span</span><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    " &lt;tag&gt; &amp; &quot; &#39; &#x4e2d; 工会 😀"
)


def png(width: int = 2, height: int = 1) -> bytes:
    """A tiny valid PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.chat(ALICE.id).first_name = ALICE.first_name
        server.chat(GROUP, "group", "工会群")
        yield server


@pytest.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as b:
        yield b


# ----------------------------------------------------------------------------- basics


async def test_get_me_and_send_message(api: FakeBotAPI, bot: Bot) -> None:
    assert bot.username == "union_helper_bot"
    m1 = await bot.send_message(ALICE.id, "你好")
    m2 = await bot.send_message(ALICE.id, "<b>第二条</b>", parse_mode=ParseMode.HTML)
    assert (m1.text, m2.text) == ("你好", "第二条")
    assert m2.message_id == m1.message_id + 1
    assert m2.entities[0].type == "bold" and m2.chat.id == ALICE.id and m2.from_user.id == bot.id
    calls = await api.wait_for("sendMessage", count=2, chat_id=ALICE.id)
    assert [c.text for c in calls] == ["你好", "第二条"]
    assert calls[1].params["text"] == "<b>第二条</b>"
    assert api.sent_texts(ALICE.id) == ["你好", "第二条"]


async def test_every_allowed_tag_is_accepted(bot: Bot) -> None:
    m = await bot.send_message(GROUP, EVERY_TAG, parse_mode=ParseMode.HTML)
    types = [e.type for e in m.entities]
    for kind in ("bold", "italic", "underline", "strikethrough", "text_link", "code", "pre", "blockquote",
                 "expandable_blockquote", "spoiler", "custom_emoji"):
        assert kind in types
    assert "<tag> & \" ' 中 工会 😀" in m.text
    link = next(e for e in m.entities if e.type == "text_link")
    assert link.url == "https://example.org/?a=1&b=2"
    assert any(e.type == "pre" and e.language == "python" for e in m.entities)


def test_entity_offsets_are_utf16() -> None:
    text, ents = parse_html("😀<b>工会</b>")
    assert text == "😀工会"
    assert ents == [{"type": "bold", "offset": 2, "length": 2}]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<a href=x", "Unclosed start tag at byte offset 0"),
        ("<br/>", 'Unsupported start tag "br"'),
    ],
)
async def test_bad_html_is_rejected(api: FakeBotAPI, bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(BadRequest, match="(?i)Can't parse entities") as e:
        await bot.send_message(ALICE.id, html, parse_mode=ParseMode.HTML)
    assert reason.lower() in e.value.message.lower()  # PTB capitalizes the description
    [call] = api.find("sendMessage", ok=False)
    assert call.error is not None and call.error.code == 400


async def test_html_looking_text_without_parse_mode_is_literal(bot: Bot) -> None:
    m = await bot.send_message(ALICE.id, "<div> & 1 < 2")
    assert m.text == "<div> & 1 < 2"


async def test_text_length_is_counted_after_entity_parsing(bot: Bot) -> None:
    ok = await bot.send_message(ALICE.id, "<b>" + "工" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text) == 4096
    ok2 = await bot.send_message(ALICE.id, "&amp;" * 4096, parse_mode=ParseMode.HTML)
    assert ok2.text == "&" * 4096
    with pytest.raises(BadRequest, match="(?i)Message is too long"):
        await bot.send_message(ALICE.id, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)Message text is empty"):
        await bot.send_message(ALICE.id, "  \n ")
    with pytest.raises(BadRequest, match="(?i)Message text is empty"):
        await bot.send_message(ALICE.id, "<b></b>", parse_mode=ParseMode.HTML)


async def test_callback_data_limit_is_64_bytes(bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="x" * 64)]])
    m = await bot.send_message(ALICE.id, "按钮", reply_markup=ok)
    assert m.reply_markup is not None
    assert m.reply_markup.inline_keyboard[0][0].callback_data == "x" * 64
    for data in ("x" * 65, "工" * 22):  # 65 and 66 bytes
        bad = InlineKeyboardMarkup([[InlineKeyboardButton("坏", callback_data=data)]])
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(ALICE.id, "按钮", reply_markup=bad)


async def test_unknown_method_wrong_token_and_json_body(api: FakeBotAPI) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{api.base_url}{api.token}/fooBar") as r:
            assert r.status == 404
            assert await r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with s.post(f"{api.base_url}123:wrong/getMe") as r:
            assert r.status == 401
        async with s.post(f"{api.base_url}{api.token}/SENDMESSAGE", json={"chat_id": ALICE.id, "text": "json"}) as r:
            body = await r.json()
    assert body["ok"] is True and body["result"]["text"] == "json"


async def test_unknown_chats_are_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)Chat not found"):
        await bot.send_message(-999, "x")
    with pytest.raises(Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(999, "x")


# ----------------------------------------------------------------------------- injected faults


async def test_fault_retry_after(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", Fault.retry_after(3))
    with pytest.raises(RetryAfter) as e:
        await bot.send_message(ALICE.id, "x")
    assert e.value._retry_after.total_seconds() == 3
    assert (await bot.send_message(ALICE.id, "again")).text == "again"


@pytest.mark.parametrize(
    ("fault", "text"),
    [(Fault.kicked(), "bot was kicked from the group chat"), (Fault.blocked(), "bot was blocked by the user")],
)
async def test_fault_forbidden(api: FakeBotAPI, bot: Bot, fault: Fault, text: str) -> None:
    api.inject("sendMessage", fault)
    with pytest.raises(Forbidden, match=text):
        await bot.send_message(ALICE.id, "x")


async def test_fault_parse_error_and_migration(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", Fault.parse_error())
    with pytest.raises(BadRequest, match="(?i)Can't parse entities"):
        await bot.send_message(ALICE.id, "fine text")
    api.inject("sendMessage", Fault.migrated(-1001234567890))
    with pytest.raises(ChatMigrated) as e:
        await bot.send_message(GROUP, "x")
    assert e.value.new_chat_id == -1001234567890


async def test_fault_server_errors(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", Fault.server_error(500))
    with pytest.raises(NetworkError, match="(?i)Internal Server Error"):
        await bot.send_message(ALICE.id, "x")
    api.inject("sendMessage", Fault.server_error(502))
    with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
        await bot.send_message(ALICE.id, "x")


async def test_fault_slow_and_hang(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", Fault.slow(0.3))
    t0 = time.monotonic()
    await bot.send_message(ALICE.id, "slow")
    assert time.monotonic() - t0 >= 0.3
    api.inject("sendMessage", Fault.timeout())
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE.id, "never", read_timeout=0.3)
    assert (await bot.send_message(ALICE.id, "after")).text == "after"


async def test_fault_per_chat_and_count(api: FakeBotAPI, bot: Bot) -> None:
    api.inject("sendMessage", Fault.kicked(), chat_id=GROUP, times=2)
    await bot.send_message(ALICE.id, "unaffected")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(GROUP, "x")
    assert (await bot.send_message(GROUP, "third")).text == "third"


# ----------------------------------------------------------------------------- chat state


async def test_kicked_blocked_and_left_chats_refuse_messages(api: FakeBotAPI, bot: Bot) -> None:
    api.kick_bot(GROUP)
    with pytest.raises(Forbidden, match="(?i)bot was kicked from the group chat"):
        await bot.send_message(GROUP, "x")
    api.block_bot(ALICE)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(ALICE.id, "x")
    updates = await bot.get_updates()
    assert [u.my_chat_member.new_chat_member.status for u in updates] == ["kicked", "kicked"]
    assert updates[0].my_chat_member.chat.id == GROUP
    api.push_message("/start", user=ALICE)  # writing again unblocks
    assert (await bot.send_message(ALICE.id, "back")).text == "back"
    api.add_bot(-4002, "新群")
    assert await bot.leave_chat(-4002)
    with pytest.raises(Forbidden, match="(?i)not a member of the group chat"):
        await bot.send_message(-4002, "x")


async def test_group_migration(api: FakeBotAPI, bot: Bot) -> None:
    api.migrate_group(GROUP, -1009999)
    updates = await bot.get_updates()
    assert updates[0].message.migrate_to_chat_id == -1009999
    assert updates[1].message.migrate_from_chat_id == GROUP and updates[1].message.chat.type == "supergroup"
    with pytest.raises(ChatMigrated) as e:
        await bot.send_message(GROUP, "x")
    assert e.value.new_chat_id == -1009999
    assert (await bot.send_message(-1009999, "ok")).chat.id == -1009999


async def test_admin_model(api: FakeBotAPI, bot: Bot) -> None:
    api.set_admins(GROUP, [ALICE.id], owner=3001)
    assert (await bot.get_chat_member(GROUP, ALICE.id)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, 3001)).status == "creator"
    assert (await bot.get_chat_member(GROUP, 1001)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [3001, ALICE.id]
    api.push_message("/today", chat_id=GROUP, anonymous_admin=True)
    [u] = await bot.get_updates()
    assert u.message.from_user.id == GROUP_ANONYMOUS_BOT_ID and u.message.sender_chat.id == GROUP
    chat = await bot.get_chat(GROUP)
    assert chat.title == "工会群" and chat.type == "group"


# ----------------------------------------------------------------------------- updates


async def test_get_updates_offset_limit_and_entities(api: FakeBotAPI, bot: Bot) -> None:
    api.push_message("/search@union_helper_bot 工资 @someone", user=ALICE)
    api.push_message("你好", chat_id=GROUP, chat_title="工会群")
    api.push_message("第三", user=ALICE)
    first = await bot.get_updates(limit=2)
    assert len(first) == 2
    msg = first[0].message
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bot_command", 0, 24), ("mention", 28, 8)]
    assert first[1].message.chat.title == "工会群"
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["第三"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_long_poll_wakes_on_push_and_on_stop(api: FakeBotAPI, bot: Bot) -> None:
    task = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=20))
    await api.wait_for("getUpdates", answered=False)
    t0 = time.monotonic()
    api.push_message("hi", user=ALICE)
    updates = await asyncio.wait_for(task, 2)
    assert [u.message.text for u in updates] == ["hi"] and time.monotonic() - t0 < 2
    task = asyncio.create_task(bot.get_updates(offset=updates[-1].update_id + 1, timeout=30, read_timeout=40))
    await api.wait_for("getUpdates", count=2, answered=False)
    t0 = time.monotonic()
    await api.stop()
    assert await asyncio.wait_for(task, 3) == ()
    assert time.monotonic() - t0 < 3


async def test_second_poller_conflicts_the_first(api: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=20))
    await api.wait_for("getUpdates", answered=False)
    async with Bot(api.token, base_url=api.base_url) as other:  # PTB pools one getUpdates per Bot
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, 3)


async def test_button_press_and_answer(api: FakeBotAPI, bot: Bot) -> None:
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("下一条", callback_data="tip:next"),
                                InlineKeyboardButton("官网", url="https://example.org")]])
    m = await bot.send_message(ALICE.id, "今日一招", reply_markup=kb)
    qid = api.press_button(ALICE.id, m.message_id, text="下一条", user=ALICE)
    [u] = await bot.get_updates()
    assert u.callback_query.data == "tip:next" and u.callback_query.message.message_id == m.message_id
    assert await bot.answer_callback_query(qid, text="好的")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(LookupError):
        api.press_button(ALICE.id, m.message_id, data="nope")


async def test_edit_message(api: FakeBotAPI, bot: Bot) -> None:
    m = await bot.send_message(ALICE.id, "旧")
    edited = await bot.edit_message_text("<i>新</i>", ALICE.id, m.message_id, parse_mode=ParseMode.HTML)
    assert edited.text == "新" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)Message is not modified"):
        await bot.edit_message_text("<i>新</i>", ALICE.id, m.message_id, parse_mode=ParseMode.HTML)
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    assert (await bot.edit_message_reply_markup(ALICE.id, m.message_id, reply_markup=kb)).reply_markup == kb
    with pytest.raises(BadRequest, match="(?i)Message to edit not found"):
        await bot.edit_message_text("x", ALICE.id, 999)
    api.push_message("user text", user=ALICE)
    user_msg_id = max(mid for (cid, mid) in api.messages if cid == ALICE.id)
    with pytest.raises(BadRequest, match="(?i)Message can't be edited"):
        await bot.edit_message_text("x", ALICE.id, user_msg_id)


async def test_inline_query_results_are_validated(api: FakeBotAPI, bot: Bot) -> None:
    qid = api.push_inline_query("工资", user=ALICE)
    [u] = await bot.get_updates()
    assert u.inline_query.query == "工资"

    def article(text: str) -> InlineQueryResultArticle:
        return InlineQueryResultArticle("1", "标题", InputTextMessageContent(text, parse_mode=ParseMode.HTML))

    with pytest.raises(BadRequest, match="(?i)Can't parse entities"):
        await bot.answer_inline_query(qid, [article("<p>bad</p>")])
    with pytest.raises(BadRequest, match="(?i)Message is too long"):
        await bot.answer_inline_query(qid, [article("x" * 4097)])
    assert await bot.answer_inline_query(qid, [article("<b>好</b>")])
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_inline_query(qid, [article("again")])


async def test_documents_and_photos(api: FakeBotAPI, bot: Bot) -> None:
    doc = await bot.send_document(GROUP, b"PK\x03\x04xlsx", filename="建议.xlsx", caption="<b>导出</b>",
                                  parse_mode=ParseMode.HTML)
    assert doc.document.file_name == "建议.xlsx" and doc.caption == "导出"
    assert api.files[doc.document.file_id] == b"PK\x03\x04xlsx"
    photo = await bot.send_photo(ALICE.id, png(3, 2), caption="统计")
    assert (photo.photo[0].width, photo.photo[0].height) == (3, 2)
    with pytest.raises(BadRequest, match="(?i)Message caption is too long"):
        await bot.send_photo(ALICE.id, png(), caption="x" * 1025)
    with pytest.raises(BadRequest, match="(?i)Image_process_failed|IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE.id, b"not an image")
    [call] = api.find("sendDocument")
    assert call.files["document"] == b"PK\x03\x04xlsx" and call.text == "导出"


async def test_commands_chat_action_and_close(api: FakeBotAPI, bot: Bot) -> None:
    from telegram import BotCommand

    assert await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("help", "帮助")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("搜索", "中文命令不行")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.send_chat_action(ALICE.id, "typing")
    with pytest.raises(BadRequest, match="(?i)Wrong parameter action"):
        await bot.send_chat_action(ALICE.id, "dancing")
    assert await bot.close() and await bot.log_out()


# ----------------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret_and_retry(api: FakeBotAPI, bot: Bot) -> None:
    received: list[tuple[dict, str | None]] = []
    fail_first = [True]
    two = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        if fail_first[0]:
            fail_first[0] = False
            return web.Response(status=500)
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if len(received) == 2:
            two.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with pytest.raises(BadRequest, match="(?i)An HTTPS URL must be provided"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        api.webhook_routes["https://bot.example.org:8443"] = f"http://127.0.0.1:{port}"
        assert await bot.set_webhook("https://bot.example.org:8443/hook", secret_token="s3cret")
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates()
        api.push_message("via hook", user=ALICE)
        api.push_message("second", user=ALICE)
        await asyncio.wait_for(two.wait(), 5)
        assert [(u["message"]["text"], secret) for u, secret in received] == [
            ("via hook", "s3cret"), ("second", "s3cret")]
        info = await bot.get_webhook_info()
        assert info.url == "https://bot.example.org:8443/hook" and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        assert await bot.delete_webhook()
        api.push_message("polled", user=ALICE)
        assert [u.message.text for u in await bot.get_updates()] == ["polled"]
    finally:
        await runner.cleanup()


# ----------------------------------------------------------------------------- flood model


async def test_flood_model_per_group_and_overall() -> None:
    async with FakeBotAPI(flood=FloodLimits(overall=5, overall_window=1.0, per_group=3, group_window=60.0)) as api:
        api.chat(GROUP, "group")
        for uid in range(2001, 2010):
            api.chat(uid)
        async with Bot(api.token, base_url=api.base_url) as bot:
            for i in range(3):
                await bot.send_message(GROUP, f"g{i}")
            with pytest.raises(RetryAfter) as e:
                await bot.send_message(GROUP, "too many")
            assert 59 <= e.value._retry_after.total_seconds() <= 60
            await bot.send_message(2001, "p1")
            await bot.send_message(2002, "p2")
            with pytest.raises(RetryAfter) as e:
                await bot.send_message(2003, "over 5/s")
            assert e.value._retry_after.total_seconds() == 1
            assert api.flood_429s == 2
            assert len(api.sent_texts()) == 5


async def test_wait_for_times_out_with_the_calls_seen(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(ALICE.id, "hello")
    with pytest.raises(AssertionError, match="(?i)hello"):
        await api.wait_for("sendMessage", chat_id=GROUP, timeout=0.2)


# ----------------------------------------------------------------------------- polls (每日一题)


async def test_send_poll_is_validated_like_telegram(api: FakeBotAPI, bot: Bot) -> None:
    ok = await bot.send_poll(GROUP, "题目？", ["甲", "乙"], type="quiz", correct_option_ids=[1], is_anonymous=False,
                             explanation="解析")
    assert ok.poll is not None and ok.poll.correct_option_ids == (1,) and ok.poll.explanation == "解析"
    bad = [
        ({"question": "", "options": ["甲", "乙"]}, "question is empty"),
        ({"question": "问" * 301, "options": ["甲", "乙"]}, "question is too long"),
        ({"question": "问", "options": ["甲"]}, "2-10 options"),
        ({"question": "问", "options": [str(i) for i in range(11)]}, "2-10 options"),
        ({"question": "问", "options": ["甲", "乙" * 101]}, "option is too long"),
        ({"question": "问", "options": ["甲", ""]}, "option is empty"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz"}, "QUIZ_CORRECT_ANSWER_INVALID"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz", "correct_option_ids": [0, 1]},
         "exactly one correct option"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz", "correct_option_ids": [2]},
         "QUIZ_CORRECT_ANSWER_INVALID"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz", "correct_option_ids": [0],
          "allows_multiple_answers": True}, "QUIZ_MULTIPLE_INVALID"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz", "correct_option_ids": [0],
          "explanation": "解" * 201}, "explanation is too long"),
        ({"question": "问", "options": ["甲", "乙"], "type": "quiz", "correct_option_ids": [0],
          "explanation": "一\n二\n三\n四"}, "more than 2 line feeds"),
        ({"question": "问", "options": ["甲", "乙"], "explanation": "解"}, "only in quiz polls"),
        ({"question": "<b>问", "options": ["甲", "乙"], "question_parse_mode": "HTML"}, "can't parse entities"),
    ]
    for kwargs, reason in bad:
        with pytest.raises(BadRequest, match=f"(?i){reason}"):  # PTB capitalises the description
            await bot.send_poll(GROUP, **kwargs)  # type: ignore[arg-type]
    # lengths are counted after entity parsing, like messages
    fits = await bot.send_poll(GROUP, "<b>" + "问" * 300 + "</b>", ["甲", "乙"], question_parse_mode="HTML")
    assert fits.poll is not None and len(fits.poll.question) == 300


async def test_votes_arrive_as_poll_answers_and_stop_poll_closes(api: FakeBotAPI, bot: Bot) -> None:
    quiz = await bot.send_poll(GROUP, "题？", ["甲", "乙", "丙"], type="quiz", correct_option_ids=[0],
                               is_anonymous=False)
    multi = await bot.send_poll(GROUP, "多选？", ["甲", "乙", "丙"], allows_multiple_answers=True,
                                is_anonymous=False)
    api.vote(GROUP, quiz.message_id, [1], user=ALICE)
    with pytest.raises(ValueError, match="cannot be changed"):
        api.vote(GROUP, quiz.message_id, [0], user=ALICE)
    api.vote(GROUP, multi.message_id, [0, 2], user=ALICE)
    api.vote(GROUP, multi.message_id, [], user=ALICE)  # retracted
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates]
    assert [(a.poll_id, a.user.id, a.option_ids) for a in answers if a] == [
        (quiz.poll.id, ALICE.id, (1,)), (multi.poll.id, ALICE.id, (0, 2)), (multi.poll.id, ALICE.id, ())]
    closed = await bot.stop_poll(GROUP, quiz.message_id)
    assert closed.is_closed and closed.options[1].voter_count == 1
    with pytest.raises(BadRequest, match="(?i)poll has already been closed"):
        await bot.stop_poll(GROUP, quiz.message_id)
    with pytest.raises(ValueError, match="closed"):
        api.vote(GROUP, quiz.message_id, [0], user=User(2002, "王五"))
    sent = await bot.send_message(GROUP, "不是投票")
    with pytest.raises(BadRequest, match="(?i)poll to stop not found"):
        await bot.stop_poll(GROUP, sent.message_id)


async def test_allowed_updates_are_honoured_for_poll_answers(api: FakeBotAPI, bot: Bot) -> None:
    poll = await bot.send_poll(GROUP, "题？", ["甲", "乙"], type="quiz", correct_option_ids=[0], is_anonymous=False)
    await bot.get_updates(allowed_updates=["message"])  # a bot that does not ask for poll answers
    api.vote(GROUP, poll.message_id, [0], user=ALICE)
    api.push_message("你好", user=ALICE)
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["你好"] and all(u.poll_answer is None for u in updates)
    poll2 = await bot.send_poll(GROUP, "题2？", ["甲", "乙"], type="quiz", correct_option_ids=[0], is_anonymous=False)
    api.vote(GROUP, poll2.message_id, [1], user=ALICE)
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=["message", "poll_answer"])
    assert [u.poll_answer.option_ids for u in updates if u.poll_answer] == [(1,)]
