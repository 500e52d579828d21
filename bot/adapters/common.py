"""Small pieces the long-connection adapters (WeCom, DingTalk) share: their own ids, message-id dedupe and group
detection."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from bot.core import DeliveryError

if TYPE_CHECKING:
    from bot.services import Services

#: How many message ids a platform's dedupe remembers.
DEDUPE_KEEP = 10000


def own_id(chat_id: Any, prefix: str) -> str:
    """'<prefix><id>' -> '<id>', the platform's own chat id; DeliveryError for another platform's id."""
    s = str(chat_id)
    if not s.startswith(prefix):
        raise DeliveryError(f"not a {prefix.rstrip(':')} chat id")
    return s[len(prefix) :]


class SeenIds:
    """The last `keep` message ids, to drop a message the platform delivers twice (a lost ack, a reconnect)."""

    def __init__(self, keep: int = DEDUPE_KEEP) -> None:
        self.keep = keep
        self._ids: OrderedDict[str, None] = OrderedDict()

    def fresh(self, msg_id: str | None) -> bool:
        """True the first time `msg_id` is seen (and always for a message without an id); remembers it."""
        if not msg_id:
            return True
        if msg_id in self._ids:
            return False
        self._ids[msg_id] = None
        if len(self._ids) > self.keep:
            self._ids.popitem(last=False)
        return True

    def forget(self, msg_id: str | None) -> None:
        """Let `msg_id` through again (it was not handled: its redelivery must be)."""
        if msg_id:
            self._ids.pop(msg_id, None)

    def __len__(self) -> int:
        return len(self._ids)


def subscribed_as_group(svc: Services, chat_id: str) -> bool:
    """Whether the store has `chat_id` subscribed as a group to either push (the daily practice or the daily
    quiz): a push target the adapter has not seen since start."""
    for doc in (svc.store.push_doc(chat_id), svc.store.quiz_doc(chat_id)):
        if ((doc or {}).get("sub") or {}).get("chat_type") in ("group", "supergroup"):
            return True
    return False
