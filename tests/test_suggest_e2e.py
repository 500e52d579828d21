"""End to end over HTTP: the real PTB bot against the fake Telegram — submit, review, notify, export, stats."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from e2e import ALICE, BOB, SUPERGROUP, RunningBot, running_bot
from e2e import press as e2e_press
from fakebotapi import Call, User

CAROL = User(2003, "赵六", "zhaoliu")
OFFICER = User(2009, "李干事", "liganshi")


async def press(bot: RunningBot, call: Call, label: str, user: User, *, wait: str = "editMessageText") -> list[Call]:
    return await e2e_press(bot.api, call, label, user, wait=wait)


async def test_lifecycle_over_the_wire(tmp_path: Path) -> None:
    async with running_bot(tmp_path, officers=(OFFICER.id,)) as bot:
        api = bot.api
        await bot.say("/start", user=ALICE)  # ALICE has a private chat: progress can reach her
        api.chat(SUPERGROUP, title="一车间工会群")
        api.set_admins(SUPERGROUP, [BOB.id])

        receipt = await bot.said("建议 [安全生产] 叉车通道划线磨损，建议重新划线", user=ALICE, chat_id=SUPERGROUP)
        assert "JY-2026-0001" in receipt and "安全生产" in receipt
        await bot.said("/suggest 更衣室储物柜不够用，建议增加", user=ALICE, chat_id=SUPERGROUP)

        assert "只有工会干部" in await bot.said("/review", user=CAROL)
        [page] = await bot.say("/review", user=BOB)
        assert "共 2 条" in page.text
        [view] = await press(bot, page, "JY-2026-0001", BOB)
        assert "叉车通道" in view.text

        mark = api.mark()
        await press(bot, page, "受理", BOB)  # the same message, now showing the suggestion
        [told] = await api.wait_for("sendMessage", chat_id=ALICE.id, since=mark)
        assert "JY-2026-0001" in told.text and "已受理" in told.text
        mark = api.mark()
        await press(bot, page, "采纳", BOB)
        [told] = await api.wait_for("sendMessage", chat_id=ALICE.id, since=mark)
        assert "已采纳" in told.text
        # 已实施 asks for the result and its benefit in 元, as the desk does; a bad amount is asked again
        [ask] = await press(bot, page, "已实施", BOB, wait="sendMessage")
        assert "实施结果" in ask.text
        assert "不是有效金额" in await bot.said("叉车通道已划线；很多", user=BOB)
        mark = api.mark()
        await bot.say("叉车通道已重新划线；3000", user=BOB)
        [told] = await api.wait_for("sendMessage", chat_id=ALICE.id, since=mark)
        assert "已实施" in told.text and "叉车通道已重新划线" in told.text and "3,000 元" in told.text

        [page2] = await bot.say("/review", user=BOB)
        await press(bot, page2, "JY-2026-0002", BOB)
        await press(bot, page2, "受理", BOB)
        [ask] = await press(bot, page2, "不采纳", BOB, wait="sendMessage")
        assert "理由" in ask.text
        mark = api.mark()
        await bot.say("场地有限，明年统筹考虑", user=BOB)
        [told] = await api.wait_for("sendMessage", chat_id=ALICE.id, since=mark)
        assert "不采纳" in told.text and "场地有限" in told.text

        mine = await bot.said("/mine", user=ALICE)
        assert "已实施" in mine and "不采纳" in mine

        mark = api.mark()
        api.push_message("/export", user=OFFICER)
        [doc] = await api.wait_for("sendDocument", since=mark, chat_id=OFFICER.id, ok=True)
        book = openpyxl.load_workbook(io.BytesIO(next(iter(doc.files.values()))))
        rows = list(book.active.iter_rows(values_only=True))
        assert len(rows) == 3 and rows[1][0] == "JY-2026-0001" and rows[1][3] == "已实施"

        mark = api.mark()
        api.push_message("/stats", user=OFFICER)
        [photo] = await api.wait_for("sendPhoto", since=mark, chat_id=OFFICER.id, ok=True)
        stats = await api.wait_for("sendMessage", since=mark, chat_id=OFFICER.id, ok=True)
        assert "采纳率" in stats[0].text and "50.0%" in stats[0].text
        assert photo.ok


async def test_anonymous_via_deep_link_over_the_wire(tmp_path: Path) -> None:
    async with running_bot(tmp_path, officers=(OFFICER.id,)) as bot:
        api = bot.api
        api.chat(SUPERGROUP, title="一车间工会群")
        [hint] = await bot.say("/suggest", user=CAROL, chat_id=SUPERGROUP)
        urls = [b.get("url") for row in hint.buttons for b in row]
        assert urls == ["https://t.me/union_helper_bot?start=suggest"]
        [cats] = await bot.say("/start suggest", user=CAROL)
        await press(bot, cats, "职工生活", CAROL)
        [sign] = await bot.say("夜班职工希望食堂延长供餐时间", user=CAROL)
        await press(bot, sign, "匿名", CAROL)
        [done] = await press(bot, sign, "确认提交", CAROL)
        assert "JY-2026-0001" in done.text
        rec = bot.services.store.suggestion_get("JY-2026-0001")
        assert rec is not None and rec["anonymous"] and rec["proposer_id"] is None
        assert rec["chat_id"] == f"tg:{SUPERGROUP}" and rec["chat_title"] == "一车间工会群"
