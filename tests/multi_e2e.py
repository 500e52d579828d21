"""End-to-end harness for one process serving Telegram and WeCom together (issue 9), and DingTalk too (issue 16).

`running_both(tmp_path)` builds ONE Services (one Store in `tmp_path / "data"`, one clock) and ONE Config with
[telegram] pointing at a FakeBotAPI and [wecom] at a FakeWeCom (trusting its test CA via ca_file), then starts
both real adapters as bot/runtime.py does: `TelegramPlatform(config, svc).start()` then
`WecomAdapter(config, svc).start()`. PTB's JobQueue tick job is removed right after start (its first run, at
start and at the clock's start time, may have gone already), so the only other ticks are the ones a test runs
(`await both.tick()` = bot.ticks.run_ticks: every feature's tick once) at the clock's time. Both are stopped on
exit (in the runtime's reverse order). Passing the same `api` / `wecom` servers and `data_dir` again is a restart
over the same data.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e import ROOT, Clock, make_config
from fakebotapi import DEFAULT_USER, Call, FakeBotAPI, FloodLimits, User
from fakedingtalk import Delivery, FakeDingTalk
from fakewecom import FakeWeCom, Frame

from bot.adapters.dingtalk import DingtalkAdapter
from bot.adapters.wecom import WecomAdapter
from bot.config import Config, DingtalkConfig, WecomConfig
from bot.runtime import TelegramPlatform
from bot.services import Services, create_services
from bot.ticks import run_ticks

BOT_ID = "aib-multi-bot"
SECRET = "multi-secret"
WECOM_OFFICER = "officer1"
DINGTALK_ID = "dingmultiapp"
DINGTALK_SECRET = "multi-dingtalk-secret"
DINGTALK_OFFICER = "dtofficer1"


@dataclass
class Both:
    """The one process (Services, both platforms) and the two fake servers it talks to."""

    api: FakeBotAPI
    wc: FakeWeCom
    services: Services
    config: Config
    clock: Clock
    telegram: TelegramPlatform
    wecom: WecomAdapter
    #: With a fake DingTalk (issue 16): the third platform, in the same process.
    dt: FakeDingTalk | None = None
    dingtalk: DingtalkAdapter | None = None

    async def tick(self) -> None:
        """The runtime's periodic job, once, at the clock's time."""
        await run_ticks(self.services)

    # --- Telegram side ---------------------------------------------------------------------------------

    async def tg_say(self, text: str, *, user: User = DEFAULT_USER, chat_id: int | None = None,
                     replies: int = 1, timeout: float = 10.0) -> list[Call]:
        target = user.id if chat_id is None else chat_id
        mark = self.api.mark()
        self.api.push_message(text, user=user, chat_id=chat_id)
        return await self.api.wait_for("sendMessage", replies, chat_id=target, since=mark, ok=True, timeout=timeout)

    async def tg_said(self, text: str, **kw: Any) -> str:
        return "\n".join(c.text for c in await self.tg_say(text, **kw))

    # --- WeCom side ------------------------------------------------------------------------------------

    async def wc_say(self, text: str, *, userid: str = "zhangsan", chatid: str | None = None, replies: int = 1,
                     timeout: float = 10.0) -> list[Frame]:
        mark = len(self.wc.frames)
        frame = await self.wc.message(text, userid=userid, chatid=chatid)
        return await self.wc.wait_for("aibot_respond_msg", replies, since=mark, req_id=frame.req_id,
                                      timeout=timeout)


    # --- DingTalk side (with `dt`) ------------------------------------------------------------------------

    async def dt_say(self, text: str, *, user: str = "zhangsan", conversation: str | None = None, replies: int = 1,
                     timeout: float = 10.0, **kw: Any) -> list[Delivery]:
        assert self.dt is not None
        sent = await self.dt.message(text, user=user, conversation=conversation, **kw)
        return await self.dt.wait_replies(sent, replies, timeout=timeout)


def both_config(api: FakeBotAPI, wc: FakeWeCom, data_dir: Path, *, officers: tuple[int, ...] = (),
                wecom_officers: tuple[str, ...] = (WECOM_OFFICER,), secret: str | None = None,
                dt: FakeDingTalk | None = None, dingtalk_officers: tuple[str, ...] = (DINGTALK_OFFICER,),
                dingtalk_secret: str | None = None) -> Config:
    """[telegram] at the fake Bot API (polling), [wecom] at the fake WeCom (ca_file), [dingtalk] at the fake
    DingTalk when `dt` is given, one data dir."""
    base = make_config(api, data_dir, "polling", officers)
    cfg = dataclasses.replace(base, wecom=WecomConfig(
        bot_id=wc.bot_id, secret=wc.secret if secret is None else secret, ws_url=wc.url,
        officers=wecom_officers, ca_file=wc.ca_file,
    ))
    if dt is not None:
        cfg = dataclasses.replace(cfg, dingtalk=DingtalkConfig(
            client_id=dt.client_id, client_secret=dt.client_secret if dingtalk_secret is None else dingtalk_secret,
            officers=dingtalk_officers, endpoint=dt.url,
        ))
    return cfg


def toml_config(api: FakeBotAPI, wc: FakeWeCom, data_dir: Path, *, secret: str | None = None,
                officers: tuple[int, ...] = (), wecom_officers: tuple[str, ...] = (WECOM_OFFICER,),
                dt: FakeDingTalk | None = None, dingtalk_secret: str | None = None,
                dingtalk_officers: tuple[str, ...] = (DINGTALK_OFFICER,)) -> str:
    """The same configuration as a config.toml for `python run.py --config ...`."""

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join([
        "[telegram]", f"token = {q(api.token)}", f"api_base_url = {q(api.base_url)}", 'mode = "polling"', "",
        "[bot]", f"officers = [{', '.join(str(o) for o in officers)}]", "",
        "[storage]", f"dir = {q(str(data_dir))}", "",
        "[content]", f"dir = {q(str(ROOT / 'content'))}", "",
        "[wecom]", f"bot_id = {q(wc.bot_id)}", f"secret = {q(wc.secret if secret is None else secret)}",
        f"ws_url = {q(wc.url)}", f"ca_file = {q(wc.ca_file)}",
        f"officers = [{', '.join(q(o) for o in wecom_officers)}]", "",
        *([
            "[dingtalk]", f"client_id = {q(dt.client_id)}",
            f"client_secret = {q(dt.client_secret if dingtalk_secret is None else dingtalk_secret)}",
            f"endpoint = {q(dt.url)}", f"officers = [{', '.join(q(o) for o in dingtalk_officers)}]", "",
        ] if dt is not None else []),
    ])


def drop_tick_job(platform: TelegramPlatform) -> None:
    """Remove PTB's JobQueue tick job (post_init schedules it): tests run the ticks themselves."""
    jq = platform.app.job_queue
    if jq is not None:
        for job in jq.get_jobs_by_name("ticks"):
            job.schedule_removal()


@contextlib.asynccontextmanager
async def fakes(tmp_path: Path, *, flood: FloodLimits | None = None,
                limits: bool = True) -> AsyncIterator[tuple[FakeBotAPI, FakeWeCom]]:
    """Both fake servers, started; they outlive any number of bot restarts inside."""
    async with FakeBotAPI(flood=flood) as api, FakeWeCom(BOT_ID, SECRET, tmp=tmp_path, limits=limits) as wc:
        yield api, wc


@contextlib.asynccontextmanager
async def fakes3(tmp_path: Path, *, flood: FloodLimits | None = None,
                 limits: bool = True) -> AsyncIterator[tuple[FakeBotAPI, FakeWeCom, FakeDingTalk]]:
    """The three fake servers (Telegram, WeCom, DingTalk), started; they outlive bot restarts inside."""
    async with fakes(tmp_path, flood=flood, limits=limits) as (api, wc), \
            FakeDingTalk(DINGTALK_ID, DINGTALK_SECRET, limits=limits) as dt:
        yield api, wc, dt


@contextlib.asynccontextmanager
async def running_both(
    tmp_path: Path, api: FakeBotAPI, wc: FakeWeCom, *, clock: Clock | None = None, data_dir: Path | None = None,
    officers: tuple[int, ...] = (), wecom_officers: tuple[str, ...] = (WECOM_OFFICER,),
    dt: FakeDingTalk | None = None, **wecom_kw: Any,
) -> AsyncIterator[Both]:
    """One Services, both real adapters started against `api` and `wc` (and the DingTalk adapter against `dt` when
    given: all three in one process); stopped (and the store closed) on exit."""
    config = both_config(api, wc, data_dir or tmp_path / "data", officers=officers, wecom_officers=wecom_officers,
                         dt=dt)
    clk = clock or Clock()
    svc = create_services(config, clock=clk)
    telegram = TelegramPlatform(config, svc)
    wecom = WecomAdapter(config, svc, **wecom_kw)
    dingtalk = DingtalkAdapter(config, svc, retry_base=0.05, reconnect_base=0.05) if dt is not None else None
    started: list[Any] = []
    try:
        await telegram.start()
        started.append(telegram)
        drop_tick_job(telegram)
        await wecom.start(timeout=15)
        started.append(wecom)
        await wc.wait_connected()
        if dingtalk is not None and dt is not None:
            await dingtalk.start(timeout=15)
            started.append(dingtalk)
            await dt.wait_connected()
        yield Both(api, wc, svc, config, clk, telegram, wecom, dt, dingtalk)
    finally:
        for platform in reversed(started):
            await platform.stop()
        svc.close()  # idempotent; TelegramPlatform.stop closed it already (post_shutdown)
