"""The desk's Starlette application: login by one-time link, the list, one suggestion, actions, stats, export.

Security: nothing but the login page and the stylesheet is served without a session; the session cookie
is signed (Starlette's SessionMiddleware / itsdangerous), HttpOnly, SameSite=Lax, Secure when public_url is
https; every form carries the session's CSRF token and every POST checks it; the officer's rights are checked
again on every request (configured officers of every platform). Anonymous proposers are shown as 匿名 everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import suggestions as sg
from bot import texts
from bot.desk import links
from bot.desk.query import NONE, Filter, desk_stats

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
L = texts.DESK
_NUMBER_MAX = 40


class _Denied(Exception):
    """Respond with the message page (status, text key)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


def build_app(svc: Services) -> Starlette:
    """The desk application for the running bot's services."""
    cfg = svc.config.desk
    prefix = urlparse(cfg.public_url).path.rstrip("/") if cfg.public_url else ""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.globals.update(L=L, prefix=prefix, sg=sg, money=texts.sg_money, ANON=texts.SG_ANONYMOUS,
                       quiz_nav=texts.QUIZ_DESK["nav"])
    env.filters["when"] = lambda iso: (iso or "")[:16].replace("T", " ")

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        session = request.scope.get("session", {})
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        ctx.setdefault("officer", session.get("name") if session.get("uid") is not None else None)
        ctx["csrf"] = session["csrf"]
        ctx["flash"] = session.pop("flash", None)
        ctx["flash_error"] = session.pop("flash_error", None)
        html = env.get_template(name).render(**ctx)
        return HTMLResponse(html, status_code=status, headers=_NO_STORE)

    def message(request: Request, status: int, key: str) -> HTMLResponse:
        return page(request, "message.html", status, text=L[key])

    def officer(request: Request) -> tuple[Any, str]:
        """The logged-in officer (uid, name), checked against the current config; _Denied otherwise."""
        uid = request.session.get("uid")
        if uid is None:
            raise _Denied(401, "login_needed")
        if not svc.is_officer(uid):
            request.session.clear()
            raise _Denied(403, "not_officer")
        return uid, request.session.get("name") or ""

    async def form(request: Request) -> dict[str, str]:
        """The POSTed form after the CSRF check (_Denied 403 when the token is missing or wrong)."""
        data = await request.form()
        sent = data.get("csrf")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
            raise _Denied(403, "csrf")
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def to(path: str) -> RedirectResponse:
        return RedirectResponse(prefix + path, status_code=303)

    # --- login ---------------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        token = request.path_params["token"]
        if links.peek(svc, token) is None:
            return message(request, 403, "login_bad")
        return page(request, "login.html", token=token)

    async def login(request: Request) -> Response:
        await form(request)
        rec = links.consume(svc, request.path_params["token"])
        if rec is None:
            return message(request, 403, "login_bad")
        if not svc.is_officer(rec["uid"]):
            return message(request, 403, "not_officer")
        request.session.clear()
        request.session.update(uid=rec["uid"], name=rec["name"], csrf=secrets.token_urlsafe(24))
        log.info("desk: an officer logged in")
        return to("/")

    async def logout(request: Request) -> Response:
        await form(request)
        request.session.clear()
        return message(request, 200, "login_needed")

    # --- pages ---------------------------------------------------------------------------------

    async def index(request: Request) -> Response:
        officer(request)
        f = Filter.parse(request.query_params)
        now = svc.now()
        pg = f.page_of(svc.store, svc.config, now)
        sources = sorted(t for t in svc.store.suggestions_values("chat_title") if t)
        rows = [({**sg.FIELDS, **r}, sg.deadline(r, svc.config), sg.is_overdue(r, svc.config, now)) for r in pg.items]
        return page(
            request, "list.html", f=f, pg=pg, rows=rows, sources=sources, none=NONE,
            departments=svc.config.suggestions.departments, errors=f.errors,
        )  # fmt: skip

    def _record(request: Request) -> dict[str, Any]:
        number = request.path_params["number"]
        parsed = sg.parse_number(number) if len(number) <= _NUMBER_MAX else None
        rec = svc.store.suggestion_get(parsed[0]) if parsed and not parsed[1] else None
        if rec is None:
            raise HTTPException(404)
        return {**sg.FIELDS, **rec}

    async def detail(request: Request) -> Response:
        officer(request)
        rec = _record(request)
        now = svc.now()
        return page(
            request, "detail.html", r=rec, deadline=sg.deadline(rec, svc.config),
            overdue=sg.is_overdue(rec, svc.config, now), departments=svc.config.suggestions.departments,
            tiers=svc.config.suggestions.reward_tiers,
        )  # fmt: skip

    async def act(request: Request) -> Response:
        uid, name = officer(request)
        data = await form(request)
        number = _record(request)["number"]
        op = data.get("op", "")
        try:
            replies = await _act(svc, number, op, data, uid, name)
        except sg.SuggestError as e:
            request.session["flash_error"] = texts_plain(str(e))
            return to(f"/s/{number}")
        except KeyError:
            raise HTTPException(404) from None
        log.info("desk: %s on %s", op, number)
        request.session["flash"] = L["done"] + (" " + L["notified"] if replies else "")
        _send_later(request.app, svc, replies)
        return to(f"/s/{number}")

    async def batch(request: Request) -> Response:
        uid, name = officer(request)
        data = await request.form()
        await form(request)
        numbers = [n for n in data.getlist("n") if isinstance(n, str)][:200]
        back = data.get("back") if isinstance(data.get("back"), str) else ""
        back = back if isinstance(back, str) and back.startswith("?") else ""
        if not numbers:
            request.session["flash_error"] = L["batch_none"]
            return to("/" + back)
        ok, failed, replies = 0, [], []
        for number in numbers:
            try:
                rec = await sg.transition(svc, number, "acc", uid, name)
            except (sg.SuggestError, KeyError):
                failed.append(number)
                continue
            ok += 1
            replies += sg.notices(svc, rec, "", uid)
        log.info("desk: batch accept of %d (%d refused)", ok, len(failed))
        request.session["flash"] = L["batch_done"].format(ok=ok)
        if failed:
            request.session["flash_error"] = L["batch_failed"].format(n=len(failed), numbers="、".join(failed[:20]))
        _send_later(request.app, svc, replies)
        return to("/" + back)

    async def stats(request: Request) -> Response:
        officer(request)
        from bot.export import compute_stats

        records = svc.store.suggestions_all()
        basic = compute_stats(records, svc.config.tz)
        extra = desk_stats(records, svc.config, svc.now())
        return page(request, "stats.html", basic=basic, st=extra)

    async def chart(request: Request) -> Response:
        officer(request)
        from bot.export import compute_stats, render_chart

        st = compute_stats(svc.store.suggestions_all(), svc.config.tz)
        png = await asyncio.to_thread(render_chart, st)
        if png is None:
            raise HTTPException(404)
        return Response(png, media_type="image/png", headers=_NO_STORE)

    async def export(request: Request) -> Response:
        officer(request)
        from bot.export import export_suggestions

        fmt = "csv" if request.query_params.get("fmt") == "csv" else "xlsx"
        f = Filter.parse(request.query_params)
        wanted = {r["number"] for r in f.apply(svc.store.suggestions_all(), svc.config, svc.now())}
        with tempfile.TemporaryDirectory(dir=svc.config.data_dir) as tmp:
            path = Path(tmp) / f"export.{fmt}"
            count = await asyncio.to_thread(
                export_suggestions, svc.store, fmt, path, svc.config.tz,
                select=lambda r: r["number"] in wanted, config=svc.config,
            )  # fmt: skip
            body = path.read_bytes()
        log.info("desk: exported %d suggestions as %s", count, fmt)
        stamp = svc.now().strftime("%Y%m%d-%H%M%S")
        media = "text/csv; charset=utf-8" if fmt == "csv" else _XLSX
        disposition = f'attachment; filename="suggestions-{stamp}.{fmt}"'
        return Response(body, media_type=media, headers={**_NO_STORE, "Content-Disposition": disposition})

    # --- 每日一题 ----------------------------------------------------------------------------------

    def _quiz_month(request: Request) -> tuple[str, bool]:
        """The ?month= asked for ("2026-03"), or this month (and whether the asked one was unreadable)."""
        from bot import quiz as Q

        asked = request.query_params.get("month", "")
        if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", asked):
            return asked, False
        return Q.month_of(svc.now().date()), bool(asked)

    async def quiz_page(request: Request) -> Response:
        officer(request)
        from bot import quiz as Q

        month, bad = _quiz_month(request)
        days, questions = Q.month_figures(svc, month)
        bank = Q.bank(svc)
        titles = {d.chat_id: Q.chat_title(svc, d.chat_id) or d.chat_id for d in days}
        hard = [(bank.get(f.qid), f) for f in questions if f.answered >= QUIZ_HARD_MIN and bank.get(f.qid)]
        members = len({(d["chat_id"], d["user_id"]) for d in svc.store.quiz_scores_where(
            lambda d: d.get("month") == month)})
        return page(request, "quiz.html", QL=texts.QUIZ_DESK, month=month, bad_month=bad,
                    days=sorted(days, key=lambda d: (d.day, titles[d.chat_id]), reverse=True), titles=titles,
                    hard=hard[:QUIZ_HARD_SHOWN], hard_min=QUIZ_HARD_MIN, members=members,
                    answers=sum(d.answered for d in days), right=sum(d.right for d in days), bank_size=len(bank.ids))

    async def quiz_export(request: Request) -> Response:
        officer(request)
        from bot.quizexport import export_month

        month, _bad = _quiz_month(request)
        with tempfile.TemporaryDirectory(dir=svc.config.data_dir) as tmp:
            path = Path(tmp) / "quiz.xlsx"
            count = await asyncio.to_thread(export_month, svc, month, path)
            body = path.read_bytes() if count else b""
        if not count:
            request.session["flash_error"] = texts.quiz_export_empty(month)
            return to(f"/quiz?month={month}")
        log.info("desk: exported the quiz results of %s", month)
        disposition = f'attachment; filename="quiz-{month}.xlsx"'
        return Response(body, media_type=_XLSX, headers={**_NO_STORE, "Content-Disposition": disposition})

    # --- errors ----------------------------------------------------------------------------------

    async def denied(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Denied)
        return message(request, exc.status, exc.key)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return message(request, 404, "not_found")
        if status == 405:
            return message(request, 405, "not_found")
        return message(request, status, "error")

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("desk: a page failed: %s", type(exc).__name__)  # no traceback values: they may hold names
        return HTMLResponse(env.get_template("message.html").render(text=L["error"], officer=None), 500)

    async def font(request: Request) -> Response:
        """The bundled Noto Sans SC, for browsers without a Chinese font (the CSS tries local fonts first)."""
        from starlette.responses import FileResponse

        from bot.export import find_cjk_font

        path = find_cjk_font()
        if path is None or path.suffix not in (".otf", ".ttf"):
            raise HTTPException(404)
        return FileResponse(path, media_type="font/otf", headers={"Cache-Control": "public, max-age=86400"})

    routes = [
        Route("/", index),
        Route("/static/cjk.otf", font),
        Route("/login/{token}", login_page, methods=["GET"]),
        Route("/login/{token}", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/s/{number}", detail, methods=["GET"]),
        Route("/s/{number}", act, methods=["POST"]),
        Route("/batch", batch, methods=["POST"]),
        Route("/stats", stats),
        Route("/stats/chart.png", chart),
        Route("/export", export),
        Route("/quiz", quiz_page),
        Route("/quiz/export", quiz_export),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if prefix:
        routes = [Mount(prefix, routes=routes)]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=links.secret(svc),
            session_cookie="desk_session",
            max_age=cfg.session_minutes * 60,
            path=prefix or "/",
            same_site="lax",
            https_only=cfg.public_url.startswith("https://"),
        )
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={_Denied: denied, HTTPException: http_error, Exception: server_error},
    )
    app.state.tasks = set()
    return app


_NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
#: The 每日一题 page lists the questions answered at least this often with the lowest accuracy, at most this many.
QUIZ_HARD_MIN = 3
QUIZ_HARD_SHOWN = 10
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def texts_plain(html: str) -> str:
    """A core-markup refusal as plain text for a page (tags dropped, entities decoded)."""
    import html as _html
    import re

    return _html.unescape(re.sub(r"<[^>]+>", "", html))


async def _act(svc: Services, number: str, op: str, data: dict[str, str], uid: Any, name: str) -> list[Any]:
    """Apply one desk action through the core; returns the notifications to send."""
    get = lambda k: data.get(k, "").strip()  # noqa: E731
    if op in ("acc", "ado"):
        rec = await sg.transition(svc, number, op, uid, name, get("note"))
        return sg.notices(svc, rec, get("note"), uid)
    if op == "rej":
        rec = await sg.transition(svc, number, "rej", uid, name, get("reason"))
        return sg.notices(svc, rec, get("reason"), uid)
    if op == "imp":
        rec = await sg.implement(svc, number, uid, name, get("result"), get("benefit"))
        return sg.notices(svc, rec, "", uid)  # the notice carries the result itself
    if op == "note":
        await sg.add_note(svc, number, uid, name, get("note"))
    elif op == "dept":
        await sg.set_department(svc, number, uid, name, get("department"))
    elif op in ("major", "minor"):
        await sg.set_major(svc, number, uid, name, op == "major")
    elif op in ("public", "private"):
        await sg.set_public(svc, number, uid, name, op == "public")
    elif op == "reward":
        await sg.set_reward(svc, number, uid, name, get("tier"), get("amount"))
    elif op == "merge":
        parsed = sg.parse_number(get("into"))
        if parsed is None or parsed[1]:
            raise sg.SuggestError(L["bad_number"])
        merged, kept = await sg.merge(svc, number, parsed[0], uid, name)
        return sg.merge_notices(merged, kept, uid)
    else:
        raise sg.SuggestError(texts.BUTTON_EXPIRED)
    return []


def _send_later(app: Starlette, svc: Services, replies: list[Any]) -> None:
    """Deliver notifications in the background (the action is already stored; the page need not wait)."""
    if not replies:
        return
    task = asyncio.get_running_loop().create_task(sg.deliver(svc, replies))
    app.state.tasks.add(task)
    task.add_done_callback(app.state.tasks.discard)
