"""The one command table and the dispatcher that routes a `Request` to a handler.

Each feature module under `bot/handlers/` exports `COMMANDS` (and `CALLBACKS`);
`TABLE` below is all of them, in the order `/help` shows them. Telegram commands
are ASCII, so every Chinese trigger (`搜索 …`, `今日`) is an alias matched here,
for both adapters alike.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot import texts
from bot.core import Reply, Request

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: handler(request, services, args) -> replies. `args` is the text after the command or alias.
Handler = Callable[["Request", "Services", str], Awaitable[list[Reply]]]


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


#: A periodic job: tick(services). Adapters run every feature's TICKS about every 30 s; each tick
#: decides for itself (from svc.now() and the store) whether anything is due, so it is restart-safe.
Tick = Callable[["Services"], Awaitable[None]]


def _load_table() -> tuple[list[Command], list[Callback], list[Tick], Handler]:
    from bot.handlers import basic, push, reload, search, suggest

    modules = (basic, push, search, suggest, reload)
    commands = [c for m in modules for c in getattr(m, "COMMANDS", [])]
    callbacks = [c for m in modules for c in getattr(m, "CALLBACKS", [])]
    ticks = [t for m in modules for t in getattr(m, "TICKS", [])]
    return commands, callbacks, ticks, search.plain_text


TABLE, CALLBACKS, TICKS, _plain_text = _load_table()
_BY_NAME = {c.name: c for c in TABLE}
_ALIASES = sorted(((a, c) for c in TABLE for a in c.aliases), key=lambda p: -len(p[0]))
_CALLBACKS = {c.prefix: c for c in CALLBACKS}
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+|$)(.*)$", re.S)
_ALIAS_SEP = " \t\n\u3000:：,，"


def match_alias(text: str) -> tuple[Command, str] | None:
    """`搜索 职代会` / `搜索：职代会` / `今日` -> (command, args); None if no alias starts the text."""
    for alias, cmd in _ALIASES:
        if text == alias:
            return cmd, ""
        if text.startswith(alias) and text[len(alias)] in _ALIAS_SEP:
            return cmd, text[len(alias) :].lstrip(_ALIAS_SEP)
    return None


def _strip_mention(text: str, bot_username: str) -> str:
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.I).strip()


async def dispatch(req: Request, svc: Services) -> list[Reply]:
    """Route one request to its handler; never raises for bad input."""
    try:
        return await _dispatch(req, svc)
    except Exception:
        # Never log a private chat's id: it is the user's id (and may belong to an anonymous proposer).
        log.exception("handler failed in a %s chat", req.chat_type)
        return [Reply(texts.INTERNAL_ERROR)]


async def _dispatch(req: Request, svc: Services) -> list[Reply]:
    if req.callback_data is not None:
        prefix, _, rest = req.callback_data.partition(":")
        cb = _CALLBACKS.get(prefix)
        if cb is None:
            return [Reply(toast=texts.BUTTON_EXPIRED)]
        return await cb.handler(req, svc, rest)

    text = (req.text or "").strip()
    if not text:
        return []

    m = _COMMAND_RE.match(text)
    if m:
        name, target, args = m.group(1).lower(), m.group(2), m.group(3).strip()
        if target and target.lower() != req.bot_username.lower():
            return []  # a command for another bot in this group
        cmd = _BY_NAME.get(name)
        if cmd is None:
            if req.is_private or target:
                return [Reply(texts.unknown_command(name))]
            return []
        if cmd.name != "cancel":
            end_flow(req, svc)  # another command abandons a guided flow
        return await cmd.handler(req, svc, args)

    hit = match_alias(text)
    if hit is None and req.addressed:
        hit = match_alias(_strip_mention(text, req.bot_username))
    # A guided flow waiting for this user's text gets it, even if it starts with a trigger word
    # (a suggestion may well begin with 建议 or 查); only 取消 leaves the flow.
    pending = get_flow(req, svc)
    if pending is not None and (hit is None or hit[0].name != "cancel"):
        return await pending.handler(req, svc, text)
    if hit is not None:
        cmd, args = hit
        return await cmd.handler(req, svc, args)

    if req.is_private:
        return await _plain_text(req, svc, text)
    if req.addressed:
        return await _plain_text(req, svc, _strip_mention(text, req.bot_username))
    return []


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
    """Configured officers anywhere; in a group, its admins (anonymous admins included) too."""
    if req.user_id in svc.config.bot.officers:
        return True
    if req.is_group:
        return await req.is_chat_admin()
    return False
