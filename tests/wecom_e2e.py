"""End-to-end harness for WeCom: the real WecomAdapter (on Tencent's SDK) against tests/fakewecom.py.

`running_wecom(tmp_path)` starts the adapter exactly as `run_wecom` does, with a real store in tmp_path,
the real content and a controllable clock; tests talk to it as members:
`await wc.say("搜索 集体合同", chatid="wrGroup1")` returns the frames the bot sent back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e import ROOT, Clock
from fakewecom import FakeWeCom, Frame

from bot.adapters.wecom import WecomAdapter
from bot.config import Config, ContentConfig, StorageConfig, WecomConfig
from bot.services import Services, create_services

BOT_ID = "aib-test-bot"
SECRET = "test-secret"
GROUP = "wrGroup0001"
OFFICER = "officer1"


@dataclass
class RunningWecom:
    server: FakeWeCom
    adapter: WecomAdapter
    services: Services
    config: Config
    clock: Clock
    extra: dict[str, Any] = field(default_factory=dict)

    async def say(self, text: str, *, userid: str = "zhangsan", chatid: str | None = None, replies: int = 1,
                  timeout: float = 10.0, **kw: Any) -> list[Frame]:
        """A member sends `text`; wait for `replies` answered reply frames to it."""
        mark = len(self.server.frames)
        frame = await self.server.message(text, userid=userid, chatid=chatid, **kw)
        return await self.server.wait_for("aibot_respond_msg", replies, since=mark, req_id=frame.req_id,
                                          timeout=timeout)


def wecom_config(tmp_path: Path, server: FakeWeCom, **wecom: Any) -> Config:
    w = {"bot_id": BOT_ID, "secret": SECRET, "ws_url": server.url, "officers": (OFFICER,),
         "ca_file": server.ca_file, **wecom}
    return Config(
        storage=StorageConfig(dir=str(tmp_path / "data")),
        content=ContentConfig(dir=str(ROOT / "content")),
        wecom=WecomConfig(**w),
    )


@contextlib.asynccontextmanager
async def running_wecom(tmp_path: Path, *, limits: bool = True, start: bool = True,
                        **wecom: Any) -> AsyncIterator[RunningWecom]:
    async with FakeWeCom(BOT_ID, SECRET, tmp=tmp_path, limits=limits) as server:
        config = wecom_config(tmp_path, server, **wecom)
        clock = Clock()
        svc = create_services(config, clock=clock)
        adapter = WecomAdapter(config, svc, reconnect_ms=50, retry_base=0.05)
        try:
            if start:
                await adapter.start(timeout=10)
            yield RunningWecom(server, adapter, svc, config, clock)
        finally:
            await adapter.stop()
            svc.close()
