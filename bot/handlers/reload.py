"""Live content: /reload (重新加载) for officers, and a tick that picks up a rebuilt content/ within a minute.

`python run.py content build` rewrites content/manifest.json last; the tick (run on every minute,
bot/ticks.py) compares its stamp with the one loaded and, when it changed, swaps `Services.content` and drops the
search engine, then warms the new engine off the event loop. Nothing restarts and the rotation state (in the
store, by stable practice id) is kept; a practice that disappeared is simply not picked any more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot import table, texts
from bot.content import ContentError
from bot.core import Reply, Request
from bot.table import Command, Tick

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


async def _reload(svc: Services) -> bool:
    """Reload off the event loop and warm the search engine; True if the content changed."""
    fresh = await asyncio.to_thread(svc.read_content)  # file reading off the loop, the swap on it
    changed = svc.reload_content(fresh)
    if changed:
        await asyncio.to_thread(lambda: svc.search)
        log.info("content reloaded: %d passages, %d practices",
                 len(svc.content.passages), len(svc.content.practices))
    return changed


async def reload_cmd(req: Request, svc: Services, args: str) -> list[Reply]:
    """/reload: officers load the rebuilt content now."""
    if not await table.is_officer(req, svc):
        return [Reply(texts.RELOAD_OFFICERS_ONLY)]
    try:
        changed = await _reload(svc)
    except ContentError as exc:
        return [Reply(texts.reload_failed(str(exc)))]
    return [Reply(texts.reload_done(changed, len(svc.content.passages), len(svc.content.practices)))]


async def tick(svc: Services) -> None:
    """Reload when content/manifest.json changed since the content in use was loaded."""
    if not svc.content_changed():
        return
    try:
        await _reload(svc)
    except ContentError as exc:
        svc._content_stamp = svc._manifest_stamp()  # do not retry a broken build every tick; /reload still can
        log.warning("rebuilt content could not be loaded, keeping the old content: %s", exc)


COMMANDS = [
    Command("reload", ("重新加载",), texts.RELOAD_HELP, reload_cmd, usage="/reload", audience="officer", menu=False),
]
TICKS: list[Tick] = [tick]
