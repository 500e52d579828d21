"""Platform-neutral message types: what a handler receives and what it answers.

Adapters (Telegram, WeCom, console) turn their platform's updates into a `Request`,
call `bot.commands.dispatch`, and deliver the returned `Reply` objects.
Nothing here imports a platform library.

Identities are platform-qualified strings: a chat is "tg:-1001234" or "wecom:wrkAbc", a user "tg:42" or
"wecom:zhangsan". A user's private chat has the same id as the user (true on Telegram and WeCom alike),
so a notification to a user is a Reply with chat_id = that user's id. Handlers never look inside an id.

Reply text is the core markup: a small Telegram-style HTML subset (<b> <i> <u> <s> <code> <pre> <a href>
<blockquote>, with &lt; &gt; &amp; &quot;), member text escaped with html.escape. Each adapter renders it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]

#: Button data must fit every platform's button payload: Telegram's 64-byte callback_data is the smallest
#: (WeCom's card key allows 1,024). Message size limits live in each adapter.
MAX_CALLBACK_BYTES = 64
#: Long texts (full passages, pushes) are cut by handlers into parts of at most this many characters, the
#: smallest platform limit (Telegram's 4,096); each adapter still enforces its own limit (WeCom: 20,480 bytes).
MAX_MESSAGE_CHARS = 4096

#: Platform prefixes of qualified ids.
TELEGRAM = "tg"
WECOM = "wecom"
DINGTALK = "dingtalk"
CONSOLE = "console"

ChatId = str
UserId = str


def qualify(platform: str, raw: int | str) -> str:
    """A platform's own id -> the core's id: qualify("tg", -100123) == "tg:-100123"."""
    return f"{platform}:{raw}"


def platform_of(qid: str) -> str:
    """The platform prefix of a qualified id ("tg:-100123" -> "tg")."""
    return qid.partition(":")[0]


def raw_id(qid: str) -> str:
    """The platform's own id inside a qualified id ("tg:-100123" -> "-100123")."""
    return qid.partition(":")[2]


@dataclass(frozen=True)
class Button:
    """An inline button: callback `data` (<= 64 bytes UTF-8) or a `url`."""

    text: str
    data: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if bool(self.data) == bool(self.url):
            raise ValueError("a button needs exactly one of data or url")
        if len(self.data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {self.data!r}")


#: A quiz's explanation longer than this (Telegram's limit for a quiz poll's explanation, the smallest), or with
#: more than QUIZ_EXPLANATION_LINES line breaks, is shown in full only when the day's quiz closes.
QUIZ_EXPLANATION_CHARS = 200
QUIZ_EXPLANATION_LINES = 2


@dataclass(frozen=True)
class Quiz:
    """A question to answer (每日一题), carried by a Reply: each adapter shows it the best way its platform can.

    Telegram sends a native poll (a quiz poll, or a regular multiple-answer poll for 多选) and reports what it
    sent through `on_sent` (its poll and message ids, so votes and the day's close find it again); every other
    adapter sends the Reply's `text` (the question with lettered options and how to answer in words) and its
    `buttons` (one per option) as it would any reply. All texts here are plain (no markup).
    """

    header: str
    question: str
    options: tuple[str, ...]
    correct: tuple[int, ...]
    multiple: bool = False
    explanation: str = ""
    #: Called by an adapter with its platform's references once the native form was sent (e.g. a poll id).
    on_sent: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)


@dataclass
class Reply:
    """One message the bot sends. `text` is Telegram HTML, already escaped."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    #: Target chat (qualified id); None means the chat the request came from.
    chat_id: ChatId | None = None
    #: For a callback: replace the message that carried the button instead of sending anew.
    edit: bool = False
    #: For a callback: the short notice shown by answerCallbackQuery.
    toast: str | None = None
    #: A file to send (e.g. the .xlsx export); `text` becomes its caption.
    document: Path | None = None
    #: PNG bytes to send as a photo (e.g. the statistics chart); `text` becomes its caption.
    photo: bytes | None = None
    #: A question to answer (每日一题): adapters with a native form (Telegram's poll) send that instead of
    #: `text` and `buttons`; the others send `text` and `buttons` as usual.
    quiz: Quiz | None = None
    #: Native quiz forms to close before this reply goes out: what adapters reported through `Quiz.on_sent`
    #: (Telegram stops those polls). `text` may be empty then.
    close_quizzes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class InlineResult:
    """One inline-mode result (`@bot 关键词`): a title, a description and the message it sends."""

    id: str
    title: str
    description: str
    text: str  # Telegram HTML, escaped


async def _never_admin() -> bool:
    return False


@dataclass
class Request:
    """An incoming message or button press, as the core sees it."""

    chat_id: ChatId
    chat_type: ChatType
    user_id: UserId
    user_name: str
    text: str = ""
    chat_title: str = ""
    #: Set for a button press; `text` is then empty.
    callback_data: str | None = None
    #: Whether the user is an admin of this chat (group) -- configured officers are checked separately.
    is_chat_admin: Callable[[], Awaitable[bool]] = _never_admin
    #: Whether the user has a private chat with the bot (may receive private messages).
    bot_username: str = "union_helper_bot"
    #: The message mentions the bot (@name) or replies to one of its messages.
    addressed: bool = False
    message_id: int | None = None
    #: The platform the request came from ("tg", "wecom", "console").
    platform: str = TELEGRAM
    #: start-parameter -> a link opening the private chat with the bot (Telegram's deep link); None where the
    #: platform has no such link (then handlers tell the member in words to message the bot privately).
    private_link: Callable[[str], str] | None = None
    #: Whether the platform tells the bot who administers a group (Telegram does; WeCom does not, so there only
    #: configured officers act for a group, and the messages say so).
    group_admins: bool = True

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"

    @property
    def is_group(self) -> bool:
        return self.chat_type in ("group", "supergroup")


class DeliveryError(Exception):
    """Raised by an adapter's `send` when a message could not be delivered."""


class DeliveryUncertain(DeliveryError):
    """The request timed out: the message may or may not have arrived, so a retry could send it twice."""


class ChatGone(DeliveryError):
    """The bot was blocked, kicked or the chat no longer exists (Telegram `Forbidden`)."""

    def __init__(self, chat_id: ChatId, reason: str = "") -> None:
        super().__init__(f"chat {chat_id} gone: {reason}")
        self.chat_id = chat_id
        self.reason = reason


class ChatMoved(DeliveryError):
    """A group became a supergroup with a new id (Telegram `ChatMigrated`)."""

    def __init__(self, chat_id: ChatId, new_chat_id: ChatId) -> None:
        super().__init__(f"chat {chat_id} moved to {new_chat_id}")
        self.chat_id = chat_id
        self.new_chat_id = new_chat_id


#: What an adapter gives the core to deliver messages outside a request (pushes, notifications).
#: It raises ChatGone / ChatMoved / DeliveryError; it retries flood waits itself and loses nothing.
Sender = Callable[[Reply], Awaitable[None]]
