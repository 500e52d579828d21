"""Flood sense (bot/flood.py) through the real dispatcher, and the limiter's per-chat windows and backlog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts
from bot.adapters.ratelimit import ChatWindows, LosslessRateLimiter, SlidingWindow
from bot.commands import dispatch
from bot.config import BotConfig, Config, ContentConfig, StorageConfig
from bot.core import Reply, Request
from bot.flood import FloodGuard, Outcome, normalise, request_key
from bot.services import Services, create_services

ROOT = Path(__file__).resolve().parent.parent
GROUP = "tg:-5001"
OFFICER = 9001
LINK = "https://t.me/union_helper_bot?start=busy"


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    cfg = Config(storage=StorageConfig(dir=str(tmp_path / "data")), content=ContentConfig(dir=str(ROOT / "content")),
                 bot=BotConfig(officers=(OFFICER,)))
    services = create_services(cfg)
    yield services
    services.close()


def group(text: str, user: int = 1001, addressed: bool = False, message_id: int = 1) -> Request:
    return Request(chat_id=GROUP, chat_type="supergroup", user_id=f"tg:{user}", user_name="张三", text=text,
                   chat_title="工会群", addressed=addressed, message_id=message_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Budget:
    """A group's send budget as the adapter reports it: `free` sends now, then `period` seconds per extra."""

    def __init__(self, free: int = 20, period: float = 60.0) -> None:
        self.free = free
        self.period = period
        self.spent = 0

    def backlog(self, sends: int) -> float:
        return 0.0 if self.spent + sends <= self.free else self.period

    def spend(self, out: Outcome) -> Outcome:
        self.spent += sum(len(texts.split_message(r.text)) for r in out.replies)
        return out


async def ask(guard: FloodGuard, svc: Services, req: Request, budget: Budget) -> Outcome:
    return budget.spend(await guard.handle(req, svc, dispatch, backlog=budget.backlog, private_link=LINK))


# --- what counts as "the same read request" ---------------------------------------------------------


@pytest.mark.parametrize(("text", "addressed", "key"), [
    ("/today", False, ("today", "")),
    ("今日", False, ("today", "")),
    ("@union_helper_bot 今日", True, ("today", "")),
    ("/today@union_helper_bot", False, ("today", "")),
    ("/help", False, ("help", "")),
    ("@union_helper_bot", True, ("help", "")),  # a bare mention is answered with the help
    ("帮助", False, ("help", "")),
    ("/status", False, ("status", "")),
    ("/search 职代会", False, ("search", "职代会")),
    ("搜索：职代会！", False, ("search", "职代会")),
    ("/s  ＯＡ  系统", False, ("search", "oa 系统")),
    ("@union_helper_bot 職代會", True, ("search", "職代會")),
    ("/today@other_bot", False, None),
    ("建议 食堂太咸", False, None),
    ("/subscribe 07:30", False, None),
    ("/reject JY-1 理由", False, None),
    ("随便聊聊", False, None),
])
def test_request_key(svc: Services, text: str, addressed: bool, key: tuple[str, str] | None) -> None:
    assert request_key(group(text, addressed=addressed), svc) == key


def test_private_chats_buttons_and_pending_flows_are_never_reads(svc: Services) -> None:
    private = Request(chat_id="tg:1001", chat_type="private", user_id="tg:1001", user_name="张三", text="今日")
    assert request_key(private, svc) is None
    assert request_key(Request(chat_id=GROUP, chat_type="group", user_id="tg:1", user_name="x", callback_data="sg:1"),
                       svc) is None
    from bot.commands import start_flow

    req = group("今日")

    async def step(r: Request, s: Services, text: str) -> list[Reply]:
        return []

    start_flow(req, svc, step)
    assert request_key(req, svc) is None  # the member's next text is their flow's step


def test_normalise() -> None:
    assert normalise("  ＯＡ　系统？ ") == "oa 系统"


# --- in a flooded group --------------------------------------------------------------------------------


async def test_fifty_identical_requests_get_one_answer_that_says_it_answers_the_others(svc: Services) -> None:
    guard, budget = FloodGuard(hot_requests=1, clock=Clock()), Budget()
    outs = [await ask(guard, svc, group("今日", user=2000 + i, message_id=i + 1), budget) for i in range(50)]
    answered = [o for o in outs if o.replies]
    assert len(answered) == 1 and answered[0].reply_to == 1
    assert texts.FLOOD_ANSWERS_OTHERS in answered[0].replies[-1].text
    assert "每日一招" in answered[0].replies[0].text
    assert [o.action for o in outs[1:]] == ["covered"] * 49


async def test_after_the_window_the_same_request_is_answered_again(svc: Services) -> None:
    clock = Clock()
    guard, budget = FloodGuard(hot_requests=1, clock=clock), Budget()
    assert (await ask(guard, svc, group("/help"), budget)).replies
    assert not (await ask(guard, svc, group("帮助", message_id=2), budget)).replies
    clock.now += 61
    assert (await ask(guard, svc, group("/help", message_id=3), budget)).reply_to == 3


async def test_a_quiet_group_gets_its_answer_without_the_note_and_a_repeat_at_most_once_more(svc: Services) -> None:
    """The first read in a quiet minute is answered plainly; from a second one on the group counts as busy: the
    repeat is answered once more, saying it answers the others too, and the rest of the minute is covered."""
    guard, budget = FloodGuard(clock=Clock()), Budget()
    first = await ask(guard, svc, group("/help", message_id=1), budget)
    assert first.replies and texts.FLOOD_ANSWERS_OTHERS not in first.replies[-1].text
    second = await ask(guard, svc, group("/help", message_id=2), budget)
    assert second.replies and texts.FLOOD_ANSWERS_OTHERS in second.replies[-1].text
    assert not (await ask(guard, svc, group("帮助", message_id=3), budget)).replies


async def test_more_searches_than_the_budget_get_one_busy_note_with_a_private_link(svc: Services) -> None:
    guard, budget = FloodGuard(clock=Clock()), Budget(free=20)
    words = ["职代会", "集体合同", "厂务公开", "劳动保护", "女职工", "困难职工", "工资协商", "安全生产", "劳模",
             "会员", "经费", "职工之家", "技能竞赛", "心理健康", "农民工", "法律援助", "疗休养", "帮扶",
             "民主管理", "合理化建议", "劳动竞赛", "职工书屋", "带薪休假", "加班"]
    outs = [await ask(guard, svc, group(f"搜索 {w}", user=3000 + i, message_id=i + 1), budget)
            for i, w in enumerate(words)]
    busy = [o for o in outs if o.action == "busy"]
    assert len(busy) == 1
    note = busy[0].replies[0]
    assert note.text == texts.flood_busy(True) and note.buttons[0][0].url == LINK
    first_busy = outs.index(busy[0])
    assert all(o.action == "answer" for o in outs[:first_busy])
    assert all(o.action == "covered" for o in outs[first_busy + 1 :])
    assert budget.spent <= 20  # never more than the group may receive: nothing waits minutes


async def test_owed_requests_always_go_through_even_when_busy(svc: Services) -> None:
    guard, budget = FloodGuard(clock=Clock()), Budget(free=0)
    assert (await ask(guard, svc, group("搜索 职代会"), budget)).action == "busy"
    receipt = await ask(guard, svc, group("建议 食堂的菜太咸了，希望少放盐", message_id=2), budget)
    assert receipt.action == "pass" and receipt.replies
    officer = await ask(guard, svc, group("/subscribe 07:30", user=OFFICER, message_id=3), budget)
    assert officer.action == "pass" and officer.replies


async def test_groups_are_independent(svc: Services) -> None:
    guard, budget = FloodGuard(hot_requests=1, clock=Clock()), Budget()
    await ask(guard, svc, group("今日"), budget)
    other = Request(chat_id="tg:-6002", chat_type="group", user_id="tg:1", user_name="x", text="今日", message_id=1)
    assert (await ask(guard, svc, other, budget)).replies


# --- the limiter: per-chat windows and backlog ----------------------------------------------------------


async def test_backlog_reports_a_spent_group_window() -> None:
    limiter = LosslessRateLimiter(group_rate=3, group_period=10.0, margin=0.0)

    async def ok(**kw: object) -> dict[str, bool]:
        return {"ok": True}

    assert limiter.backlog(-1) == 0.0
    for _ in range(2):
        await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": -1}, None)
    assert limiter.backlog(-1) == 0.0 and limiter.backlog(-1, 2) > 9.0
    await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": -1}, None)
    assert 9.0 < limiter.backlog(-1) <= 10.0
    assert limiter.backlog(42) == 0.0  # a private chat waits only for the overall window


async def test_waiters_count_in_the_backlog() -> None:
    now = [0.0]
    window = SlidingWindow(2, 10.0, clock=lambda: now[0])
    for _ in range(2):
        window.release(await window.acquire())
    window.waiting = 3  # three sends queued ahead
    assert window.backlog(1) == 20.0  # two go after one window, the next two after the second


async def test_one_chat_waiting_for_its_window_never_holds_up_others() -> None:
    windows = ChatWindows(2, 0.5, overall_rate=30, overall_period=1.0, margin=0.0)
    for _ in range(2):
        windows.release(await windows.acquire("wecom:busy"))
    waiter = asyncio.create_task(windows.acquire("wecom:busy"))
    await asyncio.sleep(0.01)
    start = time.monotonic()
    for i in range(10):
        windows.release(await windows.acquire(f"wecom:user{i}"))
    assert time.monotonic() - start < 0.1 and not waiter.done()
    assert windows.backlog("wecom:busy") > 0.3 and windows.backlog("wecom:user0") == 0.0
    windows.release(await waiter)


async def test_the_adapters_message_count_decides_the_budget(svc: Services) -> None:
    """A platform where a reply takes more messages (WeCom: markdown plus a card) says so through `cost`: an
    answer that fits Telegram's budget may be a busy note on a platform that needs two sends per reply."""
    one, two = FloodGuard(clock=Clock()), FloodGuard(clock=Clock())
    budget = Budget(free=1 + one.reserve)  # room for exactly one message beyond the reserve
    plain = await one.handle(group("今日"), svc, dispatch, backlog=budget.backlog, private_link=LINK)
    assert plain.action == "answer"
    doubled = await two.handle(group("今日"), svc, dispatch, backlog=budget.backlog, private_link=LINK,
                               cost=lambda reply: 2)
    assert doubled.action == "busy"
