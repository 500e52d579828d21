"""The officers' web desk (工作台): server-rendered pages (Starlette + Jinja2) served by uvicorn inside
the bot's own event loop, so every action goes through the same core (bot/suggestions.py) and store as
the chat buttons.

    bot/desk/links.py   one-time login links (/desk in a private chat), the session signing key
    bot/desk/query.py   the list's filters, sorting and paging; the statistics figures
    bot/desk/app.py     the Starlette application (pages, forms, CSRF, sessions)
    bot/desk/server.py  DeskServer(svc): start()/stop() uvicorn as a task in the running loop

Importing this package is cheap; `DeskServer` (and Starlette/uvicorn) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.desk.server import DeskServer

__all__ = ["DeskServer"]


def __getattr__(name: str) -> Any:
    if name == "DeskServer":
        from bot.desk.server import DeskServer

        return DeskServer
    raise AttributeError(name)
