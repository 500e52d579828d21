"""The command table's types and the guided-flow helpers: what handlers need, below the handlers.

Handlers import from here; `bot.commands` imports the handlers to build the table and dispatch. So the
import graph has no circle: core <- table <- handlers <- commands <- adapters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bot.core import Reply, Request, platform_of

if TYPE_CHECKING:
    from bot.services import Services

#: handler(request, services, args) -> replies. `args` is the text after the command or alias.
Handler = Callable[["Request", "Services", str], Awaitable[list[Reply]]]

#: A periodic job: tick(services). The runtime runs every feature's TICKS at second 0 of every minute (and once
#: at start), each in its own lane, never two runs of one lane at once (bot/ticks.py); each tick decides for itself
#: (from svc.now() and the store) whether anything is due, so it is restart-safe and a late run only catches up.
Tick = Callable[["Services"], Awaitable[None]]
#: A tick declared `per_platform`, called as tick(services, platform): it serves only the chats of `platform`
#: (`serves`); platform None (a direct call) serves every platform this process can send to.
PlatformTick = Callable[["Services", "str | None"], Awaitable[None]]

_T = TypeVar("_T", bound=Callable[..., Awaitable[None]])
_PER_PLATFORM: set[Any] = set()


def per_platform(tick: _T) -> _T:
    """Declare a feature tick per platform: the runtime keeps one lane for each platform it sends to and calls
    `tick(services, platform)` in it, so a platform whose sends hang never holds the tick on another platform."""
    _PER_PLATFORM.add(tick)
    return tick


def is_per_platform(tick: Any) -> bool:
    """Whether `tick` was declared with `per_platform`."""
    return tick in _PER_PLATFORM


def serves(svc: Services, chat_id: str, platform: str | None) -> bool:
    """Whether a per-platform tick's run for `platform` (None: every platform) handles `chat_id`: the chat's
    platform runs in this process and is the one this run serves."""
    return svc.can_send(chat_id) and (platform is None or platform_of(chat_id) == platform)


@dataclass(frozen=True)
class Command:
    """One command: ASCII name, Chinese aliases, help text and handler."""

    name: str
    aliases: tuple[str, ...]
    help: str
    handler: Handler
    #: How to call it, shown in /help, e.g. "/search 关键词".
    usage: str = ""
    #: "member": anyone; "officer": group admins and configured officers (listed apart in /help).
    audience: Literal["member", "officer"] = "member"
    #: Registered in Telegram's command menu (set_my_commands).
    menu: bool = True


@dataclass(frozen=True)
class Callback:
    """Button presses whose callback data starts with `prefix + ":"`; handler gets the rest."""

    prefix: str
    handler: Handler


@dataclass
class Pending:
    """A guided flow waiting for this user's next plain message in this chat."""

    handler: Handler
    expires: datetime
    state: dict[str, Any] = field(default_factory=dict)


#: Every command, in /help order; filled once by bot.commands when it gathers the handler modules.
TABLE: list[Command] = []


def start_flow(req: Request, svc: Services, handler: Handler, minutes: int = 10, **state: Any) -> Pending:
    """Make the user's next plain message in this chat go to `handler` (until it expires)."""
    p = Pending(handler=handler, expires=svc.now() + timedelta(minutes=minutes), state=dict(state))
    svc.pending[(req.chat_id, req.user_id)] = p
    return p


def end_flow(req: Request, svc: Services) -> Pending | None:
    """Forget the user's pending flow in this chat, returning it if there was one."""
    return svc.pending.pop((req.chat_id, req.user_id), None)


def get_flow(req: Request, svc: Services) -> Pending | None:
    """The user's pending flow in this chat, if any and not expired."""
    p = svc.pending.get((req.chat_id, req.user_id))
    if p is not None and p.expires < svc.now():
        svc.pending.pop((req.chat_id, req.user_id), None)
        return None
    return p


async def is_officer(req: Request, svc: Services) -> bool:
    """Configured officers (of any platform) anywhere; in a group, its admins (anonymous admins included)."""
    if svc.is_officer(req.user_id):
        return True
    if req.is_group:
        return await req.is_chat_admin()
    return False
