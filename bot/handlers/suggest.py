"""合理化建议: /suggest (quick or guided, named or anonymous), /mine, /cancel, and officers' /review,
/reject, /note, /export, /stats, plus the weekly overdue reminder (TICKS) and `chat_migrated`
(the Telegram adapter calls it when a group becomes a supergroup).

The lifecycle and rules live in bot/suggestions.py; export and statistics in bot/export.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import suggestions as sg
from bot import table as flows  # start_flow/get_flow/end_flow
from bot import texts
from bot.core import Button, DeliveryError, Reply, Request
from bot.table import Callback, Command

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

PAGE_SIZE = 5
PREFIX = "sg"
#: svc.pending key remembering the group a member came from via the deep link (memory only).
_ORIGIN = "suggest-origin"
_META_WEEK = "overdue_week"
#: `建议 匿名 内容` / `建议 匿名：内容`: an anonymous quick submission.
_ANON_PREFIX = re.compile(r"^\s*匿名(?:[\s:：,，]+|$)")


def _short_hash(user_id: str) -> str:
    """Four hex digits telling officers' export files apart without showing an id."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:4]


def _timeout(svc: Services) -> int:
    return svc.config.suggestions.flow_timeout_minutes


def _origin(req: Request) -> sg.Origin:
    return sg.Origin(req.chat_id, req.chat_title, req.is_group, req.user_id, req.user_name)


def _go_private(req: Request, text: str | Callable[[bool], str], label: str, start: str = "") -> Reply:
    """`text` with a button opening the private chat with the bot; where the platform has no such link
    (WeCom), a line saying how to open it instead. A callable `text` is told whether there is a button."""
    link = req.private_link(start) if req.private_link is not None else ""
    if link:
        return Reply(text(True) if callable(text) else text, buttons=[[Button(label, url=link)]])
    return Reply((text(False) if callable(text) else text) + "\n" + texts.OPEN_PRIVATE_BY_AVATAR)


def _private_only(req: Request) -> list[Reply]:
    return [_go_private(req, texts.SG_PRIVATE_ONLY, texts.SG_BTN_OPEN_PRIVATE)]


def _notify(req: Request, svc: Services, rec: dict[str, Any], note: str) -> list[Reply]:
    """The private message to a named proposer about a status change (none for anonymous)."""
    return sg.notices(svc, rec, note, req.user_id)


# --- submitting --------------------------------------------------------------------------------


def _submit(svc: Services, origin: sg.Origin, text: str, category: str, anon: bool) -> str:
    """Submit and return the receipt, or the refusal, as message text."""
    try:
        rec = sg.submit(svc, origin, text, category, anon)
    except sg.SuggestError as e:
        return str(e)
    return texts.sg_receipt(rec["number"], rec["category"], anon, origin.is_group, sg.has_reviewer(svc, rec))


def _category_buttons() -> list[list[Button]]:
    cats = [Button(c, data=f"{PREFIX}:c:{i}") for i, c in enumerate(sg.CATEGORIES)]
    rows = [cats[i : i + 2] for i in range(0, len(cats), 2)]
    return [*rows, [Button(texts.SG_BTN_CANCEL, data=f"{PREFIX}:x")]]


def _sign_buttons() -> list[list[Button]]:
    return [
        [Button(texts.SG_BTN_NAMED, data=f"{PREFIX}:s:n"), Button(texts.SG_BTN_ANON, data=f"{PREFIX}:s:a")],
        [Button(texts.SG_BTN_CANCEL, data=f"{PREFIX}:x")],
    ]


def _confirm_buttons() -> list[list[Button]]:
    return [[Button(texts.SG_BTN_CONFIRM, data=f"{PREFIX}:k"), Button(texts.SG_BTN_CANCEL, data=f"{PREFIX}:x")]]


def _begin(req: Request, svc: Services, origin: sg.Origin) -> list[Reply]:
    """Start the guided flow in this (private) chat; `origin` is the group it was asked from, if any."""
    state = {"step": "cat", "chat_id": origin.chat_id, "chat_title": origin.chat_title, "group": origin.is_group}
    flows.start_flow(req, svc, _flow_text, _timeout(svc), kind="suggest", **state)
    return [Reply(texts.SG_CHOOSE_CATEGORY, buttons=_category_buttons())]


async def suggest(req: Request, svc: Services, args: str) -> list[Reply]:
    """`/suggest 内容` submits at once (named; `建议 匿名 内容` anonymously, in a private chat only);
    `/suggest` alone starts the guided flow."""
    if args.strip():
        anon = _ANON_PREFIX.match(args) is not None
        if anon and req.is_group:  # in a group everyone sees who sent it: anonymity is for the private chat
            return [_go_private(req, texts.sg_anon_in_group, texts.SG_BTN_PRIVATE)]
        category, text = sg.parse_quick(_ANON_PREFIX.sub("", args, count=1) if anon else args)
        if not text:
            return [Reply(texts.SG_USAGE)]
        return [Reply(_submit(svc, _origin(req), text, category, anon=anon))]
    if req.is_group:
        expires = svc.now() + timedelta(minutes=_timeout(svc))
        svc.pending[(_ORIGIN, req.user_id)] = (req.chat_id, req.chat_title, expires)  # type: ignore[index]
        return [_go_private(req, texts.sg_group_go_private, texts.SG_BTN_PRIVATE, "suggest")]
    return _begin(req, svc, _origin(req))


async def start_from_deeplink(req: Request, svc: Services) -> list[Reply]:
    """`/start suggest` (the group's deep link): the guided flow in private, credited to that group."""
    hint = svc.pending.pop((_ORIGIN, req.user_id), None)  # type: ignore[call-overload]
    origin = _origin(req)
    if hint is not None and hint[2] >= svc.now():
        origin = sg.Origin(hint[0], hint[1], True, req.user_id, req.user_name)
    return _begin(req, svc, origin)


def _flow(req: Request, svc: Services, step: str | None = None) -> Any:
    """This user's suggestion flow here (at `step`, if given), or None."""
    p = flows.get_flow(req, svc)
    if p is None or p.state.get("kind") != "suggest" or (step and p.state.get("step") != step):
        return None
    p.expires = svc.now() + timedelta(minutes=_timeout(svc))
    return p


async def _flow_text(req: Request, svc: Services, text: str) -> list[Reply]:
    """A plain message during the guided flow: the category name, the text, or a nudge to the buttons."""
    p = _flow(req, svc)
    if p is None:
        return [Reply(texts.SG_FLOW_EXPIRED)]
    step = p.state["step"]
    if step == "cat":
        if text.strip() in sg.CATEGORIES:
            return _choose_category(svc, p, text.strip(), edit=False)
        return [Reply(texts.SG_CATEGORY_BY_BUTTON, buttons=_category_buttons())]
    if step == "text":
        try:
            sg.check_length(svc, text)
        except sg.SuggestError as e:
            return [Reply(str(e))]
        p.state.update(step="sign", text=text.strip())
        return [Reply(texts.sg_ask_sign(p.state["category"], p.state["text"]), buttons=_sign_buttons())]
    if step == "sign":
        if text.strip() in (texts.SG_BTN_NAMED, texts.SG_BTN_ANON):
            return _choose_sign(p, text.strip() == texts.SG_BTN_ANON, edit=False)
        return [Reply(texts.SG_SIGN_BY_BUTTON, buttons=_sign_buttons())]
    return [Reply(texts.SG_CONFIRM_BY_BUTTON, buttons=_confirm_buttons())]


def _choose_category(svc: Services, p: Any, category: str, edit: bool) -> list[Reply]:
    p.state.update(step="text", category=category)
    cfg = svc.config.suggestions
    return [Reply(texts.sg_ask_text(category, cfg.min_chars, cfg.max_chars), edit=edit)]


def _choose_sign(p: Any, anonymous: bool, edit: bool) -> list[Reply]:
    p.state.update(step="confirm", anonymous=anonymous)
    text = texts.sg_confirm(p.state["category"], p.state["text"], anonymous)
    return [Reply(text, buttons=_confirm_buttons(), edit=edit)]


async def _flow_button(req: Request, svc: Services, action: str, arg: str) -> list[Reply]:
    """Category / sign / confirm / cancel buttons of the guided flow."""
    if action == "x":
        flows.end_flow(req, svc)
        return [Reply(texts.SG_CANCELLED, edit=True)]
    step = {"c": "cat", "s": "sign", "k": "confirm"}[action]
    p = _flow(req, svc, step)
    if p is None:
        return [Reply(texts.SG_FLOW_EXPIRED, edit=True, toast=texts.SG_FLOW_EXPIRED)]
    if action == "c":
        if not arg.isdigit() or int(arg) >= len(sg.CATEGORIES):
            return [Reply(toast=texts.BUTTON_EXPIRED)]
        return _choose_category(svc, p, sg.CATEGORIES[int(arg)], edit=True)
    if action == "s":
        return _choose_sign(p, arg == "a", edit=True)
    st = p.state
    flows.end_flow(req, svc)
    origin = sg.Origin(st["chat_id"], st["chat_title"], st["group"], req.user_id, req.user_name)
    return [Reply(_submit(svc, origin, st["text"], st["category"], st["anonymous"]), edit=True)]


async def cancel(req: Request, svc: Services, args: str) -> list[Reply]:
    """/cancel: end any pending guided flow in this chat."""
    if flows.end_flow(req, svc) is None:
        return [Reply(texts.SG_NOTHING_TO_CANCEL)]
    return [Reply(texts.SG_CANCELLED)]


async def mine(req: Request, svc: Services, args: str) -> list[Reply]:
    """/mine: the member's own named suggestions and their status (in private)."""
    if not req.is_private:
        return _private_only(req)
    own = sg.mine(svc, req.user_id)
    if not own:
        return [Reply(texts.SG_MINE_EMPTY)]
    return [Reply(texts.sg_mine(own[:15], len(own)))]


# --- reviewing ---------------------------------------------------------------------------------


async def _officer_gate(req: Request, svc: Services) -> list[Reply] | None:
    """A refusal unless this is a private chat with someone who may review; None if allowed."""
    if not req.is_private:
        return _private_only(req)
    if not await sg.is_reviewer(svc, req.user_id):
        return [Reply(texts.sg_not_officer(req.group_admins))]
    return None


async def _page(req: Request, svc: Services, page: int, edit: bool) -> list[Reply]:
    items = await sg.reviewable(svc, req.user_id, sg.OPEN)
    if not items:
        return [Reply(texts.SG_REVIEW_EMPTY, edit=edit)]
    pages = sg.pages(len(items), PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    start = page * PAGE_SIZE
    shown = items[start : start + PAGE_SIZE]
    rows = [[Button(f"{r['number']} · {r['status']}", data=f"{PREFIX}:v:{r['number']}")] for r in shown]
    nav = []
    if page > 0:
        nav.append(Button(texts.SG_BTN_PREV, data=f"{PREFIX}:p:{page - 1}"))
    if page < pages - 1:
        nav.append(Button(texts.SG_BTN_NEXT, data=f"{PREFIX}:p:{page + 1}"))
    if nav:
        rows.append(nav)
    text = texts.sg_review_page(shown, page, pages, len(items), start)
    return [Reply(text, buttons=rows, edit=edit)]


def _detail(svc: Services, rec: dict[str, Any], edit: bool, toast: str | None = None) -> Reply:
    number = rec["number"]
    actions = [
        Button(sg.ACTION_LABELS[a], data=f"{PREFIX}:t:{number}:{a}")
        for a, (_target, need) in sg.ACTIONS.items()
        if rec["status"] == need
    ]
    rows = [actions] if actions else []
    extra_row = []
    if rec["status"] in sg.PUBLISHABLE:
        public = sg.field_of(rec, "public")
        label = texts.SG_BTN_UNPUBLIC if public else texts.SG_BTN_PUBLIC
        extra_row.append(Button(label, data=f"{PREFIX}:o:{number}:{'0' if public else '1'}"))
    if rec["status"] in sg.UNDECIDED:
        major = sg.field_of(rec, "major")
        label = texts.SG_BTN_UNMAJOR if major else texts.SG_BTN_MAJOR
        extra_row.append(Button(label, data=f"{PREFIX}:m:{number}:{'0' if major else '1'}"))
    if rec["status"] != sg.MERGED and svc.config.suggestions.departments:
        extra_row.append(Button(texts.SG_BTN_DEPARTMENT, data=f"{PREFIX}:d:{number}"))
    if extra_row:
        rows.append(extra_row)
    note_btn = Button(texts.SG_BTN_NOTE, data=f"{PREFIX}:n:{number}")
    rows.append([note_btn, Button(texts.SG_BTN_BACK, data=f"{PREFIX}:p:0")])
    due = sg.deadline(rec, svc.config).astimezone(svc.config.tz).strftime("%Y-%m-%d")
    extra = texts.sg_detail_extra(due, sg.is_overdue(rec, svc.config, svc.now()), sg.field_of(rec, "major"), rec)
    return Reply(texts.sg_detail(rec, extra), buttons=rows, edit=edit, toast=toast)


async def review(req: Request, svc: Services, args: str) -> list[Reply]:
    """/review: open suggestions this officer may handle, five a page, each with its buttons."""
    refusal = await _officer_gate(req, svc)
    if refusal is not None:
        return refusal
    parsed = sg.parse_number(args)
    if parsed is not None:
        try:
            return [_detail(svc, await sg.get_for_review(svc, parsed[0], req.user_id), edit=False)]
        except sg.SuggestError as e:
            return [Reply(str(e))]
    return await _page(req, svc, 0, edit=False)


async def _apply(req: Request, svc: Services, number: str, action: str, note: str, edit: bool) -> list[Reply]:
    """Change the status, answer the officer, and tell a named proposer."""
    try:
        rec = await sg.transition(svc, number, action, req.user_id, req.user_name, note)
    except sg.SuggestError as e:
        return [Reply(str(e), toast=texts.BUTTON_EXPIRED if edit else None)]
    done = texts.sg_changed(number, rec["status"])
    head = _detail(svc, rec, edit=edit, toast=done) if edit else Reply(done)
    return [head, *_notify(req, svc, rec, note)]


async def _reason_text(req: Request, svc: Services, text: str) -> list[Reply]:
    """The next message after 不采纳 / 备注: the reason or the note."""
    p = flows.get_flow(req, svc)
    if p is None or p.state.get("kind") not in ("reject", "note", "implement"):
        return [Reply(texts.SG_FLOW_EXPIRED)]
    if not text.strip():
        return [Reply(texts.SG_ACTION_EMPTY)]
    number = p.state["number"]
    if _is_command_word(text):  # "审核" typed to go back must not become a reason the proposer is told
        return [Reply(texts.sg_flow_command_word(text.strip()))]
    if p.state["kind"] == "implement":
        return await _implement(req, svc, p, number, text)
    flows.end_flow(req, svc)
    if p.state["kind"] == "reject":
        return await _apply(req, svc, number, "rej", text, edit=False)
    return await _note(req, svc, number, text)


def _is_command_word(text: str) -> bool:
    """Exactly a command's Chinese word (审核, 帮助, 取消 …): what an officer types to leave, not a reason."""
    word = text.strip()
    return any(word == alias for c in flows.TABLE for alias in c.aliases)


async def _implement(req: Request, svc: Services, p: Any, number: str, text: str) -> list[Reply]:
    """已实施 from chat: "实施结果；效益" (benefit in 元, 0 if none), as the desk asks. Either part may come in a
    message of its own: a result alone is kept and the amount asked for; a bad amount is asked for again."""
    text = text.strip()
    result, sep, benefit = text.rpartition("；" if "；" in text else ";")
    if not sep:
        kept = p.state.get("result")
        if kept and _is_amount(text):
            result, benefit = kept, text
        elif _is_amount(text):
            return [Reply(texts.sg_ask_result(number))]  # an amount, but no result yet
        else:
            p.state["result"] = text
            return [Reply(texts.sg_ask_benefit(number))]
    try:
        rec = await sg.implement(svc, number, req.user_id, req.user_name, result.strip(), benefit.strip())
    except sg.SuggestError as e:
        return [Reply(str(e) + "\n" + texts.sg_ask_result(number))]
    flows.end_flow(req, svc)
    return [Reply(texts.sg_changed(number, rec["status"])), *_notify(req, svc, rec, "")]


def _is_amount(text: str) -> bool:
    try:
        sg.parse_money(text, texts.SG_FIELD_BENEFIT, required=True)
    except sg.SuggestError:
        return False
    return True


async def _note(req: Request, svc: Services, number: str, note: str) -> list[Reply]:
    try:
        await sg.add_note(svc, number, req.user_id, req.user_name, note)
    except sg.SuggestError as e:
        return [Reply(str(e))]
    return [Reply(texts.SG_NOTE_SAVED)]


async def _review_button(req: Request, svc: Services, action: str, arg: str) -> list[Reply]:
    """Review buttons: p:<page>, v:<number>, t:<number>:<action>, n:<number>."""
    if not req.is_private:
        return [Reply(toast=texts.SG_PRIVATE_ONLY)]
    if action == "p":
        if not await sg.is_reviewer(svc, req.user_id):
            return [Reply(texts.sg_not_officer(req.group_admins), toast=texts.sg_not_officer(req.group_admins))]
        return await _page(req, svc, int(arg) if arg.isdigit() else 0, edit=True)
    number, _, act = arg.partition(":")
    try:
        rec = await sg.get_for_review(svc, number, req.user_id)
    except sg.SuggestError as e:
        return [Reply(str(e), toast=texts.SG_NOT_OFFICER_OF)]
    if action == "v":
        return [_detail(svc, rec, edit=True)]
    if action in ("o", "m"):
        setter = sg.set_public if action == "o" else sg.set_major
        label = texts.sg_action_public if action == "o" else texts.sg_action_major
        try:
            rec = await setter(svc, number, req.user_id, req.user_name, act == "1")
        except sg.SuggestError as e:
            return [Reply(str(e), toast=texts.BUTTON_EXPIRED)]
        return [_detail(svc, rec, edit=True, toast=label(act == "1"))]
    if action == "d":
        return await _department(req, svc, rec, act)
    if action == "n":
        flows.start_flow(req, svc, _reason_text, _timeout(svc), kind="note", number=number)
        return [Reply(texts.sg_ask_note(number))]
    if act in ("rej", "imp"):  # 不采纳 needs a reason, 已实施 its result and benefit: the next message gives them
        target, need = sg.ACTIONS[act]
        if rec["status"] != need:
            return [Reply(texts.sg_bad_transition(number, rec["status"], target, need))]
        kind = "reject" if act == "rej" else "implement"
        flows.start_flow(req, svc, _reason_text, _timeout(svc), kind=kind, number=number)
        return [Reply(texts.sg_ask_reason(number) if act == "rej" else texts.sg_ask_result(number))]
    return await _apply(req, svc, number, act, "", edit=True)


async def _department(req: Request, svc: Services, rec: dict[str, Any], choice: str) -> list[Reply]:
    """`sg:d:<number>` shows the configured departments as buttons; `sg:d:<number>:<i>` assigns one."""
    number, departments = rec["number"], svc.config.suggestions.departments
    if not choice:
        buttons = [Button(d, data=f"{PREFIX}:d:{number}:{i}") for i, d in enumerate(departments)]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([Button(texts.SG_BTN_BACK_DETAIL, data=f"{PREFIX}:v:{number}")])
        return [Reply(texts.sg_choose_department(number), buttons=rows, edit=True)]
    if not choice.isdigit() or int(choice) >= len(departments):
        return [Reply(toast=texts.BUTTON_EXPIRED)]
    try:
        rec = await sg.set_department(svc, number, req.user_id, req.user_name, departments[int(choice)])
    except sg.SuggestError as e:
        return [Reply(str(e), toast=texts.BUTTON_EXPIRED)]
    return [_detail(svc, rec, edit=True, toast=texts.SG_ACTION_DEPARTMENT)]


async def _numbered(req: Request, svc: Services, args: str, usage: str) -> tuple[str, str] | list[Reply]:
    """For `/reject`/`/note 编号 内容`: (number, text), or the refusal/usage reply to send instead."""
    refusal = await _officer_gate(req, svc)
    if refusal is not None:
        return refusal
    parsed = sg.parse_number(args)
    if parsed is None or not parsed[1]:
        return [Reply(usage)]
    return parsed


async def reject(req: Request, svc: Services, args: str) -> list[Reply]:
    """/reject 编号 理由: 不采纳, with the reason sent to the proposer."""
    got = await _numbered(req, svc, args, texts.SG_REJECT_USAGE)
    return got if isinstance(got, list) else await _apply(req, svc, got[0], "rej", got[1], edit=False)


async def note(req: Request, svc: Services, args: str) -> list[Reply]:
    """/note 编号 内容: an officers' note (not sent to the proposer)."""
    got = await _numbered(req, svc, args, texts.SG_NOTE_USAGE)
    return got if isinstance(got, list) else await _note(req, svc, got[0], got[1])


async def on_button(req: Request, svc: Services, rest: str) -> list[Reply]:
    """Every `sg:` button: the guided flow's and the review's."""
    action, _, arg = rest.partition(":")
    if action in ("c", "s", "k", "x"):
        return await _flow_button(req, svc, action, arg)
    if action in ("p", "v", "t", "n", "o", "m", "d"):
        return await _review_button(req, svc, action, arg)
    if action == "f":
        return _rate_button(req, svc, arg)
    return [Reply(toast=texts.BUTTON_EXPIRED)]


# --- lifecycle additions: satisfaction, 采纳公示, the desk link (issue 11) -------------------------------


def _rate_button(req: Request, svc: Services, arg: str) -> list[Reply]:
    """`sg:f:<number>:<i>`: the named proposer rates the answer 满意 / 基本满意 / 不满意."""
    number, _, choice = arg.partition(":")
    try:
        rec = sg.rate(svc, number, req.user_id, int(choice) if choice.isdigit() else -1)
    except sg.SuggestError as e:
        return [Reply(toast=str(e))]
    return [Reply(texts.sg_rated(number, rec["satisfaction"]), edit=True, toast=texts.SG_RATED_TOAST)]


async def adopted(req: Request, svc: Services, args: str) -> list[Reply]:
    """/adopted (采纳公示): the adopted suggestions officers published; proposers named only if they signed."""
    items = sg.published(svc)
    if not items:
        return [Reply(texts.SG_ADOPTED_EMPTY)]
    return [Reply(texts.sg_adopted(items[:10], len(items)))]


async def desk(req: Request, svc: Services, args: str) -> list[Reply]:
    """/desk (工作台): a configured officer gets a one-time login link to the web desk (private chat only)."""
    from bot.desk import links

    if not req.is_private:
        return _private_only(req)
    if not svc.is_officer(req.user_id):
        return [Reply(texts.DESK_NOT_OFFICER)]
    if not svc.config.desk.enabled or not svc.config.desk.public_url:
        return [Reply(texts.DESK_DISABLED)]
    url = links.login_url(svc, links.create(svc, req.user_id, req.user_name))
    return [Reply(texts.desk_link(url, links.LINK_MINUTES))]


# --- export & statistics --------------------------------------------------------------------------


async def export(req: Request, svc: Services, args: str) -> list[Reply]:
    """/export: the suggestions this officer may review, as an .xlsx document."""
    from bot.export import clean_exports, export_suggestions

    refusal = await _officer_gate(req, svc)
    if refusal is not None:
        return refusal
    allowed = {r["number"] for r in await sg.reviewable(svc, req.user_id)}
    if not allowed:
        return [Reply(texts.SG_EXPORT_EMPTY)]
    now = svc.now()
    folder = svc.config.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    clean_exports(folder)
    path = folder / texts.sg_export_filename(f"{now:%Y%m%d-%H%M%S}", _short_hash(req.user_id))
    count = await asyncio.to_thread(
        export_suggestions, svc.store, "xlsx", path, svc.config.tz, select=lambda r: r["number"] in allowed
    )
    return [Reply(texts.sg_export_caption(count, now.isoformat()), document=path)]


async def stats(req: Request, svc: Services, args: str) -> list[Reply]:
    """/stats: counts by status, category and month, 采纳率, and a chart."""
    from bot.export import compute_stats, render_chart

    refusal = await _officer_gate(req, svc)
    if refusal is not None:
        return refusal
    records = await sg.reviewable(svc, req.user_id)
    if not records:
        return [Reply(texts.SG_STATS_EMPTY)]
    st = compute_stats(records, svc.config.tz)
    table = texts.sg_stats_table(st.by_status, st.by_category, st.by_month, st.adoption_rate, st.total)
    from bot.desk.query import desk_stats

    more = desk_stats(records, svc.config, svc.now())
    table += "\n" + texts.sg_stats_more(more.implementation_rate, more.satisfaction_rate, more.overdue, more.benefit)
    try:
        png = await asyncio.to_thread(render_chart, st)
    except Exception:  # noqa: BLE001 - a broken chart must not cost the officer the numbers
        log.exception("rendering the statistics chart failed")
        png = None
    if png is None:
        return [Reply(table + "\n" + texts.SG_NO_CHART)]
    return [Reply(texts.SG_STATS_CAPTION, photo=png), Reply(table)]


# --- weekly overdue reminder ------------------------------------------------------------------------


def _week_due(now: datetime) -> str | None:
    """This ISO week's key ("2026-W47") once it is past Monday 09:00, else None."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    if now < monday:
        return None
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


@flows.per_platform
async def overdue_tick(svc: Services, platform: str | None = None) -> None:
    """Weekly (from Monday 09:00, once per ISO week and platform, recorded durably): overdue suggestions to the
    officers on `platform` (None: every platform in turn). Per platform (bot/ticks.py): a platform whose sends
    hang never holds another platform's officers' reminder, and a platform not running this week (a process
    serving only some of them) still gets its reminder when it runs."""
    if svc.sender is None:
        return
    if platform is None:
        for each in sorted(svc.senders):
            await overdue_tick(svc, each)
        return
    officers = sorted(o for o in svc.officers if flows.serves(svc, o, platform))  # each officer on this platform
    if not officers:
        return
    now = svc.now()
    week = _week_due(now)
    key = f"{_META_WEEK}:{platform}"
    # The week recorded before the reminder went per platform (_META_WEEK alone) covered every platform.
    if week is None or week in (svc.store.suggest_meta(key), svc.store.suggest_meta(_META_WEEK)):
        return
    svc.store.set_suggest_meta(key, week)  # before sending: at most once a week per platform
    items = sg.overdue(svc)
    if not items:
        return
    cfg = svc.config.suggestions
    text = texts.sg_overdue(items, cfg.overdue_days, now.isoformat(), cfg.major_overdue_days)
    for officer in officers:
        try:
            await svc.sender(Reply(text, chat_id=officer))
        except DeliveryError as e:
            log.warning("overdue reminder not delivered to an officer: %s", type(e).__name__)


# --- chat lifecycle (called by the Telegram adapter) -------------------------------------------------


def chat_migrated(svc: Services, old_id: str, new_id: str) -> None:
    """A group became a supergroup: credit its suggestions (and flows under way) to the new id."""
    if old_id == new_id:
        return
    moved = svc.store.suggestions_move_chat(old_id, new_id)
    for key, value in list(svc.pending.items()):
        if key[0] == _ORIGIN and value[0] == old_id:  # a member on the way from the group to private
            svc.pending[key] = (new_id, *value[1:])
        elif getattr(value, "state", {}).get("kind") == "suggest" and value.state.get("chat_id") == old_id:
            value.state["chat_id"] = new_id
    if moved:
        log.info("chat %s migrated to %s; %d suggestions moved", old_id, new_id, moved)


_OFFICER: dict[str, Any] = {"audience": "officer"}

# Chinese aliases are what members type; the help and usage texts live in bot/texts.py.
COMMANDS = [
    Command("suggest", ("建议", "提建议"), texts.SG_HELP_SUGGEST, suggest, usage=texts.SG_USAGE_SUGGEST),
    Command("mine", ("我的建议",), texts.SG_HELP_MINE, mine, usage="/mine"),
    Command("cancel", ("取消",), texts.SG_HELP_CANCEL, cancel, usage="/cancel"),
    Command("review", ("审核",), texts.SG_HELP_REVIEW, review, usage="/review", **_OFFICER),
    Command("reject", ("不采纳",), texts.SG_HELP_REJECT, reject, usage=texts.SG_USAGE_REJECT, menu=False, **_OFFICER),
    Command("note", ("备注",), texts.SG_HELP_NOTE, note, usage=texts.SG_USAGE_NOTE, menu=False, **_OFFICER),
    Command("export", ("导出",), texts.SG_HELP_EXPORT, export, usage="/export", **_OFFICER),
    Command("stats", ("统计",), texts.SG_HELP_STATS, stats, usage="/stats", **_OFFICER),
    Command("adopted", ("采纳公示",), texts.SG_HELP_ADOPTED, adopted, usage="/adopted"),
    Command("desk", ("工作台",), texts.SG_HELP_DESK, desk, usage="/desk", **_OFFICER),
]
CALLBACKS = [Callback(PREFIX, on_button)]
TICKS = [overdue_tick]
ON_CHAT_MIGRATED = [chat_migrated]
