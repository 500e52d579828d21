"""Practice of the day: schedule (每天 / 工作日), per-chat rotation and the at-most-once delivery record.

Pure logic over plain dicts: the store keeps one document per chat (see `Store.push_update`), and every
function named `*_doc` mutates such a document in place. Nothing here sends messages or reads the clock.

Per-chat document::

    {"chat_id": str,
     "sub": {"time": "HH:MM", "mode": "每天"|"工作日", "since": iso datetime} | None,
     "round": int, "used": [practice ids picked this round], "last": practice id | None,
     "picks": {"YYYY-MM-DD": practice id},              # the day's pick, stable once made
     "deliveries": {"YYYY-MM-DD": {"status": ..., "at": iso, "attempts": int}}}

Delivery statuses: "claimed" (written BEFORE sending; a crash leaves it, so nothing is ever sent twice),
"sent", "failed" (definitely not delivered; retried while attempts < MAX_ATTEMPTS and within the grace),
"partial" (some parts delivered, then a failure: not retried), "missed" (downtime past the grace),
"gone" (the bot was removed from the chat).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

import chinese_calendar

from bot.config import parse_hhmm
from bot.core import TELEGRAM, platform_of, raw_id

DAILY = "每天"
WORKDAYS = "工作日"
MODES = (DAILY, WORKDAYS)
_MODE_WORDS = {"每天": DAILY, "每日": DAILY, "天天": DAILY, "daily": DAILY,
               "工作日": WORKDAYS, "workday": WORKDAYS, "workdays": WORKDAYS}

#: A definite delivery failure is retried on later ticks, at most this many attempts per chat and day.
MAX_ATTEMPTS = 3
#: Picks and delivery records older than this are pruned from a chat's document.
KEEP_DAYS = 14
#: A push is due from its time until time + max(grace, MIN_WINDOW): ticks run every minute, so even with no
#: grace configured at least one run (on time or the next one) falls in the window.
MIN_WINDOW = timedelta(minutes=2)


class PracticeLike(Protocol):
    """What the push needs from `bot.content.Practice`."""

    id: Any
    title: str
    body: str
    source: str


# --- schedule ---------------------------------------------------------------------------------


def parse_schedule(args: str) -> tuple[time | None, str | None] | None:
    """`"07:30 工作日"` -> (time(7, 30), "工作日"); either part may be missing (None); None if anything is bad."""
    t: time | None = None
    mode: str | None = None
    for token in args.split():
        word = _MODE_WORDS.get(token.lower())
        if word is not None and mode is None:
            mode = word
            continue
        if t is None:
            try:
                t = parse_hhmm(token)
                continue
            except ValueError:
                return None
        return None
    return t, mode


def calendar_covers(year: int) -> bool:
    """Whether chinese_calendar has the official holiday/调休 schedule for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    """Mainland working day, 调休 make-up days included (chinese_calendar).

    Fallback for years chinese_calendar does not cover (the State Council publishes each year's schedule
    late in the year before): Monday to Friday are working days, no holidays. /status says so when in effect.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def is_push_day(day: date, mode: str) -> bool:
    """Whether a chat in `mode` gets a push on `day`."""
    return mode != WORKDAYS or is_workday(day)


def occurrence(day: date, hhmm: str, tz: tzinfo) -> datetime:
    """The aware datetime of the push at `hhmm` on `day` in `tz`."""
    return datetime.combine(day, parse_hhmm(hhmm), tzinfo=tz)


def window(grace_minutes: int) -> timedelta:
    """How long after its time a push may still be delivered (late start after downtime)."""
    return max(timedelta(minutes=grace_minutes), MIN_WINDOW)


def next_push(doc: dict[str, Any], now: datetime, grace_minutes: int, horizon: int = 400) -> datetime | None:
    """The next push this chat will get (possibly a due one being delivered now); None if not subscribed."""
    sub = doc.get("sub")
    if not sub:
        return None
    since = datetime.fromisoformat(sub["since"])
    for offset in range(-1, horizon):
        day = now.date() + timedelta(days=offset)
        if not is_push_day(day, sub["mode"]):
            continue
        occ = occurrence(day, sub["time"], now.tzinfo or since.tzinfo)  # type: ignore[arg-type]
        if occ < since or occ + window(grace_minutes) <= now or not _eligible(doc, day):
            continue
        return occ
    return None


def due_days(doc: dict[str, Any], now: datetime, grace_minutes: int) -> tuple[list[date], list[date]]:
    """(days whose push is due now, days whose push was missed past the grace and not yet recorded)."""
    sub = doc.get("sub")
    if not sub:
        return [], []
    since = datetime.fromisoformat(sub["since"])
    due: list[date] = []
    missed: list[date] = []
    for day in (now.date() - timedelta(days=1), now.date()):
        if not is_push_day(day, sub["mode"]):
            continue
        occ = occurrence(day, sub["time"], now.tzinfo)  # type: ignore[arg-type]
        if occ < since or occ > now or not _eligible(doc, day):
            continue
        if now < occ + window(grace_minutes):
            due.append(day)
        elif day.isoformat() not in doc.get("deliveries", {}):
            missed.append(day)
    return due, missed


def _eligible(doc: dict[str, Any], day: date) -> bool:
    rec = doc.get("deliveries", {}).get(day.isoformat())
    return rec is None or (rec["status"] == "failed" and rec.get("attempts", 0) < MAX_ATTEMPTS)


# --- rotation ---------------------------------------------------------------------------------


def rank(chat_id: str, round_no: int, practice_id: str) -> str:
    """The sort key of a practice in a chat's shuffled order for one round (stable, deterministic).

    Telegram chats are seeded by their bare id, as before ids were qualified, so a migrated chat keeps its order.
    """
    seed = raw_id(chat_id) if platform_of(chat_id) == TELEGRAM else chat_id
    return hashlib.sha256(f"{seed}:{round_no}:{practice_id}".encode()).hexdigest()


def round_order(chat_id: str, round_no: int, ids: Iterable[str]) -> list[str]:
    """The chat's order for a round: a shuffle seeded by chat id + round; adding an id never reorders others."""
    return sorted(ids, key=lambda pid: rank(chat_id, round_no, pid))


def left_in_round(doc: dict[str, Any], ids: Sequence[str]) -> int:
    """How many current practices this chat has not yet had in its current round."""
    used = set(doc.get("used", []))
    left = sum(1 for pid in ids if pid not in used)
    return left or len(ids)


def advance_doc(doc: dict[str, Any], ids: Sequence[str]) -> str | None:
    """Take the chat's next practice id from its rotation (new round when all are used); None if no content."""
    if not ids:
        return None
    chat_id = doc["chat_id"]
    round_no = doc.get("round", 0)
    used = list(doc.get("used", []))
    seen = set(used)
    remaining = [pid for pid in ids if pid not in seen]
    if not remaining:
        round_no, used, remaining = round_no + 1, [], list(ids)
    order = round_order(chat_id, round_no, remaining)
    pick = order[0]
    if pick == doc.get("last") and len(order) > 1 and not used:
        pick = order[1]  # no back-to-back repeat across a round boundary
    doc["round"] = round_no
    doc["used"] = used + [pick]
    doc["last"] = pick
    return pick


def pick_doc(doc: dict[str, Any], day: date, ids: Sequence[str]) -> str | None:
    """The chat's practice id for `day`: the recorded one if it still exists, else the next in rotation."""
    picks = doc.setdefault("picks", {})
    key = day.isoformat()
    if picks.get(key) in ids:
        return picks[key]
    pid = advance_doc(doc, ids)
    if pid is not None:
        picks[key] = pid
    _prune(doc, day)
    return pid


def _prune(doc: dict[str, Any], today: date) -> None:
    oldest = (today - timedelta(days=KEEP_DAYS)).isoformat()
    for key in ("picks", "deliveries"):
        records = doc.get(key, {})
        for day in [d for d in records if d < oldest]:
            del records[day]


# --- delivery record ----------------------------------------------------------------------------


def claim_doc(doc: dict[str, Any], day: date, now: datetime, ids: Sequence[str]) -> str | None:
    """Claim the push for (chat, day) and fix its practice; None (nothing written) if not claimable."""
    if not doc.get("sub") or not ids or not _eligible(doc, day):
        return None
    pid = pick_doc(doc, day, ids)
    rec = doc.setdefault("deliveries", {}).get(day.isoformat()) or {"attempts": 0}
    doc["deliveries"][day.isoformat()] = {"status": "claimed", "at": now.isoformat(),
                                          "attempts": rec["attempts"] + 1}
    return pid


def mark_doc(doc: dict[str, Any], day: date, status: str, now: datetime) -> None:
    """Set the delivery status for (chat, day), keeping the attempt count."""
    rec = doc.setdefault("deliveries", {}).get(day.isoformat()) or {"attempts": 0}
    doc["deliveries"][day.isoformat()] = {"status": status, "at": now.isoformat(),
                                          "attempts": rec.get("attempts", 0)}


def new_doc(chat_id: str) -> dict[str, Any]:
    """An empty per-chat document (every key present, so a TinyDB update replaces them all)."""
    return {"chat_id": chat_id, "sub": None, "round": 0, "used": [], "last": None,
            "picks": {}, "deliveries": {}}
