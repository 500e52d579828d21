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
# Ids as the core sees them (platform-qualified); [bot] officers in the config holds Telegram's ints.
OFFICER_TG = 700001
OFFICER = f"tg:{OFFICER_TG}"  # configured officer
ADMIN = "tg:700002"  # admin of GROUP only
OTHER_ADMIN = "tg:700003"  # admin of OTHER_GROUP only
GROUP = "tg:-1001234567"
GROUP_TITLE = "一车间工会群"
OTHER_GROUP = "tg:-1007654321"
BOT = "union_helper_bot"


def member(i: int = 0) -> str:
    """The i-th ordinary member (a different user for each i)."""
    return f"tg:{700010 + i}"


MEMBER = member(0)


def private_link(start: str) -> str:
    """The deep link the Telegram adapter puts into a Request."""
    return f"https://t.me/{BOT}" + (f"?start={start}" if start else "")


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
        bot=BotConfig(officers=(OFFICER_TG,)),
        suggestions=SuggestionsConfig(**suggest_cfg),
    )
    svc = Services(config=cfg, content=load_content(cfg.content_dir), store=Store(cfg.data_dir), clock=clock)
    admins = {(GROUP, ADMIN), (OTHER_GROUP, OTHER_ADMIN)}

    async def admin_check(chat_id: str, user_id: str) -> bool:
        return (chat_id, user_id) in admins

    svc.admin_checks["tg"] = admin_check
    return svc


def pm(uid: str, text: str = "", name: str = "张三", data: str | None = None) -> Request:
    """A private-chat message (or button press when `data`); a private chat's id is its user's."""
    return Request(chat_id=uid, chat_type="private", user_id=uid, user_name=name, text=text, callback_data=data,
                   bot_username=BOT, platform="tg", private_link=private_link)


def grp(uid: str, text: str = "", name: str = "张三", chat: str = GROUP, data: str | None = None) -> Request:
    """A group message (or button press)."""
    return Request(chat_id=chat, chat_type="supergroup", user_id=uid, user_name=name, text=text,
                   chat_title=GROUP_TITLE if chat == GROUP else "二车间", callback_data=data, bot_username=BOT,
                   platform="tg", private_link=private_link)


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


def to(replies: list[Reply], chat_id: str) -> list[Reply]:
    """The replies addressed to `chat_id` (notifications)."""
    return [r for r in replies if r.chat_id == chat_id]
