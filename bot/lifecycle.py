"""What happens to a chat's data when a platform removes the bot or moves a group: one entry point.

Feature modules under bot/handlers/ export ON_CHAT_REMOVED / ON_CHAT_MIGRATED hooks; bot.commands
gathers them here when it loads the table, so this module imports no handler (no import circle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services

RemovedHook = Callable[["Services", str], None]
MigratedHook = Callable[["Services", str, str], None]

#: Filled by bot.commands from every handler module.
REMOVED: list[RemovedHook] = []
MIGRATED: list[MigratedHook] = []


def chat_removed(svc: Services, chat_id: str) -> None:
    """The bot was kicked from / left the chat, or the user blocked it: stop pushing there."""
    for hook in REMOVED:
        hook(svc, chat_id)


def chat_migrated(svc: Services, old_id: str, new_id: str) -> None:
    """A group got a new id (Telegram group -> supergroup): move its subscription, rotation and suggestions."""
    for hook in MIGRATED:
        hook(svc, old_id, new_id)
