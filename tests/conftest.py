"""Shared pytest fixtures. Each owner keeps their fixtures in one marked block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from e2e import RunningBot
    from fakebotapi import FakeBotAPI

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
