"""Platform-neutral message types: what a handler receives and what it answers.

Adapters (Telegram, console) turn their platform's updates into a `Request`,
call `bot.commands.dispatch`, and deliver the returned `Reply` objects.
Nothing here imports a platform library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ChatType = Literal["private", "group", "supergroup", "channel"]

#: Telegram's limits, enforced by the core so both adapters behave alike.
MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64


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


@dataclass
class Reply:
    """One message the bot sends. `text` is Telegram HTML, already escaped."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    #: Target chat; None means the chat the request came from.
    chat_id: int | None = None
    #: For a callback: replace the message that carried the button instead of sending anew.
    edit: bool = False
    #: For a callback: the short notice shown by answerCallbackQuery.
    toast: str | None = None
    #: A file to send (e.g. the .xlsx export); `text` becomes its caption.
    document: Path | None = None
    #: PNG bytes to send as a photo (e.g. the statistics chart); `text` becomes its caption.
    photo: bytes | None = None


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

    chat_id: int
    chat_type: ChatType
    user_id: int
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

    def __init__(self, chat_id: int, reason: str = "") -> None:
        super().__init__(f"chat {chat_id} gone: {reason}")
        self.chat_id = chat_id
        self.reason = reason


class ChatMoved(DeliveryError):
    """A group became a supergroup with a new id (Telegram `ChatMigrated`)."""

    def __init__(self, chat_id: int, new_chat_id: int) -> None:
        super().__init__(f"chat {chat_id} moved to {new_chat_id}")
        self.chat_id = chat_id
        self.new_chat_id = new_chat_id


#: What an adapter gives the core to deliver messages outside a request (pushes, notifications).
#: It raises ChatGone / ChatMoved / DeliveryError; it retries flood waits itself and loses nothing.
Sender = Callable[[Reply], Awaitable[None]]
