"""WeCom (企业微信) 智能机器人 adapter on Tencent's SDK `aibot` (wecom-aibot-python-sdk), over its long connection.

Incoming: text from single chats and group @-mentions (the mention stripped), the text part of mixed
messages, deduplicated by msgid; card button presses (template_card_event) become callbacks. Each becomes
a core Request with platform 'wecom', chat_id 'wecom:<chatid>' (groups) or 'wecom:<userid>' (single chats)
and user_id 'wecom:<userid>'. WeCom has no admin flag: officers come from `[wecom] officers`.

Outgoing: replies with aibot_respond_msg (a stream finished at once, markdown rendered by
bot/adapters/render.py, split at 20,480 bytes); buttons as a button_interaction template card (<= 6 buttons),
updated in place (aibot_respond_update_msg) when a click's reply has edit=True; pushes with aibot_send_msg
markdown. Buttons WeCom cannot show (more than 6, links, pushes to a group) become a numbered list
(bot/choices.py). Every message to a chat takes a slot of two sliding windows (30 a minute, 1,000 an hour);
errcode 45009 and a dropped connection are waited out and retried, so nothing is lost.

Faults: the SDK reconnects with exponential backoff; a refused bot_id/secret logs one line and `run_wecom`
returns 2; disconnected_event (another process took the bot over) logs one line and returns 3.

TLS: the SDK builds one ssl context at import (certifi's CAs) and hands it to websockets.connect, with no
option to change it. `[wecom] ca_file` adds a CA to that context (`aibot.ws._SSL_CONTEXT`) -- the least
invasive hook there is; private deployments and the tests' fake server use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot import choices, flood, texts
from bot.adapters import render
from bot.adapters.chatqueue import ChatQueue
from bot.adapters.common import SeenIds, own_id, subscribed_as_group
from bot.adapters.ratelimit import SlidingWindow
from bot.commands import dispatch
from bot.config import Config, ConfigError
from bot.core import WECOM, Button, DeliveryError, DeliveryUncertain, Reply, Request
from bot.services import Services

log = logging.getLogger(__name__)

PREFIX = WECOM + ":"
PER_MINUTE = 30
#: On stop, how long queued frames may still run (their replies need the connection).
STOP_GRACE_SECONDS = 5.0
PER_HOUR = 1000
MARGIN = 1.02
MAX_BUTTONS = 6
MAX_KEY_BYTES = 1024
CARD_TITLE_CHARS = 36
CARD_TEXT_CHARS = 112
ERR_RATE = 45009
EXIT_AUTH = 2
EXIT_TAKEN_OVER = 3
WATCHDOG_SECONDS = 1.0
#: How long a send waits for the connection to come back (or 45009 to pass) before giving up.
MAX_WAIT_SECONDS = 900.0
_ERRCODE = re.compile(r"errcode=(-?\d+)")
_MENTION = re.compile(r"^\s*(@\S+\s*)+")


class _SdkLog:
    """The SDK's logger: everything to DEBUG (its frames hold member text and ids; our own lines say what matters)."""

    def __init__(self) -> None:
        self._log = logging.getLogger("aibot")

    def debug(self, message: str, *args: object) -> None:
        self._log.debug("%s", message)

    info = warn = error = debug


class AuthRejected(ConfigError):
    """WeCom refused the bot_id/secret (run.py prints it as one line and exits with status 2)."""

    def __init__(self, errcode: str = "?") -> None:
        super().__init__(texts.config_error("[wecom] bot_id / secret", texts.cfg_wecom_rejected(errcode)))


def chat_key(chat_id: Any) -> str:
    """'wecom:<id>' -> '<id>' (the chatid for a group, the userid for a single chat)."""
    return own_id(chat_id, PREFIX)


def _is_help(text: str) -> bool:
    """/help, 帮助, or a bare @-mention (which the dispatcher answers with the help)."""
    word = text.split(maxsplit=1)[0].lower() if text.split() else ""
    return word in ("", "/help", "帮助") or word.startswith("/help@")


class WecomAdapter:
    """One WeCom bot: the SDK client, dedupe, per-chat rate windows, and delivery of core replies.

    A runtime Platform (bot/runtime.py): start / wait / stop; the runtime's scheduler runs the ticks.
    """

    name = "wecom"
    runs_ticks = False

    def __init__(self, config: Config, svc: Services, *, reconnect_ms: int = 1000, retry_base: float = 1.0,
                 ) -> None:
        self.config = config
        self.svc = svc
        self.reconnect_ms = reconnect_ms
        self.retry_base = retry_base
        self.client: Any = None
        self.exit_code: int | None = None
        self._done = asyncio.Event()
        self._authed = asyncio.Event()
        self._seen = SeenIds()
        self._windows: dict[str, tuple[SlidingWindow, SlidingWindow]] = {}
        self._groups: set[str] = set()
        self._task_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.retries = 0  # 45009s and reconnect waits (for logs and the benchmark)
        self._running = False  # start() has returned: faults are logged here, not raised
        self._stopping = False  # stop() has begun: sends fail at once
        self._auth_errcode = "?"
        #: Incoming frames in per-chat order, concurrent across chats (shared mechanism with Telegram).
        self.queue = ChatQueue(name="wecom")
        #: Flood sense in busy groups (bot/flood.py), with this platform's per-chat limits as the budget.
        self.flood = flood.FloodGuard()

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self, timeout: float = 30.0) -> None:
        """Connect and authenticate (the SDK keeps reconnecting in the background); AuthRejected if refused."""
        from aibot import WSClient, WSClientOptions
        from aibot import ws as aibot_ws

        w = self.config.wecom
        if w.ca_file:
            aibot_ws._SSL_CONTEXT.load_verify_locations(cafile=w.ca_file)
        self.client = WSClient(WSClientOptions(
            bot_id=w.bot_id, secret=w.secret, ws_url=w.ws_url, max_reconnect_attempts=-1,
            reconnect_interval=self.reconnect_ms, logger=_SdkLog(),
        ))
        c = self.client
        c.on("authenticated", self._on_authenticated)
        c.on("disconnected", self._on_disconnected)
        c.on("error", self._on_error)
        c.on("message", self._spawn(self._on_message))
        c.on("event.template_card_event", self._spawn(self._on_click))
        c.on("event.disconnected_event", self._on_taken_over)
        c.on("event.enter_chat", self._spawn(self._on_enter_chat))
        self.svc.senders[WECOM] = self.send
        self._track(asyncio.ensure_future(c.connect()))
        waiter = asyncio.ensure_future(self._authed.wait())
        done_waiter = asyncio.ensure_future(self._done.wait())
        try:
            await asyncio.wait({waiter, done_waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            done_waiter.cancel()
        if self.exit_code == EXIT_AUTH:
            raise AuthRejected(self._auth_errcode)
        self._running = True
        self._track(asyncio.ensure_future(self._watchdog()))
        if self._authed.is_set():
            log.info("%s", texts.log_connected(texts.LOG_WECOM, w.bot_id))
            asyncio.get_running_loop().run_in_executor(None, lambda: self.svc.search)
        else:
            log.warning("%s", texts.log_not_connected_yet(texts.LOG_WECOM, timeout))

    async def stop(self) -> None:
        """Let queued frames finish (their replies need the connection), then refuse further sends at once
        (nothing waits for a reconnect that will never come), disconnect and cancel our background work."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.close(), STOP_GRACE_SECONDS)
        self._stopping = True
        if self.svc.senders.get(WECOM) == self.send:
            del self.svc.senders[WECOM]
        self._authed.set()  # wake sends waiting for a reconnect: they see _stopping and give up
        if self.client is not None and self.client._started:
            self.client.disconnect()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._done.set()

    async def wait(self) -> int:
        """Until stopped or a fatal fault; the exit status."""
        await self._done.wait()
        return self.exit_code or 0

    def _track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _spawn(self, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[dict[str, Any]], None]:
        """A sync SDK listener that queues `handler` in its chat's order (bot/adapters/chatqueue.py, shared with
        Telegram): one chat's frames one after another, different chats at once, bounded; errors logged."""

        async def guarded(frame: dict[str, Any]) -> None:
            try:
                await handler(frame)
            except Exception:
                log.exception("WeCom: handling a callback failed")

        def listener(frame: dict[str, Any]) -> None:
            body = frame.get("body") or {}
            key, _chat_type, _userid = self._who(body)
            self.queue.submit_nowait(key or None, lambda: guarded(frame), droppable=self._droppable(body))

        return listener

    def _droppable(self, body: dict[str, Any]) -> bool:
        """An idempotent read in a group (flood.request_key): the only kind a full chat queue may shed."""
        text = self._text_of(body) if body.get("msgtype") in ("text", "mixed") else None
        if not text or body.get("chattype") != "group":
            return False
        req = self._base_request(body, text=_MENTION.sub("", text, count=1).strip(), addressed=True)
        return flood.request_key(req, self.svc) is not None

    def _cost(self, reply: Reply) -> int:
        """How many WeCom messages a reply takes: its markdown parts, plus a card for buttons that fit one."""
        parts = len(render.split_markdown(render.to_markdown(reply.text))) if reply.text else 0
        return max(1, parts + (1 if reply.buttons and self._card_fits(reply, group_push=False) else 0))

    def _backlog(self, key: str, sends: int) -> float:
        """Seconds until `sends` more messages to chat `key` could go out (its minute and hour windows)."""
        return max(w.backlog(sends) for w in self._window(key))

    def _fatal(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        if self.client is not None and self.client._started:
            self.client.disconnect()  # before the SDK's own reconnect can start
        self._done.set()

    def _on_authenticated(self) -> None:
        self._authed.set()

    def _on_disconnected(self, reason: str) -> None:
        self._authed.clear()
        if self.exit_code is None:
            log.warning("WeCom connection lost; reconnecting")

    def _on_error(self, error: Exception) -> None:
        msg = str(error)
        if msg.startswith("Authentication failed"):
            m = re.search(r"code: (-?\d+)", msg)
            self._auth_errcode = m.group(1) if m else "?"
            if self._running:  # at start, AuthRejected becomes run.py's one line; later, this is the one line
                log.error("%s", texts.log_wecom_refused(self._auth_errcode))
            self._fatal(EXIT_AUTH)
        else:
            log.warning("%s", texts.log_wecom_connect_failed(type(error).__name__, _hint(error)))

    def _on_taken_over(self, frame: dict[str, Any]) -> None:
        log.error("%s", texts.LOG_WECOM_TAKEN_OVER)
        self._fatal(EXIT_TAKEN_OVER)

    async def _watchdog(self) -> None:
        """Reconnect after a clean close (a close frame) too.

        SDK 1.0.2's receive loop reconnects when the connection breaks, but a clean close just ends its
        `async for` quietly: no "disconnected", no reconnect, a dead bot. This notices exactly that state
        (the loop finished, the socket closed, not closed by us, no reconnect of ours under way) and runs the
        SDK's own backoff-and-reconnect.
        """
        mgr = self.client._ws_manager
        rewiring: asyncio.Task[Any] | None = None
        while self.exit_code is None:
            await asyncio.sleep(WATCHDOG_SECONDS)
            task = getattr(mgr, "_receive_task", None)
            quiet_end = (task is not None and task.done() and mgr._ws is not None and not mgr.is_connected
                         and not mgr._is_manual_close)
            if quiet_end and (rewiring is None or rewiring.done()) and self.exit_code is None:
                self._on_disconnected("closed")
                rewiring = self._track(asyncio.ensure_future(mgr._schedule_reconnect()))

    # --- incoming ------------------------------------------------------------------------------------

    def _who(self, body: dict[str, Any]) -> tuple[str, str, str]:
        """(chat key, chat type, userid) of a callback body."""
        userid = str((body.get("from") or {}).get("userid", ""))
        if body.get("chattype") == "group" and body.get("chatid"):
            chatid = str(body["chatid"])
            self._groups.add(chatid)
            return chatid, "group", userid
        return userid, "private", userid

    def _is_group(self, key: str) -> bool:
        """Whether chat `key` is a group: seen as one since start, or subscribed as one (the store remembers it
        across restarts). Anything else is a single chat (a member's own: proposer notices, officer reminders),
        where cards with buttons are allowed."""
        return key in self._groups or subscribed_as_group(self.svc, PREFIX + key)

    def _base_request(self, body: dict[str, Any], **kw: Any) -> Request:
        key, chat_type, userid = self._who(body)
        return Request(
            platform="wecom", chat_id=PREFIX + key, chat_type=chat_type, user_id=PREFIX + userid,
            # WeCom's callbacks carry neither a group's name nor a member's display name
            user_name=userid, chat_title=texts.wecom_group_title(key) if chat_type == "group" else "",
            bot_username=self.config.wecom.bot_id, group_admins=False, **kw,
        )

    @staticmethod
    def _text_of(body: dict[str, Any]) -> str | None:
        mt = body.get("msgtype")
        if mt == "text":
            return str((body.get("text") or {}).get("content", ""))
        if mt == "mixed":
            items = (body.get("mixed") or {}).get("msg_item") or []
            return "\n".join(str((i.get("text") or {}).get("content", "")) for i in items if i.get("msgtype") == "text")
        return None

    async def _on_message(self, frame: dict[str, Any]) -> None:
        body = frame.get("body") or {}
        if not self._seen.fresh(body.get("msgid")):
            return
        text = self._text_of(body)
        req = self._base_request(body, text="", addressed=True)
        if text is None:
            await self._deliver([Reply(texts.WECOM_UNSUPPORTED)], req, frame)
            return
        if req.is_group:
            text = _MENTION.sub("", text, count=1)
        req.text = text.strip()
        if req.is_group:
            key = chat_key(req.chat_id)
            out = await self.flood.handle(req, self.svc, dispatch, backlog=lambda n: self._backlog(key, n),
                                          cost=self._cost)
            replies = out.replies
        else:
            replies = await dispatch(req, self.svc)
        if _is_help(req.text) and replies and replies[0].text:
            replies[0] = dataclasses.replace(replies[0], text=replies[0].text + "\n" + texts.WECOM_HELP_NOTE)
        await self._deliver(replies, req, frame)

    async def _on_enter_chat(self, frame: dict[str, Any]) -> None:
        """A member opens the single chat (first time today): the welcome, within WeCom's 5 s."""
        body = frame.get("body") or {}
        if not self._seen.fresh(body.get("msgid")):
            return
        self._who(body)
        welcome = {"msgtype": "text", "text": {"content": render.to_plain(texts.welcome(True))}}
        try:
            await self.client.reply_welcome(frame, welcome)
        except (RuntimeError, TimeoutError) as e:
            log.info("WeCom: welcome not sent (errcode %s)", _errcode(e))

    async def _on_click(self, frame: dict[str, Any]) -> None:
        body = frame.get("body") or {}
        if not self._seen.fresh(body.get("msgid")):
            return
        event = ((body.get("event") or {}).get("template_card_event")) or {}
        key, task_id = str(event.get("event_key", "")), str(event.get("task_id", ""))
        req = self._base_request(body, callback_data=key)
        replies = await dispatch(req, self.svc)
        await self._deliver(replies, req, frame, task_id=task_id)

    # --- outgoing ------------------------------------------------------------------------------------

    async def _deliver(self, replies: list[Reply], req: Request, frame: dict[str, Any],
                       task_id: str | None = None) -> None:
        """A handler's replies: the first edit updates the clicked card, the rest are replies or pushes."""
        updated = False
        for reply in replies:
            target = reply.chat_id if reply.chat_id is not None else req.chat_id
            try:
                if target != req.chat_id:  # another chat, perhaps on another platform (a Telegram proposer)
                    send = self.send if target.startswith(PREFIX) else self.svc.sender
                    if send is None:
                        raise DeliveryError("no running platform for that chat")
                    await send(dataclasses.replace(reply, chat_id=target))
                    continue
                if task_id is not None and reply.edit and not updated and not reply.document and not reply.photo:
                    updated = True
                    if await self._update_card(frame, task_id, reply):
                        continue
                if task_id is not None and not (reply.text or reply.document or reply.photo):
                    if reply.toast:  # WeCom has no toast: say it
                        await self.send(Reply(reply.toast, chat_id=target))
                    continue
                if task_id is not None:  # replies to a click go out as messages to that chat
                    await self.send(dataclasses.replace(reply, chat_id=target))
                else:
                    await self._respond(frame, reply, chat_key(target))
            except DeliveryError as e:
                log.warning("WeCom: a reply was not delivered: %s", type(e).__name__)

    def _card_fits(self, reply: Reply, group_push: bool) -> bool:
        flat = [b for row in reply.buttons for b in row]
        keys = [b.data for b in flat]
        return (bool(flat) and not group_push and len(flat) <= MAX_BUTTONS and all(b.data for b in flat)
                and len(set(keys)) == len(keys) and all(len(k.encode()) <= MAX_KEY_BYTES for k in keys))

    def _messages(self, reply: Reply, key: str, group_push: bool) -> list[dict[str, Any]]:
        """The message bodies for a reply: markdown parts, then (if it has buttons WeCom can show) a card."""
        text = reply.text
        if reply.document is not None or reply.photo is not None:
            text = (text + "\n" if text else "") + texts.WECOM_FILE_UNAVAILABLE
        card = None
        # A quiz pushed to a group goes as text (WeCom allows no buttons there; members answer 答 B), and a quiz's
        # option buttons are not numbered choices (a typed 2 or B is an answer the quiz reads itself).
        buttons = [] if reply.quiz is not None and group_push else reply.buttons
        if buttons:
            if self._card_fits(reply, group_push):
                card = self._card(text, buttons)
                if reply.quiz is None:
                    choices.offer(self.svc, PREFIX + key, buttons)  # a typed "2" presses the 2nd button too
                if card["_fits"]:
                    text = ""
                else:
                    card["main_title"]["title"] = _clip(_first_line(text), CARD_TITLE_CHARS)
                    card["sub_title_text"] = texts.WECOM_CARD_MORE
                del card["_fits"]
            else:
                text = text + "\n\n" + choices.offer(self.svc, PREFIX + key, buttons)
        bodies: list[dict[str, Any]] = [
            {"msgtype": "markdown", "markdown": {"content": part}}
            for part in render.split_markdown(render.to_markdown(text))
        ] if text else []
        if card is not None:
            bodies.append({"msgtype": "template_card", "template_card": card})
        return bodies

    def _card(self, text: str, buttons: list[list[Button]]) -> dict[str, Any]:
        plain = render.to_plain(text).strip()
        title, _, rest = plain.partition("\n")
        rest = rest.strip()
        fits = 0 < len(title) <= CARD_TITLE_CHARS and len(rest) <= CARD_TEXT_CHARS
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": {"title": _clip(title or texts.CHOICES_HEAD, CARD_TITLE_CHARS)},
            "task_id": f"t{int(time.time() * 1000)}_{next(self._task_ids)}",
            "button_list": [{"text": b.text, "style": 1, "key": b.data} for row in buttons for b in row],
            "_fits": fits,
        }
        if rest:
            card["sub_title_text"] = _clip(rest, CARD_TEXT_CHARS)
        return card

    async def _respond(self, frame: dict[str, Any], reply: Reply, key: str) -> None:
        """Replies to a member's message: each body with aibot_respond_msg (markdown as a finished stream)."""
        from aibot import generate_req_id

        for body in self._messages(reply, key, group_push=False):
            if body["msgtype"] == "markdown":
                stream = {"id": generate_req_id("stream"), "finish": True, "content": body["markdown"]["content"]}
                out = {"msgtype": "stream", "stream": stream}
            else:
                out = body
            await self._call(key, lambda out=out: self.client.reply(frame, out))

    async def _update_card(self, frame: dict[str, Any], task_id: str, reply: Reply) -> bool:
        """Update the clicked card in place (WeCom allows 5 s); False if the text must go as a message instead."""
        if reply.buttons and not self._card_fits(reply, group_push=False):
            return False
        card = self._card(reply.text or reply.toast or "", reply.buttons)
        if not card.pop("_fits"):  # the card keeps a title (and loses its old buttons); the text goes as a message
            card["main_title"]["title"] = _clip(_first_line(reply.text or reply.toast or ""), CARD_TITLE_CHARS)
            card["sub_title_text"] = texts.WECOM_CARD_MORE
            await self.send(Reply(reply.text, chat_id=self._chat_of_frame(frame)))
        card["task_id"] = task_id
        try:
            await self.client.update_template_card(frame, card)  # not rate-counted: it must go within 5 s
        except (RuntimeError, TimeoutError) as e:
            log.info("WeCom: card update refused (%s); sending the reply as a message", _errcode(e))
            return False
        return True

    def _chat_of_frame(self, frame: dict[str, Any]) -> str:
        key, _t, _u = self._who(frame.get("body") or {})
        return PREFIX + key

    async def send(self, reply: Reply) -> None:
        """The core's Sender for 'wecom:' chats (pushes, notifications): aibot_send_msg, paced and retried."""
        if reply.chat_id is None:
            raise DeliveryError("a reply sent outside a request needs chat_id")
        key = chat_key(reply.chat_id)
        group = self._is_group(key)
        for body in self._messages(reply, key, group_push=group):
            await self._call(key, lambda body=body: self.client.send_message(key, body))

    def _window(self, key: str) -> tuple[SlidingWindow, SlidingWindow]:
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = (SlidingWindow(PER_MINUTE, 60 * MARGIN), SlidingWindow(PER_HOUR, 3600 * MARGIN))
        return w

    async def _call(self, key: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """One message to chat `key`: wait for both windows, send; 45009 and lost connections waited out."""
        windows = self._window(key)
        started = time.monotonic()
        delay = self.retry_base
        while True:
            if self.exit_code is not None or self._stopping:
                raise DeliveryError("WeCom adapter stopped")
            if not self._authed.is_set():
                try:
                    left = MAX_WAIT_SECONDS - (time.monotonic() - started)
                    await asyncio.wait_for(self._authed.wait(), max(0.0, left))
                except TimeoutError:
                    raise DeliveryError("WeCom connection down too long") from None
            slots = [(w, await w.acquire()) for w in windows]
            try:
                return await fn()
            except TimeoutError as e:
                raise DeliveryUncertain("WeCom ack timed out") from e
            except RuntimeError as e:
                code = _errcode(e)
                failure = e
            finally:
                for w, slot in slots:
                    w.release(slot)
            if time.monotonic() - started + delay > MAX_WAIT_SECONDS:
                raise DeliveryError(f"WeCom: gave up after {MAX_WAIT_SECONDS:.0f}s") from failure
            self.retries += 1
            if code == ERR_RATE:
                log.warning("WeCom rate limit (45009); retrying in %.1fs", delay)
                for w in windows:
                    w.pause(delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
            elif code is None:  # not connected / connection closed before the ack: resend once reconnected
                if not self.client.is_connected:
                    self._authed.clear()
                await asyncio.sleep(0.05)
            else:
                raise DeliveryError(f"WeCom refused the message (errcode {code})") from failure


def _hint(error: BaseException) -> str:
    """What an operator should check after a failed connection attempt (the error's text is not logged: the SDK's
    may hold frames)."""
    if isinstance(error, ssl.SSLError):
        return texts.LOG_HINT_TLS
    if isinstance(error, (OSError, TimeoutError)):
        return texts.LOG_HINT_NETWORK
    return texts.LOG_HINT_OTHER


def _errcode(e: BaseException) -> int | None:
    m = _ERRCODE.search(str(e))
    return int(m.group(1)) if m else None


def _first_line(markup: str) -> str:
    return render.to_plain(markup).strip().partition("\n")[0]


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


async def run_wecom(config: Config, svc: Services) -> int:
    """Run the WeCom adapter alone until stopped (cancelled); 0, or 2 (bot_id/secret refused), or 3 (taken over).

    `python run.py` runs it through bot/runtime.py instead, beside the other platforms and the tick.
    """
    adapter = WecomAdapter(config, svc)
    try:
        await adapter.start()
    except AuthRejected:
        await adapter.stop()
        return EXIT_AUTH
    try:
        return await adapter.wait()
    except asyncio.CancelledError:
        return 0
    finally:
        code = adapter.exit_code
        await adapter.stop()
        adapter.exit_code = code
