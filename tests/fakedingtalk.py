"""A fake DingTalk (钉钉) for the Stream-mode robot: plain HTTP and WebSocket (aiohttp) on 127.0.0.1.

It serves what the adapter and DingTalk's SDK `dingtalk-stream` use:

* `POST /v1.0/gateway/connections/open` (clientId, clientSecret, subscriptions) -> {endpoint, ticket}; a ticket
  is single-use and lasts 90 s; a wrong secret gets 401 {"code": "authFailed"}.
* `GET /connect?ticket=…`: the Stream WebSocket. The fake sends SYSTEM `ping` frames that must be acked with
  their `opaque` (a connection that leaves one unanswered for `ping_timeout` is closed as dead), CALLBACK frames
  (topic /v1.0/im/bot/messages/get: a member's message) and a SYSTEM `disconnect` frame; it records every
  frame and ack.
* `POST /v1.0/oauth2/accessToken` (appKey, appSecret) -> {accessToken, expireIn}; a wrong secret gets 400
  {"code": "invalidClientIdOrSecret"}. Tokens expire; a send with a bad one gets 401 InvalidAuthentication.
* `POST /robot/sendBySession?session=…`: a message's sessionWebhook (markdown / text). It lives 90 minutes; every
  error is HTTP 200 with an errcode: 300001 session gone, 660026 too many a minute, 460101 body over 20,000
  bytes (the body as JSON with non-ASCII escaped, about 6 bytes a Chinese character).
* `POST /v1.0/robot/groupMessages/send` (robotCode, openConversationId, msgKey, msgParam <= 15,000 bytes, counted
  the same way) and `POST /v1.0/robot/oToMessages/batchSend` (<= 20 userIds; users it flow-controls come back
  in flowControlledStaffIdList and were NOT delivered; unknown ones in invalidStaffIdList).

Limits, when `limits` is on: 20 messages a minute per conversation (webhook replies and OpenAPI sends together;
the real DingTalk then throttles the conversation for 10 minutes: so does the fake) and 20 calls a second per
API (403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi). Over-limit refusals are recorded, so a test can
assert there were none. The real API's answer to a group send over the conversation limit is not documented:
the fake answers 403 with a code of its own (`FakeConversationThrottled`).

Faults: `drop()` (the connection dies without a close frame), `disconnect()` (a disconnect frame, the old
connection closed a moment later), `fail_next("qps"|"throttle"|"flow", n)`, `expire_sessions()`, and a changed
`client_secret` (a revoked secret). Every HTTP call is recorded (`calls`); `wait_for` / `wait_until` wait on them,
event-driven. Each delivered message is in `deliveries` (what members saw, per conversation).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOPIC = "/v1.0/im/bot/messages/get"
PER_MINUTE = 20
API_PER_SECOND = 20
THROTTLE_SECONDS = 600
MAX_WEBHOOK_BYTES = 20000
MAX_MSG_PARAM_BYTES = 15000
MAX_USERS = 20
TICKET_SECONDS = 90
SESSION_SECONDS = 90 * 60
ERR_SESSION_GONE = 300001
ERR_TOO_MANY = 660026
ERR_TOO_BIG = 460101
QPS_LIMIT = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
CONVERSATION_THROTTLED = "FakeConversationThrottled"


def escaped_size(obj: Any) -> int:
    """Bytes of `obj` as JSON with non-ASCII escaped (how the limits are counted)."""
    return len(json.dumps(obj, ensure_ascii=True))


@dataclass
class Call:
    """One HTTP call the bot made, and the fake's answer."""

    kind: str  # oauth | gateway | webhook | group | batch
    body: dict[str, Any]
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    session: str = ""
    conversation: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.answer.get("errcode", 0) == 0

    @property
    def code(self) -> str:
        return str(self.answer.get("code") or self.answer.get("errcode") or "")

    @property
    def refused_for_limits(self) -> bool:
        return self.answer.get("errcode") == ERR_TOO_MANY or self.code in (QPS_LIMIT, CONVERSATION_THROTTLED)

    def __repr__(self) -> str:
        return f"<{self.kind} {self.status} {self.code or 'ok'} {self.conversation} {json.dumps(self.body)[:80]}>"


@dataclass
class Delivery:
    """A message a conversation received (a group's openConversationId, or a member's staffId)."""

    conversation: str
    title: str
    text: str
    via: str  # webhook | group | batch
    at: float = field(default_factory=time.monotonic)
    call: Call | None = None


@dataclass
class Session:
    conversation: str
    group: bool
    user: str
    expires: float


@dataclass
class Sent:
    """A member's message, as pushed to the bot: its msgId, its frame's messageId and its sessionWebhook."""

    msg_id: str
    frame_id: str
    session: str
    conversation: str
    payload: dict[str, Any]


@dataclass
class WsFrame:
    direction: str  # out (fake -> bot) | in (bot -> fake: acks)
    data: dict[str, Any]
    conn: int
    at: float = field(default_factory=time.monotonic)


class FakeDingTalk:
    """`async with FakeDingTalk(client_id, client_secret) as dt:`; point `[dingtalk] endpoint` at `dt.url`."""

    def __init__(self, client_id: str = "dingtestapp", client_secret: str = "test-secret", *,
                 robot_code: str | None = None, limits: bool = True, token_life: int = 7200,
                 ping_every: float | None = 1.0, ping_timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.robot_code = robot_code or client_id
        self.limits = limits
        self.token_life = token_life
        self.ping_every = ping_every
        self.ping_timeout = ping_timeout
        self.clock = clock
        self.url = ""
        self.calls: list[Call] = []
        self.frames: list[WsFrame] = []
        self.deliveries: list[Delivery] = []
        self.acks: dict[str, int] = {}  # CALLBACK frame messageId -> ack code
        self.pings_sent = 0
        self.pings_acked = 0
        self.connections = 0
        self.auth_failures = 0
        self.groups: set[str] = set()  # conversations the robot is in
        self.unknown_users: set[str] = set()
        self._tickets: dict[str, tuple[float, bool]] = {}
        self._tokens: dict[str, float] = {}
        self._sessions: dict[str, Session] = {}
        self._pending_pings: dict[str, str] = {}  # ping messageId -> opaque
        self._ping_times: dict[str, float] = {}  # ping messageId -> when sent (unanswered ones)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._throttled: dict[str, float] = {}
        self._api_calls: dict[str, deque[float]] = defaultdict(deque)
        self._faults: dict[str, int] = defaultdict(int)
        self._ws: web.WebSocketResponse | None = None
        self._conns: dict[int, web.WebSocketResponse] = {}
        self._ids = itertools.count(1)
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._closers: set[asyncio.Task[Any]] = set()
        #: Called with (kind, body) when a robot OpenAPI send arrives, before anything else; returning False makes
        #: the fake answer 503 without delivering (tests use it to take a kill -9 image at that moment).
        self.on_send: Callable[[str, dict[str, Any]], Awaitable[bool]] | None = None

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDingTalk:
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=2**22)
        app.router.add_post("/v1.0/gateway/connections/open", self._gateway)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/v1.0/oauth2/accessToken", self._oauth)
        app.router.add_post("/robot/sendBySession", self._webhook)
        app.router.add_post("/v1.0/robot/groupMessages/send", self._group_send)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._batch_send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        if self.ping_every:
            self._pinger = asyncio.ensure_future(self._ping_loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        for ws in list(self._conns.values()):
            with contextlib.suppress(Exception):
                await ws.close()
        for t in list(self._closers):
            t.cancel()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _notify(self) -> None:
        assert self._cond is not None
        async with self._cond:
            self._cond.notify_all()

    def _record(self, call: Call) -> web.Response:
        self.calls.append(call)
        asyncio.ensure_future(self._notify())
        return web.json_response(call.answer, status=call.status)

    # --- gateway and the Stream WebSocket ---------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.Response:
        body = await _body(request)
        call = Call("gateway", {k: v for k, v in body.items() if k != "clientSecret"})
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            self.auth_failures += 1
            call.status, call.answer = 401, {"code": "authFailed", "message": "clientId or clientSecret is invalid"}
            return self._record(call)
        subs = body.get("subscriptions") or []
        if not any(s.get("type") == "CALLBACK" and s.get("topic") == TOPIC for s in subs):
            call.status, call.answer = 400, {"code": "invalidParameter", "message": "no robot topic subscribed"}
            return self._record(call)
        ticket = uuid.uuid4().hex
        self._tickets[ticket] = (self.clock() + TICKET_SECONDS, False)
        call.answer = {"endpoint": self.url.replace("http://", "ws://") + "/connect", "ticket": ticket}
        return self._record(call)

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        entry = self._tickets.get(ticket)
        if entry is None or entry[1] or entry[0] < self.clock():
            return web.json_response({"code": "invalidTicket"}, status=401)
        self._tickets[ticket] = (entry[0], True)  # single use
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=2**22)
        await ws.prepare(request)
        self.connections += 1
        conn = self.connections
        self._conns[conn] = ws
        self._ws = ws
        await self._notify()
        try:
            async for m in ws:
                if m.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(m.data)
                except ValueError:
                    continue
                self.frames.append(WsFrame("in", data, conn))
                self._on_ack(data)
                await self._notify()
        finally:
            self._conns.pop(conn, None)
            if self._ws is ws:
                self._ws = None
            await self._notify()
        return ws

    def _on_ack(self, data: dict[str, Any]) -> None:
        mid = str((data.get("headers") or {}).get("messageId", ""))
        if mid in self._pending_pings:
            try:
                opaque = json.loads(data.get("data") or "{}").get("opaque")
            except ValueError:
                opaque = None
            if opaque == self._pending_pings[mid] and data.get("code") == 200:
                del self._pending_pings[mid]
                self._ping_times.pop(mid, None)
                self.pings_acked += 1
            return
        if mid:
            self.acks[mid] = int(data.get("code") or 0)

    async def _send_frame(self, type_: str, topic: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None,
                          ) -> str:
        ws = ws or await self._current()
        mid = f"{type_.lower()}-{next(self._ids)}-{uuid.uuid4().hex[:8]}"
        frame = {"specVersion": "1.0", "type": type_,
                 "headers": {"appId": self.client_id, "connectionId": f"conn{self.connections}",
                             "contentType": "application/json", "messageId": mid,
                             "time": str(int(time.time() * 1000)), "topic": topic},
                 "data": json.dumps(data, ensure_ascii=False)}
        conn = next((c for c, w in self._conns.items() if w is ws), 0)
        self.frames.append(WsFrame("out", frame, conn))
        await ws.send_str(json.dumps(frame, ensure_ascii=False))
        await self._notify()
        return mid

    async def _current(self, timeout: float = 10.0) -> web.WebSocketResponse:
        await self.wait_connected(timeout)
        assert self._ws is not None
        return self._ws

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await self.wait_until(lambda: self._ws is not None and not self._ws.closed, timeout)

    async def _ping_loop(self) -> None:
        assert self.ping_every is not None
        while True:
            await asyncio.sleep(self.ping_every)
            now = self.clock()
            if self._ws is not None and any(now - t > self.ping_timeout for t in self._ping_times.values()):
                self._pending_pings.clear()
                self._ping_times.clear()
                with contextlib.suppress(Exception):
                    await self._ws.close()  # a client that does not answer pings is gone
                continue
            if self._ws is not None and not self._ws.closed:
                with contextlib.suppress(Exception):
                    await self.ping()

    async def ping(self) -> str:
        """A SYSTEM ping; the bot must ack it with the same opaque."""
        opaque = uuid.uuid4().hex
        ws = await self._current()
        mid = f"ping-{next(self._ids)}"
        self._pending_pings[mid] = opaque
        self._ping_times[mid] = self.clock()
        frame = {"specVersion": "1.0", "type": "SYSTEM",
                 "headers": {"contentType": "application/json", "messageId": mid, "time": str(int(time.time() * 1000)),
                             "topic": "ping"},
                 "data": json.dumps({"opaque": opaque})}
        self.frames.append(WsFrame("out", frame, self.connections))
        self.pings_sent += 1
        await ws.send_str(json.dumps(frame))
        return mid

    def ping_acked(self, mid: str) -> bool:
        return mid not in self._pending_pings

    # --- driving the bot ----------------------------------------------------------------------------------------

    async def message(self, text: str = "", *, user: str = "zhangsan", nick: str = "张三",
                      conversation: str | None = None, title: str = "工会群", is_admin: bool = False,
                      msg_id: str | None = None, msgtype: str = "text", rich: list[dict[str, Any]] | None = None,
                      session_life: float = SESSION_SECONDS, session_gone: bool = False) -> Sent:
        """A member's message: in a group (`conversation`, an openConversationId) it @-mentioned the robot, and
        DingTalk cut the mention, leaving a leading space. `session_life`: how long its sessionWebhook lives (as the
        payload says); `session_gone`: the webhook is gone already although the payload says it lives (300001)."""
        session = uuid.uuid4().hex
        group = conversation is not None
        key = conversation if group else user
        assert key is not None
        self._sessions[session] = Session(key, group, user, self.clock() + (-1 if session_gone else session_life))
        if group:
            self.groups.add(key)
        payload: dict[str, Any] = {
            "conversationId": key if group else f"cidSingle{user}", "chatbotCorpId": "dingcorp",
            "chatbotUserId": "$:LWCP_v1:$robot", "msgId": msg_id or f"msg{next(self._ids)}{uuid.uuid4().hex[:6]}",
            "senderNick": nick, "isAdmin": is_admin, "senderStaffId": user,
            "sessionWebhookExpiredTime": int(time.time() * 1000 + session_life * 1000),
            "createAt": int(time.time() * 1000), "senderCorpId": "dingcorp",
            "conversationType": "2" if group else "1", "senderId": f"$:LWCP_v1:${user}",
            "sessionWebhook": f"{self.url}/robot/sendBySession?session={session}", "robotCode": self.robot_code,
            "msgtype": msgtype,
        }
        if group:
            payload["conversationTitle"] = title
            payload["isInAtList"] = True
        if msgtype == "text":
            payload["text"] = {"content": (" " + text) if group else text}
        elif msgtype == "richText":
            payload["content"] = {"richText": rich or [{"text": text}]}
        else:
            payload["content"] = {"downloadCode": "dl-code"}
        frame_id = await self._send_frame("CALLBACK", TOPIC, payload)
        return Sent(payload["msgId"], frame_id, session, key, payload)

    async def redeliver(self, sent: Sent) -> str:
        """DingTalk delivers again when it saw no ack: the same payload (msgId) in a new frame."""
        return await self._send_frame("CALLBACK", TOPIC, sent.payload)

    async def disconnect(self, close_after: float = 0.3) -> None:
        """A SYSTEM disconnect frame; the old connection is closed `close_after` seconds later."""
        ws = await self._current()
        await self._send_frame("SYSTEM", "disconnect", {"reason": "server restart"}, ws=ws)

        async def close_later() -> None:
            await asyncio.sleep(close_after)
            with contextlib.suppress(Exception):
                await ws.close()

        task = asyncio.ensure_future(close_later())
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def drop(self) -> None:
        """The connection dies without a close frame (a network failure)."""
        if self._ws is not None:
            transport = self._ws._req.transport if self._ws._req is not None else None  # type: ignore[attr-defined]
            if transport is not None:
                transport.abort()
            self._ws = None
            await self._notify()

    def fail_next(self, kind: str, n: int = 1) -> None:
        """The next n: "qps" -> 403 QpsLimit on an OpenAPI send; "throttle" -> 660026 on a webhook reply;
        "flow" -> users of batchSend flow-controlled (not delivered)."""
        assert kind in ("qps", "throttle", "flow")
        self._faults[kind] += n

    def expire_sessions(self) -> None:
        """Every sessionWebhook so far is gone (300001), although the bot's copy says it still lives."""
        for s in self._sessions.values():
            s.expires = self.clock() - 1

    def add_group(self, conversation: str) -> None:
        """The robot is in this group (it may push there)."""
        self.groups.add(conversation)

    # --- OAuth -----------------------------------------------------------------------------------------------------

    async def _oauth(self, request: web.Request) -> web.Response:
        body = await _body(request)
        call = Call("oauth", {"appKey": body.get("appKey")})
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.client_secret:
            self.auth_failures += 1
            call.status = 400
            call.answer = {"code": "invalidClientIdOrSecret", "message": "无效的clientId或clientSecret",
                           "requestid": uuid.uuid4().hex}
            return self._record(call)
        token = f"tok{next(self._ids)}{uuid.uuid4().hex[:8]}"
        self._tokens[token] = self.clock() + self.token_life
        call.answer = {"accessToken": token, "expireIn": self.token_life}
        return self._record(call)

    @property
    def tokens_issued(self) -> int:
        return len(self._tokens)

    # --- sending -----------------------------------------------------------------------------------------------------

    def _conversation_full(self, conversation: str) -> bool:
        """Count one message to `conversation`; True if over 20 a minute (then throttled for 10 minutes)."""
        if not self.limits:
            return False
        now = self.clock()
        if self._throttled.get(conversation, 0) > now:
            return True
        sent = self._sent[conversation]
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= PER_MINUTE:
            self._throttled[conversation] = now + THROTTLE_SECONDS
            return True
        sent.append(now)
        return False

    def _api_full(self, api: str) -> bool:
        if self._faults["qps"]:
            self._faults["qps"] -= 1
            return True
        if not self.limits:
            return False
        now = self.clock()
        calls = self._api_calls[api]
        while calls and now - calls[0] >= 1.0:
            calls.popleft()
        if len(calls) >= API_PER_SECOND:
            return True
        calls.append(now)
        return False

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await _body(request)
        sid = request.query.get("session", "")
        session = self._sessions.get(sid)
        call = Call("webhook", body, session=sid, conversation=session.conversation if session else "")
        if session is None or session.expires < self.clock():
            call.answer = {"errcode": ERR_SESSION_GONE, "errmsg": "session不存在或已过期"}
            return self._record(call)
        if self._faults["throttle"]:
            self._faults["throttle"] -= 1
            call.answer = {"errcode": ERR_TOO_MANY, "errmsg": "发送速度太快而限流"}
            return self._record(call)
        if escaped_size(body) > MAX_WEBHOOK_BYTES:
            call.answer = {"errcode": ERR_TOO_BIG, "errmsg": "消息体过大"}
            return self._record(call)
        title, text, err = _content(body.get("msgtype"), body)
        if err:
            call.answer = {"errcode": 40035, "errmsg": err}
            return self._record(call)
        if self._conversation_full(session.conversation):
            call.answer = {"errcode": ERR_TOO_MANY, "errmsg": "发送速度太快而限流"}
            return self._record(call)
        call.answer = {"errcode": 0, "errmsg": "ok"}
        self.deliveries.append(Delivery(session.conversation, title, text, "webhook", call=call))
        return self._record(call)

    def _openapi_check(self, request: web.Request, api: str, body: dict[str, Any], call: Call) -> bool:
        """Token, QPS, robotCode and msgParam; False (answer set) when refused."""
        token = request.headers.get("x-acs-dingtalk-access-token", "")
        if self._tokens.get(token, 0) < self.clock():
            call.status, call.answer = 401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
            return False
        if self._api_full(api):
            call.status, call.answer = 403, {"code": QPS_LIMIT, "message": "调用频率超限"}
            return False
        if body.get("robotCode") != self.robot_code:
            call.status, call.answer = 400, {"code": "invalidParameter.robotCode", "message": "robot 不存在"}
            return False
        try:
            param = json.loads(body.get("msgParam") or "")
        except ValueError:
            param = None
        if not isinstance(param, dict):
            call.status, call.answer = 400, {"code": "invalidParameter.msgParam", "message": "msgParam 不是 JSON"}
            return False
        if escaped_size(param) > MAX_MSG_PARAM_BYTES:
            call.status, call.answer = 400, {"code": "invalidParameter.msgParam.length", "message": "msgParam 过长"}
            return False
        kind = {"sampleMarkdown": "markdown", "sampleText": "text"}.get(str(body.get("msgKey")))
        _title, _text, err = _content(kind, {"markdown": param, "text": param} if kind else {})
        if err:
            call.status, call.answer = 400, {"code": "invalidParameter.msgKey", "message": err}
            return False
        return True

    async def _group_send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        cid = str(body.get("openConversationId") or "")
        call = Call("group", body, conversation=cid)
        if self.on_send is not None and not await self.on_send("group", body):
            call.status, call.answer = 503, {"code": "lost"}
            return self._record(call)
        if not self._openapi_check(request, "group", body, call):
            return self._record(call)
        if cid not in self.groups:
            call.status, call.answer = 400, {"code": "resource.not.found", "message": "机器人不在该群"}
            return self._record(call)
        if self._conversation_full(cid):
            call.status, call.answer = 403, {"code": CONVERSATION_THROTTLED, "message": "会话发送超限"}
            return self._record(call)
        param = json.loads(body["msgParam"])
        call.answer = {"processQueryKey": uuid.uuid4().hex}
        self.deliveries.append(Delivery(cid, param.get("title", ""), param.get("text", param.get("content", "")),
                                        "group", call=call))
        return self._record(call)

    async def _batch_send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        users = body.get("userIds")
        call = Call("batch", body)
        if self.on_send is not None and not await self.on_send("batch", body):
            call.status, call.answer = 503, {"code": "lost"}
            return self._record(call)
        if not self._openapi_check(request, "batch", body, call):
            return self._record(call)
        if not isinstance(users, list) or not 1 <= len(users) <= MAX_USERS or len(set(users)) != len(users):
            call.status, call.answer = 400, {"code": "invalidParameter.userIds", "message": "userIds: 1-20 个"}
            return self._record(call)
        param = json.loads(body["msgParam"])
        flow: list[str] = []
        invalid: list[str] = []
        for u in users:
            if u in self.unknown_users:
                invalid.append(u)
            elif self._faults["flow"] or self._conversation_full(u):
                if self._faults["flow"]:
                    self._faults["flow"] -= 1
                flow.append(u)
            else:
                self.deliveries.append(Delivery(u, param.get("title", ""), param.get("text", param.get("content", "")),
                                                "batch", call=call))
        call.answer = {"processQueryKey": uuid.uuid4().hex, "invalidStaffIdList": invalid,
                       "flowControlledStaffIdList": flow}
        return self._record(call)

    # --- inspecting ---------------------------------------------------------------------------------------------

    def find(self, kind: str | None = None, *, since: int = 0, ok: bool | None = True, session: str | None = None,
             conversation: str | None = None) -> list[Call]:
        return [c for c in self.calls[since:]
                if (kind is None or c.kind == kind) and (ok is None or c.ok == ok)
                and (session is None or c.session == session)
                and (conversation is None or c.conversation == conversation)]

    def delivered(self, conversation: str | None = None, since: int = 0, via: str | None = None) -> list[Delivery]:
        """Messages members saw, in order (`since`: an index into `deliveries`)."""
        return [d for d in self.deliveries[since:]
                if (conversation is None or d.conversation == conversation) and (via is None or d.via == via)]

    def texts(self, conversation: str | None = None, since: int = 0) -> list[str]:
        return [d.text for d in self.delivered(conversation, since)]

    def refusals(self) -> list[Call]:
        """Sends refused for DingTalk's limits or sizes (the adapter should cause none)."""
        return [c for c in self.calls if c.kind in ("webhook", "group", "batch")
                and (c.refused_for_limits or c.answer.get("errcode") == ERR_TOO_BIG
                     or c.code.startswith("invalidParameter") or c.code == "resource.not.found")]

    def replies_to(self, sent: Sent) -> list[Delivery]:
        """What the bot answered to one message through its sessionWebhook."""
        return [d for d in self.deliveries
                if d.via == "webhook" and d.call is not None and d.call.session == sent.session]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        assert self._cond is not None
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
            except TimeoutError:
                recent = "\n  ".join(repr(c) for c in self.calls[-12:])
                raise AssertionError(f"timed out; last calls:\n  {recent}") from None

    async def wait_replies(self, sent: Sent, n: int = 1, timeout: float = 10.0) -> list[Delivery]:
        """Wait until the bot answered `sent` with `n` messages (through its sessionWebhook)."""
        await self.wait_until(lambda: len(self.replies_to(sent)) >= n, timeout)
        return self.replies_to(sent)[:n]

    async def wait_delivered(self, conversation: str, n: int = 1, *, since: int = 0, via: str | None = None,
                             timeout: float = 10.0) -> list[Delivery]:
        await self.wait_until(lambda: len(self.delivered(conversation, since, via)) >= n, timeout)
        return self.delivered(conversation, since, via)[:n]

    async def wait_ack(self, sent: Sent | str, timeout: float = 10.0) -> int:
        mid = sent.frame_id if isinstance(sent, Sent) else sent
        await self.wait_until(lambda: mid in self.acks, timeout)
        return self.acks[mid]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _content(kind: Any, body: dict[str, Any]) -> tuple[str, str, str]:
    """(title, text, error) of a markdown or text message body."""
    if kind == "markdown":
        md = body.get("markdown") or {}
        title, text = str(md.get("title") or ""), str(md.get("text") or "")
        if not title or not text:
            return "", "", "markdown needs title and text"
        return title, text, ""
    if kind == "text":
        content = str((body.get("text") or {}).get("content") or "")
        return ("", content, "") if content else ("", "", "text needs content")
    return "", "", f"msgtype {kind!r} not supported here"
