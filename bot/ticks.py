"""The one periodic job: every feature's tick, about every 30 s, run by one scheduler per process.

With Telegram running, PTB's JobQueue (APScheduler) runs it; otherwise the runtime's own APScheduler
(bot/runtime.py), or the console's loop. The job settings are chosen once, here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.commands import TICKS

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 30
#: A tick late by up to a whole interval still runs (APScheduler's default 1 s grace would skip it); several
#: missed ticks collapse into one (each tick catches up from the store anyway); never two at once.
TICK_JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": TICK_SECONDS, "coalesce": True, "max_instances": 1}


async def run_ticks(svc: Services) -> None:
    """Run every feature's periodic tick once; one failing tick never stops the others."""
    for tick in TICKS:
        try:
            await tick(svc)
        except Exception:
            log.exception("tick %s failed", getattr(tick, "__name__", tick))
