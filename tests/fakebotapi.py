"""A fake Telegram Bot API server for end-to-end tests (aiohttp, 127.0.0.1, random port).

The real `telegram.Bot` / `telegram.ext.Application` talks to it over HTTP with
`base_url=api.base_url`. It validates requests the way Telegram does (HTML parse
mode, text and caption lengths, inline keyboards, chat membership), answers in
Telegram's envelope, records every call, lets tests push updates (polling queue or
webhook POSTs) and injects faults (429, 403, 400, migration, slow, hang, 5xx) and an
optional flood model. `await api.wait_for("sendMessage", chat_id=...)` waits for
the bot's calls without polling sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, ClientError, ClientSession, ClientTimeout, web

GROUP_ANONYMOUS_BOT_ID = 1087968824
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "sendPoll"})
#: Telegram's poll limits (Bot API sendPoll).
POLL_QUESTION_MAX = 300
POLL_OPTIONS = (2, 10)
POLL_OPTION_MAX = 100
POLL_EXPLANATION_MAX = 200
POLL_EXPLANATION_LINE_FEEDS = 2
ADMIN_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
    "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
    "can_post_stories", "can_edit_stories", "can_delete_stories", "can_pin_messages",
)
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
BUTTON_ACTIONS = (
    "callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "login_url", "web_app", "pay", "callback_game", "copy_text",
)
DEFAULT_ALLOWED = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
    "chosen_inline_result", "callback_query", "my_chat_member", "shipping_query", "pre_checkout_query",
    "poll", "poll_answer", "chat_join_request",
})
#: Form fields whose value is JSON-serialized (PTB sends non-string values JSON-encoded).
JSON_FIELDS = frozenset({
    "reply_markup", "results", "entities", "caption_entities", "commands", "scope", "allowed_updates",
    "link_preview_options", "reply_parameters", "button", "media", "options", "question_entities",
    "explanation_entities", "correct_option_ids",
})
INT_FIELDS = frozenset({
    "chat_id", "message_id", "user_id", "offset", "limit", "timeout", "cache_time", "reply_to_message_id",
    "max_connections", "message_thread_id", "from_chat_id", "correct_option_id", "open_period", "close_date",
})
BOOL_FIELDS = frozenset({
    "disable_notification", "protect_content", "disable_web_page_preview", "show_alert", "is_personal",
    "drop_pending_updates", "allow_sending_without_reply", "only_if_banned", "has_spoiler",
    "disable_content_type_detection", "show_caption_above_media", "revoke_messages", "is_anonymous",
    "allows_multiple_answers", "is_closed",
})


# ----------------------------------------------------------------------------- errors and faults


class ApiError(Exception):
    """A Telegram error answer: HTTP/error code, description and optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400 'Bad Request: ...' error."""
    return ApiError(400, f"Bad Request: {description}")


def too_many(retry_after: int) -> ApiError:
    """A 429 flood-wait error with parameters.retry_after."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def migrated_error(new_chat_id: int) -> ApiError:
    """The 400 Telegram answers for a group that became a supergroup."""
    return ApiError(
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
    )


@dataclass
class Fault:
    """One injected misbehaviour: an error answer, a delay before the normal answer, or no answer."""

    error: ApiError | None = None
    delay: float = 0.0
    hang: bool = False
    status: int | None = None  # a raw non-JSON HTTP status (e.g. 502 from the front proxy)

    @classmethod
    def retry_after(cls, seconds: int = 1) -> Fault:
        return cls(error=too_many(seconds))

    @classmethod
    def kicked(cls, supergroup: bool = False) -> Fault:
        kind = "supergroup" if supergroup else "group"
        return cls(error=ApiError(403, f"Forbidden: bot was kicked from the {kind} chat"))

    @classmethod
    def blocked(cls) -> Fault:
        return cls(error=ApiError(403, "Forbidden: bot was blocked by the user"))

    @classmethod
    def parse_error(cls) -> Fault:
        return cls(error=bad_request('can\'t parse entities: Unsupported start tag "x" at byte offset 0'))

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        return cls(error=migrated_error(new_chat_id))

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(delay=seconds)

    @classmethod
    def timeout(cls) -> Fault:
        return cls(hang=True)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        if status == 502:
            return cls(status=502)
        return cls(error=ApiError(status, "Internal Server Error"))


@dataclass
class _Injected:
    method: str
    fault: Fault
    chat_id: int | None
    remaining: int


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's broadcast limits: `overall` sends per `overall_window` s, `per_group` per `group_window` s."""

    overall: int = 30
    overall_window: float = 1.0
    per_group: int = 20
    group_window: float = 60.0


# ----------------------------------------------------------------------------- HTML parse mode

_ALLOWED_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
    "tg-spoiler", "span", "tg-emoji",
})
_ENTITY_TYPE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote", "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAME_RE = re.compile(r"[A-Za-z0-9-]*")


class HTMLParseError(ValueError):
    """Telegram's "can't parse entities" reason."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY_RE.match(text, i)
    if not m:
        return None
    if m.group(1):
        return _NAMED[m.group(1)], m.end()
    cp = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if cp == 0 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        return None
    return chr(cp), m.end()


def _unescape_attr(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        dec = _decode_entity(value, i) if value[i] == "&" else None
        if dec:
            out.append(dec[0])
            i = dec[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text
    byte: int


class _HTMLParser:
    """A port of the rules of tdlib's parse_html: Telegram's tags, four named entities, numeric ones."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.pos16 = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def byte(self, i: int) -> int:
        return len(self.text[:i].encode("utf-8"))

    def emit(self, s: str) -> None:
        self.out.append(s)
        self.pos16 += utf16_len(s)

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        text, i = self.text, 0
        while i < len(text):
            c = text[i]
            if c == "&":
                dec = _decode_entity(text, i)
                if dec:
                    self.emit(dec[0])
                    i = dec[1]
                    continue
                self.emit("&")
                i += 1
            elif c == "<":
                i = self.end_tag(i) if text.startswith("</", i) else self.start_tag(i)
            else:
                self.emit(c)
                i += 1
        if self.stack:
            raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def start_tag(self, i: int) -> int:
        text, begin = self.text, i
        m = _NAME_RE.match(text, i + 1)
        assert m is not None
        name, i = m.group(0).lower(), m.end()
        if i >= len(text):
            raise HTMLParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
        if name not in _ALLOWED_TAGS:
            raise HTMLParseError(f'Unsupported start tag "{name}" at byte offset {self.byte(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                raise HTMLParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
            if text[i] == ">":
                i += 1
                break
            m = _NAME_RE.match(text, i)
            assert m is not None
            attr = m.group(0).lower()
            if not attr:
                raise HTMLParseError(f'Empty attribute name in the tag "{name}" at byte offset {self.byte(begin)}')
            i = m.end()
            while i < len(text) and text[i].isspace():
                i += 1
            if i < len(text) and text[i] == "=":
                value, i = self.attr_value(i + 1, name, begin)
            elif attr == "expandable" or (i < len(text) and text[i] == ">"):
                value = ""
            else:
                raise HTMLParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {self.byte(begin)}"
                )
            attrs[attr] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HTMLParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HTMLParseError(f'Tag "tg-emoji" must have a valid emoji-id at byte offset {self.byte(begin)}')
        self.stack.append(_Open(name, attrs, self.pos16, self.byte(begin)))
        return i

    def attr_value(self, i: int, tag: str, begin: int) -> tuple[str, int]:
        text = self.text
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            raise HTMLParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
        if text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end == -1:
                raise HTMLParseError(f"Unclosed start tag at byte offset {self.byte(begin)}")
            return _unescape_attr(text[i + 1 : end]), end + 1
        j = i
        while j < len(text) and not text[j].isspace() and text[j] != ">":
            j += 1
        return _unescape_attr(text[i:j]), j

    def end_tag(self, i: int) -> int:
        text, begin = self.text, i
        m = _NAME_RE.match(text, i + 2)
        assert m is not None
        name, j = m.group(0).lower(), m.end()
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text) or text[j] != ">":
            raise HTMLParseError(f"Unclosed end tag at byte offset {self.byte(begin)}")
        if not self.stack:
            raise HTMLParseError(f"Unexpected end tag at byte offset {self.byte(begin)}")
        top = self.stack[-1]
        if name != top.tag:
            raise HTMLParseError(
                f'Unmatched end tag at byte offset {self.byte(begin)}, expected "</{top.tag}>", found "</{name}>"'
            )
        self.stack.pop()
        self.close(top)
        return j + 1

    def close(self, top: _Open) -> None:
        length = self.pos16 - top.start
        if length == 0:
            return
        entity: dict[str, Any] = {"type": _ENTITY_TYPE[top.tag], "offset": top.start, "length": length}
        if top.tag == "a":
            href = top.attrs.get("href", "")
            if not href:
                return
            entity["url"] = href
        elif top.tag == "blockquote" and "expandable" in top.attrs:
            entity["type"] = "expandable_blockquote"
        elif top.tag == "tg-emoji":
            entity["custom_emoji_id"] = top.attrs["emoji-id"]
        elif top.tag == "code" and self.stack and self.stack[-1].tag == "pre":
            lang = top.attrs.get("class", "")
            if lang.startswith("language-"):
                self.stack[-1].attrs["_language"] = lang[len("language-") :]
            return
        elif top.tag == "pre" and top.attrs.get("_language"):
            entity["language"] = top.attrs["_language"]
        self.entities.append(entity)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram HTML -> (plain text, entities with UTF-16 offsets); raises HTMLParseError."""
    return _HTMLParser(text).parse()


def render_text(text: str, parse_mode: str | None, what: str = "text") -> tuple[str, list[dict[str, Any]]]:
    """Apply `parse_mode` like Telegram; raises ApiError 400 on a parse failure."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(text)
        except HTMLParseError as e:
            where = "" if what == "text" else f" in {what}"
            raise bad_request(f"can't parse entities{where}: {e}") from None
    if mode in ("", "markdown", "markdownv2"):
        return text, []
    raise bad_request("unsupported parse_mode")


# ----------------------------------------------------------------------------- model objects


@dataclass(frozen=True)
class User:
    """A Telegram user (or bot) as pushed updates carry it."""

    id: int
    first_name: str = "张三"
    username: str | None = None
    is_bot: bool = False
    last_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if not self.is_bot:
            d["language_code"] = "zh-hans"
        return d


ANONYMOUS_ADMIN = User(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot", is_bot=True)
DEFAULT_USER = User(1001, "张三", "zhangsan")


@dataclass
class ChatState:
    """What the server knows about one chat, including the bot's membership."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    bot_status: str = "member"  # member | administrator | left | kicked
    migrated_to: int | None = None
    admins: set[int] = field(default_factory=set)
    owner: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            d["first_name"] = self.first_name or "用户"
            if self.username:
                d["username"] = self.username
        else:
            d["title"] = self.title or "工会群"
            if self.type == "supergroup" and self.title is None:
                d["title"] = "工会群"
        return d


@dataclass
class Call:
    """One request the bot made: method, decoded params, monotonic time and the answer given."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool | None = None
    result: Any = None
    error: ApiError | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    #: The fault injected into this call, if any (its error is then not the bot's fault).
    fault: Fault | None = None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        """What the user sees: the plain text (or caption) after entity parsing, else the raw param."""
        if isinstance(self.result, dict):
            return str(self.result.get("text", self.result.get("caption", "")))
        raw = self.params.get("text", self.params.get("caption", ""))
        return str(raw)

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard sent with this call, if any."""
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", []) if isinstance(markup, dict) else []

    def __repr__(self) -> str:
        state = "ok" if self.ok else (self.error.description if self.error else "pending")
        return f"<{self.method} {json.dumps(self.params, ensure_ascii=False)[:160]} -> {state}>"


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INT_FIELDS and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if name in BOOL_FIELDS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


# ----------------------------------------------------------------------------- the server


class FakeBotAPI:
    """The fake server. Use `async with FakeBotAPI() as api:` or `await api.start()` / `await api.stop()`."""

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token",
        bot_username: str = "union_helper_bot",
        flood: FloodLimits | None = None,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        self.bot = User(int(token.split(":")[0]), "工会助手", bot_username, is_bot=True)
        self.flood = flood
        self.flood_429s = 0
        self.webhook_retry_delay = webhook_retry_delay
        self.calls: list[Call] = []
        self.chats: dict[int, ChatState] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        #: Updates waiting for getUpdates (or, with a webhook, for delivery).
        self.updates: deque[dict[str, Any]] = deque()
        self.webhook: dict[str, Any] | None = None
        #: Rewrites a webhook URL prefix (e.g. "https://bot.example.org:8443") to a local http:// base.
        self.webhook_routes: dict[str, str] = {}
        self.webhook_posts: list[tuple[int, int | str]] = []  # (update_id, HTTP status or error)
        self.port = 0
        self._faults: list[_Injected] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._ids = itertools.count(1)
        self._callback_queries: dict[str, bool] = {}
        #: poll id -> (chat id, message id) of every poll the bot sent; votes: poll id -> {user id: option ids}
        self.polls: dict[str, tuple[int, int]] = {}
        self.votes: dict[str, dict[int, list[int]]] = {}
        self._inline_queries: dict[str, bool] = {}
        self._allowed: frozenset[str] = DEFAULT_ALLOWED
        self._sent_overall: deque[float] = deque()
        self._sent_group: dict[int, deque[float]] = {}
        self._cond: asyncio.Condition | None = None
        self._closing: asyncio.Event | None = None
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_wake: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """PTB's base_url: it appends the token and method."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> FakeBotAPI:
        """Listen on a random 127.0.0.1 port."""
        self._cond = asyncio.Condition()
        self._closing = asyncio.Event()
        self._webhook_wake = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._webhook_task = asyncio.create_task(self._webhook_worker())
        return self

    async def stop(self) -> None:
        """Wake every long poll and hanging request, stop delivering, close the listener."""
        if self._closing is None:
            return
        self._closing.set()
        assert self._cond is not None and self._webhook_wake is not None
        async with self._cond:
            self._cond.notify_all()
        self._webhook_wake.set()
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ fault injection

    def inject(self, method: str, fault: Fault, *, chat_id: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with `fault`."""
        self._faults.append(_Injected(method, fault, chat_id, times))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for inj in self._faults:
            if inj.method.lower() != method.lower() or inj.remaining <= 0:
                continue
            if inj.chat_id is not None and params.get("chat_id") != inj.chat_id:
                continue
            inj.remaining -= 1
            if inj.remaining == 0:
                self._faults.remove(inj)
            return inj.fault
        return None

    def _check_flood(self, method: str, chat_id: Any) -> None:
        if self.flood is None or method not in SEND_METHODS:
            return
        now, fl = time.monotonic(), self.flood
        overall = self._sent_overall
        while overall and overall[0] <= now - fl.overall_window:
            overall.popleft()
        group = self._sent_group.setdefault(chat_id, deque()) if isinstance(chat_id, int) and chat_id < 0 else None
        if group is not None:
            while group and group[0] <= now - fl.group_window:
                group.popleft()
        waits = []
        if len(overall) >= fl.overall:
            waits.append(overall[0] + fl.overall_window - now)
        if group is not None and len(group) >= fl.per_group:
            waits.append(group[0] + fl.group_window - now)
        if waits:
            self.flood_429s += 1
            raise too_many(max(1, math.ceil(max(waits))))
        overall.append(now)
        if group is not None:
            group.append(now)

    # ------------------------------------------------------------------ waiting for the bot

    def mark(self) -> int:
        """The index of the next call; pass it as `since=` to wait only for later calls."""
        return len(self.calls)

    def find(
        self, method: str, *, since: int = 0, ok: bool | None = None, answered: bool = True, **match: Any
    ) -> list[Call]:
        """Calls of `method` whose params equal every `match` item: answered (and `ok`, if given) by default,
        or with `answered=False` also those still in progress (a pending long poll or hanging request)."""
        found = []
        for c in self.calls[since:]:
            if c.method.lower() != method.lower() or (ok is not None and c.ok is not ok):
                continue
            if answered and c.ok is None:
                continue
            if all(c.params.get(k) == v for k, v in match.items()):
                found.append(c)
        return found

    async def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 5.0, since: int = 0, ok: bool | None = None,
        answered: bool = True, **match: Any,
    ) -> list[Call]:
        """Wait until `count` matching calls were answered (or arrived); return the first `count` of them."""
        assert self._cond is not None, "server not started"

        def enough() -> bool:
            return len(self.find(method, since=since, ok=ok, answered=answered, **match)) >= count

        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(enough), timeout)
            except TimeoutError:
                seen = "\n  ".join(repr(c) for c in self.calls[since:] if c.method != "getUpdates")
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} x {method} {match or ''}; calls seen:\n  {seen}"
                ) from None
        return self.find(method, since=since, ok=ok, answered=answered, **match)[:count]

    def rejected(self) -> list[Call]:
        """Calls the server refused with 400 on its own (not by an injected fault): the bot sent something invalid."""
        return [c for c in self.calls if c.error is not None and c.error.code == 400 and c.fault is None]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Plain texts (and captions) of every message successfully sent, optionally to one chat."""
        return [
            c.text for c in self.calls
            if c.ok and c.method in SEND_METHODS and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def _notify(self) -> None:
        assert self._cond is not None
        async with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ chats and admins

    def chat(self, chat_id: int, chat_type: str | None = None, title: str | None = None) -> ChatState:
        """The chat with this id, created (private for positive ids, group for negative) if new."""
        st = self.chats.get(chat_id)
        if st is None:
            kind = chat_type or ("private" if chat_id > 0 else ("supergroup" if chat_id < -10**12 else "group"))
            st = ChatState(chat_id, kind, title=title)
            self.chats[chat_id] = st
        elif title is not None:
            st.title = title
        return st

    def set_admins(self, chat_id: int, user_ids: Iterable[int], owner: int | None = None) -> None:
        """Who getChatMember / getChatAdministrators report as admins (and creator) of `chat_id`."""
        st = self.chat(chat_id)
        st.admins = set(user_ids)
        st.owner = owner

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # ------------------------------------------------------------------ pushing updates

    def _deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        if self.webhook and self._webhook_wake:
            self._webhook_wake.set()
        if self._cond is not None:
            asyncio.get_running_loop().create_task(self._notify())
        return update

    def _user_message(
        self, chat: ChatState, user: User, text: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat.id),
            "date": int(time.time()),
            "chat": chat.to_dict(),
            "from": user.to_dict(),
        }
        if text is not None:
            msg["text"] = text
        msg.update(extra)
        self.messages[(chat.id, msg["message_id"])] = msg
        return msg

    def push_message(
        self,
        text: str,
        *,
        user: User = DEFAULT_USER,
        chat_id: int | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
        reply_to: int | None = None,
        anonymous_admin: bool = False,
    ) -> dict[str, Any]:
        """Push a text message from `user` (private chat by default; negative chat_id = group).

        Entities are computed like Telegram: a leading /command (bot_command) and @mentions.
        `reply_to` is the message_id (in that chat) this message replies to, e.g. a bot message.
        `anonymous_admin` sends it as the group itself (sender_chat) from GroupAnonymousBot.
        """
        cid = user.id if chat_id is None else chat_id
        chat = self.chat(cid, chat_type, chat_title)
        if chat.type == "private":
            chat.first_name, chat.username = user.first_name, user.username
            if chat.bot_status in ("left", "kicked"):
                chat.bot_status = "member"  # writing to the bot again unblocks it
        if chat.migrated_to is not None:
            raise ValueError(f"chat {cid} was migrated to {chat.migrated_to}; push to the new id")
        extra: dict[str, Any] = {}
        entities = self._entities_for(text)
        if entities:
            extra["entities"] = entities
        if reply_to is not None:
            target = self.messages.get((cid, reply_to))
            if target is None:
                raise KeyError(f"no message {reply_to} in chat {cid}")
            extra["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        sender = user
        if anonymous_admin:
            sender = ANONYMOUS_ADMIN
            extra["sender_chat"] = chat.to_dict()
        msg = self._user_message(chat, sender, text, **extra)
        return self._deliver("message", msg)

    @staticmethod
    def _entities_for(text: str) -> list[dict[str, Any]]:
        entities = []
        m = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        if m:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
        for m in re.finditer(r"(?<![A-Za-z0-9_/])@[A-Za-z0-9_]{5,32}", text):
            if m.start() == 0 and entities:
                continue
            entities.append(
                {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
            )
        return entities

    def press_button(
        self, chat_id: int, message_id: int, *, data: str | None = None, text: str | None = None,
        user: User = DEFAULT_USER,
    ) -> str:
        """Press an inline button (found by its callback data or label) on a bot message; return the query id."""
        msg = self.messages.get((chat_id, message_id))
        if msg is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
        for b in (b for row in rows for b in row):
            if "callback_data" in b and (b["callback_data"] == data or (data is None and b["text"] == text)):
                return self.push_callback(chat_id, message_id, b["callback_data"], user=user)
        labels = [(b.get("text"), b.get("callback_data")) for row in rows for b in row]
        raise LookupError(f"no button data={data!r} text={text!r} on message {message_id}; buttons: {labels}")

    def push_callback(self, chat_id: int, message_id: int, data: str, *, user: User = DEFAULT_USER) -> str:
        """Push a callback_query with arbitrary `data` for a stored message (e.g. a stale button)."""
        msg = self.messages[(chat_id, message_id)]
        qid = str(next(self._ids) * 7919 + 10**15)
        self._callback_queries[qid] = False
        self._deliver("callback_query", {
            "id": qid, "from": user.to_dict(), "message": msg, "chat_instance": str(-chat_id), "data": data,
        })
        return qid

    def poll(self, poll_id: str) -> dict[str, Any]:
        """The poll object (as stored in its message) of a poll the bot sent."""
        chat_id, message_id = self.polls[poll_id]
        return self.messages[(chat_id, message_id)]["poll"]

    def vote(self, chat_id: int, message_id: int, option_ids: list[int], *, user: User = DEFAULT_USER
             ) -> dict[str, Any]:
        """`user` votes in the bot's poll in message `message_id`; pushes the poll_answer update Telegram sends for
        a non-anonymous poll. Like Telegram: a closed poll takes no votes, a quiz vote cannot be changed or
        retracted, a regular poll's vote may be retracted (empty `option_ids`) and cast again."""
        msg = self.messages.get((chat_id, message_id))
        if msg is None or "poll" not in msg:
            raise KeyError(f"no poll in message {message_id} of chat {chat_id}")
        poll = msg["poll"]
        if poll["is_closed"]:
            raise ValueError("the poll is closed")
        n = len(poll["options"])
        if any(not 0 <= i < n for i in option_ids) or len(set(option_ids)) != len(option_ids):
            raise ValueError(f"bad option ids {option_ids}")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("one option only")
        votes = self.votes.setdefault(poll["id"], {})
        before = votes.get(user.id, [])
        if poll["type"] == "quiz" and before:
            raise ValueError("a quiz answer cannot be changed")
        if not option_ids and not before:
            raise ValueError("nothing to retract")
        for i in before:
            poll["options"][i]["voter_count"] -= 1
        for i in option_ids:
            poll["options"][i]["voter_count"] += 1
        votes[user.id] = list(option_ids)
        poll["total_voter_count"] = sum(1 for v in votes.values() if v)
        if poll["is_anonymous"]:
            return {}
        return self._deliver("poll_answer", {
            "poll_id": poll["id"], "user": user.to_dict(), "option_ids": list(option_ids),
            "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
        })

    def push_inline_query(self, query: str, *, user: User = DEFAULT_USER, offset: str = "") -> str:
        """Push an inline query (`@bot query`); return its id."""
        qid = str(next(self._ids) * 104729 + 2 * 10**15)
        self._inline_queries[qid] = False
        self._deliver("inline_query", {
            "id": qid, "from": user.to_dict(), "query": query, "offset": offset, "chat_type": "sender",
        })
        return qid

    def _member_dict(self, user: User, status: str) -> dict[str, Any]:
        d: dict[str, Any] = {"user": user.to_dict(), "status": status}
        if status == "administrator":
            d.update({k: k not in ("is_anonymous", "can_be_edited") for k in ADMIN_RIGHTS})
        elif status == "creator":
            d["is_anonymous"] = False
        elif status == "kicked":
            d["until_date"] = 0
        return d

    def push_my_chat_member(
        self, chat_id: int, new_status: str, *, by: User = DEFAULT_USER, chat_type: str | None = None,
        chat_title: str | None = None,
    ) -> dict[str, Any]:
        """The bot's membership changed: 'kicked' / 'left' / 'member' / 'administrator'."""
        chat = self.chat(chat_id, chat_type, chat_title)
        old = chat.bot_status
        chat.bot_status = new_status
        return self._deliver("my_chat_member", {
            "chat": chat.to_dict(), "from": by.to_dict(), "date": int(time.time()),
            "old_chat_member": self._member_dict(self.bot, old),
            "new_chat_member": self._member_dict(self.bot, new_status),
        })

    def kick_bot(self, chat_id: int, *, by: User = DEFAULT_USER) -> dict[str, Any]:
        """The bot was removed from a group (or blocked, for a private chat)."""
        return self.push_my_chat_member(chat_id, "kicked", by=by)

    def block_bot(self, user: User = DEFAULT_USER) -> dict[str, Any]:
        """The user blocked the bot in their private chat."""
        self.chat(user.id).first_name = user.first_name
        return self.push_my_chat_member(user.id, "kicked", by=user)

    def add_bot(
        self, chat_id: int, title: str = "工会群", *, by: User = DEFAULT_USER, chat_type: str | None = None,
        admin: bool = False,
    ) -> dict[str, Any]:
        """The bot was added to a group."""
        chat = self.chat(chat_id, chat_type, title)
        chat.bot_status = "left" if chat.bot_status in ("member", "administrator") else chat.bot_status
        return self.push_my_chat_member(chat_id, "administrator" if admin else "member", by=by)

    def migrate_group(self, old_id: int, new_id: int, *, by: User = DEFAULT_USER) -> None:
        """The group became a supergroup: both service messages, and sends to `old_id` now fail."""
        old = self.chat(old_id, "group")
        new = self.chat(new_id, "supergroup", old.title)
        new.admins, new.owner, new.bot_status = set(old.admins), old.owner, old.bot_status
        self._deliver("message", self._user_message(old, by, migrate_to_chat_id=new_id))
        old.migrated_to = new_id
        self._deliver("message", self._user_message(new, ANONYMOUS_ADMIN, migrate_from_chat_id=old_id,
                                                     sender_chat=new.to_dict()))

    # ------------------------------------------------------------------ HTTP handling

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if request.can_read_body:
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif ctype == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        files[part.name] = bytes(await part.read())
                        params[part.name] = {"filename": part.filename}
                    else:
                        params[part.name] = await part.text()
            else:
                params.update(dict(await request.post()))
        return {k: _coerce(k, v) for k, v in params.items()}, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._closing is not None
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        impl = self._methods().get(request.match_info["method"].lower())
        if impl is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        method_name, func = impl
        try:
            params, files = await self._params(request)
        except (ValueError, UnicodeDecodeError):
            return web.json_response(bad_request("can't parse request body").envelope(), status=400)
        call = Call(method_name, params, time.monotonic(), files=files)
        self.calls.append(call)
        await self._notify()
        fault = call.fault = self._take_fault(method_name, params)
        try:
            if fault is not None:
                await self._apply_fault(fault, call)
            self._check_flood(method_name, params.get("chat_id"))
            result = await func(params, files)
        except ApiError as e:
            call.ok, call.error = False, e
            await self._notify()
            return web.json_response(e.envelope(), status=e.code)
        except _RawStatus as e:
            call.ok, call.error = False, ApiError(e.status, "raw HTTP error")
            await self._notify()
            return web.Response(status=e.status, text="<html><body>502 Bad Gateway</body></html>",
                                content_type="text/html")
        call.ok, call.result = True, result
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _apply_fault(self, fault: Fault, call: Call) -> None:
        assert self._closing is not None
        if fault.hang:
            await self._closing.wait()
            raise ApiError(500, "Internal Server Error: server shutting down")
        if fault.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.delay)
        if fault.status is not None:
            raise _RawStatus(fault.status)
        if fault.error is not None:
            raise fault.error

    def _methods(self) -> dict[str, tuple[str, Callable[..., Any]]]:
        names = [
            "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendMessage",
            "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery", "answerInlineQuery",
            "sendDocument", "sendPhoto", "sendChatAction", "getChat", "getChatMember",
            "getChatAdministrators", "setMyCommands", "getMyCommands", "deleteMyCommands", "leaveChat",
            "close", "logOut", "sendPoll", "stopPoll",
        ]
        return {n.lower(): (n, getattr(self, "_m_" + n)) for n in names}

    # ------------------------------------------------------------------ validation helpers

    def _target_chat(self, params: dict[str, Any], *, sending: bool = True) -> ChatState:
        cid = params.get("chat_id")
        if cid is None or cid == "":
            raise bad_request("chat_id is empty")
        if not isinstance(cid, int):
            raise bad_request("chat not found")
        chat = self.chats.get(cid)
        if chat is None:
            if cid > 0:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise migrated_error(chat.migrated_to)
        if sending and chat.bot_status in ("kicked", "left"):
            raise self._not_member(chat)
        return chat

    @staticmethod
    def _not_member(chat: ChatState) -> ApiError:
        if chat.type == "private":
            if chat.bot_status == "kicked":
                return ApiError(403, "Forbidden: bot was blocked by the user")
            return ApiError(403, "Forbidden: user is deactivated")
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            return ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        return ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards / ForceReply are not part of the returned Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        if sum(len(r) for r in rows) > 100:
            raise bad_request("reply markup is too long")
        for b in (b for r in rows for b in r):
            if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not b["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [a for a in BUTTON_ACTIONS if a in b]
            if len(actions) != 1:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in b:
                data = b["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in b:
                url = str(b["url"])
                if urlsplit(url).scheme not in ("http", "https", "tg") or not urlsplit(url).netloc:
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return markup

    @staticmethod
    def _check_text(text: Any, parse_mode: Any, entities: Any = None) -> tuple[str, list[dict[str, Any]]]:
        if not isinstance(text, str) or not text.strip():
            raise bad_request("message text is empty")
        plain, ents = render_text(text, parse_mode)
        if not plain.strip():
            raise bad_request("message text is empty")
        if len(plain) > MAX_TEXT:
            raise bad_request("message is too long")
        if not ents and isinstance(entities, list):
            ents = entities
        return plain, ents

    @staticmethod
    def _check_caption(caption: Any, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
        if caption in (None, ""):
            return "", []
        plain, ents = render_text(str(caption), parse_mode, "caption")
        if len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return plain, ents

    def _bot_message(self, chat: ChatState, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat.id),
            "from": self.bot.to_dict(),
            "chat": chat.to_dict(),
            "date": int(time.time()),
        }
        reply_id = params.get("reply_to_message_id")
        rp = params.get("reply_parameters")
        if isinstance(rp, dict):
            reply_id = rp.get("message_id")
        if reply_id is not None:
            target = self.messages.get((chat.id, int(reply_id)))
            if target is not None:
                msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
            elif not params.get("allow_sending_without_reply") and not (
                isinstance(rp, dict) and rp.get("allow_sending_without_reply")
            ):
                raise bad_request("message to be replied not found")
        msg.update({k: v for k, v in content.items() if v not in (None, [], "")})
        self.messages[(chat.id, msg["message_id"])] = msg
        return msg

    # ------------------------------------------------------------------ methods

    async def _m_getMe(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return {**self.bot.to_dict(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": True, "can_connect_to_business": False, "has_main_web_app": False}

    async def _m_getUpdates(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        assert self._cond is not None and self._closing is not None
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        timeout = max(0, int(p.get("timeout") or 0))
        if not 1 <= limit <= 100:
            limit = 100
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED
        self._confirm(offset)
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._cond:
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll ends with 409 Conflict
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
                self._drop_unallowed()
                if self.updates or self._closing.is_set() or self.webhook:
                    break
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), left)
        return list(itertools.islice(self.updates, limit))

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
        elif offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()

    def _drop_unallowed(self) -> None:
        kept = [u for u in self.updates if next(k for k in u if k != "update_id") in self._allowed]
        if len(kept) != len(self.updates):
            self.updates = deque(kept)

    async def _m_setWebhook(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        url = str(p.get("url") or "")
        if not url:
            return await self._m_deleteWebhook(p, f)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in (80, 88, 443, 8443):
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self.updates.clear()
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED
        self.webhook = {"url": url, "secret_token": secret, "max_connections": int(p.get("max_connections") or 40),
                        "last_error_date": None, "last_error_message": None}
        assert self._cond is not None and self._webhook_wake is not None
        self._webhook_wake.set()
        async with self._cond:
            self._cond.notify_all()  # a pending long poll returns
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _m_getWebhookInfo(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        if self.webhook:
            info.update(url=self.webhook["url"], max_connections=self.webhook["max_connections"],
                        ip_address="127.0.0.1")
            if self.webhook["last_error_date"]:
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
            if self._allowed != DEFAULT_ALLOWED:
                info["allowed_updates"] = sorted(self._allowed)
        return info

    async def _m_sendMessage(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p)
        plain, ents = self._check_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = self._check_markup(p.get("reply_markup"))
        return self._bot_message(chat, p, text=plain, entities=ents, reply_markup=markup)

    async def _m_sendPoll(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p)
        question, q_ents = self._check_poll_text(p.get("question"), p.get("question_parse_mode"), "question",
                                                 POLL_QUESTION_MAX)
        raw = p.get("options")
        if not isinstance(raw, list):
            raise bad_request("can't parse options JSON object")
        if not POLL_OPTIONS[0] <= len(raw) <= POLL_OPTIONS[1]:
            raise bad_request("poll must have 2-10 options")
        options = []
        for opt in raw:
            text, mode = (opt.get("text"), opt.get("text_parse_mode")) if isinstance(opt, dict) else (opt, None)
            plain, _ents = self._check_poll_text(text, mode, "option", POLL_OPTION_MAX)
            options.append({"text": plain, "voter_count": 0, "persistent_id": f"o{len(options)}"})
        kind = p.get("type") or "regular"
        if kind not in ("quiz", "regular"):
            raise bad_request("POLL_TYPE_INVALID")
        multiple = bool(p.get("allows_multiple_answers"))
        correct = p.get("correct_option_id")
        ids = p.get("correct_option_ids")  # newer clients (PTB 22.8) send the id as a one-element list
        if correct is None and isinstance(ids, list):
            if len(ids) != 1:
                raise bad_request("QUIZ_CORRECT_ANSWERS_INVALID: a quiz poll has exactly one correct option")
            correct = ids[0]
        explanation = p.get("explanation")
        if kind == "quiz":
            if multiple:
                raise bad_request("QUIZ_MULTIPLE_INVALID: a quiz poll can't allow multiple answers")
            if not isinstance(correct, int) or isinstance(correct, bool) or not 0 <= correct < len(options):
                raise bad_request("QUIZ_CORRECT_ANSWER_INVALID: wrong correct_option_id")
        elif correct is not None:
            raise bad_request("correct_option_id is allowed only in quiz polls")
        elif explanation:
            raise bad_request("explanation is allowed only in quiz polls")
        anonymous = p.get("is_anonymous", True) is not False
        if not anonymous and chat.type == "channel":
            raise bad_request("non-anonymous polls can't be sent to channel chats")
        poll: dict[str, Any] = {
            "id": str(next(self._ids) * 48271 + 5 * 10**15), "question": question, "options": options,
            "total_voter_count": 0, "is_closed": bool(p.get("is_closed")), "is_anonymous": anonymous,
            "type": kind, "allows_multiple_answers": multiple,
            "allows_revoting": kind != "quiz", "members_only": False,  # Bot API 9.6 / 10.0 required fields
        }
        if q_ents:
            poll["question_entities"] = q_ents
        if kind == "quiz":
            poll["correct_option_ids"] = [correct]  # Bot API 9.6 (correct_option_id is deprecated)
            if explanation:
                plain, ents = self._check_poll_text(explanation, p.get("explanation_parse_mode"), "explanation",
                                                    POLL_EXPLANATION_MAX, allow_empty=True)
                if plain.count("\n") > POLL_EXPLANATION_LINE_FEEDS:
                    raise bad_request("explanation can't contain more than 2 line feeds")
                poll["explanation"] = plain
                if ents:
                    poll["explanation_entities"] = ents
        msg = self._bot_message(chat, p, poll=poll, reply_markup=self._check_markup(p.get("reply_markup")))
        self.polls[poll["id"]] = (chat.id, msg["message_id"])
        return msg

    async def _m_stopPoll(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p, sending=False)
        msg = self.messages.get((chat.id, int(p.get("message_id") or 0)))
        if msg is None:
            raise bad_request("message to stop poll not found")
        if msg["from"]["id"] != self.bot.id or "poll" not in msg:
            raise bad_request("message with poll to stop not found")
        if msg["poll"]["is_closed"]:
            raise bad_request("poll has already been closed")
        msg["poll"]["is_closed"] = True
        return msg["poll"]

    @staticmethod
    def _check_poll_text(text: Any, parse_mode: Any, what: str, limit: int, allow_empty: bool = False
                         ) -> tuple[str, list[dict[str, Any]]]:
        if not isinstance(text, str):
            raise bad_request(f"poll {what} must be a string")
        plain, ents = render_text(text, parse_mode, what)
        if not plain.strip() and not allow_empty:
            raise bad_request(f"poll {what} is empty")
        if len(plain) > limit:
            raise bad_request(f"poll {what} is too long: {len(plain)} characters, at most {limit}")
        return plain, ents

    def _editable(self, p: dict[str, Any]) -> dict[str, Any] | None:
        if p.get("inline_message_id"):
            return None
        chat = self._target_chat(p, sending=False)
        msg = self.messages.get((chat.id, int(p.get("message_id") or 0)))
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.bot.id:
            raise bad_request("message can't be edited")
        return msg

    @staticmethod
    def _not_modified() -> ApiError:
        return bad_request("message is not modified: specified new message content and reply markup are "
                           "exactly the same as a current content and reply markup of the message")

    async def _m_editMessageText(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        msg = self._editable(p)
        plain, ents = self._check_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = self._check_markup(p.get("reply_markup"))
        if msg is None:
            return True
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        if (msg["text"], msg.get("entities", []), msg.get("reply_markup")) == (plain, ents, markup):
            raise self._not_modified()
        msg["text"] = plain
        msg.pop("entities", None)
        msg.pop("reply_markup", None)
        if ents:
            msg["entities"] = ents
        if markup:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        return msg

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        msg = self._editable(p)
        markup = self._check_markup(p.get("reply_markup"))
        if msg is None:
            return True
        if msg.get("reply_markup") == markup:
            raise self._not_modified()
        msg.pop("reply_markup", None)
        if markup:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        return msg

    async def _m_answerCallbackQuery(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        qid = str(p.get("callback_query_id") or "")
        if self._callback_queries.get(qid, True):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(p.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[qid] = True
        return True

    async def _m_answerInlineQuery(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        qid = str(p.get("inline_query_id") or "")
        if self._inline_queries.get(qid, True):
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        results = p.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for r in results:
            rid = str(r.get("id", ""))
            if not 1 <= len(rid.encode("utf-8")) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            if rid in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(rid)
            if r.get("type") == "article" and not str(r.get("title") or "").strip():
                raise bad_request("RESULT_TITLE_EMPTY")
            content = r.get("input_message_content")
            if r.get("type") == "article" and not isinstance(content, dict):
                raise bad_request("can't parse InputMessageContent: Field \"message_text\" must be of type String")
            if isinstance(content, dict) and "message_text" in content:
                self._check_text(content["message_text"], content.get("parse_mode"))
            self._check_markup(r.get("reply_markup"))
        self._inline_queries[qid] = True
        return True

    async def _m_send_file(self, p: dict[str, Any], files: dict[str, bytes], kind: str) -> Any:
        chat = self._target_chat(p)
        caption, ents = self._check_caption(p.get("caption"), p.get("parse_mode"))
        markup = self._check_markup(p.get("reply_markup"))
        data = files.get(kind)
        if data is None:
            ref = p.get(kind)
            if not isinstance(ref, str) or not ref:
                raise bad_request(f"there is no {kind} in the request")
            if ref not in self.files:
                raise bad_request("wrong file identifier/HTTP URL specified")
            data = self.files[ref]
        if not data:
            raise bad_request("file must be non-empty")
        file_id = f"{kind[:3].upper()}{next(self._ids):08d}"
        self.files[file_id] = data
        meta = p.get(kind) if isinstance(p.get(kind), dict) else {}
        if kind == "photo":
            size = _png_size(data) or ((320, 240) if data[:3] == b"\xff\xd8\xff" else None)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            media: Any = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": size[0],
                           "height": size[1], "file_size": len(data)}]
        else:
            media = {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": len(data),
                     "file_name": meta.get("filename") or "file"}
        return self._bot_message(chat, p, caption=caption, caption_entities=ents, reply_markup=markup,
                                 **{kind: media})

    async def _m_sendDocument(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return await self._m_send_file(p, f, "document")

    async def _m_sendPhoto(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return await self._m_send_file(p, f, "photo")

    async def _m_sendChatAction(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        self._target_chat(p)
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _m_getChat(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        cid = p.get("chat_id")
        chat = self.chats.get(cid) if isinstance(cid, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise migrated_error(chat.migrated_to)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
            False,
        )
        return {**chat.to_dict(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _status_of(self, chat: ChatState, user_id: int) -> str:
        if user_id == self.bot.id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id == chat.owner:
            return "creator"
        return "administrator" if user_id in chat.admins else "member"

    def _user(self, user_id: int, chat: ChatState | None = None) -> User:
        if user_id == self.bot.id:
            return self.bot
        if user_id == GROUP_ANONYMOUS_BOT_ID:
            return ANONYMOUS_ADMIN
        return User(user_id, f"用户{user_id}")

    async def _m_getChatMember(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p, sending=False)
        if chat.type != "private" and chat.bot_status in ("kicked", "left"):
            raise self._not_member(chat)
        uid = p.get("user_id")
        if not isinstance(uid, int):
            raise bad_request("invalid user_id specified")
        return self._member_dict(self._user(uid), self._status_of(chat, uid))

    async def _m_getChatAdministrators(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p, sending=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        if chat.bot_status in ("kicked", "left"):
            raise self._not_member(chat)
        ids = ([chat.owner] if chat.owner is not None else []) + sorted(chat.admins - {chat.owner})
        if chat.bot_status == "administrator":
            ids.append(self.bot.id)
        return [self._member_dict(self._user(i), self._status_of(chat, i)) for i in ids]

    @staticmethod
    def _scope_key(p: dict[str, Any]) -> str:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps([scope, p.get("language_code") or ""], sort_keys=True)

    async def _m_setMyCommands(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        cmds = p.get("commands")
        if not isinstance(cmds, list):
            raise bad_request("can't parse commands JSON object")
        if len(cmds) > 100:
            raise bad_request("too many commands")
        for c in cmds:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in cmds
        ]
        return True

    async def _m_getMyCommands(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return self.commands.get(self._scope_key(p), [])

    async def _m_deleteMyCommands(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        self.commands.pop(self._scope_key(p), None)
        return True

    async def _m_leaveChat(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        chat = self._target_chat(p, sending=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        if chat.bot_status in ("left", "kicked"):
            raise self._not_member(chat)
        self.push_my_chat_member(chat.id, "left", by=self.bot)
        return True

    async def _m_close(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return True

    async def _m_logOut(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return True

    # ------------------------------------------------------------------ webhook delivery

    def _webhook_target(self, url: str) -> str:
        for prefix, local in self.webhook_routes.items():
            if url.startswith(prefix):
                return local + url[len(prefix) :]
        return url

    async def _webhook_worker(self) -> None:
        assert self._webhook_wake is not None and self._closing is not None
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while not self._closing.is_set():
                if not (self.webhook and self.updates):
                    self._webhook_wake.clear()
                    await self._webhook_wake.wait()
                    continue
                self._drop_unallowed()
                if not self.updates:
                    continue
                update, hook = self.updates[0], self.webhook
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
                try:
                    async with session.post(self._webhook_target(hook["url"]), json=update,
                                            headers=headers) as resp:
                        status: int | str = resp.status
                        ok = 200 <= resp.status < 300
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
                except (OSError, ClientError, TimeoutError) as e:
                    status, ok, error = type(e).__name__, False, "Connection refused"
                self.webhook_posts.append((update["update_id"], status))
                if ok:
                    if self.updates and self.updates[0] is update:
                        self.updates.popleft()
                    continue
                hook["last_error_date"], hook["last_error_message"] = int(time.time()), error
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.webhook_retry_delay)


class _RawStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def escape(text: str) -> str:
    """HTML-escape like the bot must (for building expected texts in tests)."""
    return html.escape(text, quote=False)
