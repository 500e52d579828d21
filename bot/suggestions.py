"""合理化建议: the record, validation, numbering, status lifecycle and who may review.

A suggestion is one document in the store (table "suggestions"):
    number "JY-2026-0007" (per-year durable sequence, never reused), year, seq,
    chat_id / chat_title (the group it came from; None / "" for a private chat),
    anonymous, proposer_id / proposer_name (None for anonymous), category, text,
    created (ISO, configured timezone), status, history [{at, action, status, by_id, by_name, note}].
Lifecycle fields added later (all optional; records without them load with the defaults in FIELDS):
    major (重大: longer reply deadline), department (承办部门), result (实施结果), benefit (经济效益, 元),
    reward_tier / reward_amount (奖励, recorded only), public (公示), satisfaction (满意度 of the
    proposer after 不采纳 / 已实施), merged_into (the number a duplicate was merged into).

Anonymous submissions persist nothing about their proposer: no user id, no name, no private chat id
(which equals the user id), not even a hash. Their rate-limit and duplicate checks use process memory
only (AnonThrottle: HMAC-SHA256 of user id and text under a random salt that never leaves the process,
pruned after 24 hours), so a restart of the bot resets anonymous rate limiting and duplicate detection.

Quick submissions (`建议 内容`) are named, category 其他 unless the text starts with a known category in
brackets: `建议 [安全生产] 内容` or `建议 【技术革新】内容`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import texts

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core import Reply
    from bot.services import Services
    from bot.store import Store

log = logging.getLogger(__name__)

CATEGORIES = ("安全生产", "节支降耗", "技术革新", "管理改进", "职工生活", "其他")
DEFAULT_CATEGORY = "其他"

PENDING = "待受理"
RECEIVED = "已受理"
ADOPTED = "已采纳"
REJECTED = "不采纳"
DONE = "已实施"
MERGED = "已合并"
STATUSES = (PENDING, RECEIVED, ADOPTED, REJECTED, DONE, MERGED)
#: Shown in /review: still needs an officer's action.
OPEN = (PENDING, RECEIVED, ADOPTED)
#: Not yet answered: counted as overdue after config.suggestions.overdue_days.
UNDECIDED = (PENDING, RECEIVED)

#: action code (in callback data) -> (new status, the status it must come from)
ACTIONS: dict[str, tuple[str, str]] = {
    "acc": (RECEIVED, PENDING),
    "ado": (ADOPTED, RECEIVED),
    "rej": (REJECTED, RECEIVED),
    "imp": (DONE, ADOPTED),
}
ACTION_LABELS = {"acc": "受理", "ado": "采纳", "rej": "不采纳", "imp": "已实施"}
NOTE_ACTION = "备注"
NOTE_MAX = 500
DUPLICATE_WINDOW = timedelta(hours=24)
RATE_WINDOW = timedelta(hours=1)

_NUMBER_RE = re.compile(r"^\s*JY[-－—_ ]?(\d{4})[-－—_ ]?(\d{1,6})\b", re.I)
_CATEGORY_RE = re.compile(r"^\s*[\[【［(（「]\s*([^\]】］)）」]{1,8}?)\s*[\]】］)）」]\s*", re.S)


class SuggestError(Exception):
    """A refusal whose message (Telegram HTML) is shown to the user as is."""


@dataclass(frozen=True)
class Origin:
    """Where a suggestion is submitted and by whom (identity dropped for anonymous ones)."""

    chat_id: str | None
    chat_title: str
    is_group: bool
    user_id: str
    user_name: str


# --- parsing & validation ------------------------------------------------------------------


def parse_quick(args: str) -> tuple[str, str]:
    """`[安全生产] 内容` -> ("安全生产", "内容"); no known bracketed category -> ("其他", args)."""
    m = _CATEGORY_RE.match(args)
    if m and m.group(1).strip() in CATEGORIES:
        return m.group(1).strip(), args[m.end() :].strip()
    return DEFAULT_CATEGORY, args.strip()


def parse_number(text: str) -> tuple[str, str] | None:
    """`JY-2026-0007 理由` (also `jy-2026-7`) -> ("JY-2026-0007", "理由"); None if no number leads."""
    m = _NUMBER_RE.match(text)
    if m is None:
        return None
    return format_number(int(m.group(1)), int(m.group(2))), text[m.end() :].strip(" \t\n:：,，")


def format_number(year: int, seq: int) -> str:
    """(2026, 7) -> "JY-2026-0007"."""
    return f"JY-{year}-{seq:04d}"


def normalise(text: str) -> str:
    """Text for duplicate detection: NFKC, case-folded, without spaces, punctuation and symbols."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    core = "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "ZPSC")
    return core or "".join(folded.split())  # all emoji/punctuation: compare those, not ""


def check_length(svc: Services, text: str) -> None:
    """Raise SuggestError unless min_chars <= len(text) <= max_chars."""
    cfg = svc.config.suggestions
    n = len(text.strip())
    if not cfg.min_chars <= n <= cfg.max_chars:
        raise SuggestError(texts.sg_length(n, cfg.min_chars, cfg.max_chars))


# --- submitting ------------------------------------------------------------------------------


@dataclass
class AnonThrottle:
    """Anonymous submissions' rate/duplicate state, in memory only: a restart forgets it (by design).

    Keys are HMAC-SHA256 digests under a random per-process salt; entries older than 24 h are pruned
    on every use. Use it under the store lock.
    """

    salt: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    #: who-digest -> [(text-digest, submitted at)]
    entries: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict, repr=False)

    def digest(self, kind: str, value: str) -> str:
        """HMAC-SHA256(salt, kind:value) as hex."""
        return hmac.new(self.salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def recent(self, user_id: str, now: datetime) -> list[tuple[str, datetime]]:
        """(text digest, time) of the user's anonymous submissions in the last 24 h (prunes everyone's)."""
        for who in list(self.entries):
            kept = [e for e in self.entries[who] if now - e[1] < DUPLICATE_WINDOW]
            if kept:
                self.entries[who] = kept
            else:
                del self.entries[who]
        return list(self.entries.get(self.digest("user", str(user_id)), ()))

    def add(self, user_id: str, norm: str, now: datetime) -> None:
        """Remember one anonymous submission (its normalised text) for the checks."""
        who = self.digest("user", str(user_id))
        self.entries.setdefault(who, []).append((self.digest("text", norm), now))


#: One AnonThrottle per open Store in this process (a new Store, e.g. after a restart, starts empty).
_THROTTLES: weakref.WeakKeyDictionary[Store, AnonThrottle] = weakref.WeakKeyDictionary()


def anon_throttle(svc: Services) -> AnonThrottle:
    """The in-memory anonymous throttle of this bot's store (made on first use, dropping legacy state)."""
    with svc.store.lock:
        throttle = _THROTTLES.get(svc.store)
        if throttle is None:
            svc.store.suggest_drop_legacy()  # hashes persisted by earlier versions: erase them
            throttle = _THROTTLES[svc.store] = AnonThrottle()
        return throttle


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _check_limits(svc: Services, user_id: str, norm: str, now: datetime) -> None:
    """Duplicate (24 h) and rate (per hour) checks over the user's named and anonymous submissions."""
    throttle = anon_throttle(svc)
    what = throttle.digest("text", norm)
    recent: list[datetime] = []
    for rec in svc.store.suggestions_all():
        if rec.get("proposer_id") != user_id:
            continue
        at = _at(rec["created"])
        if now - at < DUPLICATE_WINDOW and normalise(rec["text"]) == norm:
            raise SuggestError(texts.sg_duplicate(rec["number"]))
        recent.append(at)
    for text_digest, at in throttle.recent(user_id, now):
        if text_digest == what:
            raise SuggestError(texts.sg_duplicate(""))
        recent.append(at)
    per_hour = svc.config.suggestions.per_hour
    window = sorted(at for at in recent if now - at < RATE_WINDOW)
    if len(window) >= per_hour:
        free = window[len(window) - per_hour] + RATE_WINDOW
        free = free.astimezone(svc.config.tz)
        if free.second or free.microsecond:
            free = free.replace(second=0, microsecond=0) + timedelta(minutes=1)
        raise SuggestError(texts.sg_rate_limited(per_hour, free.strftime("%H:%M")))


def submit(svc: Services, origin: Origin, text: str, category: str, anonymous: bool) -> dict[str, Any]:
    """Validate and durably store a suggestion; returns the record. Raises SuggestError with the reason."""
    text = text.strip()
    if not text:
        raise SuggestError(texts.SG_USAGE)
    check_length(svc, text)
    if category not in CATEGORIES:
        category = DEFAULT_CATEGORY
    norm = normalise(text)
    with svc.store.lock:
        now = svc.now()
        _check_limits(svc, origin.user_id, norm, now)
        seq = svc.store.next_sequence(f"JY-{now.year}")
        created = now.isoformat(timespec="seconds")
        record: dict[str, Any] = {
            "number": format_number(now.year, seq),
            "year": now.year,
            "seq": seq,
            "chat_id": origin.chat_id if origin.is_group else None,
            "chat_title": origin.chat_title if origin.is_group else "",
            "anonymous": anonymous,
            "proposer_id": None if anonymous else origin.user_id,
            "proposer_name": None if anonymous else origin.user_name,
            "category": category,
            "text": text,
            "created": created,
            "status": PENDING,
            "history": [
                {
                    "at": created,
                    "action": texts.SG_ACTION_SUBMIT,
                    "status": PENDING,
                    "by_id": None if anonymous else origin.user_id,
                    "by_name": texts.SG_ANONYMOUS if anonymous else origin.user_name,
                    "note": "",
                }
            ],
        }
        svc.store.suggestion_add(record)
        if anonymous:
            anon_throttle(svc).add(origin.user_id, norm, now)
    return record


# --- reviewing ---------------------------------------------------------------------------------


def has_reviewer(svc: Services, rec: dict[str, Any]) -> bool:
    """Whether anyone can ever review `rec`: configured officers, or the admins of the group it came from."""
    return bool(svc.officers) or rec.get("chat_id") is not None


def officers_warning(config: Config) -> str | None:
    """A one-line start-up warning when no officers are configured (private suggestions unreviewable)."""
    return None if config.officer_ids() else texts.SG_NO_OFFICERS_WARNING


async def can_review(svc: Services, rec: dict[str, Any], user_id: str, cache: dict[str, bool] | None = None) -> bool:
    """Configured officers review everything; group admins review what came from their group."""
    if svc.is_officer(user_id):
        return True
    chat_id = rec.get("chat_id")
    if chat_id is None:
        return False
    if cache is not None and chat_id in cache:
        return cache[chat_id]
    ok = await svc.is_chat_admin(chat_id, user_id)
    if cache is not None:
        cache[chat_id] = ok
    return ok


async def reviewable(svc: Services, user_id: str, statuses: tuple[str, ...] = STATUSES) -> list[dict[str, Any]]:
    """The suggestions (with these statuses) that `user_id` may review, oldest first."""
    cache: dict[str, bool] = {}
    out = []
    for rec in svc.store.suggestions_all():
        if rec["status"] in statuses and await can_review(svc, rec, user_id, cache):
            out.append(rec)
    return out


async def is_reviewer(svc: Services, user_id: str) -> bool:
    """A configured officer, or an admin of some group that has submitted suggestions."""
    if svc.is_officer(user_id):
        return True
    groups = {r["chat_id"] for r in svc.store.suggestions_all() if r.get("chat_id") is not None}
    for chat_id in groups:
        if await svc.is_chat_admin(chat_id, user_id):
            return True
    return False


async def get_for_review(svc: Services, number: str, user_id: str) -> dict[str, Any]:
    """The suggestion, if it exists and `user_id` may review it; SuggestError otherwise."""
    rec = svc.store.suggestion_get(number)
    if rec is None:
        raise SuggestError(texts.SG_NOT_FOUND)
    if not await can_review(svc, rec, user_id):
        raise SuggestError(texts.SG_NOT_OFFICER_OF)
    return rec


def _entry(svc: Services, action: str, status: str, by_id: str | None, by_name: str, note: str) -> dict[str, Any]:
    return {
        "at": svc.now().isoformat(timespec="seconds"),
        "action": action,
        "status": status,
        "by_id": by_id,
        "by_name": by_name,
        "note": note,
    }


def _check_note(note: str, usage: str | None) -> str:
    """Strip `note`; refuse it if too long, or empty when `usage` (the hint to show) is given."""
    note = note.strip()
    if usage is not None and not note:
        raise SuggestError(usage)
    if len(note) > NOTE_MAX:
        raise SuggestError(texts.SG_NOTE_TOO_LONG)
    return note


async def transition(
    svc: Services, number: str, action: str, user_id: str, user_name: str, note: str = ""
) -> dict[str, Any]:
    """Apply `action` (acc/ado/rej/imp) to suggestion `number`; returns the updated record.

    Refuses (SuggestError) an unknown number, a reviewer without rights, an impossible transition,
    and 不采纳 without a reason.
    """
    if action not in ACTIONS:
        raise SuggestError(texts.BUTTON_EXPIRED)
    await get_for_review(svc, number, user_id)
    target, need = ACTIONS[action]
    note = _check_note(note, texts.SG_REJECT_USAGE if action == "rej" else None)

    def change(rec: dict[str, Any]) -> dict[str, Any]:
        if rec["status"] != need:
            raise SuggestError(texts.sg_bad_transition(number, rec["status"], target, need))
        rec["status"] = target
        rec["history"].append(_entry(svc, ACTION_LABELS[action], target, user_id, user_name, note))
        return rec

    return svc.store.suggestion_update(number, change)


async def add_note(svc: Services, number: str, user_id: str, user_name: str, note: str) -> dict[str, Any]:
    """Record an officers' note (status unchanged; not sent to the proposer)."""
    await get_for_review(svc, number, user_id)
    note = _check_note(note, texts.SG_NOTE_USAGE)

    def change(rec: dict[str, Any]) -> dict[str, Any]:
        rec["history"].append(_entry(svc, NOTE_ACTION, rec["status"], user_id, user_name, note))
        return rec

    return svc.store.suggestion_update(number, change)


def mine(svc: Services, user_id: str) -> list[dict[str, Any]]:
    """The user's own named suggestions, newest first."""
    own = [r for r in svc.store.suggestions_all() if r.get("proposer_id") == user_id]
    return sorted(own, key=lambda r: r["created"], reverse=True)


def overdue(svc: Services) -> list[dict[str, Any]]:
    """Undecided suggestions past their reply deadline (see `deadline`), oldest first."""
    now = svc.now()
    old = [r for r in svc.store.suggestions_all() if is_overdue(r, svc.config, now)]
    return sorted(old, key=lambda r: r["created"])


def pages(count: int, size: int) -> int:
    """How many pages `count` items take (at least 1)."""
    return max(1, math.ceil(count / size))


# --- lifecycle additions (issue 11: desk, deadlines, departments, benefit, 公示, 满意度) ------------------

#: Optional fields of a record and their defaults (older stored records lack them).
FIELDS: dict[str, Any] = {
    "major": False,
    "department": "",
    "result": "",
    "benefit": None,
    "reward_tier": "",
    "reward_amount": None,
    "public": False,
    "satisfaction": None,
    "merged_into": None,
}
SATISFACTION = ("满意", "基本满意", "不满意")
#: Statuses after which a named proposer is asked how satisfied they are.
RATED = (REJECTED, DONE)
#: Statuses an adopted item can be published (公示) in.
PUBLISHABLE = (ADOPTED, DONE)
#: Statuses from which a duplicate may be merged into another suggestion.
MERGEABLE = (PENDING, RECEIVED)
MONEY_MAX = 1_000_000_000


def field_of(rec: dict[str, Any], name: str) -> Any:
    """A lifecycle field of `rec`, or its default when the record predates it."""
    return rec.get(name, FIELDS[name])


def deadline(rec: dict[str, Any], config: Config) -> datetime:
    """The reply deadline: created + overdue_days (major_overdue_days for items marked major)."""
    cfg = config.suggestions
    days = cfg.major_overdue_days if field_of(rec, "major") else cfg.overdue_days
    return _at(rec["created"]) + timedelta(days=days)


def is_overdue(rec: dict[str, Any], config: Config, now: datetime) -> bool:
    """Undecided and past its reply deadline."""
    return rec["status"] in UNDECIDED and deadline(rec, config) <= now


def answered_at(rec: dict[str, Any]) -> datetime | None:
    """When the suggestion was first answered (采纳 / 不采纳 / 合并), from its history."""
    for h in rec.get("history", []):
        if h.get("status") in (ADOPTED, REJECTED, MERGED) and h.get("action") != NOTE_ACTION:
            return _at(h["at"])
    return None


def parse_money(text: str, label: str, required: bool) -> float | None:
    """'12000' / '1.2万' / '12,000元' -> 12000.0; '' -> None unless required; SuggestError otherwise."""
    t = unicodedata.normalize("NFKC", text or "").strip().replace(",", "").replace("元", "").strip()
    if not t:
        if required:
            raise SuggestError(texts.sg_money_required(label))
        return None
    scale = 1.0
    if t.endswith("万"):
        t, scale = t[:-1].strip(), 10000.0
    try:
        value = float(t) * scale
    except ValueError:
        raise SuggestError(texts.sg_money_bad(label, text)) from None
    if not math.isfinite(value) or not 0 <= value <= MONEY_MAX:
        raise SuggestError(texts.sg_money_bad(label, text))
    return round(value, 2)


def _decided_notice(svc: Services, rec: dict[str, Any], note: str) -> list[Reply]:
    """A named proposer's progress message (+ the satisfaction question after 不采纳 / 已实施)."""
    from bot.core import Button, Reply

    pid = rec.get("proposer_id")
    if rec.get("anonymous") or pid is None:
        return []
    text = texts.sg_notify(rec["number"], rec["status"], note, rec["text"])
    if rec["status"] == DONE:
        text += texts.sg_notify_result(field_of(rec, "result"), field_of(rec, "benefit"))
    buttons: list[list[Button]] = []
    if rec["status"] in RATED:
        text += "\n" + texts.SG_ASK_SATISFACTION
        buttons = [[Button(label, data=f"sg:f:{rec['number']}:{i}") for i, label in enumerate(SATISFACTION)]]
    return [Reply(text, buttons=buttons, chat_id=pid)]


def notices(svc: Services, rec: dict[str, Any], note: str, actor_id: Any) -> list[Reply]:
    """The messages a status change sends: to the named proposer (never to anonymous ones, nor to oneself)."""
    if rec.get("proposer_id") == actor_id:
        return []
    return _decided_notice(svc, rec, note)


async def deliver(svc: Services, replies: list[Reply]) -> int:
    """Send `replies` through the adapter's sender (outside a request); returns how many went out."""
    from bot.core import DeliveryError

    sent = 0
    if svc.sender is None:
        return 0
    for reply in replies:
        try:
            await svc.sender(reply)
            sent += 1
        except DeliveryError as e:  # never log the chat: it is a proposer's private chat
            log.warning("a suggestion notification was not delivered: %s", type(e).__name__)
    return sent


async def _update(
    svc: Services, number: str, user_id: Any, user_name: str, action: str, note: str,
    fn: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Check rights, apply `fn` to the record and append a history entry, in one durable write."""
    await get_for_review(svc, number, user_id)

    def change(rec: dict[str, Any]) -> dict[str, Any]:
        fn(rec)
        rec["history"].append(_entry(svc, action, rec["status"], user_id, user_name, note))
        return rec

    return svc.store.suggestion_update(number, change)


async def set_department(svc: Services, number: str, user_id: Any, user_name: str, department: str) -> dict[str, Any]:
    """Assign the handling department (one of config.suggestions.departments; '' clears it)."""
    department = department.strip()
    if department and department not in svc.config.suggestions.departments:
        raise SuggestError(texts.sg_bad_department(svc.config.suggestions.departments))

    def fn(rec: dict[str, Any]) -> None:
        rec["department"] = department

    return await _update(svc, number, user_id, user_name, texts.SG_ACTION_DEPARTMENT, department or "—", fn)


async def set_major(svc: Services, number: str, user_id: Any, user_name: str, major: bool) -> dict[str, Any]:
    """Mark as major (重大: reply deadline config.suggestions.major_overdue_days) or not."""

    def fn(rec: dict[str, Any]) -> None:
        rec["major"] = major

    return await _update(svc, number, user_id, user_name, texts.sg_action_major(major), "", fn)


async def set_public(svc: Services, number: str, user_id: Any, user_name: str, public: bool) -> dict[str, Any]:
    """Publish (公示) an adopted or implemented suggestion, or withdraw it."""

    def fn(rec: dict[str, Any]) -> None:
        if public and rec["status"] not in PUBLISHABLE:
            raise SuggestError(texts.SG_PUBLIC_ONLY_ADOPTED)
        rec["public"] = public

    return await _update(svc, number, user_id, user_name, texts.sg_action_public(public), "", fn)


async def set_reward(
    svc: Services, number: str, user_id: Any, user_name: str, tier: str, amount: str
) -> dict[str, Any]:
    """Record the reward tier and amount (元) of an adopted or implemented suggestion (recorded only)."""
    tier = tier.strip()
    if tier and tier not in svc.config.suggestions.reward_tiers:
        raise SuggestError(texts.sg_bad_tier(svc.config.suggestions.reward_tiers))
    value = parse_money(amount, texts.SG_FIELD_REWARD, required=False)

    def fn(rec: dict[str, Any]) -> None:
        if rec["status"] not in PUBLISHABLE:
            raise SuggestError(texts.SG_REWARD_ONLY_ADOPTED)
        rec["reward_tier"], rec["reward_amount"] = tier, value

    return await _update(svc, number, user_id, user_name, texts.SG_ACTION_REWARD, texts.sg_reward(tier, value), fn)


async def implement(
    svc: Services, number: str, user_id: Any, user_name: str, result: str, benefit: str
) -> dict[str, Any]:
    """已实施 with the implementation result (required) and its economic benefit in 元 (required, may be 0)."""
    result = _check_note(result, texts.SG_RESULT_REQUIRED)
    value = parse_money(benefit, texts.SG_FIELD_BENEFIT, required=True)
    await get_for_review(svc, number, user_id)
    target, need = ACTIONS["imp"]

    def change(rec: dict[str, Any]) -> dict[str, Any]:
        if rec["status"] != need:
            raise SuggestError(texts.sg_bad_transition(number, rec["status"], target, need))
        rec["status"], rec["result"], rec["benefit"] = target, result, value
        rec["history"].append(_entry(svc, ACTION_LABELS["imp"], target, user_id, user_name, result))
        return rec

    return svc.store.suggestion_update(number, change)


async def merge(svc: Services, number: str, into: str, user_id: Any, user_name: str) -> tuple[dict, dict]:
    """Merge duplicate `number` into `into`: it becomes 已合并 and points there; both are recorded.

    Returns (the merged record, the record it went into).
    """
    if number == into:
        raise SuggestError(texts.SG_MERGE_SELF)
    target = await get_for_review(svc, into, user_id)
    if target["status"] == MERGED:
        raise SuggestError(texts.sg_merge_target_merged(into))
    await get_for_review(svc, number, user_id)
    note = texts.sg_merged_note(number, into)

    def change(recs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
        rec, kept = recs[number], recs[into]
        if rec["status"] not in MERGEABLE:
            raise SuggestError(texts.sg_merge_bad_status(number, rec["status"]))
        if kept["status"] == MERGED:
            raise SuggestError(texts.sg_merge_target_merged(into))
        rec["status"], rec["merged_into"] = MERGED, into
        rec["history"].append(_entry(svc, texts.SG_ACTION_MERGE, MERGED, user_id, user_name, note))
        kept["history"].append(_entry(svc, texts.SG_ACTION_MERGE, kept["status"], user_id, user_name, note))
        return rec, kept

    return svc.store.suggestions_update_many([number, into], change)  # both change in one durable write


def merge_notices(merged: dict[str, Any], kept: dict[str, Any], actor_id: Any) -> list[Reply]:
    """Tell both named proposers about a merge (anonymous ones get nothing; one person gets one message)."""
    from bot.core import Reply

    out: list[Reply] = []
    for rec, text in (
        (merged, texts.sg_notify_merged(merged["number"], kept["number"], merged["text"])),
        (kept, texts.sg_notify_merged_in(kept["number"], merged["number"], kept["text"])),
    ):
        pid = rec.get("proposer_id")
        if rec.get("anonymous") or pid is None or pid == actor_id or any(r.chat_id == pid for r in out):
            continue
        out.append(Reply(text, chat_id=pid))
    return out


def rate(svc: Services, number: str, user_id: Any, choice: int) -> dict[str, Any]:
    """The named proposer's satisfaction (满意 / 基本满意 / 不满意) with the answer; may be changed later."""
    if not 0 <= choice < len(SATISFACTION):
        raise SuggestError(texts.BUTTON_EXPIRED)

    def change(rec: dict[str, Any]) -> dict[str, Any]:
        if rec.get("anonymous") or rec.get("proposer_id") is None or rec.get("proposer_id") != user_id:
            raise SuggestError(texts.SG_RATE_NOT_YOURS)
        if rec["status"] not in RATED:
            raise SuggestError(texts.BUTTON_EXPIRED)
        rec["satisfaction"] = SATISFACTION[choice]
        return rec

    try:
        return svc.store.suggestion_update(number, change)
    except KeyError:
        raise SuggestError(texts.SG_NOT_FOUND) from None


def published(svc: Services) -> list[dict[str, Any]]:
    """Suggestions marked public (公示) that are still adopted or implemented, newest first."""
    out = [r for r in svc.store.suggestions_all() if field_of(r, "public") and r["status"] in PUBLISHABLE]
    return sorted(out, key=lambda r: r["created"], reverse=True)
