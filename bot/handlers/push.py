"""Practice of the day: /subscribe /unsubscribe /settime /today /status /push and the push tick.

Scheduling is restart-safe by construction: `tick` (run at second 0 of every minute and at start, bot/ticks.py)
derives what is due from svc.now() and the store alone, so a push set for 08:00 goes out with the 08:00:00 run.
Delivery is at-most-once per chat and date: the claim for (chat, date) is written durably BEFORE sending, so a
crash right after sending never causes a second push; the claim is released (status "failed", retried on a
later tick within the grace) only when the sender reports a definite failure with nothing delivered yet. A push
missed by downtime is sent once at start if still within config.push.grace_minutes of its time, otherwise skipped
and logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot import lifecycle, table, texts
from bot import practice as P
from bot.core import ChatGone, ChatMoved, DeliveryError, DeliveryUncertain, Reply, Request, platform_of
from bot.table import Callback, Command, Tick

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: At most this many chats per platform are being delivered to at once (its rate limiter paces the rest).
CONCURRENCY = 32


# --- helpers ----------------------------------------------------------------------------------


def _ids(svc: Services) -> list[str]:
    return [str(p.id) for p in svc.content.practices]


def _practice(svc: Services, pid: str) -> Any:
    return next(p for p in svc.content.practices if str(p.id) == pid)


def _tz_label(svc: Services) -> str:
    name = svc.config.bot.timezone
    return texts.BEIJING_TIME if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else name


def _label(svc: Services, chat_id: str) -> str:
    """A chat for the logs: groups by id, private chats never (their id is the member's). A group is known by
    its subscription to either push that goes through here (the practice push, the quiz push)."""
    for doc in (svc.store.push_doc(chat_id), svc.store.quiz_doc(chat_id)):
        if ((doc or {}).get("sub") or {}).get("chat_type", "private") != "private":
            return f"chat {chat_id}"
    return "a private chat"


def _update(svc: Services, chat_id: str, fn: Any) -> Any:
    return svc.store.push_update(chat_id, fn, P.new_doc)


def day_pick(svc: Services, chat_id: str, day: date) -> Any | None:
    """The chat's practice for `day` (recorded, so /today and the push agree); None if there is no content."""
    ids = _ids(svc)
    pid = _update(svc, chat_id, lambda doc: P.pick_doc(doc, day, ids))
    return _practice(svc, pid) if pid is not None else None


def practice_parts(item: Any, day: date) -> list[str]:
    """The push message for a practice on a day, split into Telegram-sized parts."""
    return texts.split_message(texts.practice_message(item.title, item.body, item.source, day))


def _fallback_year(doc: dict[str, Any] | None, next_at: datetime | None, now: datetime) -> int | None:
    """The year whose 工作日 schedule falls back to Mon–Fri, if that affects this chat's pushes."""
    sub = (doc or {}).get("sub")
    if not sub or sub["mode"] != P.WORKDAYS:
        return None
    for year in (now.year, (next_at or now).year):
        if not P.calendar_covers(year):
            return year
    return None


# --- commands ---------------------------------------------------------------------------------


async def _may_configure(req: Request, svc: Services) -> bool:
    """Private chats configure themselves; in groups only admins and configured officers may."""
    return req.is_private or await table.is_officer(req, svc)


async def subscribe(req: Request, svc: Services, args: str) -> list[Reply]:
    """/subscribe [HH:MM] [工作日|每天]: subscribe this chat (or change its schedule)."""
    if not await _may_configure(req, svc):
        return [Reply(texts.push_admins_only(req.group_admins))]
    parsed = P.parse_schedule(args)
    if parsed is None:
        return [Reply(texts.PUSH_USAGE)]
    t, mode = parsed
    doc = svc.store.push_doc(req.chat_id)
    old = (doc or {}).get("sub")
    if old and t is None and mode is None:
        return [Reply(texts.already_subscribed(old["time"], old["mode"]))]
    hhmm = t.strftime("%H:%M") if t else (old["time"] if old else svc.config.push.default_time)
    mode = mode or (old["mode"] if old else svc.config.push.default_mode)
    return [_set_schedule(req, svc, hhmm, mode, changed=bool(old))]


async def settime(req: Request, svc: Services, args: str) -> list[Reply]:
    """/settime HH:MM [工作日|每天]: change the push time (and mode) of a subscribed chat."""
    if not await _may_configure(req, svc):
        return [Reply(texts.push_admins_only(req.group_admins))]
    parsed = P.parse_schedule(args)
    if parsed is None or parsed[0] is None:
        return [Reply(texts.SETTIME_USAGE)]
    old = (svc.store.push_doc(req.chat_id) or {}).get("sub")
    if not old:
        return [Reply(texts.NOT_SUBSCRIBED)]
    t, mode = parsed
    return [_set_schedule(req, svc, t.strftime("%H:%M"), mode or old["mode"], changed=True)]


def _set_schedule(req: Request, svc: Services, hhmm: str, mode: str, changed: bool) -> Reply:
    """Store the chat's schedule; pushes count from now on (an earlier time today waits for tomorrow)."""
    now = svc.now()
    sub = {"time": hhmm, "mode": mode, "since": now.isoformat(), "chat_type": req.chat_type,
           "title": req.chat_title[:100], "by": req.user_id}

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        doc["sub"] = sub
        return doc

    doc = _update(svc, req.chat_id, apply)
    log.info("%s subscribed: %s %s", _label(svc, req.chat_id), mode, hhmm)
    next_at = P.next_push(doc, now, svc.config.push.grace_minutes)
    return Reply(texts.subscribed(hhmm, mode, next_at, _tz_label(svc), changed))


async def unsubscribe(req: Request, svc: Services, args: str) -> list[Reply]:
    """/unsubscribe: stop the daily push for this chat (its rotation is kept for a later re-subscribe)."""
    if not await _may_configure(req, svc):
        return [Reply(texts.push_admins_only(req.group_admins))]
    if not _unsubscribe(svc, req.chat_id):
        return [Reply(texts.NOT_SUBSCRIBED)]
    log.info("%s unsubscribed", _label(svc, req.chat_id))
    return [Reply(texts.UNSUBSCRIBED)]


def _unsubscribe(svc: Services, chat_id: str) -> bool:
    def apply(doc: dict[str, Any]) -> bool:
        was = bool(doc.get("sub"))
        doc["sub"] = None
        return was

    return bool(svc.store.push_doc(chat_id)) and bool(_update(svc, chat_id, apply))


async def today(req: Request, svc: Services, args: str) -> list[Reply]:
    """/today: exactly what today's push sends (or sent) to this chat."""
    day = svc.now().date()
    item = day_pick(svc, req.chat_id, day)
    if item is None:
        return [Reply(texts.PUSH_NO_CONTENT)]
    return [Reply(part) for part in practice_parts(item, day)]


async def status(req: Request, svc: Services, args: str) -> list[Reply]:
    """/status: subscribed or not, schedule, next push (date and time), practices left in this round."""
    now = svc.now()
    doc = svc.store.push_doc(req.chat_id)
    ids = _ids(svc)
    sub = (doc or {}).get("sub")
    next_at = P.next_push(doc, now, svc.config.push.grace_minutes) if doc else None
    left = P.left_in_round(doc or P.new_doc(req.chat_id), ids) if ids else 0
    return [Reply(texts.push_status(
        sub["time"] if sub else None, sub["mode"] if sub else None, next_at, _tz_label(svc),
        left, len(ids), _fallback_year(doc, next_at, now),
    ))]


async def push_now(req: Request, svc: Services, args: str) -> list[Reply]:
    """/push (admins/officers): today's push, sent to this chat now to try it out (not counted as the push)."""
    if not await table.is_officer(req, svc):
        return [Reply(texts.push_officers_only(req.group_admins))]
    return await today(req, svc, args)


# --- the tick: scheduled delivery -------------------------------------------------------------------


@table.per_platform
async def tick(svc: Services, platform: str | None = None) -> None:
    """Deliver every due push of `platform`'s chats (None: every platform's) once; record (and log) pushes missed
    past the grace. Safe to run any time. Per platform (bot/ticks.py): a platform whose sends hang holds only its
    own chats' next pushes."""
    if svc.sender is None:
        return
    now = svc.now()
    grace = svc.config.push.grace_minutes
    due: list[tuple[str, date]] = []
    for doc in svc.store.push_docs():
        if not table.serves(svc, doc["chat_id"], platform):
            continue  # another lane's, or its platform is not running here (`run.py telegram` only): not claimed
        days, missed = P.due_days(doc, now, grace)
        due += [(doc["chat_id"], d) for d in days]
        for day in missed:
            _record_missed(svc, doc["chat_id"], day, now)
    if not due:
        return
    if not svc.content.practices:
        log.warning("%d pushes due but there are no practices in the content", len(due))
        return
    # Each platform has its own rate limits: one slow platform's queue must not hold another's slots.
    sems: dict[str, asyncio.Semaphore] = {}

    async def one(chat_id: str, day: date) -> None:
        async with sems.setdefault(platform_of(chat_id), asyncio.Semaphore(CONCURRENCY)):
            await deliver(svc, chat_id, day)

    await asyncio.gather(*(one(c, d) for c, d in due))


def _record_missed(svc: Services, chat_id: str, day: date, now: datetime) -> None:
    def apply(doc: dict[str, Any]) -> None:
        if day.isoformat() not in doc.get("deliveries", {}):
            P.mark_doc(doc, day, "missed", now)

    _update(svc, chat_id, apply)
    log.warning("push to %s for %s missed (bot was down past the %d-minute grace); skipped",
                _label(svc, chat_id), day, svc.config.push.grace_minutes)


async def deliver(svc: Services, chat_id: str, day: date) -> str:
    """Claim (durably), then send the day's practice to one chat; returns the final delivery status."""
    assert svc.sender is not None
    ids = _ids(svc)
    now = svc.now()
    pid = _update(svc, chat_id, lambda doc: P.claim_doc(doc, day, now, ids))
    if pid is None:
        return "skipped"  # not subscribed any more, already claimed, or no content
    parts = practice_parts(_practice(svc, pid), day)
    status, target = await send_replies(svc, chat_id, [Reply(text=part) for part in parts])
    _update(svc, target, lambda doc: P.mark_doc(doc, day, status, svc.now()))
    if status == "sent":
        log.info("pushed %s to %s for %s", pid, _label(svc, target), day)
    return status


async def send_replies(svc: Services, chat_id: str, parts: Sequence[Reply]) -> tuple[str, str]:
    """Send the parts of one push (each to the chat, whatever its chat_id), following a migration once;
    returns (status, chat id the record now lives under).

    Status: "sent"; "failed" (definite failure, nothing delivered: retried later); "partial"; "gone";
    "unknown" (a timeout or unexpected error: it may have arrived, so never retried).
    """
    assert svc.sender is not None
    sent = 0
    target = chat_id
    while sent < len(parts):
        try:
            await svc.sender(dataclasses.replace(parts[sent], chat_id=target))
            sent += 1
        except ChatMoved as e:
            if target != chat_id:
                log.warning("chat %s moved twice during one push; giving up", chat_id)
                return ("partial" if sent else "failed"), target
            lifecycle.chat_migrated(svc, target, e.new_chat_id)
            target = e.new_chat_id
        except ChatGone as e:
            label = _label(svc, target)
            lifecycle.chat_removed(svc, target)  # every feature's subscription ends (practice, quiz)
            log.info("%s gone during push (%s)", label, e.reason)
            return "gone", target
        except DeliveryError as e:
            if _ambiguous(e):
                log.warning("push to %s timed out; may have arrived, not retried: %s", _label(svc, target), e)
                return "unknown", target
            log.warning("push to %s failed (%d/%d parts sent): %s", _label(svc, target), sent, len(parts), e)
            return ("partial" if sent else "failed"), target
        except Exception:
            log.exception("push to %s: unexpected error; not retried (at-most-once)", _label(svc, target))
            return "unknown", target
    return "sent", target


def _ambiguous(e: BaseException) -> bool:
    """A timeout: the message may have been delivered, so retrying could send it twice."""
    return isinstance(e, DeliveryUncertain) or isinstance(e.__cause__, TimeoutError)


# --- chat lifecycle (called by the Telegram adapter) -------------------------------------------------


def chat_removed(svc: Services, chat_id: str) -> None:
    """The bot was kicked from / left a chat, or the user blocked it: unsubscribe it."""
    label = _label(svc, chat_id)
    if _unsubscribe(svc, chat_id):
        log.info("%s removed the bot; unsubscribed", label)


def chat_migrated(svc: Services, old_id: str, new_id: str) -> None:
    """A group became a supergroup: move its subscription, rotation and delivery records to the new id."""
    if old_id == new_id:
        return
    if svc.store.push_move(old_id, new_id):
        log.info("chat %s migrated to %s; push subscription moved", old_id, new_id)


# --- registration -----------------------------------------------------------------------------------

COMMANDS: list[Command] = [
    Command("today", ("今日一招", "每日一招", "今日"), texts.HELP_TODAY, today, usage="/today"),
    Command("subscribe", ("订阅",), texts.HELP_SUBSCRIBE, subscribe,
            usage=texts.USAGE_SUBSCRIBE, audience="officer"),
    Command("settime", ("推送时间",), texts.HELP_SETTIME, settime,
            usage=texts.USAGE_SETTIME, audience="officer"),
    Command("unsubscribe", ("取消订阅",), texts.HELP_UNSUBSCRIBE, unsubscribe, usage="/unsubscribe",
            audience="officer"),
    Command("status", ("状态",), texts.HELP_STATUS, status, usage="/status"),
    Command("push", ("推送",), texts.HELP_PUSH, push_now, usage="/push",
            audience="officer"),
]
CALLBACKS: list[Callback] = []
TICKS: list[Tick] = [tick]
ON_CHAT_REMOVED = [chat_removed]
ON_CHAT_MIGRATED = [chat_migrated]
