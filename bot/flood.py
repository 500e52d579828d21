"""Sense in a flooded group (platform-neutral; adapters call `FloodGuard.handle` around dispatch).

A platform lets a bot send only so much into one group (Telegram 20 a minute, WeCom 30). When dozens of
members answer the morning push with `今日` or `搜索 …` at once, answering each in turn would queue replies
for minutes. In a group, for idempotent read requests only (today, help, status, search, quiz, law):

* A group is "hot" when it asked `hot_requests` reads within `window` seconds, or fewer than `hot_slots`
  sends are left in its budget. In a hot group an answer goes out as a reply to the asker with a line
  saying it answers the others too, and the same request (same command and normalised arguments) from
  anyone in that group within `window` seconds is not answered again (covered by that answer).
* When an answer could not go out within `soon` seconds while keeping `reserve` sends free (for the note
  and for what members are owed: receipts, officer actions, which read answers must not crowd out), the bot
  answers once per `window` with a short busy note offering a private chat (`private_link`, made by
  the adapter: e.g. a Telegram deep link); later askers in that window are covered by the note.

Everything else -- private chats, suggestions, guided-flow steps (a member with a pending flow), officer
actions, button presses -- goes through `dispatch` untouched: nothing a member is owed is dropped.
The adapter says how soon it can send via `backlog(sends) -> seconds` (e.g. its rate limiter's window).
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot import texts
from bot.commands import route
from bot.core import Button, Reply, Request
from bot.quiz import takes_as_answer
from bot.table import get_flow

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: Commands whose answer is the same for everyone asking in the same group at the same time.
READS = {"today": "today", "help": "help", "status": "status", "search": "search", "s": "search",
         "quiz": "quiz", "law": "law"}
#: Reads whose arguments matter (the same question asked again is the same request).
_WITH_ARGS = ("search", "law")
_EDGE_PUNCT = " \t\n\u3000:：,，.。!！?？、;；\"'“”‘’"

Key = tuple[str, str]
Dispatch = Callable[[Request, "Services"], Awaitable[list[Reply]]]


def normalise(text: str) -> str:
    """Arguments as compared for "the same request": NFKC, case-folded, one space, no edge punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split()).strip(_EDGE_PUNCT)


def request_key(req: Request, svc: Services) -> Key | None:
    """The normalised read request of a group message, e.g. ('search', '职代会'), or ('help', '') for a bare
    mention; None if it is not one.

    Routed by the dispatcher's own `route`, so the guard and the dispatcher never disagree on what a message
    is. None for private chats, button presses, anything but today/help/status/search/quiz/law, commands for other
    bots, group chatter the bot ignores, and any message from a member with a guided flow pending here
    (their text is the flow's next step, and a command abandons the flow).
    """
    if not req.is_group or req.callback_data is not None:
        return None
    if get_flow(req, svc) is not None:
        return None
    r = route(req, svc)
    if r.kind == "help":  # a bare mention: answered with the help, the same for everyone
        return ("help", "")
    if r.kind == "command" and r.command is not None:
        kind = READS.get(r.command.name)
        return (kind, normalise(r.args) if kind in _WITH_ARGS else "") if kind else None
    if r.kind == "text":  # `@bot 集体合同`: a search -- but `@bot B` is a member's own quiz answer, never covered
        answer = takes_as_answer(svc, req.chat_id, r.args, svc.now().date())  # decided as the quiz's hook does
        return None if answer else ("search", normalise(r.args))
    return None


@dataclass
class Outcome:
    """What the adapter delivers: `replies` (maybe none), as replies to message `reply_to` if set."""

    replies: list[Reply]
    reply_to: int | None = None
    #: "pass" (not a group read), "answer", "covered" (answered above), "busy" (the note).
    action: str = "pass"


@dataclass
class _Group:
    reads: deque[float] = field(default_factory=lambda: deque(maxlen=1024))
    answered: OrderedDict[Key, float] = field(default_factory=OrderedDict)
    busy_at: float | None = None
    covered: int = 0
    last: float = 0.0


class FloodGuard:
    """Per-group flood state and the decision around dispatch (see the module docstring)."""

    def __init__(
        self,
        *,
        window: float = 60.0,
        soon: float = 5.0,
        reserve: int = 4,
        hot_requests: int = 2,
        hot_slots: int = 10,
        max_groups: int = 1024,
        max_keys: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.soon = soon
        self.reserve = reserve
        self.hot_requests = hot_requests
        self.hot_slots = hot_slots
        self.max_groups = max_groups
        self.max_keys = max_keys
        self.clock = clock
        self._groups: OrderedDict[Hashable, _Group] = OrderedDict()
        #: Totals since start, by action (for logs and the benchmark).
        self.counts: dict[str, int] = {"answer": 0, "covered": 0, "busy": 0}

    def _group(self, chat_id: Hashable, now: float) -> _Group:
        g = self._groups.pop(chat_id, None) or _Group()
        self._groups[chat_id] = g  # most recently used last
        while len(self._groups) > self.max_groups:
            self._groups.popitem(last=False)
        g.last = now
        while g.reads and g.reads[0] <= now - self.window:
            g.reads.popleft()
        for key in [k for k, t in g.answered.items() if t <= now - self.window]:
            del g.answered[key]
        if g.busy_at is not None and g.busy_at <= now - self.window:
            g.busy_at = None
        return g

    async def handle(
        self,
        req: Request,
        svc: Services,
        dispatch: Dispatch,
        *,
        backlog: Callable[[int], float],
        private_link: str = "",
        cost: Callable[[Reply], int] | None = None,
    ) -> Outcome:
        """Dispatch `req`, or answer it with flood sense when it is a read request in a group.

        `cost(reply)`: how many platform messages a reply takes (the adapter knows: WeCom sends a card with
        buttons as a message of its own); default, its Telegram-sized text parts."""
        key = request_key(req, svc)
        if key is None:
            return Outcome(await dispatch(req, svc))
        now = self.clock()
        g = self._group(req.chat_id, now)
        g.reads.append(now)
        if key in g.answered:
            return self._covered(g)
        if backlog(1 + self.reserve) > self.soon:  # not even a one-message answer could go out soon
            return self._busy(g, req, now, private_link)
        replies = await dispatch(req, svc)
        sends = sum(cost(r) if cost is not None else len(texts.split_message(r.text)) if r.text else 1
                    for r in replies)
        if not replies or not sends:
            return Outcome(replies, action="answer")
        if backlog(sends + self.reserve) > self.soon:
            return self._busy(g, req, now, private_link)
        self.counts["answer"] += 1
        if len(g.reads) >= self.hot_requests or backlog(self.hot_slots) > 0:
            g.answered[key] = now
            while len(g.answered) > self.max_keys:
                g.answered.popitem(last=False)
            last = replies[-1]
            if last.text and last.document is None and last.photo is None:
                last.text = f"{last.text}\n\n{texts.FLOOD_ANSWERS_OTHERS}"
        return Outcome(replies, reply_to=req.message_id, action="answer")

    def _covered(self, g: _Group) -> Outcome:
        g.covered += 1
        self.counts["covered"] += 1
        return Outcome([], action="covered")

    def _busy(self, g: _Group, req: Request, now: float, private_link: str) -> Outcome:
        if g.busy_at is not None:
            return self._covered(g)
        g.busy_at = now
        self.counts["busy"] += 1
        log.info("group %s is flooded (%d reads in %.0fs, %d covered so far): busy note sent",
                 req.chat_id, len(g.reads), self.window, g.covered)
        buttons = [[Button(texts.FLOOD_BTN_PRIVATE, url=private_link)]] if private_link else []
        return Outcome([Reply(texts.flood_busy(bool(private_link)), buttons=buttons)],
                       reply_to=req.message_id, action="busy")
