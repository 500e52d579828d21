"""One process, two platforms (issue 9), then three (issue 16): Telegram, WeCom and DingTalk served together.

Real PTB Application (TelegramPlatform) and real WecomAdapter (Tencent's SDK over TLS) share one Services and one
Store; the fakes (tests/fakebotapi.py, tests/fakewecom.py) record what each platform was sent. Harness:
tests/multi_e2e.py. Assertions are on what the chats received, per platform.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from e2e import ALICE, GROUP, ROOT, Clock, free_port
from e2e import press as e2e_press
from fakebotapi import Call, FakeBotAPI, User
from fakedingtalk import FakeDingTalk
from fakewecom import FakeWeCom, Frame
from multi_e2e import DINGTALK_OFFICER, WECOM_OFFICER, Both, fakes, fakes3, running_both, toml_config

from bot import texts

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 3)  # a Tuesday
WGROUP = "wrGroup1"
DGROUP = "cidDingGroup1=="
TG_OFFICER = User(2009, "李干事", "liganshi")
HEADING = re.compile(r"每日一招 · (\d{4}年\d{1,2}月\d{1,2}日)")


def at(day: date, hhmm: str, second: int = 0) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, second, tzinfo=TZ)


def heading(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, FakeWeCom]]:
    async with fakes(tmp_path) as pair:
        yield pair


def tg_pushes(api: FakeBotAPI, chat_id: int, since: int = 0) -> list[Call]:
    """Daily pushes a Telegram chat received."""
    return [c for c in api.find("sendMessage", chat_id=chat_id, since=since, ok=True)
            if texts.PUSH_FOOTER in c.text and HEADING.search(c.text)]


def wc_sends(wc: FakeWeCom, chatid: str | None = None, since: int = 0, ok: bool | None = True) -> list[Frame]:
    """Proactive messages (aibot_send_msg) to a WeCom chat (all of them are pushes/notifications)."""
    return wc.find("aibot_send_msg", chatid=chatid, since=since, ok=ok)


def wc_pushed_days(wc: FakeWeCom, chatid: str) -> list[str]:
    plain = [f.content.replace("\\", "").replace("*", "") for f in wc_sends(wc, chatid)]
    return [m.group(1) for t in plain if (m := HEADING.search(t))]


async def subscribe_both(both: Both, hhmm: str = "07:30") -> None:
    """The Telegram group by its admin, the WeCom group by a configured officer: real messages, both platforms."""
    both.api.chat(GROUP)
    both.api.set_admins(GROUP, [ALICE.id])
    assert "已订阅" in await both.tg_said(f"/subscribe {hhmm}", user=ALICE, chat_id=GROUP)
    (reply,) = await both.wc_say(f"订阅 {hhmm}", chatid=WGROUP, userid=WECOM_OFFICER)  # "@工会助手 订阅 07:30"
    assert "已订阅" in reply.content and hhmm in reply.content
    store = both.services.store
    assert (store.push_doc(f"tg:{GROUP}") or {}).get("sub") is not None
    assert (store.push_doc(f"wecom:{WGROUP}") or {}).get("sub") is not None


# ----------------------------------------------------------------------------- (a) one minute, two platforms


async def test_same_minute_each_platform_pushed_exactly_once(tmp_path: Path,
                                                             servers: tuple[FakeBotAPI, FakeWeCom]) -> None:
    api, wc = servers
    clock = Clock(at(DAY - timedelta(days=1), "09:30"))
    async with running_both(tmp_path, api, wc, clock=clock) as both:
        await subscribe_both(both)
        (refused,) = await both.wc_say("订阅 07:30", chatid="wrOther", userid="someone")  # not an officer
        assert "只有" in refused.content
        tg_mark, wc_mark = api.mark(), len(wc.frames)

        clock.set(at(DAY, "07:29", 59))
        await both.tick()
        assert tg_pushes(api, GROUP, tg_mark) == [] and wc_sends(wc, since=wc_mark, ok=None) == []

        clock.set(at(DAY, "07:30", 5))
        await asyncio.gather(both.tick(), both.tick())  # two ticks at once
        await both.tick()  # and again
        clock.set(at(DAY, "07:31"))
        await both.tick()
        tg = tg_pushes(api, GROUP, tg_mark)
        sent = wc_sends(wc, since=wc_mark, ok=None)
        assert len(tg) == 1 and heading(DAY) in tg[0].text
        assert [f.chatid for f in sent] == [WGROUP] and sent[0].ok  # once, to the WeCom group only, accepted
        assert heading(DAY) in sent[0].content
        assert "<b>" not in sent[0].content and "<b>" in tg[0].params["text"]  # each rendered for its platform
        # Each push went through its own platform: nothing for the WeCom group on Telegram, and vice versa.
        assert not [c for c in api.calls[tg_mark:] if c.method == "sendMessage" and c.chat_id != GROUP]
        assert not [f for f in wc.frames[wc_mark:] if f.direction == "in" and f.cmd == "aibot_send_msg"
                    and f.chatid != WGROUP]

        tomorrow = DAY + timedelta(days=1)  # the next day: sequential, again, then two at once
        clock.set(at(tomorrow, "07:30"))
        await both.tick()
        await both.tick()
        await asyncio.gather(both.tick(), both.tick())
        assert [HEADING.search(c.text).group(1) for c in tg_pushes(api, GROUP, tg_mark)] == [  # type: ignore[union-attr]
            heading(DAY), heading(tomorrow)]
        assert wc_pushed_days(wc, WGROUP) == [heading(DAY), heading(tomorrow)]
        assert len(wc_sends(wc, since=wc_mark, ok=None)) == 2
        status = both.services.store.push_doc(f"wecom:{WGROUP}") or {}
        assert status["deliveries"][DAY.isoformat()]["status"] == "sent"
        assert not api.rejected()


# ----------------------------------------------------------------------------- (b) review across platforms


def _number(text: str) -> str:
    m = re.search(r"JY-\d{4}-\d{4}", text)
    assert m, text
    return m.group(0)


async def press(both: Both, call: Call, label: str, user: User) -> list[Call]:
    """`user` presses the button labelled `label` on the bot's Telegram message `call`; wait for the edit."""
    return await e2e_press(both.api, call, label, user)


async def test_wecom_suggestion_reviewed_on_telegram_tells_proposer_in_wecom(
        tmp_path: Path, servers: tuple[FakeBotAPI, FakeWeCom]) -> None:
    api, wc = servers
    async with running_both(tmp_path, api, wc, officers=(TG_OFFICER.id,)) as both:
        (receipt,) = await both.wc_say("/suggest 建议食堂延长晚餐供应时间到八点", userid="proposer1")
        number = _number(receipt.content)
        assert both.services.store.suggestion_get(number)["proposer_id"] == "wecom:proposer1"  # type: ignore[index]

        [page] = await both.tg_say("/review", user=TG_OFFICER)
        assert number in page.text
        [view] = await press(both, page, number, TG_OFFICER)
        assert "晚餐" in view.text
        mark = len(wc.frames)
        await press(both, page, "受理", TG_OFFICER)
        (told,) = await wc.wait_for("aibot_send_msg", since=mark, chatid="proposer1")  # their single chat
        assert number in told.content and "已受理" in told.content
        assert api.find("sendMessage", chat_id="proposer1") == []  # not through Telegram
        assert not api.rejected()


async def test_telegram_suggestion_reviewed_in_wecom_tells_proposer_on_telegram(
        tmp_path: Path, servers: tuple[FakeBotAPI, FakeWeCom]) -> None:
    api, wc = servers
    async with running_both(tmp_path, api, wc) as both:
        # ALICE writes to the bot in private, so Telegram lets the bot tell her later.
        receipt = await both.tg_said("/suggest 更衣室储物柜不够用，建议增加一排", user=ALICE)
        number = _number(receipt)

        (page,) = await both.wc_say("/review", userid=WECOM_OFFICER)
        card = page.body["template_card"]
        view = next(b["key"] for b in card["button_list"] if number in b["text"])
        mark = len(wc.frames)
        await wc.click(view, card["task_id"], userid=WECOM_OFFICER)
        (detail,) = await wc.wait_for("aibot_respond_update_msg", since=mark)
        accept = next(b["key"] for b in detail.body["template_card"]["button_list"] if "受理" in b["text"])
        tg_mark, mark = api.mark(), len(wc.frames)
        await wc.click(accept, card["task_id"], userid=WECOM_OFFICER)
        await wc.wait_for("aibot_respond_update_msg", since=mark)
        [told] = await api.wait_for("sendMessage", chat_id=ALICE.id, since=tg_mark, ok=True, timeout=5)
        assert number in told.text and "已受理" in told.text
        # the proposer's notice went through Telegram only; WeCom sent at most the officer's own detail view
        assert {f.chatid for f in wc_sends(wc, since=mark, ok=None)} <= {WECOM_OFFICER}
        assert not any(number in f.content and "提议人" not in f.content for f in wc_sends(wc, since=mark, ok=None))


# ----------------------------------------------------------------------------- (c) kill -9 and restart


def crash_on_send(wc: FakeWeCom, data: Path, image: Path, chatid: str, *, deliver: bool,
                  task: list[asyncio.Task[Any]]) -> None:
    """When the bot's first aibot_send_msg to `chatid` reaches the fake, copy the data dir (a kill -9 image: the
    bot is suspended in the same loop, so nothing more is written meanwhile). `deliver`: the message then reaches
    the chat (crash right after the send); else it never does and the bot's tick is cancelled (crash before)."""
    original = wc._on_frame

    async def hooked(ws: Any, f: Frame) -> None:
        if f.cmd == "aibot_send_msg" and f.chatid == chatid and not image.exists():
            shutil.copytree(data, image, ignore=shutil.ignore_patterns("store.lock", "cache"))
            if not deliver:
                f.errmsg = "lost in the crash"
                for t in task:
                    t.cancel()
                return
        await original(ws, f)

    wc._on_frame = hooked  # type: ignore[method-assign]


@pytest.mark.parametrize("delivered", [True, False], ids=["crash-after-send", "crash-before-send"])
async def test_kill9_during_wecom_push_then_restart_never_pushes_twice(
        tmp_path: Path, servers: tuple[FakeBotAPI, FakeWeCom], delivered: bool) -> None:
    api, wc = servers
    clock = Clock(at(DAY - timedelta(days=1), "09:30"))
    image = tmp_path / "crashed" / "data"
    async with running_both(tmp_path, api, wc, clock=clock) as both:
        (reply,) = await both.wc_say("订阅 07:30", chatid=WGROUP, userid=WECOM_OFFICER)
        assert "已订阅" in reply.content
        mark = len(wc.frames)
        ticking: list[asyncio.Task[Any]] = []
        crash_on_send(wc, tmp_path / "data", image, WGROUP, deliver=delivered, task=ticking)
        clock.set(at(DAY, "07:30"))
        ticking.append(asyncio.ensure_future(both.tick()))
        await asyncio.gather(*ticking, return_exceptions=True)
        assert image.exists()
        assert len(wc_sends(wc, WGROUP, since=mark)) == (1 if delivered else 0)
        del wc._on_frame  # the fake behaves normally again
    assert (tmp_path / "data").exists()

    clock.set(at(DAY, "07:31"))  # restarted over the crash image: a fresh Services and adapters, same fakes
    async with running_both(tmp_path, api, wc, clock=clock, data_dir=image) as both:
        for when in ("07:31", "08:00", "09:29", "23:59"):
            clock.set(at(DAY, when))
            await both.tick()
        (status,) = await both.wc_say("/status", chatid=WGROUP)
        assert "已订阅" in status.content
        assert len(wc_sends(wc, WGROUP, since=mark)) == (1 if delivered else 0)  # at most once, as documented
        doc = both.services.store.push_doc(f"wecom:{WGROUP}") or {}
        assert doc["deliveries"][DAY.isoformat()]["status"] == "claimed"  # the claim survived; never re-sent
        tomorrow = DAY + timedelta(days=1)
        clock.set(at(tomorrow, "07:30"))
        await both.tick()
        await both.tick()
        days = wc_pushed_days(wc, WGROUP)
        assert days == ([heading(DAY)] if delivered else []) + [heading(tomorrow)]


# ----------------------------------------------------------------------------- (d) python run.py


async def _run_py(tmp_path: Path, api: FakeBotAPI, wc: FakeWeCom, dt: FakeDingTalk | None = None,
                  desk_port: int | None = None, **kw: Any) -> asyncio.subprocess.Process:
    """`python run.py --config …` as a subprocess against the fakes (DingTalk too with `dt`), no secrets from the
    environment."""
    cfg = tmp_path / "config.toml"
    text = toml_config(api, wc, tmp_path / "data", **({"dt": dt} if dt is not None else {}), **kw)
    if desk_port is not None:  # the officers' web desk, served by the same process
        text += (f'\n[desk]\nenabled = true\nlisten = "127.0.0.1"\nport = {desk_port}\n'
                 f'public_url = "http://127.0.0.1:{desk_port}"\n')
    cfg.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for k in ("TELEGRAM_BOT_TOKEN", "WECOM_BOT_SECRET", "DINGTALK_CLIENT_SECRET", "DINGTALK_OPENAPI_ENDPOINT"):
        env.pop(k, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run.py"), "--config", str(cfg), cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _finish(proc: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int, str]:
    _out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, err.decode("utf-8", "replace")


async def test_run_py_wrong_wecom_secret_exits_2_with_one_line(
        tmp_path: Path, servers: tuple[FakeBotAPI, FakeWeCom]) -> None:
    api, wc = servers
    proc = await _run_py(tmp_path, api, wc, secret="wrong-secret")
    try:
        code, err = await _finish(proc, timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 2, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("配置错误")]
    assert len(errors) == 1, err
    assert errors[0].startswith("配置错误 / config error: [wecom] bot_id / secret："
                                "企业微信拒绝了 Bot ID / Secret（errcode "), err
    assert err.rstrip("\n").splitlines()[-1] == errors[0], err  # the last word, nothing after it
    assert [line for line in err.splitlines() if "[wecom]" in line] == errors, err  # named on that line only
    assert "wrong-secret" not in err
    assert wc.auth_failures == 1


# ----------------------------------------------------------------------------- (e) three platforms (issue 16)


@pytest.fixture
async def three(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]]:
    async with fakes3(tmp_path) as servers:
        yield servers


def dt_pushed_days(dt: FakeDingTalk, conversation: str, since: int = 0) -> list[str]:
    plain = [d.text.replace("\\", "").replace("*", "") for d in dt.delivered(conversation, since, via="group")]
    return [m.group(1) for t in plain if (m := HEADING.search(t))]


async def subscribe_three(both: Both, hhmm: str = "07:30") -> None:
    await subscribe_both(both, hhmm)
    (reply,) = await both.dt_say(f"订阅 {hhmm}", conversation=DGROUP, user=DINGTALK_OFFICER)
    assert "已订阅" in reply.text and hhmm in reply.text
    assert (both.services.store.push_doc(f"dingtalk:{DGROUP}") or {}).get("sub") is not None


async def test_same_minute_three_platforms_each_pushed_exactly_once(
        tmp_path: Path, three: tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]) -> None:
    api, wc, dt = three
    clock = Clock(at(DAY - timedelta(days=1), "09:30"))
    async with running_both(tmp_path, api, wc, clock=clock, dt=dt) as both:
        await subscribe_three(both)
        (refused,) = await both.dt_say("订阅 07:30", conversation="cidOther==", user="someone", is_admin=True)
        assert "只有" in refused.text  # an organisation admin is not a union officer
        tg_mark, wc_mark, dt_mark = api.mark(), len(wc.frames), len(dt.deliveries)
        clock.set(at(DAY, "07:29", 59))
        await both.tick()
        assert dt.delivered(since=dt_mark) == [] and tg_pushes(api, GROUP, tg_mark) == []
        clock.set(at(DAY, "07:30", 5))
        await asyncio.gather(both.tick(), both.tick(), both.tick())  # three ticks at once
        await both.tick()
        clock.set(at(DAY, "07:31"))
        await both.tick()
        assert len(tg_pushes(api, GROUP, tg_mark)) == 1
        assert len(wc_sends(wc, WGROUP, since=wc_mark)) == 1
        assert dt_pushed_days(dt, DGROUP, dt_mark) == [heading(DAY)]
        assert [d.conversation for d in dt.delivered(since=dt_mark)] == [DGROUP]  # nothing else on DingTalk
        assert not [c for c in api.calls[tg_mark:] if c.method == "sendMessage" and c.chat_id != GROUP]
        assert "<b>" not in dt.delivered(DGROUP, dt_mark)[0].text
        assert not dt.refusals() and not api.rejected()


def crash_on_dingtalk_send(dt: FakeDingTalk, data: Path, image: Path, conversation: str, *, deliver: bool,
                           task: list[asyncio.Task[Any]]) -> None:
    """As crash_on_send, for DingTalk's groupMessages/send."""

    async def hook(kind: str, body: dict[str, Any]) -> bool:
        if kind == "group" and body.get("openConversationId") == conversation and not image.exists():
            shutil.copytree(data, image, ignore=shutil.ignore_patterns("store.lock", "cache"))
            if not deliver:
                for t in task:
                    t.cancel()
                return False
        return True

    dt.on_send = hook


@pytest.mark.parametrize("delivered", [True, False], ids=["crash-after-send", "crash-before-send"])
async def test_kill9_during_three_platform_push_then_restart_never_pushes_twice(
        tmp_path: Path, three: tuple[FakeBotAPI, FakeWeCom, FakeDingTalk], delivered: bool) -> None:
    api, wc, dt = three
    clock = Clock(at(DAY - timedelta(days=1), "09:30"))
    image = tmp_path / "crashed" / "data"
    async with running_both(tmp_path, api, wc, clock=clock, dt=dt) as both:
        await subscribe_three(both)
        tg_mark, wc_mark, dt_mark = api.mark(), len(wc.frames), len(dt.deliveries)
        ticking: list[asyncio.Task[Any]] = []
        crash_on_dingtalk_send(dt, tmp_path / "data", image, DGROUP, deliver=delivered, task=ticking)
        clock.set(at(DAY, "07:30"))
        ticking.append(asyncio.ensure_future(both.tick()))
        await asyncio.gather(*ticking, return_exceptions=True)
        assert image.exists()
        assert len(dt.delivered(DGROUP, dt_mark, via="group")) == (1 if delivered else 0)
        dt.on_send = None

    clock.set(at(DAY, "07:31"))  # restarted over the kill -9 image: fresh Services and adapters, same fakes
    async with running_both(tmp_path, api, wc, clock=clock, data_dir=image, dt=dt) as both:
        for when in ("07:31", "08:00", "09:29", "23:59"):
            clock.set(at(DAY, when))
            await both.tick()
        assert len(dt.delivered(DGROUP, dt_mark, via="group")) == (1 if delivered else 0)  # never twice
        assert len(tg_pushes(api, GROUP, tg_mark)) <= 1 and len(wc_sends(wc, WGROUP, since=wc_mark)) <= 1
        doc = both.services.store.push_doc(f"dingtalk:{DGROUP}") or {}
        assert doc["deliveries"][DAY.isoformat()]["status"] == "claimed"  # the claim survived; never re-sent
        tomorrow = DAY + timedelta(days=1)
        clock.set(at(tomorrow, "07:30"))
        await both.tick()
        await both.tick()
        assert dt_pushed_days(dt, DGROUP, dt_mark) == ([heading(DAY)] if delivered else []) + [heading(tomorrow)]
        assert len(tg_pushes(api, GROUP, tg_mark)) == len(wc_sends(wc, WGROUP, since=wc_mark))


async def test_dingtalk_suggestion_reviewed_in_wecom_tells_proposer_in_dingtalk(
        tmp_path: Path, three: tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]) -> None:
    api, wc, dt = three
    async with running_both(tmp_path, api, wc, dt=dt) as both:
        (receipt,) = await both.dt_say("/suggest 建议职工书屋周末也开放", user="dtproposer", nick="钱七")
        number = _number(receipt.text)
        (page,) = await both.wc_say("/review", userid=WECOM_OFFICER)
        card = page.body["template_card"]
        view = next(b["key"] for b in card["button_list"] if number in b["text"])
        mark = len(wc.frames)
        await wc.click(view, card["task_id"], userid=WECOM_OFFICER)
        (detail,) = await wc.wait_for("aibot_respond_update_msg", since=mark)
        assert "钱七" in detail.content or "钱七" in "".join(f.content for f in wc.delivered(mark))
        accept = next(b["key"] for b in detail.body["template_card"]["button_list"] if "受理" in b["text"])
        dt_mark = len(dt.deliveries)
        await wc.click(accept, card["task_id"], userid=WECOM_OFFICER)
        (told,) = await dt.wait_delivered("dtproposer", since=dt_mark, via="batch")
        assert number in told.text and "已受理" in told.text.replace("*", "")


async def test_run_py_serves_three_platforms_and_the_desk_and_stops_on_sigterm_losing_nothing(
        tmp_path: Path, three: tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]) -> None:
    api, wc, dt = three
    desk_port = free_port()
    proc = await _run_py(tmp_path, api, wc, dt, desk_port=desk_port)
    step = "connecting"
    try:
        await wc.wait_connected(timeout=60)
        await dt.wait_connected(timeout=60)
        step = "/help on Telegram"
        mark = api.mark()
        api.push_message("/help")
        [tg_help] = await api.wait_for("sendMessage", chat_id=1001, since=mark, ok=True, timeout=60)
        assert "/search" in tg_help.text
        step = "/help in WeCom"
        frame = await wc.message("/help", chatid=WGROUP)
        (wc_help,) = await wc.wait_for("aibot_respond_msg", req_id=frame.req_id, timeout=30)
        assert "/search" in wc_help.content and "@我" in wc_help.content  # WeCom's own help note
        step = "the desk in the same process"
        frame = await wc.message("/desk", userid=WECOM_OFFICER)  # a WeCom officer asks for a login link
        (link_msg,) = await wc.wait_for("aibot_respond_msg", req_id=frame.req_id, timeout=30)
        link = re.search(rf"http://127\.0\.0\.1:{desk_port}/login/[\w-]+", link_msg.content)
        assert link, link_msg.content
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{desk_port}/") as r:  # nothing readable without a session
                assert r.status == 401
            async with http.get(link.group(0)) as r:  # the link's confirmation page (GET does not log in)
                assert r.status == 200 and "csrf" in await r.text()
        step = "/help in DingTalk"
        sent = await dt.message("/help", conversation=DGROUP)
        (dt_help,) = await dt.wait_replies(sent, timeout=30)
        assert "/search" in dt_help.text and "钉钉说明" in dt_help.text
        step = "a ping"
        mid = await dt.ping()
        await dt.wait_until(lambda: dt.ping_acked(mid))
        step = "messages acknowledged just before SIGTERM"
        last = [await dt.message(f"搜索 {w}", user=f"late{i}") for i, w in enumerate(["集体合同", "职代会", "工资"])]
        for s in last:
            assert await dt.wait_ack(s) == 200
        step = "stopping on SIGTERM"
        proc.send_signal(signal.SIGTERM)
        code, err = await _finish(proc)
    except (AssertionError, TimeoutError) as e:
        proc.kill()
        _out, err_b = await proc.communicate()
        raise AssertionError(f"{step}: {e!r}\nstderr:\n{err_b.decode('utf-8', 'replace')[-4000:]}") from e
    assert code == 0, err
    assert "Traceback" not in err, err
    assert "telegram started" in err and "wecom started" in err and "dingtalk started" in err
    assert all(dt.replies_to(s) for s in last)  # nothing acknowledged was lost
    assert dt.client_secret not in err and "opaque" not in err and not re.search(r"\bping\b", err, re.I)
    assert not dt.refusals() and not api.rejected()


async def test_run_py_wrong_dingtalk_secret_exits_2_with_one_line(
        tmp_path: Path, three: tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]) -> None:
    api, wc, dt = three
    proc = await _run_py(tmp_path, api, wc, dt, dingtalk_secret="wrong-dt-secret")
    try:
        code, err = await _finish(proc, timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "[dingtalk]" in line]
    assert lines == [err.rstrip("\n").splitlines()[-1]], err
    assert lines[0].startswith("配置错误 / config error: [dingtalk] client_id / client_secret："
                               "钉钉拒绝了 Client ID / Secret（"), err
    assert "wrong-dt-secret" not in err
    assert dt.auth_failures == 1 and not dt.find("gateway", ok=None)
