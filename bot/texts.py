"""Every user-facing Chinese string and formatter, in one place. All output is Telegram HTML."""

from __future__ import annotations

from html import escape

__all__ = ["escape"]

# --- general ----------------------------------------------------------------------------------

INTERNAL_ERROR = "抱歉，处理时出了点问题，已记录。请稍后再试。"
BUTTON_EXPIRED = "这个按钮已失效，请重新发送命令。"


def split_message(text: str, limit: int = 4096) -> list[str]:
    """Split HTML text into messages of at most `limit` characters, at paragraph, then line, then sentence ends.

    Tags must not span a paragraph (our formatters close every tag on its own line), so each part stays valid.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if current and len(current) + len(piece) > limit:
            parts.append(current.rstrip("\n"))
            current = ""
        current += piece
    if current.strip():
        parts.append(current.rstrip("\n"))
    return [p for p in parts if p.strip()]


def _pieces(text: str, limit: int) -> list[str]:
    """Cut text into pieces no longer than `limit`, each ending at the best boundary available."""
    out: list[str] = []
    for para in text.split("\n"):
        para += "\n"
        while len(para) > limit:
            cut = max(para.rfind(p, 0, limit) for p in "。！？；;.!?，, ")
            cut = cut + 1 if cut > 0 else limit
            out.append(para[:cut])
            para = para[cut:]
        out.append(para)
    return out


def unknown_command(name: str) -> str:
    return f"没有 /{escape(name)} 这个命令。发送 /help 查看全部命令。"


# --- console ---------------------------------------------------------------------------------

CONSOLE_HELP = (
    "控制台命令：:group 切到群聊  :private 切到私聊  :admin 以管理员身份  :member 以普通成员身份  "
    ":user ID 名字 换一个用户  :1 :2 … 按下上一条回复的按钮  :tick 立即检查定时任务  :quit 退出"
)
CONSOLE_NO_BUTTON = "没有这个按钮编号。"
CONSOLE_USER_USAGE = "用法：:user 12345 张三"
CONSOLE_BYE = "再见！"


def console_banner(interactive: bool) -> str:
    """The first line of a console session."""
    if not interactive:
        return "工会助手 · 控制台（脚本模式）"
    return "工会助手 · 本地控制台。像在聊天里一样输入，例如 /help、/today、搜索 职代会。\n" + CONSOLE_HELP


def console_switched(where: str) -> str:
    return f"（已切换：{where}）"


# --- start / help / today -----------------------------------------------------------------------


def welcome(private: bool) -> str:
    """The /start greeting."""
    where = "在私聊里直接发关键词即可检索，" if private else "在群里请用命令或“搜索 关键词”，"
    return (
        "<b>您好，我是工会助手。</b>\n"
        "📌 每日一招：每天推送一条工会工作好做法（/today 看今天的）。\n"
        "🔍 关键词检索：发送 /search 集体合同 或“搜索 职代会”，"
        f"{where}返回最相关的段落并标明出处。\n"
        "💡 合理化建议：发送“建议 内容”或 /suggest，工会收到后会逐条答复。\n"
        "发送 /help 查看全部命令。"
    )


def help_text(table: list) -> str:  # list[Command]; untyped to keep texts free of imports
    """/help: one line per command with usage and Chinese aliases, officers' commands apart."""
    def line(c: object) -> str:
        usage = escape(c.usage or f"/{c.name}")  # type: ignore[attr-defined]
        aliases = "、".join(escape(a) for a in c.aliases)  # type: ignore[attr-defined]
        alias = f"（也可说：{aliases}）" if aliases else ""
        return f"{usage} — {escape(c.help)}{alias}"  # type: ignore[attr-defined]

    members = [line(c) for c in table if c.audience == "member"]
    officers = [line(c) for c in table if c.audience == "officer"]
    parts = ["<b>工会助手 · 命令一览</b>", *members]
    if officers:
        parts += ["", "<b>工会干部（群管理员及配置的干部）</b>", *officers]
    parts += ["", "私聊时直接发送关键词即可检索；群里请用命令或中文说法（如“搜索 职代会”）。"]
    return "\n".join(parts)

# --- daily push -------------------------------------------------------------------------------

# --- search -----------------------------------------------------------------------------------

# --- suggestions ------------------------------------------------------------------------------
