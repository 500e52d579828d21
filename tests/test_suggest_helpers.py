"""Shared set-up for the suggestion tests: real Store in tmp_path, real content, a controllable clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.commands import dispatch
from bot.config import BotConfig, Config, ContentConfig, StorageConfig
from bot.content import load_content
from bot.core import Reply, Request
from bot.services import Services
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
OFFICER = 700001  # configured officer
ADMIN = 700002  # admin of GROUP only
OTHER_ADMIN = 700003  # admin of OTHER_GROUP only
MEMBER = 700010
GROUP = -1001234567
GROUP_TITLE = "一车间工会群"
OTHER_GROUP = -1007654321
BOT = "union_helper_bot"


class Clock:
    """A settable clock for svc.clock."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


def make_services(data_dir: Path, clock: Clock | None = None, **suggest_cfg: int) -> Services:
    """Services over a real Store in `data_dir`, the project's content, officers and group admins."""
    from bot.config import SuggestionsConfig

    cfg = Config(
        storage=StorageConfig(dir=str(data_dir)),
        content=ContentConfig(dir=str(ROOT / "content")),
        bot=BotConfig(officers=(OFFICER,)),
        suggestions=SuggestionsConfig(**suggest_cfg),
    )
    svc = Services(config=cfg, content=load_content(cfg.content_dir), store=Store(cfg.data_dir), clock=clock)
    admins = {(GROUP, ADMIN), (OTHER_GROUP, OTHER_ADMIN)}

    async def admin_check(chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in admins

    svc.admin_check = admin_check
    return svc


def pm(uid: int, text: str = "", name: str = "张三", data: str | None = None) -> Request:
    """A private-chat message (or button press when `data`)."""
    return Request(chat_id=uid, chat_type="private", user_id=uid, user_name=name, text=text, callback_data=data,
                   bot_username=BOT)


def grp(uid: int, text: str = "", name: str = "张三", chat: int = GROUP, data: str | None = None) -> Request:
    """A group message (or button press)."""
    return Request(chat_id=chat, chat_type="supergroup", user_id=uid, user_name=name, text=text,
                   chat_title=GROUP_TITLE if chat == GROUP else "二车间", callback_data=data, bot_username=BOT)


async def say(svc: Services, req: Request) -> list[Reply]:
    """Dispatch one request through the real core."""
    return await dispatch(req, svc)


def button(replies: list[Reply], label: str) -> str:
    """The callback data of the first button whose text contains `label`."""
    for r in replies:
        for row in r.buttons:
            for b in row:
                if label in b.text and b.data:
                    return b.data
    raise AssertionError(f"no button {label!r} in {[b.text for r in replies for row in r.buttons for b in row]}")


def text_of(replies: list[Reply]) -> str:
    """All reply texts joined (what the user reads)."""
    return "\n".join(r.text for r in replies)


def to(replies: list[Reply], chat_id: int) -> list[Reply]:
    """The replies addressed to `chat_id` (notifications)."""
    return [r for r in replies if r.chat_id == chat_id]
