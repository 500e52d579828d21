"""/start and /help: the welcome and the list of every command with its Chinese aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import texts
from bot.core import Reply, Request
from bot.table import Command

if TYPE_CHECKING:
    from bot.services import Services


async def start(req: Request, svc: Services, args: str) -> list[Reply]:
    """Welcome the user; `/start suggest` (a deep link from a group) opens the suggestion flow."""
    if args.strip() == "suggest":
        from bot.handlers import suggest

        return await suggest.start_from_deeplink(req, svc)
    if args.strip().startswith("qx"):  # a group's quiz results, handed over in private (bot/handlers/quiz.py)
        from bot.handlers import quiz

        return await quiz.export_from_link(req, svc, args.strip()[2:])
    return [Reply(texts.welcome(req.is_private))]


async def help_(req: Request, svc: Services, args: str) -> list[Reply]:
    """Every command with its aliases and usage, members' first, officers' after."""
    from bot.table import TABLE

    return [Reply(texts.help_text(TABLE, req.group_admins))]


COMMANDS = [
    Command("start", (), texts.HELP_START, start, usage="/start", menu=True),
    Command("help", ("帮助",), texts.HELP_HELP, help_, usage="/help"),
]
