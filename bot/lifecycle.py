"""What happens to a chat's data when Telegram removes the bot or upgrades the group: one entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def chat_removed(svc: Services, chat_id: int) -> None:
    """The bot was kicked from / left the chat, or the user blocked it: stop pushing there."""
    from bot.handlers import push

    push.chat_removed(svc, chat_id)


def chat_migrated(svc: Services, old_id: int, new_id: int) -> None:
    """A group became a supergroup: move its subscription, rotation and suggestions to the new id."""
    from bot.handlers import push, suggest

    push.chat_migrated(svc, old_id, new_id)
    suggest.chat_migrated(svc, old_id, new_id)
