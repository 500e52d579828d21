"""Placeholder: filled in by its feature."""

from bot.commands import Callback, Command  # noqa: F401

COMMANDS: list = []
CALLBACKS: list = []


async def plain_text(req, svc, text):  # type: ignore[no-untyped-def]
    """Placeholder: plain text in a private chat goes to search."""
    return []
