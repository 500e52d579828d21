"""A local chat on the same core, for operators without a Telegram token (like errbot's Text backend).

Type as in a chat (`/help`, `/today`, `搜索 职代会`, `建议 …`). Lines starting with `:` control the
console itself: switch between a group and a private chat, act as an admin or a plain member,
press a button of the last reply. Reads piped stdin too, so it can be scripted; exits on EOF/Ctrl-C.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sys
import threading
from typing import TextIO

from bot import texts
from bot.adapters import render
from bot.commands import dispatch
from bot.core import CONSOLE, Button, Reply, Request, qualify
from bot.services import Services
from bot.ticks import Ticker, run_ticks, start_scheduler

log = logging.getLogger(__name__)

PRIVATE_USER_ID = "10001"
GROUP_CHAT_ID = qualify(CONSOLE, -1001000000001)


class ConsoleChat:
    """One console session: who you are, where you are, and the buttons of the last reply."""

    def __init__(self, svc: Services, out: TextIO, *, color: bool = False) -> None:
        self.svc = svc
        self.out = out
        self.color = color
        self.user_id = PRIVATE_USER_ID
        self.user_name = texts.CONSOLE_USER_NAME
        self.chat_type = "private"
        self.admin = False
        self.buttons: list[Button] = []
        #: How replies are shown: "plain" (a terminal's view), or exactly what "telegram" / "wecom" / "dingtalk"
        #: would be sent.
        self.preview = "plain"
        self.bot_username = "union_helper_bot"
        svc.senders[CONSOLE] = self.deliver
        svc.admin_checks[CONSOLE] = self._admin_check

    async def _admin_check(self, chat_id: str, user_id: str) -> bool:
        return self.admin and user_id == self.qualified_user

    @property
    def qualified_user(self) -> str:
        return qualify(CONSOLE, self.user_id)

    @property
    def chat_id(self) -> str:
        return self.qualified_user if self.chat_type == "private" else GROUP_CHAT_ID

    def where(self) -> str:
        """A short description of the current chat and role, for the prompt."""
        return texts.console_where(self.chat_type == "private", self.admin)

    async def deliver(self, reply: Reply) -> None:
        """The Sender for pushes and notifications: print them, marked with their target chat."""
        target = reply.chat_id if reply.chat_id is not None else self.chat_id
        here = target == self.chat_id
        self.show(reply, prefix="" if here else texts.console_sent_to(target))

    def show(self, reply: Reply, prefix: str = "") -> None:
        """Print one reply: HTML rendered for a terminal, buttons numbered."""
        if reply.toast:
            self.out.write(f"{prefix}{texts.CONSOLE_TOAST}{reply.toast}\n")
        if reply.text or (self.preview == "dingtalk" and reply.buttons):
            for part in self.rendered(reply.text, reply.buttons):
                self.out.write(prefix + part + "\n")
        if reply.document is not None:
            self.out.write(f"{prefix}{texts.CONSOLE_FILE}{reply.document}\n")
        if reply.photo is not None:
            path = self.svc.config.data_dir / "console-chart.png"
            path.write_bytes(reply.photo)
            self.out.write(f"{prefix}{texts.CONSOLE_PHOTO}{path}\n")
        if reply.buttons and not prefix:
            flat = [b for row in reply.buttons for b in row]
            self.buttons = flat
            labels = "  ".join(f"[{i}] {b.text}" + (f" {b.url}" if b.url else "") for i, b in enumerate(flat, 1))
            self.out.write(f"{labels}   {texts.CONSOLE_PRESS_HINT}\n")
        self.out.flush()

    def rendered(self, text: str, buttons: list[list[Button]] | None = None) -> list[str]:
        """The reply as the current preview shows it: one terminal text, or each platform message's source
        (DingTalk's with its buttons as they would be rendered, and each part's size as DingTalk counts it)."""
        if self.preview == "telegram":
            parts = texts.split_message(text)
            return [texts.console_preview_part("Telegram HTML", i, len(parts), p) for i, p in enumerate(parts, 1)]
        if self.preview == "wecom":
            parts = render.split_markdown(render.to_markdown(text))
            return [texts.console_preview_part("WeCom markdown", i, len(parts), p) for i, p in enumerate(parts, 1)]
        if self.preview == "dingtalk":
            from bot.adapters import dingtalk

            group = self.chat_type != "private"
            dparts = dingtalk.render_parts(Reply(text, buttons=buttons or []), group, token=lambda b: "k0preview")
            return [texts.console_preview_part(f"DingTalk markdown · {title}", i, len(dparts), body,
                                               dingtalk.escaped_size(body))
                    for i, (title, body) in enumerate(dparts, 1)]
        return [self.render(text)]

    def render(self, text: str) -> str:
        """Telegram HTML -> terminal text: bold kept as ANSI (or plain), other tags dropped, entities decoded."""
        if self.color:
            text = re.sub(r"<b>(.*?)</b>", "\033[1m\\1\033[0m", text, flags=re.S)
        text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 (\1)", text, flags=re.S)
        text = re.sub(r"</?[a-zA-Z][^>]*>", "", text)
        return html.unescape(text)

    def request(self, text: str = "", callback: str | None = None) -> Request:
        """A core Request as if sent from the current chat by the current user."""
        admin = self.admin

        async def is_admin() -> bool:
            return admin

        return Request(
            chat_id=self.chat_id,
            chat_type=self.chat_type,  # type: ignore[arg-type]
            user_id=self.qualified_user,
            user_name=self.user_name,
            text=text,
            chat_title=texts.CONSOLE_GROUP_TITLE if self.chat_type != "private" else "",
            callback_data=callback,
            is_chat_admin=is_admin,
            bot_username=self.bot_username,
            addressed=f"@{self.bot_username}" in text,
            platform=CONSOLE,
            private_link=self._private_link,
        )

    def _private_link(self, start: str) -> str:
        return f"https://t.me/{self.bot_username}" + (f"?start={start}" if start else "")

    async def handle_line(self, line: str) -> bool:
        """Handle one typed line; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return await self.meta(line[1:].strip())
        for reply in await dispatch(self.request(line), self.svc):
            await self._deliver_reply(reply)
        return True

    async def _deliver_reply(self, reply: Reply) -> None:
        if reply.chat_id is not None and reply.chat_id != self.chat_id:
            await self.deliver(reply)
        else:
            self.show(reply)

    async def meta(self, cmd: str) -> bool:
        """Console controls: :group :private :admin :member :user ID 名字 :N (press button N) :quit :help."""
        word, _, rest = cmd.partition(" ")
        if word in ("q", "quit", "exit", "退出"):
            return False
        if word.isdigit():
            n = int(word)
            if not 1 <= n <= len(self.buttons):
                self.out.write(texts.CONSOLE_NO_BUTTON + "\n")
                return True
            button = self.buttons[n - 1]
            if button.url:
                m = re.search(r"start=(\w+)", button.url)
                if m:  # a deep link into the private chat
                    self.chat_type = "private"
                    self.out.write(texts.console_switched(self.where()) + "\n")
                    for reply in await dispatch(self.request(f"/start {m.group(1)}"), self.svc):
                        await self._deliver_reply(reply)
                else:
                    self.out.write(f"🔗 {button.url}\n")
                return True
            for reply in await dispatch(self.request(callback=button.data), self.svc):
                await self._deliver_reply(reply)
            return True
        if word in ("group", "群", "群聊"):
            self.chat_type = "supergroup"
        elif word in ("private", "私聊"):
            self.chat_type = "private"
        elif word in ("admin", "管理员"):
            self.admin = True
        elif word in ("member", "成员"):
            self.admin = False
        elif word in ("user", "用户"):
            uid, _, name = rest.partition(" ")
            if not uid.lstrip("-").isdigit():
                self.out.write(texts.CONSOLE_USER_USAGE + "\n")
                return True
            self.user_id = str(int(uid))
            self.user_name = name.strip() or texts.console_user_name(uid)
        elif word in ("telegram", "wecom", "dingtalk", "plain"):
            self.preview = word
            self.out.write(texts.console_preview(word) + "\n")
            return True
        elif word in ("tick", "时钟"):
            await run_ticks(self.svc)
            return True
        else:
            self.out.write(texts.CONSOLE_HELP + "\n")
            return True
        self.out.write(texts.console_switched(self.where()) + "\n")
        self.out.flush()
        return True


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str]) -> None:
    """Feed stdin lines into `queue` from a daemon thread ("" at EOF), so Ctrl-C never waits on a read."""
    try:
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
    except (OSError, ValueError):
        pass
    loop.call_soon_threadsafe(queue.put_nowait, "")


async def run_console(svc: Services, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the console chat until EOF, `:quit` or Ctrl-C; pushes print as they fall due."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()
    chat = ConsoleChat(svc, out, color=interactive and out.isatty())
    out.write(texts.console_banner(interactive) + "\n")
    out.flush()
    desk = None
    if svc.config.desk.enabled:  # the officers' web desk (bot/desk): /desk prints a login link
        from bot.desk import DeskServer

        desk = DeskServer(svc)
        await desk.start()
    lines: asyncio.Queue[str] = asyncio.Queue()
    reader = threading.Thread(
        target=_read_lines, args=(stdin, asyncio.get_running_loop(), lines), daemon=True, name="console-stdin"
    )
    reader.start()
    ticker = Ticker(svc)  # pushes on the minute, as on the other platforms (bot/ticks.py)
    scheduler = start_scheduler(ticker, svc.config.tz)
    try:
        while True:
            if interactive:
                out.write(f"[{chat.where()}] > ")
                out.flush()
            line = await lines.get()
            if not line:
                break
            if not interactive:
                out.write(f"> {line.rstrip()}\n")
            if not await chat.handle_line(line):
                break
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        scheduler.shutdown(wait=False)
        await ticker.stop()
        if desk is not None:
            await desk.stop()
        out.write(texts.CONSOLE_BYE + "\n")
        out.flush()
    return 0
