"""ChatQueue: per-chat order, cross-chat concurrency, bounds, shedding with counts, and the PTB processor."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import warnings
from typing import Any

import pytest

from bot.adapters.chatqueue import ChatQueue, ChatQueueProcessor


class Recorder:
    """Handlers that record when they start and end; `gate(chat)` blocks a chat's handlers until opened."""

    def __init__(self) -> None:
        self.started: list[tuple[Any, int]] = []
        self.ended: list[tuple[Any, int]] = []
        self.gates: dict[Any, asyncio.Event] = {}
        self.active = 0
        self.max_active = 0

    def gate(self, chat: Any) -> asyncio.Event:
        return self.gates.setdefault(chat, asyncio.Event())

    def job(self, chat: Any, n: int, pause: float = 0.0) -> Any:
        async def run() -> None:
            self.started.append((chat, n))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            try:
                if chat in self.gates:
                    await self.gates[chat].wait()
                await asyncio.sleep(pause)
            finally:
                self.active -= 1
            self.ended.append((chat, n))

        return run


async def test_one_chat_keeps_its_order_even_with_uneven_handler_times() -> None:
    q, r = ChatQueue(max_concurrent=8), Recorder()
    rnd = random.Random(7)
    results = await asyncio.gather(*(q.submit("g", r.job("g", i, rnd.random() / 200)) for i in range(30)))
    assert all(results)
    assert [n for _, n in r.started] == list(range(30))
    assert r.max_active == 1  # never two of one chat at once (a guided flow's steps never race)


async def test_a_stuck_chat_never_delays_another() -> None:
    q, r = ChatQueue(), Recorder()
    r.gate("busy")
    stuck = [asyncio.create_task(q.submit("busy", r.job("busy", i))) for i in range(5)]
    assert await asyncio.wait_for(q.submit("other", r.job("other", 0)), 1.0)
    assert ("other", 0) in r.ended and not any(c == "busy" for c, _ in r.ended)
    r.gate("busy").set()
    assert all(await asyncio.gather(*stuck))
    assert [n for c, n in r.ended if c == "busy"] == list(range(5))


async def test_concurrency_is_bounded() -> None:
    q, r = ChatQueue(max_concurrent=3), Recorder()
    tasks = [asyncio.create_task(q.submit(f"c{i}", r.job(f"c{i}", 0, 0.01))) for i in range(12)]
    assert all(await asyncio.gather(*tasks))
    assert r.max_active == 3 and len(r.ended) == 12


async def test_chats_take_turns_so_a_long_queue_does_not_starve_a_newcomer() -> None:
    q, r = ChatQueue(max_concurrent=1), Recorder()
    flood = [asyncio.create_task(q.submit("group", r.job("group", i, 0.001))) for i in range(50)]
    await asyncio.sleep(0.005)
    await q.submit("private", r.job("private", 0))
    before = [c for c, _ in r.started[: r.started.index(("private", 0))]]
    assert before.count("group") < 10  # one turn each, not the group's whole backlog first
    await asyncio.gather(*flood)


async def test_a_full_chat_sheds_droppable_reads_and_logs_counts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.adapters.chatqueue")
    q, r = ChatQueue(max_per_chat=5, log_every=0.0), Recorder()
    r.gate("g")
    first = asyncio.create_task(q.submit("g", r.job("g", -1)))  # running, holds the chat
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(q.submit("g", r.job("g", i), droppable=True)) for i in range(20)]
    await asyncio.sleep(0)
    assert q.queued("g") == 5 and q.shed["chat full"] == 15
    r.gate("g").set()
    results = await asyncio.gather(first, *tasks)
    assert sum(results) == 6
    assert "shed" in caplog.text and "chat full" in caplog.text


async def test_what_a_member_is_owed_displaces_reads_and_is_never_shed_below_the_hard_cap() -> None:
    q, r = ChatQueue(max_per_chat=3, max_pending=10), Recorder()
    r.gate("g")
    first = asyncio.create_task(q.submit("g", r.job("g", "running")))
    await asyncio.sleep(0)
    reads = [asyncio.create_task(q.submit("g", r.job("g", f"read{i}"), droppable=True)) for i in range(3)]
    owed = [asyncio.create_task(q.submit("g", r.job("g", f"owed{i}"))) for i in range(6)]
    await asyncio.sleep(0)
    assert q.queued("g") == 6  # the three reads made room, then owed updates went beyond the chat limit
    r.gate("g").set()
    await asyncio.gather(first, *reads, *owed)
    assert [t.result() for t in reads] == [False, False, False]
    assert all(t.result() for t in owed)
    assert [n for _, n in r.ended] == ["running"] + [f"owed{i}" for i in range(6)]


async def test_memory_stays_bounded_under_a_flood() -> None:
    q, r = ChatQueue(max_per_chat=64, max_pending=256), Recorder()
    for chat in range(20):
        r.gate(chat)
    accepted = sum(q.submit_nowait(i % 20, r.job(i % 20, i), droppable=True) for i in range(50_000))
    assert q.pending + q.running <= 256 + 20 and accepted <= 256 + 20
    assert sum(q.shed.values()) == 50_000 - accepted
    for gate in r.gates.values():
        gate.set()
    await q.join()
    assert len(r.ended) == accepted and q.idle


async def test_updates_without_a_chat_go_straight_through_bounded() -> None:
    q, r = ChatQueue(max_chatless=2), Recorder()
    r.gate(None)
    a = asyncio.create_task(q.submit(None, r.job(None, 1)))
    b = asyncio.create_task(q.submit(None, r.job(None, 2)))
    await asyncio.sleep(0.01)
    assert r.active == 2  # not ordered behind each other
    assert not await q.submit(None, r.job(None, 3)) and q.shed["no chat"] == 1
    r.gate(None).set()
    assert await a and await b


async def test_a_failing_handler_is_logged_and_the_chat_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    q, r = ChatQueue(), Recorder()

    async def boom() -> None:
        raise RuntimeError("bug")

    assert await q.submit("g", boom)
    assert await q.submit("g", r.job("g", 1))
    assert q.failed == 1 and "failed" in caplog.text and r.ended == [("g", 1)]


async def test_close_waits_for_accepted_work_then_refuses() -> None:
    q, r = ChatQueue(), Recorder()
    for i in range(5):
        assert q.submit_nowait("g", r.job("g", i, 0.001))
    await q.close()
    assert len(r.ended) == 5
    assert not q.submit_nowait("g", r.job("g", 9)) and q.shed["closed"] == 1


@pytest.mark.filterwarnings("error::RuntimeWarning")
async def test_ptb_processor_orders_by_chat_and_closes_shed_coroutines() -> None:
    q = ChatQueue(max_per_chat=1)
    proc = ChatQueueProcessor(q, key=lambda u: u[0], droppable=lambda u: u[1] == "read")
    seen: list[tuple[str, str]] = []
    gate = asyncio.Event()

    async def handle(update: tuple[str, str]) -> None:
        if update[1] == "slow":
            await gate.wait()
        seen.append(update)

    async with proc:
        tasks = [asyncio.create_task(proc.process_update(u, handle(u)))
                 for u in [("g", "slow"), ("g", "owed"), ("g", "read"), ("p", "help")]]
        await asyncio.sleep(0.01)
        assert seen == [("p", "help")]
        gate.set()
        await asyncio.gather(*tasks)
    assert seen == [("p", "help"), ("g", "slow"), ("g", "owed")]  # the read was shed, its coroutine closed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()


async def test_work_arriving_as_every_runner_finishes_is_still_run() -> None:
    q, r = ChatQueue(max_concurrent=1), Recorder()
    for round_ in range(50):
        first = asyncio.create_task(q.submit(f"a{round_}", r.job("a", round_)))
        await first  # the runner has just finished (its done-callback may not have run yet)
        assert await asyncio.wait_for(q.submit(f"b{round_}", r.job("b", round_)), 1.0)
    assert len(r.ended) == 100
