"""每日一题: /quiz, answers (typed, buttons, native polls), /quizsub /quizunsub, /rank, /myscore, /quizexport,
and two scheduled jobs in one tick: the quiz push and the day's close.

The push works exactly like the practice push (bot/handlers/push.py): the claim for (chat, date) is written
durably before sending, so a push is sent at most once a day across restarts and kills, and a push missed by
downtime is sent once within the grace. The day's close (after midnight, or before the chat's next question)
is claimed durably too: native polls are stopped and, in groups, the answer, the 解析 and how many got it right
are revealed -- so an answer given in a group never spoils the question for the others before that.

Answers: the first of a member's answers to the day's question counts. In a private chat the verdict comes at
once; in a group it is sent to the member privately where the platform allows (otherwise it waits for the
reveal), and the group sees only that the answer was taken.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import lifecycle, table, texts
from bot import practice as P
from bot import quiz as Q
from bot.core import (
    QUIZ_EXPLANATION_CHARS,
    QUIZ_EXPLANATION_LINES,
    Button,
    ChatGone,
    ChatMoved,
    DeliveryError,
    Quiz,
    Reply,
    Request,
    platform_of,
)
from bot.handlers import push
from bot.quizbank import JUDGE, LETTERS, MULTI, Question
from bot.table import Callback, Command, Tick

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: Buttons: qz:<YYYYMMDD>:<question id>:<option index>.
PREFIX = "qz"
#: Native poll votes, made by adapters (bot.quiz.vote_data): qzp:<YYYYMMDD>:<question id>:<option indexes>.
POLL_PREFIX = Q.POLL_VOTE
CONCURRENCY = push.CONCURRENCY
#: A month typed after /rank or /quizexport: 2026-02, 2026.2, 2026年2月.
_MONTH_RE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?")


def _key(day: date) -> str:
    return day.strftime("%Y%m%d")


def _day(key: str) -> date | None:
    try:
        return datetime.strptime(key, "%Y%m%d").date()
    except ValueError:
        return None


def _is_group(chat_type: str) -> bool:
    return chat_type in ("group", "supergroup")


def _explanation(q: Question) -> str:
    return texts.quiz_explanation(q.explanation)


def _long_explanation(q: Question) -> bool:
    text = _explanation(q)
    return len(text) > QUIZ_EXPLANATION_CHARS or text.count("\n") > QUIZ_EXPLANATION_LINES


# --- showing the question ------------------------------------------------------------------------------


def quiz_reply(svc: Services, chat_id: str, chat_type: str, day: date, q: Question) -> Reply:
    """The day's question as a core Reply: the text and buttons every platform can show, and the Quiz that
    platforms with a native form (Telegram's poll) send instead."""
    header = texts.quiz_header(day)
    labels = [texts.QUIZ_JUDGE_OPTIONS[i] if q.kind == JUDGE else LETTERS[i] for i in range(len(q.choices))]
    buttons = [] if q.kind == MULTI else [[
        Button(label, data=f"{PREFIX}:{_key(day)}:{q.id}:{i}") for i, label in enumerate(labels)]]
    text = texts.quiz_message(header, q.kind, q.text, list(q.choices), _is_group(chat_type))
    quiz = Quiz(header=header, question=q.text, options=tuple(q.choices), correct=q.answer,
                multiple=q.kind == MULTI, explanation=_explanation(q),
                on_sent=Q.poll_recorder(svc, chat_id, day, q, chat_type))
    return Reply(text, buttons=buttons, quiz=quiz)


async def show(req: Request, svc: Services, args: str) -> list[Reply]:
    """/quiz (每日一题): the chat's question of the day (the same for everyone here all day)."""
    day = svc.now().date()
    await close_chat(svc, req.chat_id, day)  # yesterday's poll is stopped and its answer revealed first
    q = Q.day_question(svc, req.chat_id, day)
    if q is None:
        return [Reply(texts.QUIZ_EMPTY)]
    Q.mark_shown(svc, req.chat_id, day, req.chat_type)
    Q.remember_title(svc, req.chat_id, req.chat_title)
    return [quiz_reply(svc, req.chat_id, req.chat_type, day, q)]


# --- answers --------------------------------------------------------------------------------------------


async def answer_command(req: Request, svc: Services, args: str) -> list[Reply]:
    """`答 B` / `/answer ACD` / `答 对`: a typed answer to today's question in this chat."""
    day = svc.now().date()
    shown = _shown(svc, req.chat_id, day)
    if not Q.is_bare_answer(args):
        if not (req.is_private or req.addressed):
            return []  # an unaddressed group message that only starts with 答 is chatter, not an answer
        q = Q.today_question(svc, req.chat_id, day) if shown else None
        return [Reply(texts.quiz_not_an_answer(q.kind, len(q.choices)) if q else texts.QUIZ_ANSWER_USAGE)]
    return await _typed(req, svc, args, day, shown)


async def plain_answer(req: Request, svc: Services, text: str) -> list[Reply] | None:
    """A plain message that is an answer (bot.quiz.takes_as_answer: `答B` any time; `B`, `ACD`, `2`, or 对 / 错
    for a 判断 question, only while today's question is out in this chat), in a private chat or addressed to the
    bot in a group; None otherwise (the dispatcher goes on to the search).

    The dispatcher's route hands it only such text, with the mention removed; never group chatter."""
    day = svc.now().date()
    if not Q.takes_as_answer(svc, req.chat_id, text, day):
        return None
    return await _typed(req, svc, text, day, _shown(svc, req.chat_id, day))


def _shown(svc: Services, chat_id: str, day: date) -> bool:
    return day.isoformat() in (svc.store.quiz_doc(chat_id) or {}).get("shown", {})


async def _typed(req: Request, svc: Services, text: str, day: date, shown: bool) -> list[Reply]:
    """A typed answer (`B`, `答 ACD`) to the question shown in this chat today."""
    if not shown:
        return [Reply(texts.QUIZ_NOT_SHOWN)]
    q = Q.today_question(svc, req.chat_id, day)
    if q is None:
        return [Reply(texts.QUIZ_GONE)]
    choice = Q.parse_answer(text, q)
    if choice is None:
        return [Reply(texts.quiz_not_an_answer(q.kind, len(q.choices)))]
    return await _answer(req, svc, day, q, choice, via="typed")


async def on_button(req: Request, svc: Services, rest: str) -> list[Reply]:
    """An option button (qz:<day>:<question>:<index>)."""
    parts = rest.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return [Reply(toast=texts.BUTTON_EXPIRED)]
    return await _vote(req, svc, parts[0], parts[1], (int(parts[2]),), via="button")


async def on_poll_vote(req: Request, svc: Services, rest: str) -> list[Reply]:
    """A native poll vote an adapter turned into a callback (qzp:<day>:<question>:<indexes>)."""
    parts = rest.split(":")
    if len(parts) != 3:
        return []
    try:
        choice = tuple(int(i) for i in parts[2].split(",") if i != "")
    except ValueError:
        return []
    if not choice:
        return []  # a retracted vote: the first answer stands
    return await _vote(req, svc, parts[0], parts[1], choice, via="poll")


async def _vote(req: Request, svc: Services, day_key: str, qid: str, choice: tuple[int, ...], via: str
                ) -> list[Reply]:
    day = _day(day_key)
    today = svc.now().date()
    q = Q.bank(svc).get(qid)
    if day is None or q is None:
        return [] if via == "poll" else [Reply(texts.QUIZ_GONE)]
    if day != today:  # the day is closed (or closing): nothing counts any more
        if via == "poll":  # a vote in a poll whose stop has not gone through yet
            return [Reply(texts.quiz_poll_late(day))] if req.is_private else []
        return [Reply(texts.quiz_over(day))]
    if any(i >= len(q.choices) for i in choice):
        return []
    return await _answer(req, svc, day, q, choice, via=via)


async def _answer(req: Request, svc: Services, day: date, q: Question, choice: tuple[int, ...], via: str
                  ) -> list[Reply]:
    """Count the answer (the first of the day counts) and tell the member without spoiling it for the group."""
    done = Q.record_answer(svc, req.chat_id, req.user_id, req.user_name, day, q, choice, svc.now())
    if not done.first:
        return await _already(req, svc, q, done, via)
    if via == "poll":
        # Telegram shows a quiz poll's verdict itself; a 多选 (regular) poll's answer waits for the close,
        # except in a private chat, where nothing is spoilt by saying it now.
        if req.is_private and q.kind == MULTI:
            return [Reply(texts.quiz_verdict(texts.quiz_header(day), q, done.letters, done.right, done.streak))]
        return []
    verdict = texts.quiz_verdict(texts.quiz_header(day), q, done.letters, done.right, done.streak)
    if req.is_private:
        return [Reply(verdict)]
    told = await _tell_privately(svc, req.user_id, verdict)
    replies: list[Reply] = []
    if via == "button":  # the clicked question stays up for the others, with how many answered
        answered, _right = Q.day_counts(svc, req.chat_id, day)
        replies.append(Reply(texts.quiz_card_progress(texts.quiz_header(day), answered), edit=True,
                             buttons=quiz_reply(svc, req.chat_id, req.chat_type, day, q).buttons))
        if told:
            return replies
    replies.append(Reply(texts.quiz_taken(req.user_name, told)))
    return replies


async def _already(req: Request, svc: Services, q: Question, done: Q.Answered, via: str) -> list[Reply]:
    """A member's second answer of the day changes nothing: tell them what they chose first. In a group that goes
    to them privately where the platform allows (a typed answer gets a group reply naming only who it was; a click
    or a poll vote none); otherwise the group reply names only who it was, never their choice (a click the group
    did not see) nor whether it was right."""
    first_q = Q.bank(svc).get(done.qid) or (q if done.qid in ("", q.id) else None)
    note = texts.quiz_already(first_q, done.letters, done.right)
    if req.is_private:
        return [Reply(note)]
    told = await _tell_privately(svc, req.user_id, note)
    if via == "poll" or (via == "button" and told):
        return []  # a vote or a click nobody else saw, answered privately: nothing to the group
    return [Reply(texts.quiz_already_in_group(req.user_name, told))]


async def _tell_privately(svc: Services, user_id: str, text: str) -> bool:
    """Send the verdict to the member's private chat; False where the platform does not allow it (yet)."""
    if svc.sender is None or not svc.can_send(user_id):
        return False
    try:
        await svc.sender(Reply(text, chat_id=user_id))
    except DeliveryError as e:
        log.info("quiz verdict not delivered privately: %s", type(e).__name__)
        return False
    return True


# --- subscriptions ----------------------------------------------------------------------------------------


async def _may_configure(req: Request, svc: Services) -> bool:
    return req.is_private or await table.is_officer(req, svc)


def _tz_label(svc: Services) -> str:
    return push._tz_label(svc)


async def subscribe(req: Request, svc: Services, args: str) -> list[Reply]:
    """/quizsub [HH:MM] [工作日|每天]: push the day's question to this chat (or change its time)."""
    if not await _may_configure(req, svc):
        return [Reply(texts.quiz_admins_only(req.group_admins))]
    parsed = P.parse_schedule(args)
    if parsed is None:
        return [Reply(texts.QUIZSUB_USAGE)]
    t, mode = parsed
    old = (svc.store.quiz_doc(req.chat_id) or {}).get("sub")
    if old and t is None and mode is None:
        return [Reply(texts.quiz_already_subscribed(old["time"], old["mode"]))]
    hhmm = t.strftime("%H:%M") if t else (old["time"] if old else svc.config.push.default_time)
    mode = mode or (old["mode"] if old else svc.config.push.default_mode)
    now = svc.now()
    sub = {"time": hhmm, "mode": mode, "since": now.isoformat(), "chat_type": req.chat_type,
           "title": req.chat_title[:100], "by": req.user_id}

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        doc["sub"] = sub
        if req.chat_title:
            doc["title"] = req.chat_title[:100]
        return doc

    doc = Q.update(svc, req.chat_id, apply)
    log.info("%s subscribed to the quiz: %s %s", "a private chat" if req.is_private else f"chat {req.chat_id}",
             mode, hhmm)
    next_at = P.next_push(doc, now, svc.config.push.grace_minutes)
    return [Reply(texts.quiz_subscribed(hhmm, mode, next_at, _tz_label(svc), bool(old)))]


async def unsubscribe(req: Request, svc: Services, args: str) -> list[Reply]:
    """/quizunsub: stop the quiz push here (rotation and scores are kept)."""
    if not await _may_configure(req, svc):
        return [Reply(texts.quiz_admins_only(req.group_admins))]
    if not _unsubscribe(svc, req.chat_id):
        return [Reply(texts.QUIZ_NOT_SUBSCRIBED)]
    return [Reply(texts.QUIZ_UNSUBSCRIBED)]


def _unsubscribe(svc: Services, chat_id: str) -> bool:
    if not (svc.store.quiz_doc(chat_id) or {}).get("sub"):
        return False

    def apply(doc: dict[str, Any]) -> bool:
        was = bool(doc.get("sub"))
        doc["sub"] = None
        return was

    return bool(Q.update(svc, chat_id, apply))


# --- scores -----------------------------------------------------------------------------------------------


def _month_arg(args: str, today: date) -> str | None:
    """"" -> this month, 上月 -> last month, "2026-02" / "2026年2月" -> that month; None if not understood."""
    word = args.strip()
    this = Q.month_of(today)
    if not word:
        return this
    if word in texts.QUIZ_LAST_MONTH_WORDS:
        return Q.previous_month(this)
    m = _MONTH_RE.fullmatch(word)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
    return None


async def rank(req: Request, svc: Services, args: str) -> list[Reply]:
    """/rank [上月|YYYY-MM] (排行榜): this chat's top 10 of the month, and the asker's own place."""
    today = svc.now().date()
    month = _month_arg(args, today)
    if month is None:
        return [Reply(texts.QUIZ_RANK_USAGE)]
    scores = Q.ranking(svc, req.chat_id, month, today)
    mine = next((s for s in scores if s.user_id == req.user_id), None)
    return [Reply(texts.quiz_rank(month, scores[:10], mine, len(scores), month == Q.month_of(today)))]


async def myscore(req: Request, svc: Services, args: str) -> list[Reply]:
    """/myscore (我的成绩): this month and last month in this chat (in a private chat: in every chat)."""
    today = svc.now().date()
    this = Q.month_of(today)
    rows: list[tuple[str, str, Q.Score | None, int]] = []
    chats = [req.chat_id]
    if req.is_private:
        chats += sorted({d["chat_id"] for d in Q.member_months(svc, req.user_id, this)} - {req.chat_id})
    for chat_id in chats:
        scores = Q.ranking(svc, chat_id, this, today)
        mine = next((s for s in scores if s.user_id == req.user_id), None)
        if mine is None and chat_id != req.chat_id:
            continue
        title = "" if chat_id == req.chat_id else (Q.chat_title(svc, chat_id) or texts.QUIZ_OTHER_CHAT)
        rows.append((title, this, mine, len(scores)))
    last = Q.previous_month(this)
    scores = Q.ranking(svc, req.chat_id, last, today)
    mine_last = next((s for s in scores if s.user_id == req.user_id), None)
    return [Reply(texts.quiz_myscore(rows, mine_last, len(scores)))]


#: A group's export is handed out in a private chat through a one-time link (svc.pending, like guided flows).
_EXPORT_KEY = "quiz-export"
EXPORT_LINK_MINUTES = 10


async def export(req: Request, svc: Services, args: str) -> list[Reply]:
    """/quizexport [上月|YYYY-MM] (导出答题): officers get the month's results per member as .xlsx: a group's
    admins that group's, configured officers in a private chat every chat's.

    The workbook holds every member's answers, so it is never posted in the group: there the asker gets a link
    (/start qx<token>), usable once within EXPORT_LINK_MINUTES, that hands it over in their private chat."""
    if req.is_private and not svc.is_officer(req.user_id):
        return [Reply(texts.quiz_export_officers_only(req.group_admins))]
    if not req.is_private and not await table.is_officer(req, svc):
        return [Reply(texts.quiz_export_officers_only(req.group_admins))]
    month = _month_arg(args, svc.now().date())
    if month is None:
        return [Reply(texts.QUIZ_EXPORT_USAGE)]
    if req.is_private:
        return await _export_file(svc, month, None)
    link = ""
    if req.private_link is not None:
        token = secrets.token_urlsafe(9)
        expires = svc.now() + timedelta(minutes=EXPORT_LINK_MINUTES)
        svc.pending[(_EXPORT_KEY, token)] = (req.chat_id, req.user_id, month, expires)  # type: ignore[index]
        link = req.private_link(f"qx{token}")
    if not link:
        return [Reply(texts.quiz_export_in_private(False))]
    return [Reply(texts.quiz_export_in_private(True), buttons=[[Button(texts.QUIZ_EXPORT_BTN, url=link)]])]


async def export_from_link(req: Request, svc: Services, token: str) -> list[Reply]:
    """`/start qx<token>` in a private chat: the group export asked for in the group, to the one who asked, if they
    still administer that group (rights checked again now)."""
    entry = svc.pending.pop((_EXPORT_KEY, token), None)  # type: ignore[call-overload]
    if not req.is_private or entry is None:
        return [Reply(texts.QUIZ_EXPORT_LINK_EXPIRED)]
    chat_id, user_id, month, expires = entry
    if user_id != req.user_id or expires < svc.now():
        return [Reply(texts.QUIZ_EXPORT_LINK_EXPIRED)]
    if not (svc.is_officer(req.user_id) or await svc.is_chat_admin(chat_id, req.user_id)):
        return [Reply(texts.quiz_export_officers_only(req.group_admins))]
    return await _export_file(svc, month, chat_id)


async def _export_file(svc: Services, month: str, chat: str | None) -> list[Reply]:
    """The month's results of `chat` (every chat: None) as an .xlsx document in the data dir's exports."""
    from bot.export import clean_exports
    from bot.quizexport import export_month

    folder = svc.config.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    clean_exports(folder)  # earlier exports (members' answers) do not pile up in the data dir
    path = folder / texts.quiz_export_filename(month, svc.now().strftime("%Y%m%d-%H%M%S"))
    count = await asyncio.to_thread(export_month, svc, month, path, chat)
    if not count:
        path.unlink(missing_ok=True)
        return [Reply(texts.quiz_export_empty(month))]
    return [Reply(texts.quiz_export_caption(month, count), document=path)]


# --- the tick: the day's close, then the quiz push --------------------------------------------------------


async def close_chat(svc: Services, chat_id: str, today: date, doc: dict[str, Any] | None = None) -> None:
    """Close the chat's earlier days once: stop native polls and, in a group, reveal the answer. A poll whose stop
    fails stays on record and is stopped again by a later tick (`retry_stops`), across restarts."""
    doc = doc if doc is not None else svc.store.quiz_doc(chat_id)
    if not doc or svc.sender is None or not svc.can_send(chat_id):
        return
    for day in Q.open_days(doc, today):
        if not Q.claim_close(svc, chat_id, day):
            continue
        polls = svc.store.quiz_polls(chat_id, day)
        qid = doc.get("picks", {}).get(day) or (polls[0]["qid"] if polls else "")
        q = Q.bank(svc).get(qid) if qid else None
        group = _is_group(doc["shown"][day])
        text = ""
        if q is not None and (group or (polls and _long_explanation(q))):
            answered, right = Q.day_counts(svc, chat_id, date.fromisoformat(day))
            text = texts.quiz_reveal(date.fromisoformat(day), q, answered, right)
        gone = False
        for poll in polls:  # stopped before the answer is out, so nobody votes knowing it
            gone = await _stop_poll(svc, poll) == "gone" or gone
        if text and not gone:
            try:
                await svc.sender(Reply(text, chat_id=chat_id))
            except ChatGone:
                lifecycle.chat_removed(svc, chat_id)
            except DeliveryError as e:
                log.warning("revealing the quiz of %s in %s failed: %s", day, _label(doc), e)
        Q.mark_closed(svc, chat_id, day)


#: A poll whose stop failed is stopped again 1, 2, 4 … minutes later, then hourly, and given up this long after its
#: day (a vote in it never counts anyway: the day is over).
STOP_RETRY_MAX = timedelta(hours=1)
STOP_GIVE_UP = timedelta(days=7)
#: svc.pending key of a poll being stopped (memory only).
_STOPPING_KEY = "quiz-stop"


async def _stop_poll(svc: Services, poll: dict[str, Any]) -> str:
    """Stop one native poll of a closed day: "stopped" (its record dropped), "gone" (the chat is: dropped too),
    or "retry" (a failed stop, durably scheduled again with backoff)."""
    assert svc.sender is not None
    chat_id, ref = str(poll["chat_id"]), str(poll["ref"])
    busy = (_STOPPING_KEY, ref)
    if busy in svc.pending:
        return "busy"  # being stopped right now (the day's close and the tick's retry may meet)
    svc.pending[busy] = (chat_id,)
    try:
        await svc.sender(Reply(chat_id=chat_id, close_quizzes=(poll,)))
    except ChatGone:
        svc.store.quiz_poll_drop(ref)
        lifecycle.chat_removed(svc, chat_id)
        return "gone"
    except ChatMoved:
        svc.store.quiz_poll_drop(ref)  # the old group takes no votes any more
        return "stopped"
    except DeliveryError as e:
        tries = int(poll.get("stop_tries", 0)) + 1
        retry_at = svc.now() + min(timedelta(minutes=2 ** min(tries - 1, 10)), STOP_RETRY_MAX)
        svc.store.quiz_poll_set(ref, {"stop_tries": tries, "stop_retry_at": retry_at.isoformat()})
        where = "a private chat" if poll.get("chat_type") == "private" else f"chat {chat_id}"
        log.warning("stopping the quiz poll of %s in %s failed (try %d), trying again at %s: %s",
                    poll.get("day"), where, tries, retry_at.strftime("%H:%M"), e)
        return "retry"
    finally:
        svc.pending.pop(busy, None)
    svc.store.quiz_poll_drop(ref)
    return "stopped"


def _given_up(svc: Services, poll: dict[str, Any], now: datetime) -> bool:
    """Whether a poll is too old to stop any more (STOP_GIVE_UP); drops it. Checked for every poll, whatever its
    platform, so a poll of a platform this process does not run is not kept for ever."""
    day = str(poll.get("day", ""))
    try:
        too_old = date.fromisoformat(day) < now.date() - STOP_GIVE_UP
    except ValueError:
        too_old = True
    if too_old:
        svc.store.quiz_poll_drop(str(poll.get("ref")))
        tries = int(poll.get("stop_tries", 0))
        why = f"after {tries} failed tries" if tries else "never stopped (its day was not closed while it could be)"
        log.warning("gave up stopping the quiz poll of %s in %s: %s", day, poll.get("chat_id"), why)
    return too_old


def _stop_due(svc: Services, poll: dict[str, Any], now: datetime) -> bool:
    """Whether a poll of an earlier day is due to be stopped (again) now."""
    day = str(poll.get("day", ""))
    chat_id = str(poll.get("chat_id", ""))
    if day not in (svc.store.quiz_doc(chat_id) or {}).get("closed", {}):
        return False  # the day's close has not begun: close_chat stops it first
    retry_at = poll.get("stop_retry_at")
    return svc.can_send(chat_id) and (not retry_at or datetime.fromisoformat(retry_at) <= now)


async def retry_stops(svc: Services, now: datetime, sems: dict[str, asyncio.Semaphore] | None = None,
                      platform: str | None = None) -> None:
    """Stop the native polls of closed days still open: a stop that failed, or one a crash interrupted (of
    `platform`'s chats; None: every platform's)."""
    sems = sems if sems is not None else {}
    due = [p for p in svc.store.quiz_polls_before(now.date().isoformat()) if not _given_up(svc, p, now)
           and table.serves(svc, str(p.get("chat_id", "")), platform) and _stop_due(svc, p, now)]

    async def stop_one(poll: dict[str, Any]) -> None:
        async with sems.setdefault(platform_of(poll["chat_id"]), asyncio.Semaphore(CONCURRENCY)):
            await _stop_poll(svc, poll)

    if due:
        await asyncio.gather(*(stop_one(p) for p in due))


def _label(doc: dict[str, Any]) -> str:
    kind = (doc.get("sub") or {}).get("chat_type") or next(iter(doc.get("shown", {}).values()), "private")
    return "a private chat" if kind == "private" else f"chat {doc.get('chat_id')}"


@table.per_platform
async def tick(svc: Services, platform: str | None = None) -> None:
    """Close finished days, then deliver every due quiz push once, then retry failed poll stops: for the chats of
    `platform` (None: every platform's). Per platform (bot/ticks.py): everything here is per chat, so a platform
    whose sends hang holds only its own chats' closes, pushes and stops."""
    if svc.sender is None:
        return
    now = svc.now()
    today = now.date()
    grace = svc.config.push.grace_minutes
    sems: dict[str, asyncio.Semaphore] = {}
    closing: list[Any] = []
    due: list[tuple[str, date]] = []
    for doc in svc.store.quiz_docs():
        chat_id = doc["chat_id"]
        if not table.serves(svc, chat_id, platform):
            continue
        if Q.open_days(doc, today):
            closing.append((chat_id, doc))
        days, missed = P.due_days(doc, now, grace)
        due += [(chat_id, d) for d in days]
        for day in missed:
            _record_missed(svc, chat_id, day, now)

    async def close_one(chat_id: str, doc: dict[str, Any]) -> None:
        async with sems.setdefault(platform_of(chat_id), asyncio.Semaphore(CONCURRENCY)):
            await close_chat(svc, chat_id, today, doc)

    async def push_one(chat_id: str, day: date) -> None:
        async with sems.setdefault(platform_of(chat_id), asyncio.Semaphore(CONCURRENCY)):
            await deliver(svc, chat_id, day)

    if closing:
        await asyncio.gather(*(close_one(c, d) for c, d in closing))
    if due:
        if not Q.bank(svc).ids:
            log.warning("%d quiz pushes due but the question bank is empty", len(due))
        else:
            await asyncio.gather(*(push_one(c, d) for c, d in due))
    # After the pushes: a platform failing its stops never holds up the day's push.
    await retry_stops(svc, now, sems, platform)


def _record_missed(svc: Services, chat_id: str, day: date, now: datetime) -> None:
    def apply(doc: dict[str, Any]) -> None:
        if day.isoformat() not in doc.get("deliveries", {}):
            P.mark_doc(doc, day, "missed", now)

    Q.update(svc, chat_id, apply)
    log.warning("quiz push for %s missed (bot was down past the %d-minute grace); skipped",
                day, svc.config.push.grace_minutes)


async def deliver(svc: Services, chat_id: str, day: date) -> str:
    """Claim (durably), then send the day's question to one chat; returns the final delivery status."""
    await close_chat(svc, chat_id, day)
    bk = Q.bank(svc)
    ids = bk.ids
    now = svc.now()
    qid, shown_now = Q.update(svc, chat_id, lambda doc: Q.claim_push_doc(doc, day, now, ids))
    q = bk.get(qid) if qid else None
    if q is None:
        return "skipped"  # not subscribed any more, already claimed, or no questions
    doc = svc.store.quiz_doc(chat_id) or {}
    chat_type = (doc.get("sub") or {}).get("chat_type", "private")
    status, target = await push.send_replies(svc, chat_id, [quiz_reply(svc, chat_id, chat_type, day, q)])
    Q.update(svc, target, lambda d: P.mark_doc(d, day, status, svc.now()))
    if status in ("sent", "partial", "unknown"):
        Q.mark_shown(svc, target, day, chat_type)  # (a chat that moved: its record moved with it)
    elif shown_now:
        Q.unmark_shown(svc, target, day)  # definitely not delivered: nothing to answer or to close
    if status == "sent":
        log.info("pushed quiz %s to %s for %s", q.id, _label(doc), day)
    return status


# --- chat lifecycle -------------------------------------------------------------------------------------


def chat_removed(svc: Services, chat_id: str) -> None:
    if _unsubscribe(svc, chat_id):
        log.info("quiz push for a removed chat unsubscribed")


def chat_migrated(svc: Services, old_id: str, new_id: str) -> None:
    if old_id != new_id and svc.store.quiz_move(old_id, new_id):
        log.info("chat %s migrated to %s; quiz moved", old_id, new_id)


# --- registration ----------------------------------------------------------------------------------------

COMMANDS: list[Command] = [
    Command("quiz", ("每日一题", "今日一题", "今日答题"), texts.HELP_QUIZ, show, usage="/quiz"),
    Command("answer", ("答案", "回答", "答"), texts.HELP_ANSWER, answer_command, usage=texts.USAGE_ANSWER,
            menu=False),
    Command("rank", ("排行榜", "答题排行"), texts.HELP_RANK, rank, usage=texts.USAGE_RANK),
    Command("myscore", ("我的成绩", "我的答题"), texts.HELP_MYSCORE, myscore, usage="/myscore"),
    Command("quizsub", ("订阅每日一题",), texts.HELP_QUIZSUB, subscribe, usage=texts.USAGE_QUIZSUB,
            audience="officer"),
    Command("quizunsub", ("取消每日一题",), texts.HELP_QUIZUNSUB, unsubscribe, usage="/quizunsub",
            audience="officer"),
    Command("quizexport", ("导出答题",), texts.HELP_QUIZEXPORT, export, usage=texts.USAGE_QUIZEXPORT,
            audience="officer"),
]
CALLBACKS: list[Callback] = [Callback(PREFIX, on_button), Callback(POLL_PREFIX, on_poll_vote)]
TICKS: list[Tick] = [tick]
PLAIN_TEXT = [plain_answer]
ON_CHAT_REMOVED = [chat_removed]
ON_CHAT_MIGRATED = [chat_migrated]
