"""The one command table and the dispatcher that routes a `Request` to a handler.

Each feature module under `bot/handlers/` exports `COMMANDS` (and `CALLBACKS`);
`TABLE` below is all of them, in the order `/help` shows them. Telegram commands
are ASCII, so every Chinese trigger (`搜索 …`, `今日`) is an alias matched here,
for both adapters alike.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot import choices, lifecycle, table, texts
from bot.core import Reply, Request
from bot.table import Callback, Command, Handler, Pending, Tick, end_flow, get_flow, is_officer, start_flow

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

__all__ = ["TABLE", "CALLBACKS", "TICKS", "Command", "Callback", "Pending", "Tick", "Route", "dispatch", "route",
           "match_alias", "strip_mention",
           "start_flow", "end_flow", "get_flow", "is_officer"]


#: A feature's look at plain text before the search fallback: replies if the text is for it, else None.
PlainHook = Callable[[Request, "Services", str], Awaitable[list[Reply] | None]]


def _load_table() -> tuple[list[Command], list[Callback], list[Tick], list[PlainHook], Handler]:
    from bot.handlers import basic, push, quiz, reload, search, suggest

    modules = (basic, push, quiz, search, suggest, reload)
    commands = [c for m in modules for c in getattr(m, "COMMANDS", [])]
    callbacks = [c for m in modules for c in getattr(m, "CALLBACKS", [])]
    ticks = [t for m in modules for t in getattr(m, "TICKS", [])]
    plain = [h for m in modules for h in getattr(m, "PLAIN_TEXT", [])]
    lifecycle.REMOVED[:] = [h for m in modules for h in getattr(m, "ON_CHAT_REMOVED", [])]
    lifecycle.MIGRATED[:] = [h for m in modules for h in getattr(m, "ON_CHAT_MIGRATED", [])]
    return commands, callbacks, ticks, plain, search.plain_text


TABLE, CALLBACKS, TICKS, _PLAIN_HOOKS, _plain_text = _load_table()
table.TABLE[:] = TABLE
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


def strip_mention(text: str, bot_username: str) -> str:
    """The text without `@bot_username` mentions, stripped."""
    if not bot_username:
        return text.strip()
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.I).strip()


RouteKind = Literal["ignore", "help", "callback", "choice", "command", "unknown", "flow", "text"]


@dataclass(frozen=True)
class Route:
    """Where one request goes, decided once (by `route`) for the dispatcher and the flood guard alike.

    kind: "ignore" (not for this bot), "help" (a bare mention), "callback" / "choice" (a button press, or a
    bare number standing for one: `data`), "command" (`command` with `args`; `slash` when typed as /name),
    "unknown" (an unknown /command: `args` is its name), "flow" (the next step of the user's pending guided
    flow: `pending`, with the text in `args`), "text" (plain text in a private chat or addressed to the bot,
    mention removed, in `args`: a feature's PLAIN_TEXT hook may take it, e.g. a quiz answer; else a search).
    """

    kind: RouteKind
    command: Command | None = None
    args: str = ""
    data: str = ""
    slash: bool = False
    pending: Pending | None = None


_IGNORE = Route("ignore")


def route(req: Request, svc: Services) -> Route:
    """Decide where `req` goes, without acting on it (a numbered choice is only peeked at, not used up)."""
    if req.callback_data is not None:
        return Route("callback", data=req.callback_data)
    text = (req.text or "").strip()
    if not text or (req.addressed and not strip_mention(text, req.bot_username)):
        # a bare mention ("@工会助手" and nothing else) asks what the bot can do
        return Route("help") if req.addressed else _IGNORE
    # Numbered choices (bot/choices.py): a bare number answers the buttons a platform could not show.
    if (choice := choices.peek(svc, req.chat_id, text)) is not None:
        return Route("choice", data=choice)
    m = _COMMAND_RE.match(text)
    if m:
        name, target, args = m.group(1).lower(), m.group(2), m.group(3).strip()
        if target and target.lower() != req.bot_username.lower():
            return _IGNORE  # a command for another bot in this group
        cmd = _BY_NAME.get(name)
        if cmd is None:
            # answered where it was meant for this bot: a private chat, /name@bot, or a message addressed to it
            # (a mention or a reply to it; every WeCom / DingTalk group message the bot receives mentions it)
            return Route("unknown", args=name) if req.is_private or target or req.addressed else _IGNORE
        return Route("command", command=cmd, args=args, slash=True)
    hit = match_alias(text)
    if hit is None and req.addressed:
        hit = match_alias(strip_mention(text, req.bot_username))
    # A guided flow waiting for this user's text gets it, even if it starts with a trigger word
    # (a suggestion may well begin with 建议 or 查); only 取消 leaves the flow.
    pending = get_flow(req, svc)
    if pending is not None and (hit is None or hit[0].name != "cancel"):
        return Route("flow", args=text, pending=pending)
    if hit is not None:
        return Route("command", command=hit[0], args=hit[1])
    if req.is_private:
        return Route("text", args=text)
    if req.addressed:
        return Route("text", args=strip_mention(text, req.bot_username))
    return _IGNORE


async def dispatch(req: Request, svc: Services) -> list[Reply]:
    """Route one request to its handler; never raises for bad input."""
    try:
        return await _dispatch(req, svc)
    except Exception:
        # Never log a private chat's id: it is the user's id (and may belong to an anonymous proposer).
        log.exception("handler failed in a %s chat", req.chat_type)
        return [Reply(texts.INTERNAL_ERROR)]


async def _dispatch(req: Request, svc: Services) -> list[Reply]:
    r = route(req, svc)
    if r.kind == "choice":
        choices.take(svc, req.chat_id, req.text or "")  # the offer is used up
    if r.kind in ("callback", "choice"):
        prefix, _, rest = r.data.partition(":")
        cb = _CALLBACKS.get(prefix)
        if cb is None:
            return [Reply(toast=texts.BUTTON_EXPIRED)]
        if r.kind == "choice":
            req = dataclasses.replace(req, callback_data=r.data, text="")
        return await cb.handler(req, svc, rest)
    if r.kind == "help":
        return await _BY_NAME["help"].handler(req, svc, "")
    if r.kind == "unknown":
        return [Reply(texts.unknown_command(r.args))]
    if r.kind == "flow":
        assert r.pending is not None
        return await r.pending.handler(req, svc, r.args)
    if r.kind == "command":
        assert r.command is not None
        if r.slash and r.command.name != "cancel":
            end_flow(req, svc)  # another command abandons a guided flow
        return await r.command.handler(req, svc, r.args)
    if r.kind == "text":
        for hook in _PLAIN_HOOKS:  # e.g. a bare answer (B, 对) to the day's quiz question
            replies = await hook(req, svc, r.args)
            if replies is not None:
                return replies
        return await _plain_text(req, svc, r.args)
    return []
