"""End-to-end harness for DingTalk: the real DingtalkAdapter (on DingTalk's SDK) against tests/fakedingtalk.py.

`running_dingtalk(tmp_path)` starts the adapter as `run.py dingtalk` does, with a real store in tmp_path, the
real content and a controllable clock; tests talk to it as members:
`await dt.say("搜索 集体合同", conversation=GROUP)` returns what the bot answered through the sessionWebhook.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from e2e import ROOT, Clock
from fakedingtalk import Delivery, FakeDingTalk, Sent

from bot.adapters.dingtalk import DingtalkAdapter
from bot.config import Config, ContentConfig, DingtalkConfig, StorageConfig
from bot.services import Services, create_services

CLIENT_ID = "dingtestapp"
SECRET = "test-secret"
GROUP = "cidGroup0001=="
OFFICER = "officer1"
_DTMD = re.compile(r"\[([^\]]*)\]\((dtmd://dingtalkclient/sendMessage\?content=[^)]*)\)")


def taps(text: str) -> dict[str, str]:
    """The tappable choices in a DingTalk markdown text: link label (plain) -> the text a tap sends."""
    out = {}
    for label, url in _DTMD.findall(text):
        out[re.sub(r"^\d+\\?\.\s*", "", label.replace("\\", ""))] = unquote(url.split("content=", 1)[1])
    return out


@dataclass
class RunningDingtalk:
    server: FakeDingTalk
    adapter: DingtalkAdapter
    services: Services
    config: Config
    clock: Clock

    async def say(self, text: str, *, user: str = "zhangsan", conversation: str | None = None, replies: int = 1,
                  timeout: float = 10.0, **kw: Any) -> list[Delivery]:
        """A member sends `text`; wait for `replies` messages answered to it."""
        sent = await self.server.message(text, user=user, conversation=conversation, **kw)
        return await self.server.wait_replies(sent, replies, timeout=timeout)

    async def send(self, text: str, **kw: Any) -> Sent:
        return await self.server.message(text, **kw)

    async def tap(self, reply: Delivery, label: str, *, user: str = "zhangsan", replies: int = 1,
                  timeout: float = 10.0, **kw: Any) -> list[Delivery]:
        """The member taps the choice labelled `label` in `reply` (their client sends its text)."""
        options = taps(reply.text)
        content = next((v for k, v in options.items() if label in k), None)
        assert content is not None, f"no tappable {label!r} in {list(options)}"
        return await self.say(content, user=user, replies=replies, timeout=timeout, **kw)


def dingtalk_config(tmp_path: Path, server: FakeDingTalk, **dingtalk: Any) -> Config:
    d = {"client_id": server.client_id, "client_secret": SECRET, "endpoint": server.url, "officers": (OFFICER,),
         **dingtalk}
    return Config(
        storage=StorageConfig(dir=str(tmp_path / "data")),
        content=ContentConfig(dir=str(ROOT / "content")),
        dingtalk=DingtalkConfig(**d),
    )


@contextlib.asynccontextmanager
async def running_dingtalk(tmp_path: Path, *, limits: bool = True, start: bool = True,
                           fake: dict[str, Any] | None = None, adapter: dict[str, Any] | None = None,
                           **dingtalk: Any) -> AsyncIterator[RunningDingtalk]:
    async with FakeDingTalk(CLIENT_ID, SECRET, limits=limits, **(fake or {})) as server:
        config = dingtalk_config(tmp_path, server, **dingtalk)
        clock = Clock()
        svc = create_services(config, clock=clock)
        bot = DingtalkAdapter(config, svc, **{"retry_base": 0.05, "reconnect_base": 0.05, **(adapter or {})})
        try:
            if start:
                await bot.start(timeout=10)
            yield RunningDingtalk(server, bot, svc, config, clock)
        finally:
            await bot.stop()
            svc.close()
