"""每日一题: the day's question per chat, answers, scores, rankings and the day's close; platform-neutral.

Per-chat document (store "quiz_chats"), laid out like the practice push's (bot/practice.py, whose schedule,
rotation and delivery-record functions it reuses) plus::

    "shown":  {"YYYY-MM-DD": chat type}    # the day's question was shown here (push or /quiz)
    "closed": {"YYYY-MM-DD": "claimed"|"done"}  # the day's close (polls stopped, answer revealed): at most once

Per-member document (store "quiz_scores"), one per chat and month::

    {"chat_id", "month": "YYYY-MM", "user_id", "name", "answered", "correct",
     "streak": current run of days answered right, "best": longest run this month,
     "last_ok": the last day answered right, "first": ISO time of the first answer this month,
     "days": {"DD": [question id, answer letters, 1 right | 0 wrong, ISO time]}}

A streak counts the days a chat showed a question: answering right on the chat's next question day after
the last right one extends it (weekends without a question do not break it), a wrong answer or a skipped
question day ends it. It carries over into a new month. The ranking orders by right answers, then streak.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import practice as P
from bot import quizbank as B
from bot.quizbank import JUDGE, LETTERS, MULTI, Bank, Question

if TYPE_CHECKING:
    from bot.services import Services

#: Shown/closed day records older than this are pruned from a chat's document.
KEEP_DAYS = 40
#: A bare answer: letters (A, ACD, "A C D") or an option number (1-6).
_BARE = re.compile(r"^\s*(?:[A-Fa-f](?:[\s,，、]*[A-Fa-f]){0,5}|[1-6])\s*[.。!！]?\s*$")
#: `答 B`, `答案：ACD`, `回答 对`: the answer words members type first (input vocabulary).
ANSWER_WORDS = ("答案", "回答", "作答", "答")
_PREFIX = re.compile(rf"^\s*(?:{'|'.join(ANSWER_WORDS)})\s*[:：]?\s*")

_bank_cache: dict[str, tuple[str, Bank]] = {}


# --- the bank ---------------------------------------------------------------------------------------


def bank(svc: Services) -> Bank:
    """The question bank of the content in use (content/quiz.json), re-read when the content version changes."""
    key = str(svc.config.content_dir)
    hit = _bank_cache.get(key)
    if hit is None or hit[0] != svc.content.version:
        try:
            loaded = B.load_bank(svc.config.content_dir)
        except (OSError, ValueError, KeyError, TypeError):
            loaded = hit[1] if hit is not None else Bank()  # a damaged file: keep what we had
        hit = _bank_cache[key] = (svc.content.version, loaded)
    return hit[1]


# --- per-chat document ----------------------------------------------------------------------------------


def new_doc(chat_id: str) -> dict[str, Any]:
    """An empty per-chat quiz document (every key present)."""
    return {**P.new_doc(chat_id), "shown": {}, "closed": {}}


def update(svc: Services, chat_id: str, fn: Any) -> Any:
    return svc.store.quiz_update(chat_id, fn, new_doc)


def day_question(svc: Services, chat_id: str, day: date) -> Question | None:
    """The chat's question for `day` (recorded, so everyone in the chat gets the same one all day); None when
    the bank is empty. Rotation: a shuffled round without repeats per chat; removed questions are skipped."""
    bk = bank(svc)
    ids = bk.ids
    if not ids:
        return None
    qid = update(svc, chat_id, lambda doc: P.pick_doc(doc, day, ids))
    return bk.get(qid) if qid else None


def today_question(svc: Services, chat_id: str, day: date) -> Question | None:
    """The question already picked for `day` in this chat (without picking one), if it is still in the bank."""
    doc = svc.store.quiz_doc(chat_id) or {}
    qid = doc.get("picks", {}).get(day.isoformat())
    return bank(svc).get(qid) if qid else None


def mark_shown(svc: Services, chat_id: str, day: date, chat_type: str) -> None:
    """Record that the day's question was shown in this chat (the day's close reveals and closes it)."""
    key = day.isoformat()

    def apply(doc: dict[str, Any]) -> None:
        shown = doc.setdefault("shown", {})
        if key not in shown:
            shown[key] = chat_type
        _prune(doc, day)

    update(svc, chat_id, apply)


def claim_push_doc(doc: dict[str, Any], day: date, now: datetime, ids: list[str]) -> tuple[str | None, bool]:
    """Claim the quiz push for (chat, day) like the practice push (bot.practice.claim_doc) and, in the same
    durable write, record the day's question as shown: a crash after the send (or during it: the question may
    well have arrived) must not leave a question out in the chat that takes no typed answers and is never closed.
    Returns (question id or None when not claimable, whether "shown" was recorded by this claim: undo it with
    `unmark_shown` when the send definitely failed)."""
    qid = P.claim_doc(doc, day, now, ids)
    if qid is None:
        return None, False
    shown = doc.setdefault("shown", {})
    key = day.isoformat()
    if key in shown:
        return qid, False
    shown[key] = (doc.get("sub") or {}).get("chat_type", "private")
    _prune(doc, day)
    return qid, True


def unmark_shown(svc: Services, chat_id: str, day: date) -> None:
    """Forget that the day's question was shown here (its push definitely did not arrive)."""
    def apply(doc: dict[str, Any]) -> None:
        doc.get("shown", {}).pop(day.isoformat(), None)

    update(svc, chat_id, apply)


def _prune(doc: dict[str, Any], today: date) -> None:
    oldest = (today - timedelta(days=KEEP_DAYS)).isoformat()
    for key in ("shown", "closed"):
        records = doc.get(key, {})
        for day in [d for d in records if d < oldest]:
            del records[day]


def previous_question_day(doc: dict[str, Any] | None, day: date) -> str | None:
    """The last day before `day` on which this chat was shown a question (ISO), or None."""
    key = day.isoformat()
    earlier = [d for d in (doc or {}).get("shown", {}) if d < key]
    return max(earlier) if earlier else None


def open_days(doc: dict[str, Any], today: date) -> list[str]:
    """Days before `today` whose question was shown here and whose close has not been claimed."""
    key = today.isoformat()
    closed = doc.get("closed", {})
    return sorted(d for d in doc.get("shown", {}) if d < key and d not in closed)


def claim_close(svc: Services, chat_id: str, day: str) -> bool:
    """Durably claim the close of (chat, day) BEFORE stopping polls and revealing: at most once."""
    def apply(doc: dict[str, Any]) -> bool:
        closed = doc.setdefault("closed", {})
        if day in closed:
            return False
        closed[day] = "claimed"
        return True

    return bool(update(svc, chat_id, apply))


def mark_closed(svc: Services, chat_id: str, day: str) -> None:
    def apply(doc: dict[str, Any]) -> None:
        doc.setdefault("closed", {})[day] = "done"

    update(svc, chat_id, apply)


# --- answers --------------------------------------------------------------------------------------------


def is_bare_answer(text: str) -> bool:
    """"B", "acd", "A C D", "2", "对", "错误", "√", "是" (what may follow 答: any way of writing an answer)."""
    text = unicodedata.normalize("NFKC", text).strip()
    return bool(_BARE.match(text)) or B.judge_value(text) is not None


def _plain_form(text: str, q: Question | None) -> bool:
    """A message without 答 in front that is clearly an answer to `q`: option letters (or an option number) for
    a choice question, a 对/错 word of TYPED_TRUE / TYPED_FALSE for 判断 (either, when the question is unknown)."""
    text = unicodedata.normalize("NFKC", text).strip()
    letters = q is None or q.kind != JUDGE
    judge = q is None or q.kind == JUDGE
    return (letters and bool(_BARE.match(text))) or (judge and B.is_typed_judge_word(text))


def takes_as_answer(svc: Services, chat_id: str, text: str, day: date) -> bool:
    """Whether a plain message in a private chat (or addressed to the bot in a group) is a quiz answer; else it is
    ordinary text (a search). `答 B` / `答案：ACD` / `答 是` are meant as answers whenever they come (without a
    question out they are told so); anything else only while the day's question is out in this chat and the whole
    message is clearly an answer to it (`_plain_form`): 是, yes, 好的 stay chat, and so do 对 / 错 unless the
    question is a 判断 one."""
    rest = strip_answer_word(text)
    if rest != text.strip():
        return is_bare_answer(rest)
    doc = svc.store.quiz_doc(chat_id) or {}
    key = day.isoformat()
    if key not in doc.get("shown", {}) or key in doc.get("closed", {}):
        return False
    return _plain_form(text, today_question(svc, chat_id, day))


def strip_answer_word(text: str) -> str:
    """`答 B` / `答案：ACD` -> the answer part."""
    return _PREFIX.sub("", text, count=1).strip()


def parse_answer(text: str, q: Question) -> tuple[int, ...] | None:
    """A member's answer as option indexes, or None when it is not an answer to `q`.

    Letters (B, ACD, "A、C、D"), an option number (2) or, for 判断, 对/错 words or A (对) / B (错)."""
    text = unicodedata.normalize("NFKC", strip_answer_word(text)).strip().rstrip(".。!！")
    n = len(q.choices)
    if q.kind == JUDGE:
        verdict = B.judge_value(text)
        if verdict is not None:
            return (0 if verdict else 1,)
    if re.fullmatch(r"[1-9]", text):
        i = int(text) - 1
        return (i,) if i < n else None
    letters = B.parse_letters(text)
    if letters is None:
        return None
    picked = tuple(LETTERS.index(c) for c in letters)
    if any(i >= n for i in picked) or (q.kind != MULTI and len(picked) != 1):
        return None
    return picked


def letters_of(q: Question, choice: Iterable[int]) -> str:
    """Option indexes as the member sees them: "ACD", or 对 / 错 for 判断."""
    picked = sorted(set(choice))
    if q.kind == JUDGE:
        return q.choices[picked[0]] if picked else ""
    return "".join(LETTERS[i] for i in picked)


def is_right(q: Question, choice: Iterable[int]) -> bool:
    return tuple(sorted(set(choice))) == tuple(sorted(q.answer))


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def new_score(chat_id: str, month: str, user_id: str) -> dict[str, Any]:
    return {"chat_id": chat_id, "month": month, "user_id": user_id, "name": "", "answered": 0, "correct": 0,
            "streak": 0, "best": 0, "last_ok": None, "first": None, "days": {}}


@dataclass(frozen=True)
class Answered:
    """The outcome of one answer: whether it counted (the member's first for the day), and whether it was right.
    For a repeat, `right` and `letters` are those of the first answer."""

    first: bool
    right: bool
    letters: str
    streak: int
    #: The question the counted answer was given to (for a repeat: that of the first answer).
    qid: str = ""


def record_answer(
    svc: Services, chat_id: str, user_id: str, name: str, day: date, q: Question, choice: tuple[int, ...],
    at: datetime,
) -> Answered:
    """Count a member's answer to the day's question (only their first of the day counts); one durable write."""
    month = month_of(day)
    dd = f"{day.day:02d}"
    right = is_right(q, choice)
    letters = letters_of(q, choice)
    chat_doc = svc.store.quiz_doc(chat_id)
    before = previous_question_day(chat_doc, day)
    carried: dict[str, Any] | None = None
    if before is not None and before[:7] != month:  # the streak may come from last month
        carried = svc.store.quiz_score(chat_id, before[:7], user_id)

    def apply(doc: dict[str, Any]) -> Answered:
        days = doc.setdefault("days", {})
        if dd in days:
            was_qid, was, ok, _at = days[dd]
            return Answered(False, bool(ok), was, doc.get("streak", 0), was_qid)
        days[dd] = [q.id, letters, 1 if right else 0, at.isoformat(timespec="seconds")]
        doc["name"] = name[:64]
        doc["answered"] = doc.get("answered", 0) + 1
        doc["first"] = doc.get("first") or at.isoformat(timespec="seconds")
        if right:
            last_ok, streak = doc.get("last_ok"), doc.get("streak", 0)
            if last_ok is None and carried is not None:
                last_ok, streak = carried.get("last_ok"), carried.get("streak", 0)
            streak = streak + 1 if last_ok is not None and last_ok == before else 1
            doc["correct"] = doc.get("correct", 0) + 1
            doc["streak"] = streak
            doc["best"] = max(doc.get("best", 0), streak)
            doc["last_ok"] = day.isoformat()
        else:
            doc["streak"] = 0
        return Answered(True, right, letters, doc["streak"], q.id)

    result: Answered = svc.store.quiz_score_update(chat_id, month, user_id, apply, new_score)
    return result


def my_answer(svc: Services, chat_id: str, user_id: str, day: date) -> tuple[str, bool] | None:
    """(letters, right) of the member's answer for `day` in this chat, or None."""
    doc = svc.store.quiz_score(chat_id, month_of(day), user_id)
    rec = (doc or {}).get("days", {}).get(f"{day.day:02d}")
    return (rec[1], bool(rec[2])) if rec else None


def day_counts(svc: Services, chat_id: str, day: date) -> tuple[int, int]:
    """(answered, right) in a chat on a day."""
    dd = f"{day.day:02d}"
    answered = right = 0
    for doc in svc.store.quiz_scores(chat_id, month_of(day)):
        rec = doc.get("days", {}).get(dd)
        if rec:
            answered += 1
            right += rec[2]
    return answered, right


# --- scores and ranking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """One member's month in one chat, with their place (members with equal right answers and streak share it)."""

    user_id: str
    name: str
    answered: int
    correct: int
    streak: int
    best: int
    place: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def live_streak(doc: dict[str, Any], chat_doc: dict[str, Any] | None, today: date) -> int:
    """The member's current streak as of `today`: 0 once a question day passed without their right answer."""
    last_ok = doc.get("last_ok")
    if not last_ok or not doc.get("streak"):
        return 0
    ref = previous_question_day(chat_doc, today)  # the last question day before today must not be missed
    return int(doc["streak"]) if ref is None or last_ok >= ref else 0


def ranking(svc: Services, chat_id: str, month: str, today: date) -> list[Score]:
    """Every member who answered in this chat that month, best first: right answers, then streak (current, then
    longest), then fewer answers, then who got there first."""
    chat_doc = svc.store.quiz_doc(chat_id)
    # a past month's ranking is frozen: its streaks as they stood at the month's end
    as_of = today if month >= month_of(today) else date(int(month[:4]) + int(month[5:7]) // 12,
                                                          int(month[5:7]) % 12 + 1, 1)
    rows = [(doc, live_streak(doc, chat_doc, as_of)) for doc in svc.store.quiz_scores(chat_id, month)]
    rows.sort(key=lambda r: (-r[0]["correct"], -r[1], -r[0].get("best", 0), r[0]["answered"],
                             r[0].get("first") or "", r[0]["user_id"]))
    out: list[Score] = []
    for i, (doc, streak) in enumerate(rows):
        tied = out and (out[-1].correct, out[-1].streak) == (doc["correct"], streak)
        place = out[-1].place if tied else i + 1
        out.append(Score(doc["user_id"], doc.get("name") or doc["user_id"], doc["answered"], doc["correct"],
                         streak, int(doc.get("best", 0)), place))
    return out


def member_months(svc: Services, user_id: str, month: str) -> list[dict[str, Any]]:
    """A member's documents of one month, in every chat."""
    return svc.store.quiz_scores_where(lambda d: d.get("user_id") == user_id and d.get("month") == month)


# --- polls (native forms an adapter reported) -------------------------------------------------------------


def poll_recorder(svc: Services, chat_id: str, day: date, q: Question, chat_type: str) -> Any:
    """The `Quiz.on_sent` callback for one sent question: remembers the adapter's reference durably."""
    def record(ref: dict[str, Any]) -> None:
        key = f"{ref.get('platform', '')}:{ref.get('poll_id', '')}"
        svc.store.quiz_poll_add({**ref, "ref": key, "chat_id": chat_id, "day": day.isoformat(), "qid": q.id,
                                 "chat_type": chat_type})

    return record


def find_poll(svc: Services, platform: str, poll_id: str) -> dict[str, Any] | None:
    """The record of a native poll an adapter sent ({"chat_id", "day", "qid", "chat_type", ...}), or None."""
    return svc.store.quiz_poll(f"{platform}:{poll_id}")


#: Callback data prefix of a native poll vote (handled by bot/handlers/quiz.py).
POLL_VOTE = "qzp"


def vote_data(poll: dict[str, Any], option_ids: Iterable[int]) -> str:
    """The callback data an adapter dispatches for a vote in a native poll it sent (see find_poll):
    qzp:<YYYYMMDD>:<question id>:<option indexes>; no indexes = a retracted vote."""
    day = str(poll["day"]).replace("-", "")
    return f"{POLL_VOTE}:{day}:{poll['qid']}:{','.join(str(int(i)) for i in option_ids)}"


# --- officers' figures (desk and export) ------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    day: str
    chat_id: str
    answered: int
    right: int


@dataclass(frozen=True)
class QuestionFigures:
    qid: str
    answered: int
    right: int

    @property
    def accuracy(self) -> float:
        return self.right / self.answered if self.answered else 0.0


def month_figures(svc: Services, month: str) -> tuple[list[DayFigures], list[QuestionFigures]]:
    """Participation per chat and day, and every question's answers, over one month (all chats)."""
    per_day: dict[tuple[str, str], list[int]] = {}
    per_q: dict[str, list[int]] = {}
    for doc in svc.store.quiz_scores_where(lambda d: d.get("month") == month):
        for dd, rec in doc.get("days", {}).items():
            day = per_day.setdefault((f"{month}-{dd}", doc["chat_id"]), [0, 0])
            day[0] += 1
            day[1] += rec[2]
            q = per_q.setdefault(rec[0], [0, 0])
            q[0] += 1
            q[1] += rec[2]
    days = [DayFigures(d, c, a, r) for (d, c), (a, r) in sorted(per_day.items())]
    questions = sorted((QuestionFigures(qid, a, r) for qid, (a, r) in per_q.items()),
                       key=lambda f: (f.accuracy, -f.answered, f.qid))
    return days, questions


def chat_title(svc: Services, chat_id: str) -> str:
    """A chat's name as recorded when it subscribed or was shown a question ("" if unknown)."""
    doc = svc.store.quiz_doc(chat_id) or {}
    return str(doc.get("title") or ((doc.get("sub") or {}).get("title")) or "")


def remember_title(svc: Services, chat_id: str, title: str) -> None:
    """Keep the chat's name for exports and the desk (written only when it changed)."""
    if not title:
        return

    def apply(doc: dict[str, Any]) -> None:
        doc["title"] = title[:100]

    update(svc, chat_id, apply)
