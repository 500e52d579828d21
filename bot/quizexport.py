"""每日一题 results as .xlsx for 评优: one row per member and chat for a month, and every answer of that month.

Used by /quizexport (bot/handlers/quiz.py) and the desk (bot/desk/app.py); works on the live store.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import quiz as Q
from bot import texts

if TYPE_CHECKING:
    from bot.services import Services

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MEMBER_WIDTHS = (10, 24, 16, 18, 6, 8, 8, 8, 16, 16)
_DAY_WIDTHS = (12, 24, 16, 18, 14, 60, 8, 10, 6, 20)


def _chat_name(svc: Services, chat_id: str, private: bool) -> str:
    return Q.chat_title(svc, chat_id) or (texts.QUIZ_PRIVATE_CHAT if private else chat_id)


def rows(svc: Services, month: str, chat_id: str | None = None) -> tuple[list[list[Any]], list[list[Any]]]:
    """(member rows, answer rows) of `month`, for one chat or (None) every chat; members in ranking order."""
    today = svc.now().date()
    chats = [chat_id] if chat_id is not None else sorted(
        {d["chat_id"] for d in svc.store.quiz_scores_where(lambda d: d.get("month") == month)})
    bank = Q.bank(svc)
    members: list[list[Any]] = []
    answers: list[list[Any]] = []
    for chat in chats:
        docs = {d["user_id"]: d for d in svc.store.quiz_scores(chat, month)}
        private = len(docs) == 1 and next(iter(docs)) == chat
        name = _chat_name(svc, chat, private)
        for s in Q.ranking(svc, chat, month, today):
            members.append([month, name, s.name, s.user_id, s.place, s.answered, s.correct,
                            round(s.accuracy, 4), s.streak, s.best])
            doc = docs[s.user_id]
            for dd, (qid, letters, right, at) in sorted(doc.get("days", {}).items()):
                q = bank.get(qid)
                answers.append([
                    date(int(month[:4]), int(month[5:7]), int(dd)).isoformat(), name, s.name, s.user_id, qid,
                    q.text if q else texts.QUIZ_QUESTION_GONE, letters, q.answer_letters() if q else "",
                    texts.QUIZ_EXPORT_RIGHT if right else texts.QUIZ_EXPORT_WRONG, at.replace("T", " ")[:19],
                ])
    answers.sort(key=lambda r: (r[0], r[1], r[2]))
    return members, answers


def export_month(svc: Services, month: str, path: Path, chat_id: str | None = None) -> int:
    """Write the month's results to `path` (.xlsx, mode 0600); returns how many member rows (0: nothing written)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    members, answers = rows(svc, month, chat_id)
    if not members:
        return 0
    wb = Workbook()
    sheets = (
        (wb.active, texts.QUIZ_EXPORT_SHEET_MEMBERS, texts.QUIZ_EXPORT_HEADERS, members, _MEMBER_WIDTHS),
        (wb.create_sheet(), texts.QUIZ_EXPORT_SHEET_DAYS, texts.QUIZ_EXPORT_DAY_HEADERS, answers, _DAY_WIDTHS),
    )
    for ws, title, headers, data, widths in sheets:
        ws.title = title
        ws.append(list(headers))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r, values in enumerate(data, start=2):
            for c, value in enumerate(values, start=1):
                cell = ws.cell(row=r, column=c)
                cell.value = _ILLEGAL.sub("", value) if isinstance(value, str) else value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever a name starts with
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
    for row in sheets[0][0].iter_rows(min_row=2, min_col=8, max_col=8):
        for cell in row:
            cell.number_format = "0.0%"
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.chmod(0o600)
    tmp.replace(path)
    return len(members)
