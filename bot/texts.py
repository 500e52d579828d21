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

SG_USAGE = (
    "💡 <b>提合理化建议</b>\n"
    "• 直接发送：<code>建议 内容</code> 或 <code>/suggest 内容</code>（署名，类别为“其他”）\n"
    "• 指定类别：<code>建议 [安全生产] 内容</code>\n"
    "　（类别：安全生产、节支降耗、技术革新、管理改进、职工生活、其他）\n"
    "• 分步填写（可选类别、可匿名）：单独发送 /suggest\n"
    "随时发送 /cancel 或“取消”可放弃。"
)
SG_CHOOSE_CATEGORY = "💡 <b>提合理化建议</b>（第 1/3 步）\n请选择建议类别："
SG_CATEGORY_BY_BUTTON = "请点上方按钮选择类别，或发送 /cancel 取消。"
SG_SIGN_BY_BUTTON = "请点上方按钮选择“署名”或“匿名”，或发送 /cancel 取消。"
SG_CONFIRM_BY_BUTTON = "请点上方按钮“确认提交”，或发送 /cancel 取消。"
SG_BTN_NAMED = "署名"
SG_BTN_ANON = "匿名"
SG_BTN_CONFIRM = "✅ 确认提交"
SG_BTN_CANCEL = "取消"
SG_BTN_PRIVATE = "私聊我继续填写"
SG_GROUP_GO_PRIVATE = (
    "群里不便分步填写。请点下方按钮私聊我继续（可选类别、可匿名）；\n"
    "也可以在群里直接发送 <code>建议 内容</code> 署名提交。"
)
SG_FLOW_EXPIRED = "操作已超时或已结束，请重新发送 /suggest。"
SG_CANCELLED = "已取消。"
SG_NOTHING_TO_CANCEL = "当前没有进行中的操作。"
SG_ANON_NOTE = "匿名提交：不会记录你的身份，也就无法私信告知你处理进度，可凭编号向工会询问。"


def sg_ask_text(category: str, min_chars: int, max_chars: int) -> str:
    """Flow step 2: ask for the suggestion text."""
    return (
        f"💡 类别：<b>{escape(category)}</b>（第 2/3 步）\n"
        f"请直接发送建议内容（{min_chars}–{max_chars} 字），写清问题和改进办法。"
    )


def sg_ask_sign(category: str, text: str) -> str:
    """Flow step 3: named or anonymous."""
    return (
        f"💡 类别：<b>{escape(category)}</b>（第 3/3 步）\n"
        f"<blockquote>{escape(_clip(text, 600))}</blockquote>\n"
        "请选择署名还是匿名。署名的建议，处理进度会私信告知你。"
    )


def sg_confirm(category: str, text: str, anonymous: bool) -> str:
    """Flow: the preview before submitting."""
    who = "匿名" if anonymous else "署名"
    extra = f"\n{SG_ANON_NOTE}" if anonymous else ""
    return (
        f"请确认提交：\n类别：<b>{escape(category)}</b>　方式：<b>{who}</b>\n"
        f"<blockquote>{escape(_clip(text, 1500))}</blockquote>{extra}"
    )


def sg_length(n: int, min_chars: int, max_chars: int) -> str:
    """The text is too short or too long."""
    return f"建议内容需 {min_chars}–{max_chars} 字，你发送的是 {n} 字，请修改后重新发送。"


def sg_duplicate(number: str) -> str:
    """The same text from the same person within 24 hours."""
    ref = f"（编号 {escape(number)}）" if number else ""
    return f"这条建议你在 24 小时内已经提交过{ref}，不再重复登记。"


def sg_rate_limited(per_hour: int, at: str) -> str:
    """Too many submissions in the last hour; `at` is HH:MM."""
    return f"每人每小时最多提交 {per_hour} 条建议，请在 {escape(at)} 之后再提交。"


def sg_receipt(number: str, category: str, anonymous: bool, in_group: bool) -> str:
    """The receipt after a successful submission."""
    lines = [
        f"✅ 已收到你的合理化建议，编号 <b>{escape(number)}</b>。",
        f"类别：{escape(category)}　状态：待受理",
    ]
    if anonymous:
        lines.append(SG_ANON_NOTE)
    elif in_group:
        lines.append("处理进度将私信通知你（请先私聊我发送 /start，否则收不到）。")
    else:
        lines.append("处理进度将私信通知你，也可随时发送 /mine 查看。")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SG_MINE_EMPTY = "你还没有署名提交过建议。发送“建议 内容”即可提交。"
SG_PRIVATE_ONLY = "为保护隐私，请私聊我使用这个命令。"
SG_BTN_OPEN_PRIVATE = "私聊我"
SG_NOT_OFFICER = "只有工会干部（建议来源群的管理员或配置的干部）才能审阅、导出或统计建议。"
SG_NOT_OFFICER_OF = "你不是这条建议来源群的管理员，也不是配置的干部，不能处理它。"
SG_REVIEW_EMPTY = "目前没有待处理的建议。"
SG_NOT_FOUND = "找不到这个编号的建议，请核对（格式如 JY-2026-0007）。"
SG_REJECT_USAGE = (
    "用法：<code>/reject 编号 理由</code>，例如 <code>/reject JY-2026-0007 与现行制度冲突</code>。"
    "不采纳必须写明理由。"
)
SG_NOTE_USAGE = "用法：<code>/note 编号 内容</code>，例如 <code>/note JY-2026-0007 已转安全科</code>。"
SG_NOTE_TOO_LONG = "备注/理由请不超过 500 字。"
SG_ACTION_EMPTY = "内容不能为空，请重新发送，或发送 /cancel 取消。"
SG_NOTE_SAVED = "📝 备注已记录（仅工会干部可见）。"
SG_EXPORT_EMPTY = "还没有可导出的建议。"
SG_STATS_EMPTY = "还没有建议，暂无统计。"
SG_BTN_BACK = "« 返回列表"
SG_BTN_PREV = "‹ 上一页"
SG_BTN_NEXT = "下一页 ›"
SG_BTN_NOTE = "📝 备注"


def sg_ask_reason(number: str) -> str:
    """Flow: ask the reviewer for the reason of 不采纳."""
    return f"请发送不采纳 <b>{escape(number)}</b> 的理由（会告知提议人），或发送 /cancel 取消。"


def sg_ask_note(number: str) -> str:
    """Flow: ask the reviewer for a note."""
    return f"请发送 <b>{escape(number)}</b> 的备注（仅工会干部可见），或发送 /cancel 取消。"


def sg_bad_transition(number: str, current: str, target: str, need: str) -> str:
    """An impossible status change (e.g. 已实施 before 已采纳)."""
    return (
        f"不能把 {escape(number)} 从“{escape(current)}”改为“{escape(target)}”："
        f"只有“{escape(need)}”的建议才能标记为“{escape(target)}”。"
    )


def sg_changed(number: str, status: str) -> str:
    """Toast / confirmation to the reviewer after a status change."""
    return f"{escape(number)} 已标记为“{escape(status)}”，已记录。"


def sg_notify(number: str, status: str, note: str, text: str) -> str:
    """The private message telling a named proposer about a status change."""
    lines = [f"📬 你的合理化建议 <b>{escape(number)}</b> 有新进展：<b>{escape(status)}</b>"]
    if note:
        label = "理由" if status == "不采纳" else "说明"
        lines.append(f"{label}：{escape(note)}")
    lines.append(f"<blockquote>{escape(_clip(text, 200))}</blockquote>")
    return "\n".join(lines)


def _sg_when(iso: str) -> str:
    return iso[:16].replace("T", " ")


def sg_line(rec: dict, index: int | None = None) -> str:
    """One suggestion in a list: number, category, status, date and a snippet."""
    head = f"{index}. " if index is not None else ""
    snippet = escape(_clip(" ".join(rec["text"].split()), 60))
    return (
        f"{head}<b>{escape(rec['number'])}</b> [{escape(rec['category'])}] {escape(rec['status'])}"
        f" · {_sg_when(rec['created'])}\n{snippet}"
    )


def sg_mine(records: list[dict], total: int) -> str:
    """/mine: the member's own named suggestions, newest first."""
    more = f"\n……共 {total} 条，仅显示最近 {len(records)} 条。" if total > len(records) else ""
    body = "\n\n".join(sg_line(r) for r in records)
    return f"<b>我的建议</b>\n\n{body}{more}"


def sg_review_page(records: list[dict], page: int, pages: int, total: int, start: int) -> str:
    """/review: one page of open suggestions."""
    body = "\n\n".join(sg_line(r, start + i + 1) for i, r in enumerate(records))
    return f"<b>待处理建议</b>（第 {page + 1}/{pages} 页，共 {total} 条）\n\n{body}\n\n点编号查看详情并处理。"


def sg_detail(rec: dict) -> str:
    """Reviewer's view of one suggestion: all fields and the history."""
    who = "匿名" if rec.get("anonymous") else escape(rec.get("proposer_name") or "")
    chat = escape(rec.get("chat_title") or "私聊")
    lines = [
        f"<b>{escape(rec['number'])}</b> [{escape(rec['category'])}] 状态：<b>{escape(rec['status'])}</b>",
        f"提议人：{who}　来源：{chat}　提交：{_sg_when(rec['created'])}",
        f"<blockquote>{escape(_clip(rec['text'], 2000))}</blockquote>",
        "<b>处理记录</b>",
    ]
    for h in rec.get("history", [])[-12:]:
        by = escape(h.get("by_name") or "")
        note = f"：{escape(_clip(h['note'], 200))}" if h.get("note") else ""
        lines.append(f"• {_sg_when(h['at'])} {escape(h['action'])}（{by}）{note}")
    return "\n".join(lines)


def sg_overdue(records: list[dict], days: int, now_iso: str) -> str:
    """The weekly reminder to officers: open suggestions older than `days` days."""
    lines = [f"⏰ <b>有 {len(records)} 条建议超过 {days} 天未答复</b>（截至 {_sg_when(now_iso)}）"]
    for r in records[:30]:
        lines.append(sg_line(r))
    if len(records) > 30:
        lines.append(f"……另有 {len(records) - 30} 条。")
    lines.append("请私聊我发送 /review 处理。")
    return "\n".join(lines)


def sg_stats_table(by_status: dict, by_category: dict, by_month: dict, rate: float | None, total: int) -> str:
    """/stats as a plain text table (also the fallback when no chart can be drawn)."""
    def block(title: str, items: dict) -> list[str]:
        width = max((len(k) for k in items), default=2)
        rows = [f"{k}{'　' * (width - len(k))}  {v:>5}" for k, v in items.items()]
        return [f"【{title}】", *rows]

    rate_text = "—（尚无已决定的建议）" if rate is None else f"{rate:.1%}"
    lines = [f"合理化建议共 {total} 条", *block("按状态", by_status), *block("按类别", by_category)]
    lines += block("按月份", by_month)
    lines.append(f"采纳率（已采纳+已实施 ÷ 已答复）：{rate_text}")
    return "<b>建议统计</b>\n<pre>" + escape("\n".join(lines)) + "</pre>"


SG_STATS_CAPTION = "合理化建议统计图"
SG_NO_CHART = "（未找到中文字体，无法绘制统计图，以上为文字统计表。）"


def sg_export_caption(count: int, now_iso: str) -> str:
    """Caption of the exported .xlsx."""
    return f"合理化建议导出：共 {count} 条（{_sg_when(now_iso)}）。匿名建议显示为“匿名”。"
