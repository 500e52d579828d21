"""Shared pytest fixtures. Each owner keeps their fixtures in one marked block."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from e2e import RunningBot
    from fakebotapi import FakeBotAPI
    from test_suggest_helpers import Clock

    from bot.services import Services

# --- e2e: the real bot against the fake Telegram Bot API (owner: tests/e2e.py) -------------------
# Imports are inside the fixtures so a broken adapter fails only the e2e tests, not collection.


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started fake Bot API server on 127.0.0.1 (random port)."""
    from fakebotapi import FakeBotAPI

    async with FakeBotAPI() as api:
        yield api


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real bot, long polling the fake server."""
    from e2e import running_bot

    async with running_bot(tmp_path) as bot:
        yield bot


@pytest.fixture
async def tg_webhook(tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real bot in webhook mode: the fake server POSTs updates to PTB's webhook server."""
    from e2e import running_bot

    async with running_bot(tmp_path, mode="webhook") as bot:
        yield bot


@pytest.fixture(params=["polling", "webhook"])
async def tg_any(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The real bot, once per update delivery mode."""
    from e2e import running_bot

    async with running_bot(tmp_path, mode=request.param) as bot:
        yield bot


# --- end e2e --------------------------------------------------------------------------------------


# --- suggestions through the core: a real store in tmp and a controlled clock (owner: test_suggest_helpers.py) --


@pytest.fixture
def clock() -> Clock:
    """A Monday morning in Shanghai (tests move it); test files may define their own `clock`."""
    from test_suggest_helpers import TZ, Clock

    return Clock(datetime(2026, 3, 2, 10, 0, 30, tzinfo=TZ))


@pytest.fixture
def svc(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    """Services over a fresh data dir (configured officer: test_suggest_helpers.OFFICER)."""
    from test_suggest_helpers import make_services

    s = make_services(tmp_path / "data", clock)
    yield s
    s.close()


# --- end suggestions --------------------------------------------------------------------------------------
