"""Numbered choices: where a platform cannot show a reply's buttons, the member answers with a number.

`offer` records the buttons' callback data for a chat and returns the numbered list to append to the
reply's text; `take` turns a later bare number in that chat ("2", "２", "2.") into the button's data,
which the dispatcher then handles exactly like a button press. Platform-neutral: chat ids are opaque.
Kept in memory (like guided flows); an offer expires after `TTL_MINUTES` or when the next one replaces it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import texts
from bot.core import Button

if TYPE_CHECKING:
    from bot.services import Services

TTL_MINUTES = 30
_KEY = "numbered-choices"
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.、。]?\s*$")


def offer(svc: Services, chat_id: Any, buttons: list[list[Button]]) -> str:
    """Remember this chat's choices; the numbered text (core markup) to append. URL buttons become links."""
    flat = [b for row in buttons for b in row]
    data = [b.data for b in flat if b.data]
    lines = []
    n = 0
    for b in flat:
        if b.data:
            n += 1
            lines.append(texts.choice_line(n, html.escape(b.text)))
        else:
            lines.append(texts.choice_link(html.escape(b.text), html.escape(b.url, quote=True)))
    if data:
        svc.pending[(_KEY, chat_id)] = (data, svc.now() + timedelta(minutes=TTL_MINUTES))  # type: ignore[index]
        lines.insert(0, texts.CHOICES_HEAD)
    return "\n".join(lines)


def peek(svc: Services, chat_id: Any, text: str) -> str | None:
    """The button data a bare number in this chat would choose, or None; the offer stays (see `take`)."""
    m = _NUMBER.match(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    entry = svc.pending.get((_KEY, chat_id))  # type: ignore[call-overload]
    if entry is None:
        return None
    data, expires = entry
    if expires < svc.now():
        svc.pending.pop((_KEY, chat_id), None)  # type: ignore[call-overload]
        return None
    n = int(m.group(1))
    return data[n - 1] if 1 <= n <= len(data) else None


def take(svc: Services, chat_id: Any, text: str) -> str | None:
    """The button data chosen by a bare number in this chat, or None (and the offer is used up)."""
    data = peek(svc, chat_id, text)
    if data is not None:
        svc.pending.pop((_KEY, chat_id), None)  # type: ignore[call-overload]
    return data
