"""A fake WeCom 智能机器人 long-connection server: `websockets` over TLS on 127.0.0.1 (a trustme test CA).

It speaks the frames of Tencent's SDK (`aibot`, wecom-aibot-python-sdk): the bot sends `aibot_subscribe`
(bot_id, secret), `ping`, `aibot_respond_msg`, `aibot_respond_update_msg`, `aibot_send_msg`, each acked
with {"headers": {"req_id": ...}, "errcode": ..., "errmsg": ...}; the server pushes `aibot_msg_callback`
and `aibot_event_callback` (enter_chat, template_card_event, disconnected_event).

Every frame both ways is recorded (`frames`); `wait_for` waits on them event-driven (no sleeps). WeCom's
limits are enforced: markdown/stream content <= 20,480 bytes, template_card button_interaction <= 6
buttons with key <= 1,024 bytes, a proactive `aibot_send_msg` only to a chat where someone has messaged
the bot, card updates only for a template_card_event's req_id within 5 s, and 30 messages a minute and
1,000 an hour per chat (replies and pushes together; errcode 45009 beyond). Faults: `drop()` closes the
connection, `fail_next(45009, n)` answers the next n sends with an error, a wrong secret is refused
(errcode 40001... then the connection closes), `kick()` sends disconnected_event and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
import websockets
from websockets.asyncio.server import ServerConnection, serve

MAX_MARKDOWN_BYTES = 20480
MAX_BUTTONS = 6
MAX_KEY_BYTES = 1024
UPDATE_WINDOW_SECONDS = 5.0
PER_MINUTE = 30
PER_HOUR = 1000
ERR_RATE = 45009
ERR_AUTH = 40058  # a made-up but stable code for "invalid bot_id/secret"
ERR_INVALID = 40008
ERR_NO_CHAT = 93006  # proactive send to a chat nobody has messaged the bot in
COUNTED = ("aibot_respond_msg", "aibot_send_msg")


@dataclass
class Frame:
    """One frame on the wire. `direction` is "in" (bot -> server) or "out" (server -> bot)."""

    direction: str
    data: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    #: For bot frames: the ack the server gave (errcode), once answered.
    errcode: int | None = None
    errmsg: str = ""
    conn: int = 0

    @property
    def cmd(self) -> str:
        return self.data.get("cmd", "")

    @property
    def req_id(self) -> str:
        return self.data.get("headers", {}).get("req_id", "")

    @property
    def body(self) -> dict[str, Any]:
        return self.data.get("body") or {}

    @property
    def ok(self) -> bool:
        return self.errcode == 0

    @property
    def content(self) -> str:
        """The text a member sees: markdown / stream content, or a card's title and subtitle."""
        b = self.body
        if "markdown" in b:
            return b["markdown"].get("content", "")
        if "stream" in b:
            return b["stream"].get("content", "")
        if "text" in b and isinstance(b["text"], dict):
            return b["text"].get("content", "")
        card = b.get("template_card")
        if card:
            return "\n".join(x for x in (card.get("main_title", {}).get("title", ""),
                                         card.get("sub_title_text", "")) if x)
        return ""

    @property
    def chatid(self) -> str:
        return self.body.get("chatid", "")

    def __repr__(self) -> str:
        return f"<{self.direction} {self.cmd or 'ack'} {self.req_id} err={self.errcode} {self.content[:60]!r}>"


class FakeWeCom:
    """Start with `async with FakeWeCom(bot_id, secret) as wc:`; the bot connects to `wc.url` trusting `wc.ca_file`."""

    def __init__(self, bot_id: str = "aib-test-bot", secret: str = "test-secret", *, tmp: Path | None = None,
                 limits: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.bot_id = bot_id
        self.secret = secret
        self.limits = limits
        self.clock = clock
        self.frames: list[Frame] = []
        self.connections = 0
        self.auth_failures = 0
        self._tmp = tmp
        self._ws: ServerConnection | None = None
        self._authed = asyncio.Event()
        self._cond: asyncio.Condition | None = None
        self._server: Any = None
        self._ids = itertools.count(1)
        self._faults: deque[int] = deque()
        self._drop_on: str | None = None
        self._auth_gate: asyncio.Event | None = None  # while set up and not set: subscribe frames wait unanswered
        self.held_auths = 0  # subscribe frames that arrived while authentication was held
        self.talked: set[str] = set()  # chats where someone messaged the bot (proactive sends allowed)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._card_events: dict[str, tuple[float, str]] = {}  # req_id -> (time, task_id)
        self._cards: dict[str, dict[str, Any]] = {}  # task_id -> latest card
        self._origin: dict[str, str] = {}  # callback req_id -> the chat it came from
        self._groups: set[str] = set()
        self._welcome: dict[str, float] = {}  # enter_chat req_id -> time
        self.url = ""
        self.ca_file = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeWeCom:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        tmp = self._tmp or Path(__import__("tempfile").mkdtemp(prefix="fakewecom-"))
        ca.cert_pem.write_to_path(str(tmp / "fakewecom-ca.pem"))
        self.ca_file = str(tmp / "fakewecom-ca.pem")
        self._cond = asyncio.Condition()
        self._server = await serve(self._handler, "127.0.0.1", 0, ssl=ctx, max_size=2**22)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"wss://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _notify(self) -> None:
        assert self._cond is not None
        async with self._cond:
            self._cond.notify_all()

    async def _handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        conn = self.connections
        if self._ws is not None:  # one connection per bot: a newer one replaces the old
            with contextlib.suppress(Exception):
                await self._ws.close()
        self._ws = ws
        self._authed.clear()
        try:
            async for raw in ws:
                frame = Frame("in", json.loads(raw), conn=conn)
                self.frames.append(frame)
                await self._on_frame(ws, frame)
                await self._notify()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self._ws is ws:
                self._ws = None
                self._authed.clear()
            await self._notify()

    async def _ack(self, ws: ServerConnection, frame: Frame, errcode: int = 0, errmsg: str = "ok") -> None:
        frame.errcode, frame.errmsg = errcode, errmsg
        await ws.send(json.dumps({"headers": {"req_id": frame.req_id}, "errcode": errcode, "errmsg": errmsg}))

    async def _on_frame(self, ws: ServerConnection, f: Frame) -> None:
        if f.cmd == "aibot_subscribe":
            gate = self._auth_gate
            if gate is not None and not gate.is_set():
                self.held_auths += 1
                await self._notify()
                await gate.wait()  # this connection's frames wait too, as behind a dead link
            if f.body.get("bot_id") != self.bot_id or f.body.get("secret") != self.secret:
                self.auth_failures += 1
                await self._ack(ws, f, ERR_AUTH, "invalid bot_id or secret")
                await ws.close()
                return
            await self._ack(ws, f)
            self._authed.set()
            return
        if f.cmd == "ping":
            await self._ack(ws, f)
            return
        if not self._authed.is_set():
            await self._ack(ws, f, ERR_INVALID, "not subscribed")
            return
        if self._drop_on is not None and f.cmd == self._drop_on:
            self._drop_on = None
            f.errmsg = "dropped"
            ws.transport.abort()
            return
        if f.cmd == "aibot_respond_welcome_msg":
            seen = self._welcome.get(f.req_id)
            if seen is None or self.clock() - seen > UPDATE_WINDOW_SECONDS:
                await self._ack(ws, f, ERR_INVALID, "welcome needs an enter_chat req_id, within 5 s")
            elif f.body.get("msgtype") not in ("text", "template_card"):
                await self._ack(ws, f, ERR_INVALID, "welcome is text or template_card")
            else:
                await self._ack(ws, f)
            return
        if f.cmd in COUNTED or f.cmd == "aibot_respond_update_msg":
            if self._faults and f.cmd in COUNTED:
                code = self._faults.popleft()
                await self._ack(ws, f, code, "injected fault")
                return
            err = self._validate(f)
            if err is not None:
                await self._ack(ws, f, *err)
                return
            await self._ack(ws, f)
            if f.cmd == "aibot_respond_update_msg":
                card = f.body["template_card"]
                self._cards[card.get("task_id", "")] = card
            elif f.body.get("msgtype") == "template_card":
                card = f.body["template_card"]
                self._cards[card.get("task_id", "")] = card
            return
        await self._ack(ws, f, ERR_INVALID, f"unknown cmd {f.cmd!r}")

    # --- WeCom's rules -------------------------------------------------------------------------------

    def _chat_of(self, f: Frame) -> str:
        if f.cmd == "aibot_send_msg":
            return f.chatid
        origin = self._origin.get(f.req_id, "")
        return origin

    def _validate(self, f: Frame) -> tuple[int, str] | None:
        b = f.body
        if f.cmd == "aibot_respond_update_msg":
            seen = self._card_events.get(f.req_id)
            if seen is None:
                return ERR_INVALID, "update needs a template_card_event req_id"
            if self.clock() - seen[0] > UPDATE_WINDOW_SECONDS:
                return ERR_INVALID, "card update later than 5 s"
            if b.get("response_type") != "update_template_card":
                return ERR_INVALID, "response_type must be update_template_card"
            if b.get("template_card", {}).get("task_id") != seen[1]:
                return ERR_INVALID, "task_id differs from the event's"
            return self._check_card(b.get("template_card"))
        if f.cmd == "aibot_respond_msg" and f.req_id not in self._origin:
            return ERR_INVALID, "req_id of no callback"
        if f.cmd == "aibot_send_msg":
            if not f.chatid:
                return ERR_INVALID, "chatid missing"
            if f.chatid not in self.talked:
                return ERR_NO_CHAT, "no one has messaged the bot in this chat"
        mt = b.get("msgtype")
        if mt == "markdown":
            content = b.get("markdown", {}).get("content", "")
        elif mt == "stream":
            content = b.get("stream", {}).get("content", "")
            if not b.get("stream", {}).get("id"):
                return ERR_INVALID, "stream.id missing"
        elif mt == "template_card":
            if f.cmd == "aibot_send_msg" and self._is_group(f.chatid) and b["template_card"].get("button_list"):
                return ERR_INVALID, "no buttons in a message pushed to a group"
            return self._check_card(b.get("template_card")) or self._rate(self._chat_of(f))
        else:
            return ERR_INVALID, f"msgtype {mt!r} not supported here"
        if not content:
            return ERR_INVALID, "empty content"
        if len(content.encode("utf-8")) > MAX_MARKDOWN_BYTES:
            return ERR_INVALID, "content over 20480 bytes"
        return self._rate(self._chat_of(f))

    def _check_card(self, card: dict[str, Any] | None) -> tuple[int, str] | None:
        if not card or card.get("card_type") != "button_interaction":
            return ERR_INVALID, "card_type must be button_interaction"
        if not card.get("task_id") or len(card["task_id"].encode()) > 128:
            return ERR_INVALID, "task_id missing or too long"
        buttons = card.get("button_list", [])
        if len(buttons) > MAX_BUTTONS:
            return ERR_INVALID, "more than 6 buttons"
        keys = [b.get("key", "") for b in buttons]
        if any(not k or len(k.encode()) > MAX_KEY_BYTES for k in keys) or len(set(keys)) != len(keys):
            return ERR_INVALID, "button key missing, duplicated or over 1024 bytes"
        if not card.get("main_title", {}).get("title"):
            return ERR_INVALID, "main_title.title missing"
        return None

    def _rate(self, chat: str) -> tuple[int, str] | None:
        if not self.limits:
            return None
        now = self.clock()
        sent = self._sent[chat]
        while sent and now - sent[0] >= 3600:
            sent.popleft()
        last_minute = sum(1 for t in sent if now - t < 60)
        if last_minute >= PER_MINUTE or len(sent) >= PER_HOUR:
            return ERR_RATE, "api freq out of limit"
        sent.append(now)
        return None

    def _is_group(self, chatid: str) -> bool:
        return chatid in self._groups

    # --- driving the bot -------------------------------------------------------------------------------

    async def _push(self, cmd: str, body: dict[str, Any]) -> Frame:
        await self.wait_connected()
        assert self._ws is not None
        req_id = f"{cmd}_{next(self._ids)}"
        frame = Frame("out", {"cmd": cmd, "headers": {"req_id": req_id}, "body": body}, conn=self.connections)
        self.frames.append(frame)
        await self._ws.send(json.dumps(frame.data))
        await self._notify()
        return frame

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._authed.wait(), timeout)

    def _base(self, userid: str, chatid: str | None, msgid: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "msgid": msgid or f"msg{next(self._ids)}",
            "aibotid": self.bot_id,
            "chattype": "group" if chatid else "single",
            "from": {"userid": userid},
        }
        if chatid:
            body["chatid"] = chatid
            self._groups.add(chatid)
        return body

    async def message(self, text: str, *, userid: str = "zhangsan", chatid: str | None = None,
                      msgid: str | None = None, mention: str = "工会助手", mixed: bool = False) -> Frame:
        """A member's text: in a group (`chatid`) it @-mentions the bot first, as WeCom only delivers those."""
        body = self._base(userid, chatid, msgid)
        content = f"@{mention} {text}" if chatid else text
        if mixed:
            body["msgtype"] = "mixed"
            body["mixed"] = {"msg_item": [{"msgtype": "text", "text": {"content": content}},
                                          {"msgtype": "image", "image": {"url": "https://127.0.0.1/x.png"}}]}
        else:
            body["msgtype"] = "text"
            body["text"] = {"content": content}
        self.talked.add(chatid or userid)
        frame = await self._push("aibot_msg_callback", body)
        self._origin[frame.req_id] = chatid or userid
        return frame

    async def redeliver(self, frame: Frame) -> Frame:
        """WeCom may deliver a message twice: the same body (msgid) under a new req_id."""
        again = await self._push(frame.cmd, frame.body)
        self._origin[again.req_id] = self._origin.get(frame.req_id, "")
        return again

    async def click(self, key: str, task_id: str, *, userid: str = "zhangsan", chatid: str | None = None) -> Frame:
        """A member presses a card button."""
        body = self._base(userid, chatid, None)
        body["msgtype"] = "event"
        body["create_time"] = int(time.time())
        body["event"] = {"eventtype": "template_card_event", "template_card_event": {
            "card_type": "button_interaction", "event_key": key, "task_id": task_id}}
        frame = await self._push("aibot_event_callback", body)
        self._card_events[frame.req_id] = (self.clock(), task_id)
        self._origin[frame.req_id] = chatid or userid
        return frame

    async def enter_chat(self, userid: str = "zhangsan") -> Frame:
        body = self._base(userid, None, None)
        body["msgtype"] = "event"
        body["event"] = {"eventtype": "enter_chat", "enter_chat": {}}
        frame = await self._push("aibot_event_callback", body)
        self._welcome[frame.req_id] = self.clock()
        return frame

    async def kick(self) -> None:
        """Another process took over the bot: disconnected_event, then the connection closes."""
        body = {"msgid": f"msg{next(self._ids)}", "aibotid": self.bot_id, "create_time": int(time.time()),
                "msgtype": "event", "event": {"eventtype": "disconnected_event", "disconnected_event": {}}}
        await self._push("aibot_event_callback", body)
        if self._ws is not None:
            await self._ws.close()

    async def drop(self, clean: bool = False) -> None:
        """Lose the connection now, as a network failure does (no close frame), or with a close frame
        (`clean`, as a server restart does); the bot should reconnect either way."""
        if self._ws is not None:
            if clean:
                await self._ws.close()
            else:
                self._ws.transport.abort()

    def drop_on_next(self, cmd: str) -> None:
        """Close the connection when the next `cmd` frame arrives, without processing it."""
        self._drop_on = cmd

    def hold_auth(self) -> None:
        """Leave every new connection's subscribe frame unanswered until `release_auth`: the bot stays without a
        usable connection (a lost link that does not come back), so its sends wait for a reconnect."""
        self._auth_gate = asyncio.Event()

    def release_auth(self) -> None:
        """Answer the held subscribe frames (and accept new ones at once) again."""
        if self._auth_gate is not None:
            self._auth_gate.set()
        self._auth_gate = None

    def fail_next(self, errcode: int = ERR_RATE, n: int = 1) -> None:
        """Answer the next `n` respond/send frames with `errcode` (e.g. 45009) without delivering them."""
        self._faults.extend([errcode] * n)

    # --- inspecting -------------------------------------------------------------------------------------

    def find(self, cmd: str, *, since: int = 0, ok: bool | None = True, chatid: str | None = None,
             req_id: str | None = None) -> list[Frame]:
        return [
            f for f in self.frames[since:]
            if f.direction == "in" and f.cmd == cmd and (ok is None or f.ok == ok)
            and (chatid is None or f.chatid == chatid) and (req_id is None or f.req_id == req_id)
        ]

    def delivered(self, since: int = 0) -> list[Frame]:
        """Every message a member saw (replies, pushes, card updates), in order."""
        return [f for f in self.frames[since:] if f.direction == "in" and f.ok
                and f.cmd in (*COUNTED, "aibot_respond_update_msg", "aibot_respond_welcome_msg")]

    def texts(self, since: int = 0) -> list[str]:
        return [f.content for f in self.delivered(since)]

    async def wait_for(self, cmd: str, count: int = 1, *, timeout: float = 10.0, since: int = 0,
                       ok: bool | None = True, **match: Any) -> list[Frame]:
        """Wait until `count` matching bot frames were answered; return the first `count`."""
        assert self._cond is not None

        def enough() -> bool:
            return len(self.find(cmd, since=since, ok=ok, **match)) >= count

        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(enough), timeout)
            except TimeoutError:
                seen = "\n  ".join(repr(f) for f in self.frames[since:] if f.cmd != "ping")
                raise AssertionError(f"timed out waiting for {count} x {cmd} {match}; frames:\n  {seen}") from None
        return self.find(cmd, since=since, ok=ok, **match)[:count]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait (event-driven) until `predicate()` holds after some frame or connection change."""
        assert self._cond is not None
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out; frames: {self.frames[-10:]}") from None

    def card(self, task_id: str) -> dict[str, Any]:
        return self._cards[task_id]

    def last_card(self, since: int = 0) -> dict[str, Any]:
        for f in reversed(self.delivered(since)):
            card = f.body.get("template_card")
            if card:
                return card
        raise AssertionError("no card delivered")

