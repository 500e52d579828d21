"""The services every handler uses, built once and shared (PTB keeps them in bot_data)."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.content import MANIFEST_FILE, Content, load_content
from bot.core import DeliveryError, Reply, Sender, platform_of
from bot.store import Store

if TYPE_CHECKING:
    from bot.search import SearchEngine

_SEARCH_LOCK = threading.Lock()


@dataclass
class Services:
    """Config, content, store, search engine and the clock, for one running bot."""

    config: Config
    content: Content
    store: Store
    #: Returns an aware datetime; tests replace it to control time.
    clock: Callable[[], datetime] | None = None
    #: Each running platform's Sender, by id prefix ("tg", "wecom", "console"): set by the adapters.
    senders: dict[str, Sender] = field(default_factory=dict)
    #: Each platform's admin check: is user `user_id` an admin of chat `chat_id`? (Telegram only; WeCom has none)
    admin_checks: dict[str, Callable[[str, str], Awaitable[bool]]] = field(default_factory=dict)
    #: Guided flows waiting for a user's next message: (chat_id, user_id) -> table.Pending.
    pending: dict[tuple[str, str], Any] = field(default_factory=dict)
    _search: SearchEngine | None = None
    #: (mtime_ns, size) of content/manifest.json when the content in use was loaded.
    _content_stamp: tuple[int, int] | None = None

    @property
    def sender(self) -> Sender | None:
        """Delivers messages outside a request (pushes, notifications) through the target chat's platform;
        None until some platform is running."""
        return self._route if self.senders else None

    async def _route(self, reply: Reply) -> None:
        if reply.chat_id is None:
            raise DeliveryError("a reply sent outside a request needs chat_id")
        send = self.senders.get(platform_of(reply.chat_id))
        if send is None:
            raise DeliveryError(f"no running platform for {platform_of(reply.chat_id)!r}")
        await send(reply)

    def can_send(self, chat_id: str) -> bool:
        """Whether the platform of `chat_id` is running in this process."""
        return platform_of(chat_id) in self.senders

    @property
    def officers(self) -> frozenset[str]:
        """Every configured officer (qualified user ids of every platform)."""
        return self.config.officer_ids()

    def is_officer(self, user_id: str) -> bool:
        """A configured officer (group admins are checked per chat, see table.is_officer)."""
        return user_id in self.officers

    def now(self) -> datetime:
        """The current time in the configured timezone."""
        if self.clock is not None:
            return self.clock().astimezone(self.config.tz)
        return datetime.now(self.config.tz)

    @property
    def search(self) -> SearchEngine:
        """The search engine, built (or loaded from its cache) on first use."""
        with _SEARCH_LOCK:  # built once, even when a warm-up thread and a handler ask together
            return self._load_search()

    def _load_search(self) -> SearchEngine:
        if self._search is None:
            from bot.search import SearchEngine

            self._search = SearchEngine.load(
                self.content, cache_dir=self.config.data_dir / "cache", content_dir=self.config.content_dir
            )
        return self._search

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.config.content_dir / MANIFEST_FILE).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def content_changed(self) -> bool:
        """Whether `python run.py content build` has written a new manifest since the content was loaded."""
        stamp = self._manifest_stamp()
        return stamp is not None and stamp != self._content_stamp

    def read_content(self) -> tuple[Content, tuple[int, int] | None]:
        """The content now in content/ and its manifest stamp (reads files only; safe off the event loop)."""
        stamp = self._manifest_stamp()
        return load_content(self.config.content_dir), stamp

    def reload_content(self, fresh: tuple[Content, tuple[int, int] | None] | None = None) -> bool:
        """Re-read content/ (or take `fresh` from read_content); if it changed, swap it in and drop the search
        engine (rebuilt on next use). Call it on the event loop so no handler sees the swap half-way.

        Rotation state lives in the store under stable practice ids, so it survives; a practice that is gone
        is simply not picked any more. Raises ContentError (the old content stays in use)."""
        content, stamp = fresh if fresh is not None else self.read_content()
        with _SEARCH_LOCK:
            self._content_stamp = stamp
            if content.version == self.content.version:
                return False
            self.content = content
            self._search = None
        return True

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Whether `user_id` administers `chat_id` (False when the platform cannot tell)."""
        check = self.admin_checks.get(platform_of(chat_id))
        if check is None or platform_of(user_id) != platform_of(chat_id):
            return False
        try:
            return await check(chat_id, user_id)
        except Exception:  # noqa: BLE001 - a failed lookup means "not known to be admin"
            return False

    def close(self) -> None:
        self.store.close()


def create_services(config: Config, clock: Callable[[], datetime] | None = None) -> Services:
    """Load content and open the store for `config`."""
    svc = Services(config=config, content=load_content(config.content_dir), store=Store(config.data_dir), clock=clock)
    svc._content_stamp = svc._manifest_stamp()
    return svc
