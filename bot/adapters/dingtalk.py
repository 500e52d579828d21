"""DingTalk (钉钉) adapter: a 企业内部应用's robot in Stream mode, on DingTalk's SDK `dingtalk-stream`.

Incoming: the robot's CALLBACK frames (topic /v1.0/im/bot/messages/get) over the Stream WebSocket, parsed and
acknowledged by the SDK's own frame classes and handler (`ChatbotHandler`, `ChatbotMessage`, `route_message`):
single chats (conversationType "1") and group messages that @-mention the robot ("2"; DingTalk cuts the
mention and leaves a leading space). Text and the text of rich-text messages (and a voice message's
recognised text) are read; de-duplicated by msgId. A frame is acknowledged once it is queued
(bot/adapters/chatqueue.py: one chat in order, chats concurrently); on stop no new frame is accepted and every
queued one is handled before the process exits, so nothing acknowledged is lost. Each becomes a core Request
with platform 'dingtalk', chat_id 'dingtalk:<openConversationId>' (groups) or 'dingtalk:<staffId>' (single
chats), user_id 'dingtalk:<staffId>' and the member's senderNick as the name. `isAdmin` (an organisation admin)
is ignored: officers are the configured `[dingtalk] officers` only (an IT administrator is not a union officer).

Outgoing: our own async httpx client, every answer checked. A reply goes through its message's sessionWebhook
(markdown) while that lives; errcode 300001 (session gone) falls back to the robot OpenAPI, 660026 (too many a
minute) is waited out. Pushes and notices always use the OpenAPI: groupMessages/send to a group,
oToMessages/batchSend to members (identical notices within 20 ms share one call of <= 20 userIds; a user in
flowControlledStaffIdList was not delivered and is retried), both `sampleMarkdown` with the
x-acs-dingtalk-access-token of a cached token refreshed before expireIn. Text is rendered by
bot/adapters/render.py (member text escaped; hard line breaks) and cut at paragraphs so every part's JSON
(Chinese escaped, 6 bytes a character) fits the 15,000 bytes of msgParam, hence also the webhook's 20,000.
Buttons: robot messages carry no callback buttons, so in a single chat each becomes a
`dtmd://dingtalkclient/sendMessage?content=<label #token>` link (tapping sends that text as the member's
message, which this adapter turns back into the button press; a stale token gets a clear answer) and, like in a
group (where a tap would not reach the robot: only @-mentions do), a numbered list a typed number answers
(bot/choices.py). No files: `/export` and the `/stats` chart point to the desk.

Limits, kept losslessly: 20 messages a minute per conversation (replies and pushes together, a sliding window
per chat, so one busy chat never delays another; flood sense in bot/flood.py uses the same window) and 20 calls
a second per app and API (a window per API; 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi waited out).

What the SDK makes awkward, and what this module does instead:
* It copies DINGTALK_OPENAPI_ENDPOINT (read once, at import) into module globals and a class attribute.
  `point_sdk(endpoint)` rewrites every copy, so `[dingtalk] endpoint` governs the SDK's own calls as well
  as ours, whenever the SDK was imported.
* `start()` opens the gateway with blocking `requests` (no timeout: it would stall every platform's event
  loop), treats every failure alike (None, then a retry every 10 s forever, so a wrong secret never ends),
  swallows CancelledError (it cannot be stopped), leaves its tasks unreferenced and probes a public address
  for its local IP. So the connection loop is ours (`_stream`): an async gateway open with a timeout (401
  authFailed ends the process with status 2), the SDK's WebSocket protocol and `route_message` for every
  frame (pings acknowledged with their opaque, a disconnect frame closes and we reconnect with a new ticket),
  backoff, and a stop that works. Credentials are checked first through /v1.0/oauth2/accessToken: a refusal
  is one log line and exit status 2.
* Its reply helpers post with blocking `requests` and never look at errcode: we send ourselves.
* It logs every ping with the whole frame (and member text with callbacks): its loggers get only format
  strings, at DEBUG, and its own stderr handlers are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import random
import re
import string
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from bot import choices, flood, texts
from bot.adapters import render
from bot.adapters.chatqueue import ChatQueue
from bot.adapters.common import SeenIds, own_id, subscribed_as_group
from bot.adapters.ratelimit import ChatWindows, SlidingWindow
from bot.commands import dispatch, route
from bot.config import Config, ConfigError
from bot.core import DINGTALK, Button, ChatGone, DeliveryError, DeliveryUncertain, Reply, Request
from bot.services import Services

log = logging.getLogger(__name__)

PREFIX = DINGTALK + ":"
TOPIC = "/v1.0/im/bot/messages/get"
GATEWAY = "/v1.0/gateway/connections/open"
OAUTH = "/v1.0/oauth2/accessToken"
GROUP_SEND = "/v1.0/robot/groupMessages/send"
BATCH_SEND = "/v1.0/robot/oToMessages/batchSend"
#: Messages a minute per conversation (replies and pushes together; DingTalk throttles a chat 10 minutes past it).
PER_MINUTE = 20
#: Calls a second per app and API.
API_PER_SECOND = 20
MARGIN = 1.02
#: msgParam of the robot send APIs, in bytes (the sessionWebhook body may have 20,000): JSON, Chinese escaped.
MSG_PARAM_BYTES = 15000
#: What a part's text may take of it (the rest: its title and the JSON around them).
PART_BYTES = MSG_PARAM_BYTES - 500
TITLE_CHARS = 20
MAX_USERS = 20
BATCH_GATHER_SECONDS = 0.02
ERR_SESSION_GONE = 300001
ERR_TOO_MANY = 660026
ERR_TOO_BIG = 460101
QPS_LIMIT = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
EXIT_AUTH = 2
#: How long one message may wait for throttling, flow control or the network before it is given up.
MAX_WAIT_SECONDS = 900.0
#: On stop, how long queued messages may still be handled (their replies go over HTTP, not the stream).
STOP_GRACE_SECONDS = 60.0
#: The access token is renewed this long before DingTalk's expireIn (or at half its life if that is shorter).
TOKEN_MARGIN_SECONDS = 300
#: A sessionWebhook is not used in its last minute (it may expire on the way).
WEBHOOK_MARGIN_MS = 60_000
HTTP_TIMEOUT = 15.0
BUTTON_TTL_SECONDS = 7 * 86400
BUTTON_KEEP = 20000
RECONNECT_MAX_SECONDS = 30.0
_TAP = re.compile(r"^(?P<label>.*?)\s*#(?P<token>k[0-9a-z]{3,16})$", re.S)


class AuthRejected(ConfigError):
    """DingTalk refused the client_id / client_secret (run.py prints it as one line and exits with status 2)."""

    def __init__(self, code: str = "?") -> None:
        super().__init__(texts.config_error("[dingtalk] client_id / client_secret", texts.cfg_dingtalk_rejected(code)))
        self.code = code


class _Transient(Exception):
    """A call that did not get through (connection refused, 502-504): safe to try again."""


def chat_key(chat_id: Any) -> str:
    """'dingtalk:<id>' -> '<id>' (an openConversationId for a group, a staffId for a single chat)."""
    return own_id(chat_id, PREFIX)


# --- the SDK: pointed at the endpoint, kept quiet -----------------------------------------------------------


def point_sdk(endpoint: str) -> None:
    """Make `endpoint` the base of every call the SDK makes itself (see the module docstring)."""
    import dingtalk_stream  # noqa: F401 - loads every module that copies the endpoint
    from dingtalk_stream import stream

    for name, module in list(sys.modules.items()):
        if name.startswith("dingtalk_stream") and hasattr(module, "DINGTALK_OPENAPI_ENDPOINT"):
            module.DINGTALK_OPENAPI_ENDPOINT = endpoint  # type: ignore[attr-defined]
    stream.DingTalkStreamClient.OPEN_CONNECTION_API = endpoint + GATEWAY


class _SdkLog:
    """The SDK's logger: only its format strings, at DEBUG (its arguments are whole frames: member text, ids)."""

    def __init__(self) -> None:
        self._log = logging.getLogger("dingtalk_stream")

    def debug(self, message: object, *args: object, **kwargs: object) -> None:
        self._log.debug("%s", str(message)[:200])

    info = warning = warn = error = exception = critical = debug


def _quiet_sdk_loggers() -> None:
    """The SDK attaches its own stderr handlers (at INFO) to its loggers: remove them, ours decide."""
    for name in ("dingtalk_stream", "dingtalk_stream.client", "dingtalk_stream.handler"):
        logger = logging.getLogger(name)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    logging.getLogger("dingtalk_stream").setLevel(logging.WARNING)


# --- rendering (also used by the console's :dingtalk preview) -----------------------------------------------


def escaped_size(text: str) -> int:
    """Bytes `text` takes inside a JSON string with non-ASCII escaped (汉 -> \\u6c49: 6 bytes; emoji 12)."""
    return len(json.dumps(text)) - 2


def title_of(markup: str) -> str:
    """A markdown message's title (notifications show it): the text's first line, plain and short."""
    first = render.to_plain(markup).strip().partition("\n")[0].strip()
    if len(first) > TITLE_CHARS:
        first = first[: TITLE_CHARS - 1] + "…"
    return first or texts.DINGTALK_TITLE


def _label(text: str) -> str:
    """A button label as markdown link text: escaped, brackets always."""
    return render.escape_markdown(text, at_line_start=False).replace("[", "\\[").replace("]", "\\]")


def dtmd_link(content: str) -> str:
    """The link that makes the member's client send `content` as their own message."""
    return "dtmd://dingtalkclient/sendMessage?content=" + quote(content, safe="")


def choices_markdown(buttons: list[list[Button]], group: bool, token: Any = None) -> str:
    """A reply's buttons as DingTalk markdown: link buttons as links; the others numbered, and in a single chat
    each a tappable dtmd link sending `<label> #<token(button)>`. `token` None: no taps (a group)."""
    lines: list[str] = []
    n = 0
    for b in (b for row in buttons for b in row):
        if b.url:
            url = b.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
            lines.append(f"🔗 [{_label(b.text)}]({url})")
            continue
        n += 1
        if group or token is None:
            lines.append(f"{n}\\. {render.escape_markdown(b.text, at_line_start=False)}")
        else:
            lines.append(f"{n}\\. [{_label(b.text)}]({dtmd_link(f'{b.text} #{token(b)}')})")
    if n:
        lines.insert(0, render.escape_markdown(texts.DINGTALK_CHOICES_GROUP if group else texts.DINGTALK_CHOICES_TAP))
    return "  \n".join(lines)


def render_parts(reply: Reply, group: bool, token: Any = None) -> list[tuple[str, str]]:
    """(title, markdown) of each DingTalk message a reply becomes, each within PART_BYTES escaped."""
    text = reply.text or ""
    if reply.document is not None or reply.photo is not None:
        text = (text + "\n" if text else "") + texts.DINGTALK_FILE_UNAVAILABLE
    if not text and not reply.buttons and reply.toast:
        text = reply.toast  # DingTalk has no toast: say it
    md = render.to_dingtalk_markdown(text) if text else ""
    if reply.buttons:
        block = choices_markdown(reply.buttons, group, token)
        md = f"{md}\n\n{block}" if md and block else md or block
    title = title_of(text) if text else texts.DINGTALK_TITLE
    return [(title, part) for part in render.split_markdown(md, PART_BYTES, size=escaped_size)] if md else []


def _text_of(msg: Any) -> str | None:
    """The text of a message: text, rich text (its text pieces), a voice message's recognition; None otherwise."""
    if msg.message_type == "text":
        return str((msg.text.content if msg.text is not None else "") or "")
    if msg.message_type == "richText" and msg.rich_text_content is not None:
        return "\n".join(str(t) for t in (msg.get_text_list() or []) if t)
    if msg.message_type == "audio":
        content = msg.extensions.get("content") or {}
        recognition = content.get("recognition") if isinstance(content, dict) else None
        return str(recognition) if recognition else None
    return None


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        data = r.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclasses.dataclass
class _Batch:
    """Identical notices to several members, sent as one batchSend."""

    param: str
    users: dict[str, asyncio.Future[str]] = dataclasses.field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


class DingtalkAdapter:
    """One DingTalk robot: the Stream connection, dedupe, rate windows, and delivery of core replies.

    A runtime Platform (bot/runtime.py): start / wait / stop; the runtime's scheduler runs the ticks.
    """

    name = "dingtalk"
    runs_ticks = False

    def __init__(self, config: Config, svc: Services, *, retry_base: float = 1.0, reconnect_base: float = 1.0,
                 stop_grace: float = STOP_GRACE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.svc = svc
        self.retry_base = retry_base
        self.reconnect_base = reconnect_base
        self.stop_grace = stop_grace
        #: Monotonic seconds for the access token's and the tap tokens' lifetimes (tests pass their own).
        self.clock = clock
        self.client: Any = None
        self.http: httpx.AsyncClient | None = None
        self.exit_code: int | None = None
        self.retries = 0  # throttling / flow-control / network waits (logs and the benchmark)
        self.connections = 0
        self._done = asyncio.Event()
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()  # interrupts the reconnect backoff on stop
        self._ws: Any = None
        self._closing = False  # stop() has begun: no new frame is accepted
        self._stopping = False  # the queue is drained: sends fail at once
        self._running = False
        self._auth_code = "?"  # DingTalk's code when it refused the credentials
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen = SeenIds()
        self._groups: set[str] = set()
        self._token: str = ""
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self._api: dict[str, SlidingWindow] = {}
        self._batches: dict[str, _Batch] = {}
        self._buttons: OrderedDict[str, tuple[str, str, float]] = OrderedDict()  # token -> (chat key, data, until)
        #: Tap tokens of an earlier process must never match this one's (an old link pressing another button):
        #: 36**6 run ids, not 36**2 (one restart in 1,296 would have reused the old tokens).
        self._run_id = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        self._button_ids = itertools.count(1)
        #: Per-conversation windows (20 a minute), shared by replies and pushes.
        self.windows = ChatWindows(PER_MINUTE, 60.0, overall_rate=10**6, overall_period=1.0, margin=MARGIN - 1)
        #: Incoming messages in per-chat order, concurrent across chats (shared mechanism with Telegram and WeCom).
        self.queue = ChatQueue(name="dingtalk")
        #: Flood sense in busy groups (bot/flood.py), with DingTalk's per-conversation window as the budget.
        self.flood = flood.FloodGuard()

    @property
    def _cfg(self) -> Any:
        return self.config.dingtalk

    def _url(self, path: str) -> str:
        return self._cfg.endpoint + path

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def start(self, timeout: float = 30.0) -> None:
        """Check the credentials, connect the stream (kept up in the background); AuthRejected if refused."""
        point_sdk(self._cfg.endpoint)
        import dingtalk_stream

        self.http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, headers={"Content-Type": "application/json"})
        try:
            await self._access_token(force=True)
        except AuthRejected:
            await self.http.aclose()
            raise
        except (httpx.HTTPError, _Transient) as e:  # not a refusal: the stream loop keeps trying
            log.warning("%s", texts.log_dingtalk_unchecked(type(e).__name__))
        self.client = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(self._cfg.client_id, self._cfg.client_secret), logger=_SdkLog())
        self.client.register_callback_handler(TOPIC, _handler(self))
        self.client.system_handler.logger = self.client.event_handler.logger = _SdkLog()
        _quiet_sdk_loggers()
        self.svc.senders[DINGTALK] = self.send
        self._track(asyncio.ensure_future(self._stream()))
        waiters = [asyncio.ensure_future(self._connected.wait()), asyncio.ensure_future(self._done.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if self.exit_code == EXIT_AUTH:
            raise AuthRejected(self._auth_code)
        self._running = True
        if self._connected.is_set():
            log.info("%s", texts.log_connected(texts.LOG_DINGTALK, self._cfg.client_id))
            asyncio.get_running_loop().run_in_executor(None, lambda: self.svc.search)
        else:
            log.warning("%s", texts.log_not_connected_yet(texts.LOG_DINGTALK, timeout))

    async def stop(self) -> None:
        """Accept no new frame and close the stream; handle every queued message (its replies go over HTTP);
        then refuse sends at once, and close."""
        if self._done.is_set() and self._stopping:
            return
        self._closing = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        try:
            await asyncio.wait_for(self.queue.close(), self.stop_grace)
        except TimeoutError:
            log.warning("DingTalk: %d queued messages not handled within %.0fs of stopping",
                        self.queue.pending + self.queue.running, self.stop_grace)
        self._stopping = True
        if self.svc.senders.get(DINGTALK) == self.send:
            del self.svc.senders[DINGTALK]
        for batch in list(self._batches.values()):
            if batch.timer is not None:
                batch.timer.cancel()
            for fut in batch.users.values():
                if not fut.done():
                    fut.set_exception(DeliveryError("DingTalk adapter stopped"))
        self._batches.clear()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.http is not None:
            await self.http.aclose()
        self._done.set()

    async def wait(self) -> int:
        """Until stopped or a fatal fault; the exit status."""
        await self._done.wait()
        return self.exit_code or 0

    def _track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _fatal(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._closing = True
        self._wake.set()
        self._done.set()

    def _refused(self, code: str) -> None:
        """The credentials were refused: at start run.py prints AuthRejected; later, this is the one line."""
        self._auth_code = code
        if self._running and self.exit_code is None:
            log.error("%s", texts.log_dingtalk_refused(code))
        self._fatal(EXIT_AUTH)

    # --- the stream ----------------------------------------------------------------------------------------

    async def _open_gateway(self) -> dict[str, Any]:
        """POST connections/open: the WebSocket endpoint and a single-use ticket."""
        from dingtalk_stream.version import VERSION_STRING

        assert self.http is not None
        body = {"clientId": self._cfg.client_id, "clientSecret": self._cfg.client_secret,
                "subscriptions": [{"type": "CALLBACK", "topic": TOPIC}],
                "ua": f"dingtalk-sdk-python/v{VERSION_STRING}-union", "localIp": ""}
        try:
            r = await self.http.post(self._url(GATEWAY), content=json.dumps(body).encode())
        except httpx.HTTPError as e:
            raise _Transient(type(e).__name__) from e
        data = _json(r)
        if r.status_code == 401 or data.get("code") == "authFailed":
            raise AuthRejected(str(data.get("code") or r.status_code))
        if r.status_code != 200 or not data.get("endpoint") or not data.get("ticket"):
            raise _Transient(f"gateway answered {r.status_code}")
        return data

    async def _stream(self) -> None:
        """Keep the Stream connection up: a fresh ticket each time, the SDK's route_message for every frame."""
        import websockets

        client = self.client
        client.pre_start()
        delay = self.reconnect_base
        while not self._closing:
            try:
                conn = await self._open_gateway()
                uri = f"{conn['endpoint']}?ticket={quote_plus(str(conn['ticket']))}"
                async with websockets.connect(uri, open_timeout=HTTP_TIMEOUT, max_size=2**22,
                                              logger=logging.getLogger("dingtalk_stream.ws")) as ws:
                    if self._closing:
                        break
                    client.websocket = self._ws = ws
                    self.connections += 1
                    self._connected.set()
                    if self.connections > 1:
                        log.info("DingTalk stream reconnected")
                    delay = self.reconnect_base
                    keepalive = self._track(asyncio.ensure_future(client.keepalive(ws)))
                    try:
                        async for raw in ws:
                            try:
                                frame = json.loads(raw)
                            except ValueError:
                                continue
                            self._track(asyncio.ensure_future(client.background_task(frame)))
                    finally:
                        keepalive.cancel()
                if not self._closing:
                    log.info("DingTalk stream closed by the server; reconnecting")
            except AuthRejected as e:
                self._refused(e.code)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - network, gateway or handshake: retried
                if not self._closing:
                    log.warning("DingTalk stream: %s; reconnecting in %.1fs", type(e).__name__, delay)
            finally:
                self._ws = None
                self._connected.clear()
            if self._closing:
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    # --- incoming ------------------------------------------------------------------------------------------

    def _accept(self, data: dict[str, Any]) -> tuple[int, str]:
        """A CALLBACK frame's data: queue it (or see it is a duplicate); the ack's (code, message)."""
        from dingtalk_stream import AckMessage, ChatbotMessage

        if self._closing:  # not acknowledged: DingTalk delivers it again, to the next process
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "stopping"
        try:
            msg = ChatbotMessage.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("DingTalk: a malformed robot message was acknowledged and dropped")
            return AckMessage.STATUS_OK, "OK"
        if not self._seen.fresh(msg.message_id):  # DingTalk delivers again when an ack was lost
            return AckMessage.STATUS_OK, "OK"
        droppable = False
        try:
            key, group, _user = self._who(msg)
            droppable = group and self._droppable(msg)
            accepted = self.queue.submit_nowait(key or None, lambda: self._guarded(msg), droppable=droppable)
        except Exception:  # the SDK would log it at DEBUG only: say it, and let DingTalk deliver it again
            log.exception("DingTalk: accepting a robot message failed; not acknowledged")
            accepted = False
        if not accepted and not droppable:
            # Not queued (the queue's hard cap, or the failure above), and owed an answer: not acknowledged, and
            # its msgId forgotten, so DingTalk's redelivery is handled. (A shed group read is covered by the flood
            # sense's answers and acknowledged.)
            self._seen.forget(msg.message_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "busy"
        return AckMessage.STATUS_OK, "OK"

    async def _guarded(self, msg: Any) -> None:
        try:
            await self._on_message(msg)
        except Exception:
            log.exception("DingTalk: handling a message failed")

    def _who(self, msg: Any) -> tuple[str, bool, str]:
        """(chat key, is group, staffId) of a message."""
        user = str(msg.sender_staff_id or msg.sender_id or "")
        if str(msg.conversation_type) == "2" and msg.conversation_id:
            cid = str(msg.conversation_id)
            self._groups.add(cid)
            return cid, True, user
        return user, False, user

    def _is_group(self, key: str) -> bool:
        """Whether chat `key` is a group: seen as one, subscribed as one, or an openConversationId ('cid…')."""
        return key in self._groups or key.startswith("cid") or subscribed_as_group(self.svc, PREFIX + key)

    def _request(self, msg: Any, **kw: Any) -> Request:
        key, group, user = self._who(msg)
        return Request(
            platform=DINGTALK, chat_id=PREFIX + key, chat_type="group" if group else "private",
            user_id=PREFIX + user, user_name=str(msg.sender_nick or user),
            chat_title=texts.dingtalk_group_title(key, str(msg.conversation_title or "")) if group else "",
            bot_username=self._cfg.robot, group_admins=False, addressed=True, **kw,
        )

    def _droppable(self, msg: Any) -> bool:
        """An idempotent group read (flood.request_key): the only kind a full chat queue may shed."""
        text = _text_of(msg)
        if not text or _TAP.match(text.strip()):
            return False
        return flood.request_key(self._request(msg, text=text.strip()), self.svc) is not None

    async def _on_message(self, msg: Any) -> None:
        req = self._request(msg, text="")
        key = chat_key(req.chat_id)
        text = _text_of(msg)
        if text is None:
            await self._deliver([Reply(texts.DINGTALK_UNSUPPORTED)], req, msg)
            return
        text = text.strip()
        tap = _TAP.match(text)
        if tap is not None:
            data = self._tapped(key, tap.group("token"))
            if data is None:
                await self._deliver([Reply(texts.DINGTALK_BUTTON_STALE)], req, msg)
                return
            req.callback_data = data
            await self._deliver(await dispatch(req, self.svc), req, msg)
            return
        req.text = text
        r = route(req, self.svc)
        is_help = r.kind == "help" or (r.kind == "command" and r.command is not None and r.command.name == "help")
        if req.is_group:
            out = await self.flood.handle(req, self.svc, dispatch, backlog=lambda n: self.windows.backlog(key, n),
                                          cost=lambda reply: self._cost(reply, group=True))
            replies = out.replies
        else:
            replies = await dispatch(req, self.svc)
        if is_help and replies and replies[0].text:
            replies[0] = dataclasses.replace(replies[0], text=replies[0].text + "\n" + texts.DINGTALK_HELP_NOTE)
        await self._deliver(replies, req, msg)

    # --- buttons -------------------------------------------------------------------------------------------

    def _register(self, key: str, button: Button) -> str:
        """A token for a tappable button in chat `key` (kept a week, bounded)."""
        token = f"k{self._run_id}{_base36(next(self._button_ids))}"
        self._buttons[token] = (key, button.data, self.clock() + BUTTON_TTL_SECONDS)
        while len(self._buttons) > BUTTON_KEEP:
            self._buttons.popitem(last=False)
        return token

    def _tapped(self, key: str, token: str) -> str | None:
        entry = self._buttons.get(token)
        if entry is None or entry[0] != key or entry[2] < self.clock():
            return None
        return entry[1]

    def _parts(self, reply: Reply, key: str, group: bool) -> list[tuple[str, str]]:
        if reply.buttons:
            choices.offer(self.svc, PREFIX + key, reply.buttons)  # a typed "2" presses the second button
        return render_parts(reply, group, None if group else (lambda b: self._register(key, b)))

    @staticmethod
    def _cost(reply: Reply, group: bool) -> int:
        """How many DingTalk messages a reply takes (for the flood sense); no side effects."""
        return max(1, len(render_parts(reply, group)))

    # --- outgoing --------------------------------------------------------------------------------------------

    async def _deliver(self, replies: list[Reply], req: Request, msg: Any) -> None:
        """A handler's replies: to this chat through the message's sessionWebhook, to others as sends."""
        key = chat_key(req.chat_id)
        for reply in replies:
            target = reply.chat_id if reply.chat_id is not None else req.chat_id
            try:
                if target != req.chat_id:  # another chat, perhaps on another platform (a Telegram proposer)
                    send = self.send if target.startswith(PREFIX) else self.svc.sender
                    if send is None:
                        raise DeliveryError("no running platform for that chat")
                    await send(dataclasses.replace(reply, chat_id=target))
                    continue
                for title, text in self._parts(reply, key, req.is_group):
                    await self._to_chat(key, req.is_group, title, text, msg)
            except DeliveryError as e:
                log.warning("DingTalk: a reply was not delivered: %s", type(e).__name__)

    async def send(self, reply: Reply) -> None:
        """The core's Sender for 'dingtalk:' chats (pushes, notices): the robot OpenAPI, paced and retried."""
        if reply.chat_id is None:
            raise DeliveryError("a reply sent outside a request needs chat_id")
        key = chat_key(reply.chat_id)
        group = self._is_group(key)
        for title, text in self._parts(reply, key, group):
            await self._to_chat(key, group, title, text, None)

    async def _to_chat(self, key: str, group: bool, title: str, text: str, msg: Any) -> None:
        """One message: through `msg`'s sessionWebhook while it lives, else the robot OpenAPI."""
        if msg is not None and self._webhook_usable(msg) and await self._webhook(key, msg, title, text):
            return
        slots = await self.windows.acquire(key, overall=False)
        try:
            if group:
                await self._openapi(GROUP_SEND, {
                    "robotCode": self._cfg.robot, "openConversationId": key, "msgKey": "sampleMarkdown",
                    "msgParam": json.dumps({"title": title, "text": text})})
            else:
                await self._to_user(key, json.dumps({"title": title, "text": text}))
        finally:
            self.windows.release(slots)

    @staticmethod
    def _webhook_usable(msg: Any) -> bool:
        if not msg.session_webhook or getattr(msg, "_session_gone", False):
            return False
        expires = msg.session_webhook_expired_time
        return expires is None or expires - WEBHOOK_MARGIN_MS > time.time() * 1000

    def _check_running(self) -> None:
        if self.exit_code is not None or self._stopping:
            raise DeliveryError("DingTalk adapter stopped")

    async def _webhook(self, key: str, msg: Any, title: str, text: str) -> bool:
        """POST to the sessionWebhook; False when DingTalk says the session is gone (send another way)."""
        assert self.http is not None
        body = json.dumps({"msgtype": "markdown", "markdown": {"title": title, "text": text}}).encode()
        started = time.monotonic()
        delay = self.retry_base
        while True:
            self._check_running()
            slots = await self.windows.acquire(key, overall=False)
            try:
                r = await self.http.post(msg.session_webhook, content=body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                failure: object = type(e).__name__
                r = None
            except httpx.HTTPError as e:  # sent, but no answer: it may have arrived
                raise DeliveryUncertain("DingTalk webhook: no answer") from e
            finally:
                self.windows.release(slots)
            if r is not None:
                data = _json(r)
                errcode = data.get("errcode", 0 if r.status_code == 200 and data else None)
                if r.status_code == 200 and errcode == 0:
                    return True
                if errcode == ERR_SESSION_GONE:
                    msg._session_gone = True
                    return False
                if errcode == ERR_TOO_BIG:
                    raise DeliveryError("DingTalk: message too large (460101)")
                if errcode != ERR_TOO_MANY and r.status_code not in (429, 502, 503, 504):
                    raise DeliveryError(f"DingTalk webhook refused the message ({r.status_code}, errcode {errcode})")
                failure = errcode or r.status_code
                if errcode == ERR_TOO_MANY:
                    self.windows.window(key).pause(delay)
            if time.monotonic() - started + delay > MAX_WAIT_SECONDS:
                raise DeliveryError(f"DingTalk: gave up after {MAX_WAIT_SECONDS:.0f}s ({failure})")
            self.retries += 1
            log.warning("DingTalk webhook: %s; retrying in %.1fs", failure, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    # --- the robot OpenAPI -------------------------------------------------------------------------------------

    async def _access_token(self, force: bool = False) -> str:
        """The cached access token, fetched again before it expires; AuthRejected when DingTalk refuses."""
        assert self.http is not None
        async with self._token_lock:
            if not force and self._token and self.clock() < self._token_until:
                return self._token
            body = {"appKey": self._cfg.client_id, "appSecret": self._cfg.client_secret}
            try:
                r = await self.http.post(self._url(OAUTH), content=json.dumps(body).encode())
            except httpx.HTTPError as e:
                raise _Transient(type(e).__name__) from e
            data = _json(r)
            token = data.get("accessToken")
            if r.status_code == 200 and token:
                life = float(data.get("expireIn") or 7200)
                self._token = str(token)
                self._token_until = self.clock() + max(life / 2, life - TOKEN_MARGIN_SECONDS)
                return self._token
            code = str(data.get("code") or r.status_code)
            if r.status_code in (400, 401, 403) and ("ClientId" in code or "Secret" in code or "auth" in code.lower()):
                raise AuthRejected(code)
            raise _Transient(f"accessToken answered {r.status_code} {code}")

    def _api_window(self, path: str) -> SlidingWindow:
        w = self._api.get(path)
        if w is None:
            w = self._api[path] = SlidingWindow(API_PER_SECOND, 1.0 * MARGIN)
        return w

    async def _openapi(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One robot OpenAPI call: paced (20 a second for this API), QPS refusals and unreachable moments
        waited out, the token renewed once if refused; the answer's JSON, or DeliveryError."""
        assert self.http is not None
        window = self._api_window(path)
        content = json.dumps(body).encode()
        started = time.monotonic()
        delay = self.retry_base
        renewed = False
        while True:
            self._check_running()
            failure: object
            try:
                token = await self._access_token()
            except AuthRejected as e:
                self._refused(e.code)
                raise DeliveryError("DingTalk credentials refused") from e
            except _Transient as e:
                token, failure = "", e
            if token:
                slot = await window.acquire()
                try:
                    r = await self.http.post(self._url(path), content=content,
                                             headers={"x-acs-dingtalk-access-token": token})
                except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
                    r, failure = None, type(e).__name__
                except httpx.HTTPError as e:
                    raise DeliveryUncertain(f"DingTalk {path}: no answer") from e
                finally:
                    window.release(slot)
                if r is not None:
                    data = _json(r)
                    code = str(data.get("code") or "")
                    if r.status_code == 200:
                        return data
                    if (r.status_code == 401 or "InvalidAuthentication" in code) and not renewed:
                        renewed = True
                        self._token = ""
                        continue
                    if code == QPS_LIMIT or r.status_code in (429, 502, 503, 504):
                        failure = code or r.status_code
                        if code == QPS_LIMIT:
                            window.pause(delay)
                    else:
                        raise DeliveryError(f"DingTalk {path} refused ({r.status_code} {code})")
            if time.monotonic() - started + delay > MAX_WAIT_SECONDS:
                raise DeliveryError(f"DingTalk: gave up after {MAX_WAIT_SECONDS:.0f}s ({failure})")
            self.retries += 1
            log.warning("DingTalk %s: %s; retrying in %.1fs", path.rsplit("/", 1)[-1], failure, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _to_user(self, user: str, param: str) -> None:
        """A notice to one member through batchSend (shared with identical ones); flow control waited out."""
        started = time.monotonic()
        delay = self.retry_base
        while True:
            outcome = await self._batched(user, param)
            if outcome == "ok":
                return
            if outcome == "invalid":
                raise ChatGone(PREFIX + user, "not a member of this organisation")
            if time.monotonic() - started + delay > MAX_WAIT_SECONDS:
                raise DeliveryError(f"DingTalk: flow-controlled for {MAX_WAIT_SECONDS:.0f}s")
            self.retries += 1
            log.warning("DingTalk batchSend: a member is flow-controlled; retrying in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    def _batched(self, user: str, param: str) -> asyncio.Future[str]:
        """Join (or open) the batch of this exact notice; it goes within BATCH_GATHER_SECONDS, or at once when
        full. The future's result: "ok", "flow" (not delivered: retry) or "invalid"."""
        loop = asyncio.get_running_loop()
        batch = self._batches.get(param)
        if batch is not None and user in batch.users:  # the same notice twice to one member: two messages
            self._flush(batch)
            batch = None
        if batch is None:
            batch = self._batches[param] = _Batch(param)
            batch.timer = loop.call_later(BATCH_GATHER_SECONDS, self._flush, batch)
        fut: asyncio.Future[str] = loop.create_future()
        batch.users[user] = fut
        if len(batch.users) >= MAX_USERS:
            self._flush(batch)
        return fut

    def _flush(self, batch: _Batch) -> None:
        if self._batches.get(batch.param) is batch:
            del self._batches[batch.param]
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if batch.users:
            self._track(asyncio.ensure_future(self._send_batch(batch)))

    async def _send_batch(self, batch: _Batch) -> None:
        users = list(batch.users)
        try:
            data = await self._openapi(BATCH_SEND, {"robotCode": self._cfg.robot, "userIds": users,
                                                    "msgKey": "sampleMarkdown", "msgParam": batch.param})
        except BaseException as e:
            for fut in batch.users.values():
                if not fut.done():
                    fut.set_exception(e if isinstance(e, Exception) else DeliveryError("cancelled"))
            if not isinstance(e, Exception):
                raise
            return
        flow = {str(u) for u in data.get("flowControlledStaffIdList") or []}
        invalid = {str(u) for u in data.get("invalidStaffIdList") or []}
        for user, fut in batch.users.items():
            if not fut.done():
                fut.set_result("flow" if user in flow else "invalid" if user in invalid else "ok")


def _base36(n: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out.rjust(3, "0")


def _handler(adapter: DingtalkAdapter) -> Any:
    """The SDK's ChatbotHandler whose `process` queues the message (acked by the SDK with our answer)."""
    from dingtalk_stream import CallbackMessage, ChatbotHandler

    class Handler(ChatbotHandler):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.logger = _SdkLog()

        async def process(self, message: CallbackMessage) -> tuple[int, str]:
            return adapter._accept(message.data or {})

    return Handler()

