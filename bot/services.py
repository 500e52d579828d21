"""The services every handler uses, built once and shared (PTB keeps them in bot_data)."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.content import MANIFEST_FILE, Content, load_content
from bot.core import Sender
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
    #: Set by the adapter: delivers messages outside a request (pushes, notifications).
    sender: Sender | None = None
    #: Set by the adapter: is user `user_id` an admin of chat `chat_id`? (for officers reviewing in private)
    admin_check: Callable[[int, int], Awaitable[bool]] | None = None
    #: Guided flows waiting for a user's next message: (chat_id, user_id) -> commands.Pending.
    pending: dict[tuple[int, int], Any] = field(default_factory=dict)
    _search: SearchEngine | None = None
    #: (mtime_ns, size) of content/manifest.json when the content in use was loaded.
    _content_stamp: tuple[int, int] | None = None

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

    async def is_chat_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether `user_id` administers `chat_id` (False when the adapter cannot tell)."""
        if self.admin_check is None:
            return False
        try:
            return await self.admin_check(chat_id, user_id)
        except Exception:  # noqa: BLE001 - a failed lookup means "not known to be admin"
            return False

    def close(self) -> None:
        self.store.close()


def create_services(config: Config, clock: Callable[[], datetime] | None = None) -> Services:
    """Load content and open the store for `config`."""
    svc = Services(config=config, content=load_content(config.content_dir), store=Store(config.data_dir), clock=clock)
    svc._content_stamp = svc._manifest_stamp()
    return svc
