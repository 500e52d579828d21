"""The fake WeCom server itself, spoken to with raw websockets frames: auth, acks, and WeCom's limits."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import websockets
from fakewecom import ERR_NO_CHAT, ERR_RATE, MAX_MARKDOWN_BYTES, PER_MINUTE, FakeWeCom


async def call(ws: Any, cmd: str, req_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    await ws.send(json.dumps({"cmd": cmd, "headers": {"req_id": req_id}, "body": body or {}}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("headers", {}).get("req_id") == req_id and "cmd" not in frame:
            return frame


def md(chatid: str, content: str) -> dict[str, Any]:
    return {"chatid": chatid, "msgtype": "markdown", "markdown": {"content": content}}


async def test_auth_limits_and_faults(tmp_path: Path) -> None:
    async with FakeWeCom("bot", "sec", tmp=tmp_path) as wc:
        ctx = ssl.create_default_context(cafile=wc.ca_file)
        async with websockets.connect(wc.url, ssl=ctx) as ws:
            assert (await call(ws, "aibot_subscribe", "aibot_subscribe_1", {"bot_id": "bot", "secret": "sec"}))[
                "errcode"] == 0
            assert (await call(ws, "ping", "ping_1"))["errcode"] == 0
            assert (await call(ws, "aibot_send_msg", "s0", md("wrG", "hi")))["errcode"] == ERR_NO_CHAT
            wc.talked.add("wrG")
            assert (await call(ws, "aibot_send_msg", "s1", md("wrG", "x" * (MAX_MARKDOWN_BYTES + 1))))["errcode"] != 0
            card = {"card_type": "button_interaction", "task_id": "t1", "main_title": {"title": "t"},
                    "button_list": [{"text": str(i), "key": f"k{i}"} for i in range(7)]}
            r = await call(ws, "aibot_send_msg", "s2", {"chatid": "wrG", "msgtype": "template_card",
                                                         "template_card": card})
            assert r["errcode"] != 0 and "6" in r["errmsg"]
            codes = [(await call(ws, "aibot_send_msg", f"m{i}", md("wrG", f"{i}")))["errcode"]
                     for i in range(PER_MINUTE + 1)]
            assert codes[:PER_MINUTE] == [0] * PER_MINUTE and codes[PER_MINUTE] == ERR_RATE
            wc.talked.add("wrH")
            wc.fail_next(ERR_RATE)
            assert (await call(ws, "aibot_send_msg", "f1", md("wrH", "a")))["errcode"] == ERR_RATE
            assert (await call(ws, "aibot_send_msg", "f2", md("wrH", "a")))["errcode"] == 0
        assert len(wc.find("aibot_send_msg", chatid="wrG")) == PER_MINUTE


async def test_bad_secret_refused_and_closed(tmp_path: Path) -> None:
    async with FakeWeCom("bot", "sec", tmp=tmp_path) as wc:
        ctx = ssl.create_default_context(cafile=wc.ca_file)
        async with websockets.connect(wc.url, ssl=ctx) as ws:
            r = await call(ws, "aibot_subscribe", "aibot_subscribe_1", {"bot_id": "bot", "secret": "nope"})
            assert r["errcode"] != 0
        assert wc.auth_failures == 1
