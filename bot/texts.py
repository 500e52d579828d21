"""Every user-facing Chinese string and formatter, in one place. All output is Telegram HTML."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import escape

__all__ = ["escape"]

# --- general ----------------------------------------------------------------------------------

INTERNAL_ERROR = "抱歉，处理时出了点问题，已记录。请稍后再试。"
BUTTON_EXPIRED = "这个按钮已失效，请重新发送命令。"


_ATOM = re.compile(r"<[^>]*>|&#?\w+;|.", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>")
_SENTENCE_END = set("。！？；!?;")
_CLAUSE_END = set("，、,：: ")
_TAG_RESERVE = 128  # room for the closing and reopened tags a cut adds


def split_message(text: str, limit: int = 4096, numbered: bool = False) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` characters, each valid on its own.

    Cuts at paragraph ends, else sentence ends, else clause ends, else anywhere between characters —
    never inside a tag or an entity. Tags open at a cut are closed there and reopened in the next part.
    `numbered` marks each part of a split message "（i/n）".
    """
    if len(text) <= limit:
        return [text]
    atoms = _ATOM.findall(text)
    budget = max(limit - _TAG_RESERVE, 16)
    parts: list[list[str]] = []
    current: list[str] = []
    size = 0
    for piece in _pieces(atoms, budget):
        n = sum(map(len, piece))
        if current and size + n > budget:
            parts.append(current)
            current, size = [], 0
        current += piece
        size += n
    if current:
        parts.append(current)
    out = [p for p in _balance(parts) if p.strip()]
    if numbered and len(out) > 1:
        out = [f"{p}\n<i>（{i}/{len(out)}）</i>" for i, p in enumerate(out, 1)]
    return out


def _pieces(atoms: list[str], budget: int) -> list[list[str]]:
    """Atoms grouped into pieces no longer than `budget`, each ending at the best boundary available."""
    out: list[list[str]] = []
    for para in _split_after(atoms, {"\n"}):
        out += _fit(para, budget, [_SENTENCE_END, _CLAUSE_END])
    return out


def _fit(atoms: list[str], budget: int, levels: list[set[str]]) -> list[list[str]]:
    """Split `atoms` at the first boundary level that makes every piece fit, falling back to a hard cut."""
    if sum(map(len, atoms)) <= budget:
        return [atoms]
    if not levels:
        out, cur, size = [], [], 0
        for a in atoms:
            if cur and size + len(a) > budget:
                out.append(cur)
                cur, size = [], 0
            cur.append(a)
            size += len(a)
        return out + ([cur] if cur else [])
    out = []
    for piece in _split_after(atoms, levels[0]):
        out += _fit(piece, budget, levels[1:])
    return out


def _split_after(atoms: list[str], ends: set[str]) -> list[list[str]]:
    out, cur = [], []
    for a in atoms:
        cur.append(a)
        if a in ends:
            out.append(cur)
            cur = []
    return out + ([cur] if cur else [])


def _balance(parts: list[list[str]]) -> list[str]:
    """Join each part's atoms, closing tags left open at its end and reopening them in the next part."""
    out: list[str] = []
    carried: list[tuple[str, str]] = []  # (name, opening tag) still open
    for atoms in parts:
        stack = list(carried)
        body = "".join(tag for _, tag in carried)
        for a in atoms:
            body += a
            m = _TAG.fullmatch(a)
            if m is None:
                continue
            if m.group(1):
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == m.group(2).lower():
                        del stack[i]
                        break
            else:
                stack.append((m.group(2).lower(), a))
        body = body.rstrip("\n")
        out.append(body + "".join(f"</{name}>" for name, _ in reversed(stack)))
        carried = stack
    return out


def unknown_command(name: str) -> str:
    return f"没有 /{escape(name)} 这个命令。发送 /help 查看全部命令。"


# --- operators' log lines (bilingual: Chinese first, then English; never a secret or a member's text) -------------

#: (Chinese, English) name of each platform in the operators' log lines.
LOG_WECOM = ("企业微信", "WeCom")
LOG_DINGTALK = ("钉钉", "DingTalk")
LOG_TELEGRAM = ("Telegram", "Telegram")


def log_connected(platform: tuple[str, str], name: str) -> str:
    """A platform is connected and serving, e.g. 企业微信机器人 aibXXXX 已连接 / WeCom bot aibXXXX connected."""
    zh, en = platform
    gap = " " if zh.isascii() else ""
    return f"{zh}{gap}机器人 {name} 已连接 / {en} bot {name} connected"


def log_not_connected_yet(platform: tuple[str, str], seconds: float) -> str:
    zh, en = platform
    return (f"{zh} {seconds:.0f} 秒内未连上，继续在后台重试（请看上面的连接错误）"
            f" / {en} not connected after {seconds:.0f} s; still trying")


def log_wecom_connect_failed(kind: str, hint: str) -> str:
    """One failed connection attempt to WeCom (the SDK retries with backoff)."""
    return f"企业微信连接失败：{kind}；{hint} / WeCom connection failed: {kind}; retrying"


LOG_HINT_TLS = "TLS 证书校验失败：私有化部署请在配置里设置 ca_file；经代理时检查 HTTPS_PROXY / NO_PROXY"
LOG_HINT_NETWORK = "连不上服务器：检查网络、防火墙、ws_url，以及 HTTPS_PROXY / NO_PROXY"
LOG_HINT_OTHER = "稍后自动重连"


def log_wecom_refused(errcode: str) -> str:
    """WeCom refused the credentials while running (the secret was reset): the bot stops with exit status 2."""
    return (f"配置错误 / config error: [wecom] bot_id / secret：企业微信拒绝了 Bot ID / Secret（errcode {errcode}），"
            f"机器人停止（退出码 2）/ rejected by WeCom; check them, or WECOM_BOT_SECRET")


LOG_WECOM_TAKEN_OVER = (
    "企业微信：另一个进程用同一个 Bot ID 连上了，本进程停止（退出码 3），同一个机器人只能运行一个实例"
    " / WeCom: another process connected with this bot_id (disconnected_event); stopping this one"
)


def log_dingtalk_refused(code: str) -> str:
    """DingTalk refused the credentials while running: the bot stops with exit status 2."""
    return (f"配置错误 / config error: [dingtalk] client_id / client_secret：钉钉拒绝了 Client ID / Secret（{code}），"
            f"机器人停止（退出码 2）/ refused by DingTalk; check them, or DINGTALK_CLIENT_SECRET")


def log_dingtalk_unchecked(kind: str) -> str:
    return (f"钉钉：暂时无法验证凭据（{kind}：检查网络、endpoint 和 HTTPS_PROXY / NO_PROXY），后台继续重试"
            f" / DingTalk: could not check the credentials yet ({kind}); retrying in the background")


# --- configuration errors (bot/config.py, run.py, the adapters) --------------------------------------------------
# run.py prints each as one line after "配置错误 / config error: ": the key exactly as written in config.toml, a
# full-width colon, then why, with the bad value as Python writes it (repr). A secret is never shown.


def config_error(key: str, reason: str) -> str:
    """`[telegram] token：应为字符串，实际是 5`: the key as written in config.toml, then the reason."""
    return f"{key}：{reason}"


def cfg_config_not_found(path: str) -> str:
    return f"找不到配置文件 {path!r}"


def cfg_not_toml(detail: str) -> str:
    """After the file's name; the detail is tomllib's own (where, and what it expected)."""
    return f"不是有效的 TOML 格式（{detail}）"


def cfg_unknown_section(known: list[str]) -> str:
    return f"没有这一节（可用的有 {'、'.join(known)}）"


def cfg_not_table(name: str, value: object) -> str:
    return f"应为一节配置（以 [{name}] 开头，下面逐行写 键 = 值），实际是 {value!r}"


def cfg_unknown_key(known: list[str]) -> str:
    return f"没有这个配置项（可用的有 {'、'.join(known)}）"


#: What an error message shows instead of a token's or secret's value.
CFG_HIDDEN_VALUE = "（密钥，不显示）"


def cfg_not_list(value: object) -> str:
    return f'应为列表（方括号，如 ["a", "b"]），实际是 {value!r}'


def cfg_not_bool(value: object) -> str:
    return f"应为 true 或 false，实际是 {value!r}"


def cfg_not_whole_number(value: object) -> str:
    return f"应为整数，实际是 {value!r}"


def cfg_not_string(value: object) -> str:
    return f"应为字符串，实际是 {value!r}"


def cfg_one_of(choices: tuple[str, ...], value: object) -> str:
    """`只能是 'polling' 或 'webhook'，实际是 'x'`."""
    return f"只能是 {' 或 '.join(repr(c) for c in choices)}，实际是 {value!r}"


#: What a range is, after the numbers (cfg_range).
CFG_AT_MOST_A_DAY = "（最多一天）"
CFG_AT_MOST_A_WEEK = "（最多一周）"


def cfg_range(low: int, high: int, value: object, note: str = "") -> str:
    return f"应在 {low}–{high} 之间{note}，实际是 {value!r}"


def cfg_at_least_one(value: object) -> str:
    return f"至少为 1，实际是 {value!r}"


CFG_MIN_OVER_MAX = "不能大于 max_chars"
CFG_NAMES = "名称不能为空、不能重复，每个最多 30 个字"


def cfg_not_hhmm(value: object) -> str:
    return f"不是“时:分”格式的时间（00:00–23:59），实际是 {value!r}"


def cfg_unknown_timezone(value: object) -> str:
    return f"找不到时区 {value!r}（应写如 'Asia/Shanghai'；写对了仍报错，说明系统缺少时区数据，请安装 tzdata）"


def cfg_not_http_url(value: object) -> str:
    return f"应为 http:// 或 https:// 开头的网址，实际是 {value!r}"


CFG_WEBHOOK_NEEDS_HTTPS = "webhook 模式需要 https:// 开头的网址"
CFG_SECRET_TOKEN_CHARS = "只能是 1–256 个 A-Z a-z 0-9 _ - 字符"


def cfg_not_host(value: object) -> str:
    return f"应为 IP 地址或主机名（如 127.0.0.1），实际是 {value!r}"


CFG_DESK_NEEDS_URL = "启用工作台（enabled = true）时必须填写，即干部打开的网址"


def cfg_dir_not_writable(path: str, detail: str | None) -> str:
    """The detail is the system's own reason (Permission denied, No space left on device)."""
    return f"数据目录 {path!r} 无法写入（{detail}）"


def cfg_printable(limit: int) -> str:
    """An id or secret in the wrong form (the value itself is not shown: it may be a secret)."""
    return f"应为 1–{limit} 个英文字母、数字或半角符号，不能有空格或中文"


def cfg_needed_with(other: str, env: str) -> str:
    """`[wecom] secret：填了 bot_id 就必须填写（或设置环境变量 WECOM_BOT_SECRET）`."""
    return f"填了 {other} 就必须填写（或设置环境变量 {env}）"


CFG_DINGTALK_ID_NEEDED = "填了 client_secret 就必须填写（即应用的 Client ID / AppKey）"


def cfg_not_wss_url(value: object) -> str:
    return f"应为带主机名的 wss:// 地址（企业微信只支持加密连接），实际是 {value!r}"


def cfg_not_endpoint(value: object) -> str:
    return f"应为带主机名的 http:// 或 https:// 地址，末尾不带 /，实际是 {value!r}"


#: The platform whose userids an officers list holds (cfg_not_userid).
CFG_USERID_OF = {"wecom": "企业微信", "dingtalk": "钉钉"}


def cfg_not_userid(platform: str, value: object) -> str:
    return f"应为{CFG_USERID_OF[platform]}的 userid（1–64 个字符，不能有空格），实际是 {value!r}"


def cfg_prefixed_userid(prefix: str, value: object) -> str:
    return f"只写 userid 本身，不要加 {prefix!r}，实际是 {value!r}"


def cfg_no_such_file(value: object) -> str:
    return f"找不到文件 {value!r}"


#: run.py <platform> without that platform's credentials.
CFG_TELEGRAM_NOT_SET = "没有设置（在配置文件里填写，或设置环境变量 TELEGRAM_BOT_TOKEN）"
CFG_WECOM_NOT_SET = "没有设置（还要填 secret，或设置环境变量 WECOM_BOT_SECRET）"
CFG_DINGTALK_NOT_SET = "没有设置（还要填 client_secret，或设置环境变量 DINGTALK_CLIENT_SECRET）"

#: The platforms refused the credentials at start (bot/adapters/*).
CFG_TELEGRAM_TOKEN_REJECTED = "被 Telegram 拒绝（Unauthorized），请核对 token，或环境变量 TELEGRAM_BOT_TOKEN"


def cfg_refused_by_telegram(detail: str) -> str:
    """The detail is Telegram's own (Bad webhook: …)."""
    return f"被 Telegram 拒绝（{detail}）"


def cfg_cannot_listen(host: str, port: int, detail: str = "") -> str:
    """The detail is the system's own (Address already in use: the port is taken)."""
    return f"无法在 {host}:{port} 上监听" + (f"（{detail}）" if detail else "")


def cfg_wecom_rejected(errcode: str) -> str:
    return f"企业微信拒绝了 Bot ID / Secret（errcode {errcode}），请核对，或检查环境变量 WECOM_BOT_SECRET"


def cfg_dingtalk_rejected(code: str) -> str:
    return f"钉钉拒绝了 Client ID / Secret（{code}），请核对，或检查环境变量 DINGTALK_CLIENT_SECRET"


# --- console ---------------------------------------------------------------------------------

CONSOLE_HELP = (
    "控制台命令：:group 切到群聊  :private 切到私聊  :admin 以管理员身份  :member 以普通成员身份  "
    ":user ID 名字 换一个用户  :1 :2 … 按下上一条回复的按钮  :tick 立即检查定时任务  "
    ":wecom / :dingtalk / :telegram 预览发往该平台的原文  :plain 恢复普通显示  :quit 退出"
)


def console_preview(mode: str) -> str:
    if mode == "plain":
        return "（已切换：普通显示）"
    kind = {"wecom": "企业微信 markdown", "dingtalk": "钉钉 markdown"}.get(mode, "Telegram HTML")
    return f"（已切换：预览 {kind} 原文，每条消息单独显示）"


def console_preview_part(kind: str, i: int, n: int, body: str, size: int | None = None) -> str:
    """One platform message in the console's preview; `size` in bytes as the platform counts them (default UTF-8;
    DingTalk counts the JSON with Chinese escaped)."""
    counted = f"{size} 字节（JSON 转义后）" if size is not None else f"{len(body.encode())} 字节"
    return f"┌─ {kind} {i}/{n} · {counted}\n{body}\n└─"
CONSOLE_NO_BUTTON = "没有这个按钮编号。"
CONSOLE_USER_NAME = "控制台用户"
CONSOLE_GROUP_TITLE = "控制台测试群"
CONSOLE_TOAST = "（提示）"
CONSOLE_FILE = "📎 文件："
CONSOLE_PHOTO = "🖼 图片已保存："
CONSOLE_PRESS_HINT = "（输入 :1 等编号按下按钮）"


def console_where(private: bool, admin: bool) -> str:
    """The console prompt's chat and role, e.g. 群聊·管理员."""
    return f"{'私聊' if private else '群聊'}·{'管理员' if admin else '成员'}"


def console_sent_to(chat_id: str) -> str:
    return f"[发往 {chat_id}] "


def console_user_name(uid: str) -> str:
    return f"用户{uid}"
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


HELP_START = "开始使用，查看简介"
HELP_HELP = "查看全部命令及中文说法"


def welcome(private: bool) -> str:
    """The /start greeting."""
    where = "在私聊里直接发关键词即可检索，" if private else "在群里请用命令或“搜索 关键词”，"
    return (
        "<b>您好，我是工会助手。</b>\n"
        "📌 每日一招：每天推送一条工会工作好做法（/today 看今天的）。\n"
        "🔍 关键词检索：发送 /search 集体合同 或“搜索 职代会”，"
        f"{where}返回最相关的段落并标明出处。\n"
        "💡 合理化建议：发送“建议 内容”或 /suggest，工会收到后会逐条答复。\n"
        "📝 每日一题：发送 /quiz 答题，/rank 看本群排行榜。\n"
        "发送 /help 查看全部命令。"
    )


def help_text(table: list, group_admins: bool = True) -> str:  # list[Command]; untyped: texts import nothing
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
        who = "群管理员及配置的干部" if group_admins else "配置的干部"
        parts += ["", f"<b>工会干部（{who}）</b>", *officers]
    parts += ["", "私聊时直接发送关键词即可检索；群里请用命令或中文说法（如“搜索 职代会”）。"]
    return "\n".join(parts)

def practice_message(title: str, body: str, source: str, day: date) -> str:
    """The day's practice (push and /today): heading with the date, title, body, source and a search hint."""
    paras = [escape(p.strip()) for p in body.replace("\r\n", "\n").split("\n") if p.strip()]
    parts = [f"📌 <b>每日一招</b> · {format_day(day)}", f"<b>{escape(title.strip())}</b>", "\n\n".join(paras)]
    if source.strip():
        parts.append(f"<i>出处：{escape(source.strip())}</i>")
    parts.append(PUSH_FOOTER)
    return "\n\n".join(p for p in parts if p)


# --- daily push ----------------------------------------------------------------------------
HELP_TODAY = "查看今天的一招（与当天推送一致）"
HELP_SUBSCRIBE = "订阅每日一招，可带时间和方式"
USAGE_SUBSCRIBE = "/subscribe [HH:MM] [工作日|每天]"
HELP_SETTIME = "修改每日一招的推送时间"
USAGE_SETTIME = "/settime HH:MM [工作日|每天]"
HELP_UNSUBSCRIBE = "取消每日一招的订阅"
HELP_STATUS = "查看订阅状态和下次推送时间"
HELP_PUSH = "立即在本群试发今天的一招（不计入每日推送）"
BEIJING_TIME = "北京时间"

WEEKDAYS = "一二三四五六日"
PUSH_FOOTER = "回复“搜索 关键词”查更多"
PUSH_NO_CONTENT = "暂时还没有可推送的做法，请稍后再试。"
PUSH_USAGE = (
    "用法：/subscribe [时间] [工作日|每天]，例如 /subscribe 07:30 工作日\n"
    "时间用 24 小时制 HH:MM（00:00–23:59），如 08:00；“工作日”按国家法定节假日安排（含调休上班日）。"
)
SETTIME_USAGE = "用法：/settime HH:MM [工作日|每天]，例如 /settime 07:30 或 /settime 18:00 工作日"
def push_admins_only(group_admins: bool = True) -> str:
    who = "本群管理员或工会干部" if group_admins else "配置的工会干部"
    return f"抱歉，只有{who}可以设置每日推送。您可以发送 /today 查看今天的一招。"


def push_officers_only(group_admins: bool = True) -> str:
    who = "本群管理员或工会干部" if group_admins else "配置的工会干部"
    return f"抱歉，/push 仅供{who}试发使用。发送 /today 可查看今天的一招。"


PUSH_ADMINS_ONLY = push_admins_only()


def format_day(day: date) -> str:
    """2026-11-23 -> 2026年11月23日（周一）."""
    return f"{day.year}年{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def schedule_text(hhmm: str, mode: str) -> str:
    """'每天 08:00' / '工作日 07:30（按法定节假日安排，含调休上班日）'."""
    note = "（按法定节假日安排，含调休上班日）" if mode == "工作日" else ""
    return f"{escape(mode)} {escape(hhmm)}{note}"


def subscribed(hhmm: str, mode: str, next_at: datetime | None, tz_label: str, changed: bool) -> str:
    """Confirmation of /subscribe or /settime."""
    head = "已更新每日一招的推送设置" if changed else "已订阅每日一招"
    when = f"\n下次推送：{format_when(next_at, tz_label)}" if next_at else ""
    return f"✅ {head}：{schedule_text(hhmm, mode)}。{when}\n发送 /status 查看状态，/unsubscribe 取消订阅。"


def already_subscribed(hhmm: str, mode: str) -> str:
    return f"本聊天已订阅每日一招：{schedule_text(hhmm, mode)}。要改时间请发送 /settime HH:MM。"


UNSUBSCRIBED = "已取消每日一招的订阅。随时发送 /subscribe 可重新订阅，/today 仍可查看当天的一招。"
NOT_SUBSCRIBED = "本聊天尚未订阅每日一招。发送 /subscribe 即可订阅（可带时间，如 /subscribe 07:30 工作日）。"


def format_when(at: datetime, tz_label: str) -> str:
    """A push time as '2026年11月23日（周一）08:00（北京时间）'."""
    return f"{format_day(at.date())} {at:%H:%M}（{escape(tz_label)}）"


def push_status(
    hhmm: str | None, mode: str | None, next_at: datetime | None, tz_label: str,
    left: int, total: int, fallback_year: int | None,
) -> str:
    """/status: subscription, schedule, next push, practices left in this round, calendar fallback if in effect."""
    lines = ["<b>每日一招 · 订阅状态</b>"]
    if hhmm is None or mode is None:
        lines.append("状态：未订阅（发送 /subscribe 订阅）")
    else:
        lines.append("状态：已订阅")
        lines.append(f"推送时间：{schedule_text(hhmm, mode)}")
        lines.append(f"下次推送：{format_when(next_at, tz_label) if next_at else '暂无'}")
    lines.append(f"本轮还剩：{left} / {total} 招（每轮每招推送一次，不重复）")
    if fallback_year is not None:
        lines.append(
            f"注：{fallback_year} 年的法定节假日与调休安排尚未收录，工作日暂按周一至周五计算。"
        )
    return "\n".join(lines)


# --- content reload (issue 12) -------------------------------------------------------------------
RELOAD_HELP = "重新加载内容（重建 content/ 之后立即生效，无需重启）"
RELOAD_OFFICERS_ONLY = "抱歉，/reload 仅供工会干部使用。"


def reload_done(changed: bool, passages: int, practices: int) -> str:
    """The answer to /reload: whether anything changed, and the counts now in use."""
    head = "内容已重新加载" if changed else "内容没有变化"
    return f"{head}：{passages} 个段落，{practices} 条每日一招。"


def reload_failed(reason: str) -> str:
    """/reload could not read the rebuilt content; the old content stays in use."""
    return f"重新加载失败：{escape(reason)}\n仍在使用原来的内容。请检查后重新运行 python run.py content build。"


# --- search -----------------------------------------------------------------------------------

SEARCH_HELP = "按关键词检索工会工作资料"
SEARCH_SHORT_HELP = "/search 的简写"
SEARCH_USAGE = (
    "请在命令后面写上要找的关键词，例如：\n"
    "• <code>/search 集体合同</code>\n"
    "• <code>搜索 职代会</code>\n"
    "• <code>查 如何开展劳动竞赛</code>\n"
    "私聊时直接发关键词也可以。"
)
SEARCH_EXPIRED = "这次搜索已过期，请重新搜索。"
SEARCH_PASSAGE_GONE = "这段内容已更新或不存在，请重新搜索。"
SEARCH_NO_WORDS = "没有可检索的文字，请换几个中文关键词试试，例如“集体合同”“厂务公开”。"
SEARCH_BTN_MORE = "更多 ▸"
SEARCH_SNIPPET_CHARS = 120
SEARCH_INLINE_PRACTICE = "每日一招"


def search_btn_full(n: int) -> str:
    return f"全文 {n}"


def search_btn_suggestion(term: str) -> str:
    return f"🔍 {term}"


def _search_spans(text: str, terms: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `terms` in `text`, longest term first at each position."""
    ordered = sorted({t for t in terms if t}, key=lambda t: (-len(t), t))
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for term in ordered:
        start = text.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = text.find(term, start + 1)
    return sorted(spans)


def _search_window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The window of <= `width` chars covering the most distinct matched terms, nudged to a sentence start."""
    if len(text) <= width:
        return 0, len(text)
    best, best_start = -1, 0
    for s, _ in spans or [(0, 0)]:
        lo = max(0, s - width // 5)
        covered = {text[a:b] for a, b in spans if a >= lo and b <= lo + width}
        if len(covered) > best:
            best, best_start = len(covered), lo
    start = best_start
    if spans:
        first = min(a for a, _ in spans if a >= start)
        cut = max(text.rfind(p, 0, first) for p in "。！？；")
        if cut >= 0 and first - cut <= width // 3:
            start = cut + 1
    start = min(start, max(0, len(text) - width))
    return start, min(len(text), start + width)


def search_snippet(text: str, terms: tuple[str, ...] | list[str], width: int = SEARCH_SNIPPET_CHARS) -> str:
    """At most `width` chars of `text` around the best match, HTML-escaped, matched terms in <b>."""
    spans = _search_spans(text, terms)
    start, end = _search_window(text, spans, width)
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(escape(text[pos:a]))
        out.append(f"<b>{escape(text[a:b])}</b>")
        pos = b
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def search_plain_snippet(text: str, width: int = 100) -> str:
    """A plain-text beginning of `text` (for inline-result descriptions)."""
    return text if len(text) <= width else text[: width - 1] + "…"


#: The label of each result: an article of a statute, or an essay / practice / operator's document.
LABEL_LAW = "法规"
LABEL_ESSAY = "经验"
#: Besides the first, an article longer than this is shown as a snippet on a results page (全文 shows it whole).
SEARCH_WHOLE_CHARS = 400


def search_label(is_law: bool) -> str:
    """【法规】 or 【经验】 before each result's title."""
    return f"【{LABEL_LAW if is_law else LABEL_ESSAY}】"


def law_source(law_title: str, version: str) -> str:
    """Where an article comes from, with the version in force: 《中华人民共和国劳动合同法》（2012年12月28日修正）."""
    return f"《{law_title}》（{version}）" if version else f"《{law_title}》"


def search_highlight(text: str, terms: tuple[str, ...] | list[str]) -> str:
    """All of `text`, HTML-escaped, matched terms in <b> (an article shown whole, its items on lines of their own)."""
    out: list[str] = []
    pos = 0
    for a, b in _search_spans(text, terms):
        out.append(escape(text[pos:a]))
        out.append(f"<b>{escape(text[a:b])}</b>")
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def search_hit(n: int, hit: dict, whole: bool) -> list[str]:
    """One result's lines: number, label and title (a statute's citation), the chapter, the article whole (or a
    snippet), the source (a statute's full title and version). `hit`: title, text, source, terms, law (bool),
    chapter, law_title, version."""
    lines = [f"<b>{n}. {search_label(hit['law'])}{escape(hit['title'])}</b>"]
    if hit["law"] and hit.get("chapter"):
        lines.append(f"<i>{escape(hit['chapter'])}</i>")
    lines.append(search_highlight(hit["text"], hit["terms"]) if whole else search_snippet(hit["text"], hit["terms"]))
    source = law_source(hit["law_title"], hit.get("version", "")) if hit["law"] else hit["source"]
    lines.append(f"<i>来源：{escape(source)}</i>")
    return lines


def search_page(query: str, hits: list[dict], offset: int, total: int, fallback: bool, truncated: bool,
                laws_only: bool = False, legal: bool = False) -> str:
    """One page of results numbered from offset + 1 (see search_hit). An article of a statute is shown whole when
    it is the first result or short; `laws_only` is /law, `legal` a legal question (statutes were put first)."""
    q = escape(query)
    where = "法规中" if laws_only else ""
    span = f"第 {offset + 1}–{offset + len(hits)} 条"
    head = f"🔍 {where}“{q}”：共 {total} 条，{span}"
    if fallback:
        head = f"🔍 {where}没有找到与“{q}”完全匹配的内容，以下是相近的 {total} 条（{span}）"
    lines = [head]
    if truncated:
        lines.append("<i>（关键词太长，只取了前 100 个字）</i>")
    if legal and not laws_only and any(h["law"] for h in hits):
        lines.append("<i>（这是法律问题，法规条文排在前面；只查法规请用 /law）</i>")
    for i, hit in enumerate(hits, offset + 1):
        whole = hit["law"] and (i == offset + 1 or len(hit["text"]) <= SEARCH_WHOLE_CHARS)
        lines.append("")
        lines += search_hit(i, hit, whole)
    return "\n".join(lines)


def search_nothing(query: str, suggestions: list[str], laws_only: bool = False) -> str:
    """No match at all: suggest related corpus terms."""
    q = escape(query)
    where = "法规中" if laws_only else ""
    if suggestions:
        return f"{where}没有找到与“{q}”相关的内容。\n你是不是想找：" + "、".join(escape(s) for s in suggestions)
    return f"{where}没有找到与“{q}”相关的内容，请换个关键词试试。"


def search_no_more(query: str) -> str:
    return f"“{escape(query)}”没有更多结果了。"


def search_full(title: str, text: str, source: str, limit: int = 4096, *, law: bool = False, chapter: str = "",
                label: bool = False) -> list[str]:
    """A passage in full as one or more messages of <= `limit` chars, split at paragraph/sentence ends (an
    article's paragraphs and items are lines of their own, so a long one is cut between items, never inside).
    For a statute: its citation as the title, the chapter under it, the full title and version as the source."""
    head = f"<b>{search_label(law) if label else ''}{escape(title)}</b>"
    if law and chapter:
        head += f"\n<i>{escape(chapter)}</i>"
    full = f"{head}\n\n{escape(text)}\n\n<i>来源：{escape(source)}</i>"
    return split_message(full, limit, numbered=True)


def search_inline_text(title: str, text: str, source: str, *, law: bool = False, chapter: str = "") -> str:
    """The message an inline result sends (one message, <= 4096 chars)."""
    return search_full(title, text, source, law=law, chapter=chapter, label=law)[0]


LAW_HELP = "按问题查法规条文（劳动合同法、工会法等），答复注明第几条"
LAW_CMD_USAGE = "/law 问题"
LAW_USAGE = (
    "请在命令后面写上要问的问题，只查法律法规，答复注明出自哪部法规第几条，例如：\n"
    "• <code>/law 试用期最长多久</code>\n"
    "• <code>法规 加班费怎么算</code>\n"
    "• <code>查法条 劳动合同法第十九条</code>"
)
LAW_NONE_LOADED = (
    "还没有收录法规条文。请管理员把法规文件（国家法律法规数据库下载的 Word 文件，或 .md / .txt）"
    "放进 seeds/local/法规/ 后运行 python run.py content build。"
)


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
def sg_anon_in_group(button: bool = True) -> str:
    """`建议 匿名 …` sent in a group, where everyone sees the sender: nothing was submitted."""
    how = "点下方按钮私聊我" if button else "私聊我"
    return (f"群里发的消息大家都能看到是谁发的，这条没有提交。匿名建议请{how}，"
            "发送 <code>建议 匿名 内容</code>，或发送 /suggest 按步骤选择匿名。")


def sg_group_go_private(button: bool = True) -> str:
    """In a group, /suggest alone: continue in the private chat (by the button below, where there is one)."""
    how = "请点下方按钮私聊我继续" if button else "请私聊我继续"
    return f"群里不便分步填写。{how}（可选类别、可匿名）；\n也可以在群里直接发送 <code>建议 内容</code> 署名提交。"


SG_FLOW_EXPIRED = "操作已超时或已结束，请重新发送 /suggest。"
SG_CANCELLED = "已取消。"
SG_NOTHING_TO_CANCEL = "当前没有进行中的操作。"
SG_ANON_NOTE = "匿名提交：不会记录你的身份，也就无法私信告知你处理进度，可凭编号向工会询问。"
SG_NO_REVIEWER_NOTE = (
    "⚠️ 本机器人尚未配置工会干部，私聊提交的建议暂时无人能审阅，配置干部后才会处理。"
    "想尽快得到答复，请在所在工会群里发送 <code>建议 内容</code>（由群管理员审阅），或直接联系工会。"
)
SG_NO_OFFICERS_WARNING = (
    "未配置工会干部（config.toml 的 [bot] officers、[wecom] officers 和 [dingtalk] officers 都为空）："
    "私聊提交的合理化建议无人能审阅，每周超期提醒也不会发送。"
)
#: Stored and shown as the proposer of anonymous suggestions (history, detail view, export).
SG_ANONYMOUS = "匿名"
#: The source of a suggestion made in a private chat (detail view, export).
SG_PRIVATE_CHAT = "私聊"
#: The first history entry of every suggestion.
SG_ACTION_SUBMIT = "提交"

# /help lines of the suggestion commands (bot/handlers/suggest.py COMMANDS)
SG_HELP_SUGGEST = "提合理化建议（可选类别、可匿名）"
SG_HELP_MINE = "查看我提的建议及处理进度"
SG_HELP_CANCEL = "取消正在进行的操作"
SG_HELP_REVIEW = "审阅合理化建议（私聊）"
SG_HELP_REJECT = "不采纳并说明理由"
SG_HELP_NOTE = "给建议加备注（仅干部可见）"
SG_HELP_EXPORT = "导出建议为 Excel"
SG_HELP_STATS = "建议统计与采纳率"
SG_USAGE_SUGGEST = "/suggest 建议内容"
SG_USAGE_REJECT = "/reject 编号 理由"
SG_USAGE_NOTE = "/note 编号 内容"


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
        f"<blockquote>{_esc_clip(text, 600)}</blockquote>\n"
        "请选择署名还是匿名。署名的建议，处理进度会私信告知你。"
    )


def sg_confirm(category: str, text: str, anonymous: bool) -> str:
    """Flow: the preview before submitting."""
    who = "匿名" if anonymous else "署名"
    extra = f"\n{SG_ANON_NOTE}" if anonymous else ""
    return (
        f"请确认提交：\n类别：<b>{escape(category)}</b>　方式：<b>{who}</b>\n"
        f"<blockquote>{_esc_clip(text, 1500)}</blockquote>{extra}"
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


def sg_receipt(number: str, category: str, anonymous: bool, in_group: bool, reviewable: bool = True) -> str:
    """The receipt after a successful submission; `reviewable` False: nobody can review it yet (no officers)."""
    lines = [
        f"✅ 已收到你的合理化建议，编号 <b>{escape(number)}</b>。",
        f"类别：{escape(category)}　状态：待受理",
    ]
    if anonymous:
        lines.append(SG_ANON_NOTE)
    if not reviewable:  # promise no progress messages: nobody can review it yet
        lines.append(SG_NO_REVIEWER_NOTE + ("" if anonymous else "可随时发送 /mine 查看状态。"))
    elif not anonymous and in_group:
        lines.append("处理进度将私信通知你（如果还没私聊过我，请先私聊我发一条消息，否则收不到）。")
    elif not anonymous:
        lines.append("处理进度将私信通知你，也可随时发送 /mine 查看。")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc_clip(text: str, limit: int) -> str:
    """`text` clipped and HTML-escaped so the escaped form has at most `limit` characters."""
    n = limit
    while True:
        out = escape(_clip(text, n))
        if len(out) <= limit or n <= 1:
            return out
        n = max(1, n * limit // len(out) - 1)


SG_MINE_EMPTY = "你还没有署名提交过建议。发送“建议 内容”即可提交。"
SG_PRIVATE_ONLY = "为保护隐私，请私聊我使用这个命令。"
SG_BTN_OPEN_PRIVATE = "私聊我"
def sg_not_officer(group_admins: bool = True) -> str:
    who = "建议来源群的管理员或配置的干部" if group_admins else "配置的干部"
    return f"只有工会干部（{who}）才能审阅、导出或统计建议。"


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


def sg_ask_result(number: str) -> str:
    """Flow: ask the reviewer for the implementation result and its benefit (已实施)."""
    return (f"请发送 <b>{escape(number)}</b> 的实施结果和经济效益（元，没有填 0），用分号隔开，"
            "例如：<code>三台空压机已改造；12000</code>（会告知提议人），或发送 /cancel 取消。")


def sg_ask_benefit(number: str) -> str:
    """Flow: the result of 已实施 is noted; now its benefit."""
    return (f"已记下 <b>{escape(number)}</b> 的实施结果。请再发送经济效益（元，没有填 0），"
            "或发送 /cancel 取消。")


def sg_flow_command_word(word: str) -> str:
    """Flow: a command word sent where a reason / result / note is expected."""
    return (f"“{escape(word)}”是一个命令，不会作为理由或说明记录。请直接发送内容，"
            "或先发送 /cancel 取消当前操作，再发送命令。")


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
    snippet = _esc_clip(" ".join(rec["text"].split()), 60)
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


def sg_detail(rec: dict, extra: str = "") -> str:
    """Reviewer's view of one suggestion: all fields, `extra` lines (deadline, department, ...), the history."""
    who = SG_ANONYMOUS if rec.get("anonymous") else escape(rec.get("proposer_name") or "")
    chat = escape(rec.get("chat_title") or SG_PRIVATE_CHAT)
    lines = [
        f"<b>{escape(rec['number'])}</b> [{escape(rec['category'])}] 状态：<b>{escape(rec['status'])}</b>",
        f"提议人：{who}　来源：{chat}　提交：{_sg_when(rec['created'])}",
        f"<blockquote>{_esc_clip(rec['text'], 1500)}</blockquote>",
        *([extra] if extra else []),
        "<b>处理记录</b>",
    ]
    for h in rec.get("history", [])[-10:]:
        by = escape(h.get("by_name") or "")
        note = f"：{_esc_clip(h['note'], 100)}" if h.get("note") else ""
        lines.append(f"• {_sg_when(h['at'])} {escape(h['action'])}（{by}）{note}")
    return "\n".join(lines)


def sg_overdue(records: list[dict], days: int, now_iso: str, major_days: int | None = None) -> str:
    """The weekly reminder to officers: open suggestions past their reply deadline (`days`; `major_days` for
    items marked 重大)."""
    limits = f"超过 {days} 天" + (f"（重大建议 {major_days} 天）" if major_days and major_days != days else "")
    lines = [f"⏰ <b>有 {len(records)} 条建议{limits}未答复</b>（截至 {_sg_when(now_iso)}）"]
    for r in records[:20]:
        lines.append(sg_line(r))
    if len(records) > 20:
        lines.append(f"……另有 {len(records) - 20} 条。")
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
    recent = dict(list(by_month.items())[-24:])
    lines += block("按月份" if len(by_month) <= 24 else "按月份（最近 24 个月）", recent)
    lines.append(f"采纳率（已采纳+已实施 ÷ 已答复）：{rate_text}")
    return "<b>建议统计</b>\n<pre>" + escape("\n".join(lines)) + "</pre>"


SG_STATS_CAPTION = "合理化建议统计图"
SG_NO_CHART = "（未找到中文字体，无法绘制统计图，以上为文字统计表。）"


def sg_export_caption(count: int, now_iso: str) -> str:
    """Caption of the exported .xlsx."""
    return f"合理化建议导出：共 {count} 条（{_sg_when(now_iso)}）。匿名建议显示为“{SG_ANONYMOUS}”。"


def sg_export_filename(stamp: str, suffix: str) -> str:
    """File name of an /export document; `stamp` is YYYYmmdd-HHMMSS."""
    return f"合理化建议-{stamp}-{suffix}.xlsx"


# Export files (bot/export.py): plain text, not HTML.
SG_EXPORT_HEADERS = (
    "编号", "类别", "建议内容", "状态", "提交时间", "提议人", "提议人ID", "来源群", "来源群ID", "最近处理", "处理记录",
    "重大", "答复期限", "承办部门", "实施结果", "经济效益（元）", "奖励等级", "奖励金额（元）", "公示", "满意度",
    "并入",
)  # fmt: skip
SG_EXPORT_YES = "是"
SG_EXPORT_SHEET = "合理化建议"


def sg_export_history_line(when: str, action: str, by_name: str, note: str) -> str:
    """One entry of the 处理记录 column."""
    return f"{when} {action}（{by_name}）" + (f"：{note}" if note else "")


# The /stats chart (bot/export.py): plain text.
SG_CHART_BY_STATUS = "按状态"
SG_CHART_BY_CATEGORY = "按类别"
SG_CHART_BY_MONTH = "按月份"


def sg_chart_title(total: int, rate: float | None) -> str:
    """The chart's heading: count and adoption rate."""
    shown = "—" if rate is None else f"{rate:.1%}"
    return f"合理化建议统计（共 {total} 条，采纳率 {shown}）"


def sg_chart_by_month(months: int | None) -> str:
    """Title of the per-month bars; `months` when only the most recent ones are shown."""
    return SG_CHART_BY_MONTH if months is None else f"{SG_CHART_BY_MONTH}（最近 {months} 个月）"


# --- numbered choices and WeCom (owner: WeCom adapter) ----------------------------------------------
CHOICES_HEAD = "请回复数字选择："


def choice_line(n: int, label: str) -> str:
    """One numbered choice; `label` is escaped already."""
    return f"{n}. {label}"


def choice_link(label: str, url: str) -> str:
    """A link button shown as a link; both escaped already."""
    return f'🔗 <a href="{url}">{label}</a>'


WECOM_HELP_NOTE = (
    "\n<b>企业微信说明</b>\n"
    "· 群里请先 @我 再发命令，例如“@工会助手 搜索 集体合同”。\n"
    "· 订阅每日一招前，群里须有人 @我 说过话（企业微信只允许机器人在这样的群里主动发消息）。\n"
    "· 订阅、审核、导出、统计、试发等干部操作，仅限管理员在配置中指定的工会干部。\n"
    "· 按钮显示不了时，回复按钮前的数字即可。"
)
WECOM_UNSUPPORTED = "企业微信里暂时只能处理文字消息，请直接发文字，例如“搜索 集体合同”。"
WECOM_FILE_UNAVAILABLE = (
    "（企业微信里机器人暂不能发送文件或图片：图表和导出请在工作台（私聊发送 /desk）中查看，"
    "或请运维人员用命令行 run.py suggestions export 导出。）"
)
WECOM_CARD_MORE = "（内容见上一条消息）"
def wecom_group_title(chatid: str) -> str:
    """A WeCom group's recorded title: its callbacks carry no name, so the end of its chatid tells groups apart."""
    return f"企业微信群·{chatid[-6:]}"
#: Where a platform has no link into the private chat (WeCom, DingTalk, Feishu).
OPEN_PRIVATE_BY_AVATAR = "（点我的头像即可和我私聊。）"
# --- end numbered choices and WeCom ------------------------------------------------------------------
# --- DingTalk (owner: DingTalk adapter) --------------------------------------------------------------
DINGTALK_HELP_NOTE = (
    "\n<b>钉钉说明</b>\n"
    "· 群里请先 @我 再发命令，例如“@工会助手 搜索 集体合同”（钉钉只把 @机器人 的群消息交给我）。\n"
    "· 订阅、审核、导出、统计、试发等干部操作，仅限配置中指定的工会干部（按钉钉 userid）；"
    "钉钉的组织管理员、群主不因此成为工会干部。\n"
    "· 私聊里直接点选项即可；群里请 @我 并回复选项前的数字。"
)
DINGTALK_UNSUPPORTED = "钉钉里暂时只能处理文字消息，请直接发文字，例如“搜索 集体合同”。"
DINGTALK_FILE_UNAVAILABLE = (
    "（钉钉里机器人暂不能发送文件或图片：图表和导出请在工作台（私聊发送 /desk）中查看，"
    "或请运维人员用命令行 run.py suggestions export 导出。）"
)
#: Above the tappable choices in a single chat (tapping one sends it as the member's message).
DINGTALK_CHOICES_TAP = "请点选（也可以回复数字）："
#: Above numbered choices in a group (a tap there would not reach the robot: only @-mentions do).
DINGTALK_CHOICES_GROUP = "请 @我 并回复数字选择："
DINGTALK_BUTTON_STALE = "这个选项已失效（机器人重启过，或已超过 7 天），请重新发送命令。"
#: A DingTalk markdown message's title (shown in notifications) when the text has no first line.
DINGTALK_TITLE = "工会助手"


def dingtalk_group_title(conversation_id: str, title: str = "") -> str:
    """A DingTalk group's recorded title: its name from the callback, else the end of its id."""
    return title.strip()[:60] or f"钉钉群·{conversation_id[-6:]}"


# --- end DingTalk -----------------------------------------------------------------------------------
# --- suggestion lifecycle additions & the officers' web desk (工作台, issue 11) ----------------------
# Chat messages are Telegram HTML; DESK_* labels are plain text (Jinja2 escapes them in the pages).

SG_ACTION_DEPARTMENT = "指定承办部门"
SG_ACTION_REWARD = "记录奖励"
SG_ACTION_MERGE = "合并重复建议"
SG_FIELD_BENEFIT = "经济效益"
SG_FIELD_REWARD = "奖励金额"
SG_RESULT_REQUIRED = "已实施需填写实施结果。"
SG_PUBLIC_ONLY_ADOPTED = "只有“已采纳”或“已实施”的建议才能公示。"
SG_REWARD_ONLY_ADOPTED = "只有“已采纳”或“已实施”的建议才能记录奖励。"
SG_MERGE_SELF = "不能把建议合并到它自己。"
SG_RATE_NOT_YOURS = "只有署名的提议人本人可以评价这条建议的答复。"
SG_ASK_SATISFACTION = "你对这次答复满意吗？请点下方按钮评价。"
SG_HELP_ADOPTED = "采纳公示：已公示的采纳建议"
SG_HELP_DESK = "干部：获取工作台（网页）一次性登录链接（私聊）"
SG_RATED_TOAST = "感谢评价！"
SG_ADOPTED_EMPTY = "目前没有公示的采纳建议。"
SG_BTN_PUBLIC = "📢 公示"
SG_BTN_MAJOR = "标为重大"
SG_BTN_UNMAJOR = "取消重大"
SG_BTN_DEPARTMENT = "承办部门"
SG_BTN_BACK_DETAIL = "« 返回"
SG_BTN_UNPUBLIC = "撤回公示"
DESK_DISABLED = "工作台（网页）未启用：请运维人员在 config.toml 的 [desk] 中设置 enabled = true 和 public_url。"
DESK_NOT_OFFICER = (
    "只有配置的工会干部（config.toml 的 [bot] officers、[wecom] officers 或 [dingtalk] officers）才能使用工作台。"
)
DESK_LINK_BUTTON = "打开工作台"


def sg_money_required(label: str) -> str:
    """A required amount in 元 is missing."""
    return f"请填写{escape(label)}（单位：元，没有可填 0）。"


def sg_money_bad(label: str, value: str) -> str:
    """An amount in 元 that is not a number in range."""
    return (
        f"{escape(label)}“{escape(value[:30])}”不是有效金额："
        "请填写 0 到 10 亿之间的数字（单位：元，如 12000 或 1.2万）。"
    )


def sg_money(value: float | None) -> str:
    """12000.0 -> '12,000 元'; None -> '—'."""
    if value is None:
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + " 元"


def sg_notify_result(result: str, benefit: float | None) -> str:
    """Appended to the proposer's message after 已实施."""
    out = ""
    if result:
        out += f"\n实施结果：{escape(_clip(result, 300))}"
    if benefit:
        out += f"\n经济效益：{sg_money(benefit)}"
    return out


def sg_bad_department(departments: tuple[str, ...]) -> str:
    """A department not in the configured list."""
    return "承办部门请从以下选择：" + "、".join(escape(d) for d in departments)


def sg_bad_tier(tiers: tuple[str, ...]) -> str:
    """A reward tier not in the configured list."""
    return "奖励等级请从以下选择：" + "、".join(escape(t) for t in tiers)


def sg_action_major(major: bool) -> str:
    """History label of marking / unmarking an item as major."""
    return "标记为重大建议" if major else "取消重大建议标记"


def sg_action_public(public: bool) -> str:
    """History label of publishing / withdrawing."""
    return "公示" if public else "撤回公示"


def sg_reward(tier: str, amount: float | None) -> str:
    """A reward as one phrase (history note, pages)."""
    return f"{tier or '—'}，{sg_money(amount)}"


def sg_merged_note(number: str, into: str) -> str:
    """History note of a merge (plain text)."""
    return f"{number} 并入 {into}"


def sg_merge_target_merged(into: str) -> str:
    return f"{escape(into)} 本身已合并到其他建议，请合并到最终保留的那条。"


def sg_merge_bad_status(number: str, status: str) -> str:
    return f"{escape(number)} 当前为“{escape(status)}”：只有待受理或已受理的建议可以作为重复项合并。"


def sg_notify_merged(number: str, into: str, text: str) -> str:
    """To the proposer of a suggestion merged into another."""
    return (
        f"📬 你的合理化建议 <b>{escape(number)}</b> 与 <b>{escape(into)}</b> 内容重复，已合并处理，"
        f"后续进展以 {escape(into)} 为准。\n<blockquote>{escape(_clip(text, 200))}</blockquote>"
    )


def sg_notify_merged_in(number: str, other: str, text: str) -> str:
    """To the proposer of the suggestion another was merged into."""
    return (
        f"📬 另一条相同内容的建议 {escape(other)} 已并入你的合理化建议 <b>{escape(number)}</b> 一并处理。"
        f"\n<blockquote>{escape(_clip(text, 200))}</blockquote>"
    )


def sg_choose_department(number: str) -> str:
    """Chat: pick the handling department of a suggestion."""
    return f"请选择 <b>{escape(number)}</b> 的承办部门："


def sg_rated(number: str, label: str) -> str:
    """Thanks after the proposer rated the answer."""
    return f"感谢评价！你对 {escape(number)} 答复的评价：<b>{escape(label)}</b>。"


def sg_adopted(records: list[dict], total: int) -> str:
    """/adopted: published adopted suggestions; the proposer is named only if they signed."""
    lines = ["📢 <b>合理化建议采纳公示</b>"]
    for r in records:
        who = SG_ANONYMOUS if r.get("anonymous") else escape(r.get("proposer_name") or SG_ANONYMOUS)
        benefit = f" · 效益 {sg_money(r['benefit'])}" if r.get("benefit") else ""
        lines.append(
            f"\n<b>{escape(r['number'])}</b> [{escape(r['category'])}] {escape(r['status'])} · 提议人：{who}{benefit}\n"
            f"{_esc_clip(' '.join(r['text'].split()), 120)}"
        )
    if total > len(records):
        lines.append(f"\n……共 {total} 条，仅显示最近 {len(records)} 条。")
    return "\n".join(lines)


def sg_detail_extra(deadline: str, overdue: bool, major: bool, rec: dict) -> str:
    """Lines added to the reviewer's chat view: deadline, department, result, reward, 公示, 满意度."""
    flag = "（已超期）" if overdue else ""
    lines = [f"答复期限：{escape(deadline)}{flag}" + ("　重大建议" if major else "")]
    if rec.get("department"):
        lines.append(f"承办部门：{escape(rec['department'])}")
    if rec.get("merged_into"):
        lines.append(f"已并入：{escape(rec['merged_into'])}")
    if rec.get("result"):
        lines.append(f"实施结果：{_esc_clip(rec['result'], 300)}　经济效益：{sg_money(rec.get('benefit'))}")
    if rec.get("reward_tier") or rec.get("reward_amount"):
        lines.append(f"奖励：{escape(sg_reward(rec.get('reward_tier') or '', rec.get('reward_amount')))}")
    if rec.get("public"):
        lines.append("已公示")
    if rec.get("satisfaction"):
        lines.append(f"提议人评价：{escape(rec['satisfaction'])}")
    return "\n".join(lines)


def sg_stats_more(implementation: float | None, satisfaction: float | None, overdue: int, benefit: float) -> str:
    """/stats: the lifecycle figures under the table."""
    pct = lambda v: "—" if v is None else f"{v:.1%}"  # noqa: E731
    return (
        f"实施率 {pct(implementation)} · 满意率 {pct(satisfaction)} · 超期未答复 {overdue} 条"
        f" · 经济效益合计 {sg_money(benefit)}"
    )


def desk_link(url: str, minutes: int) -> str:
    """The one-time desk login link sent to an officer."""
    return (
        f"🖥 <b>工作台登录链接</b>（{minutes} 分钟内有效，只能使用一次）：\n"
        f'<a href="{escape(url)}">{escape(url)}</a>\n'
        "请勿转发。打开后点“确认登录”。"
    )


# Desk pages (bot/desk/templates): plain text labels, escaped by Jinja2.
DESK = {
    "title": "工会合理化建议工作台",
    "nav_list": "建议列表",
    "nav_stats": "统计",
    "logout": "退出登录",
    "officer": "当前干部",
    "login_title": "登录工作台",
    "login_confirm": "确认登录",
    "login_text": "你正在用机器人发来的一次性链接登录工作台。确认是你本人操作后，点下方按钮。",
    "login_bad": (
        "登录链接无效、已过期或已被使用。请在机器人私聊中重新发送 /desk 获取新链接（10 分钟内有效，只能用一次）。"
    ),
    "login_needed": "请先登录：在机器人私聊中发送 /desk（或“工作台”）获取一次性登录链接。",
    "not_officer": "你已不是配置的工会干部，不能使用工作台。",
    "csrf": "表单已失效（缺少或错误的安全令牌）。请返回刷新页面后重试。",
    "not_found": "找不到这个页面或这个编号的建议（格式如 JY-2026-0007）。",
    "error": "抱歉，处理时出了点问题，已记录。请稍后再试。",
    "back_list": "« 返回列表",
    "filter": "筛选",
    "reset": "清除筛选",
    "all": "全部",
    "status": "状态",
    "category": "类别",
    "source": "来源群",
    "department": "承办部门",
    "date_from": "提交日期从",
    "date_to": "到",
    "overdue": "仅超期",
    "search": "搜索",
    "search_hint": "内容、编号或提议人",
    "sort": "排序",
    "sort_new": "最新提交",
    "sort_old": "最早提交",
    "sort_deadline": "答复期限",
    "sort_number": "编号",
    "number": "编号",
    "text": "建议内容",
    "proposer": "提议人",
    "created": "提交时间",
    "deadline": "答复期限",
    "overdue_flag": "已超期",
    "major": "重大",
    "public": "已公示",
    "total": "共 {n} 条",
    "page": "第 {page}/{pages} 页",
    "prev": "‹ 上一页",
    "next": "下一页 ›",
    "empty": "没有符合条件的建议。",
    "batch_accept": "批量受理所选",
    "export_xlsx": "导出 Excel（当前筛选）",
    "export_csv": "导出 CSV（当前筛选）",
    "history": "处理记录",
    "when": "时间",
    "action": "操作",
    "by": "经办人",
    "note": "说明",
    "actions": "处理",
    "accept": "受理",
    "adopt": "采纳",
    "reject": "不采纳",
    "reject_reason": "不采纳理由（必填，会告知提议人）",
    "implement": "已实施",
    "result": "实施结果",
    "benefit": "经济效益（元）",
    "add_note": "添加备注",
    "note_hint": "仅干部可见",
    "assign": "指定承办部门",
    "none": "（无）",
    "set_major": "标记为重大建议",
    "unset_major": "取消重大标记",
    "publish": "公示",
    "unpublish": "撤回公示",
    "reward": "记录奖励",
    "reward_tier": "奖励等级",
    "reward_amount": "奖励金额（元）",
    "merge": "合并重复建议",
    "merge_into": "并入编号（保留的建议）",
    "merged_into": "已并入",
    "satisfaction": "提议人评价",
    "private": "私聊",
    "done": "已保存。",
    "batch_none": "请先勾选要受理的建议。",
    "batch_done": "已受理 {ok} 条。",
    "batch_failed": "{n} 条未受理（状态不是待受理）：{numbers}",
    "notified": "已通知提议人。",
    "stats_title": "建议统计",
    "stats_total": "建议总数",
    "stats_adoption": "采纳率",
    "stats_implementation": "实施率",
    "stats_answer_days": "平均答复天数",
    "stats_overdue": "超期未答复",
    "stats_satisfaction": "满意率",
    "stats_benefit": "经济效益合计",
    "stats_by_status": "按状态",
    "stats_by_category": "按类别",
    "stats_by_department": "按承办部门",
    "stats_by_month": "按月份",
    "stats_count": "条数",
    "stats_adopted": "采纳",
    "stats_done": "实施",
    "stats_chart": "统计图",
    "stats_no_chart": "未找到中文字体，无法绘制统计图。",
    "stats_rate_help": (
        "采纳率 = (已采纳+已实施) ÷ 已答复；实施率 = 已实施 ÷ (已采纳+已实施)；满意率 = (满意+基本满意) ÷ 已评价"
    ),
    "no_department": "未指定",
    "bad_date": "日期格式应为 2026-03-01。",
    "bad_number": "请填写建议编号，格式如 JY-2026-0007。",
}
# --- flood sense (bot/flood.py; issue 10) ------------------------------------------------------

#: Appended to an answer in a busy group: identical requests in the next minute get no repeat.
FLOOD_ANSWERS_OTHERS = "<i>（群里问同样问题的各位：这条一并答复，一分钟内不再重复发送。）</i>"
FLOOD_BTN_PRIVATE = "私聊我，马上答复"


def flood_busy(private_link: bool) -> str:
    """A group asks more than the bot may send there soon: one short note for everyone asking now."""
    where = "请点下面的按钮私聊我，" if private_link else "请私聊我，"
    return (
        "群里这会儿提问的人太多，机器人在群里发消息的次数有限，逐条回答要等好几分钟。"
        f"{where}在私聊里发同样的内容，马上就能得到答复。\n"
        "<i>（这条答复刚才一分钟内在群里提问的各位。）</i>"
    )


# --- content build, document import, search CLI (moved from bot/content.py, bot/docs_import.py, ------
# --- bot/search.py, bot/handlers/search.py; shown to operators running `run.py content build` / ------
# --- `run.py search`, and in the build summary that /reload reports) ---------------------------------

#: Formats bot/docs_import.py recognises but does not read, and what the operator should do.
DOCS_UNSUPPORTED = {
    ".doc": "旧版 Word 格式，请用 Word 或 WPS 打开后“另存为” .docx 再放入",
    ".wps": "WPS 文字格式，请用 WPS 打开后“另存为” .docx 再放入",
    ".rtf": "RTF 格式，请另存为 .docx 再放入",
}
DOCS_NO_TEXT_LAYER = "PDF 没有文字层（扫描件），请先做 OCR（文字识别）生成带文字的 PDF 或 .docx 再放入"
DOCS_BAD_ENCODING = "不是 UTF-8 或 GB18030/GBK 编码的文本"
DOCS_PDF_ENCRYPTED = "PDF 有密码保护，请先去掉密码"


def docs_bad_docx(kind: str) -> str:
    """A .docx that is not a zip / package; `kind` is the exception's class name."""
    return f"不是有效的 .docx 文件，可能已损坏或是改了扩展名（{kind}）"


def docs_unparsable(kind: str) -> str:
    return f"无法解析（{kind}）"


def docs_bad_pdf(kind: str) -> str:
    return f"无法解析 PDF，可能已损坏（{kind}）"


def content_read_failed(reason: str) -> str:
    return f"读取失败（{reason}）"


def content_build_summary(
    files: int, passages: int, duplicates_merged: int, practices: int, skipped: list[tuple[str, str]]
) -> str:
    """The last lines of `run.py content build` (Chinese first, then key=value for scripts)."""
    lines = [
        f"内容构建完成：{files} 个文件，{passages} 个段落，合并重复 {duplicates_merged} 处，"
        f"{practices} 条每日一招 (files={files} passages={passages} "
        f"duplicates_merged={duplicates_merged} practices={practices} skipped={len(skipped)})"
    ]
    lines += [content_skipped(name, why) for name, why in skipped]
    return "\n".join(lines)


def content_skipped(name: str, why: str) -> str:
    return f"  已跳过 {name}：{why}"


def content_file_read(name: str, passages: int, title: str) -> str:
    return f"  {name}: {passages} 段 《{title}》"


def content_reading(n: int, seeds_dir: object) -> str:
    return f"读取 {n} 个文件（{seeds_dir}）…"


def content_no_seeds(seeds_dir: object) -> str:
    return f"{seeds_dir} 里没有 .txt 种子文件"


def content_nothing_readable(seeds_dir: object) -> str:
    return f"{seeds_dir} 里没有可读取的内容"


def content_not_text(path: object) -> str:
    return f"{path} 不是 UTF-8 或 GB18030 文本"


def content_bad_toml(path: object, first_line: str) -> str:
    return f"{path} 格式错误：{first_line}"


def content_bad_titles(path: object) -> str:
    return f"{path}：[titles] 里每一项应是 \"文件\" = \"标题\""


def content_no_practices_file(path: object) -> str:
    return f"缺少 {path}（每日一招清单）"


def content_practice_not_array(path: object) -> str:
    return f"{path}：practice 必须是 [[practice]] 表数组"


def content_source_not_array(path: object) -> str:
    return f"{path}：source 必须是 [[source]] 表数组"


def content_source_missing(file: str) -> str:
    return f"每日一招来源文件不存在：{file!r}（写 seeds/ 下的相对路径，如 local/制度汇编.docx）"


def content_source_bad_min_chars(file: str) -> str:
    return f"每日一招来源 {file}：min_chars 必须是正整数"


def content_source_bad_tags(file: str) -> str:
    return f"每日一招来源 {file}：tags 必须是字符串列表"


def content_practice_bad_id(pid: str) -> str:
    return f"每日一招 id 无效：{pid!r}（只用小写字母、数字和连字符）"


def content_practice_bad_title(pid: str, title_max: int, title: str) -> str:
    return f"每日一招 {pid}：标题必须是 1–{title_max} 个字：{title!r}"


def content_practice_no_passage(pid: str) -> str:
    return f"每日一招 {pid}：缺少 passage / passages"


def content_practice_missing_passages(pid: str, title: str, missing: list[str]) -> str:
    return f"每日一招 {pid}（{title}）引用的段落不存在：{', '.join(missing)}"


def content_practice_body_not_quoted(pid: str, title: str) -> str:
    return f"每日一招 {pid}（{title}）：body 必须是所引段落原文的一部分"


#: The two fields of a practice checked for placeholders, as named in the error.
CONTENT_FIELD_TITLE = "标题"
CONTENT_FIELD_BODY = "正文"


def content_practice_placeholder(pid: str, title: str, field: str) -> str:
    return f"每日一招 {pid}（{title}）的{field}含有占位符（_ 或 *），请改用不含占位符的摘录"


def content_practice_bad_tags(pid: str) -> str:
    return f"每日一招 {pid}：tags 必须是字符串列表"


def content_practice_duplicate(attr: str, value: str) -> str:
    return f"每日一招的 {attr} 重复：{value}"


def content_bad_jsonl(path: object, line_no: int, msg: str) -> str:
    return f"{path} 第 {line_no} 行不是有效 JSON：{msg}"


CONTENT_BUILD_HINT = "请先运行 python run.py content build"


def content_missing(path: object, hint: str) -> str:
    return f"内容文件缺失：{path}，{hint}"


def content_bad_format(content_dir: object, error: str, hint: str) -> str:
    return f"内容文件格式错误（{content_dir}）：{error}，{hint}"


def content_empty(path: object, hint: str) -> str:
    return f"内容为空：{path}，{hint}"


#: Label of the progress line while `run.py search` / the bot builds the search index.
SEARCH_INDEX_PROGRESS = "建立检索索引"
#: Suggested when a query shares no character with the corpus (only those that occur in it are offered).
SEARCH_FALLBACK_TERMS = ("集体合同", "厂务公开", "劳动竞赛", "合理化建议", "送温暖", "职工之家")
SEARCH_CMD_USAGE = "/search 关键词"
SEARCH_SHORT_CMD_USAGE = "/s 关键词"


def search_cli_no_hits(query: str, suggestions: list[str]) -> str:
    """`run.py search` found nothing (plain text, not HTML)."""
    hint = "、".join(suggestions)
    return f"没有找到“{query}”。" + (f"你是不是想找：{hint}\n" if hint else "\n")


def search_cli_head(query: str, total: int, fallback: bool) -> str:
    note = "（相近匹配）" if fallback else ""
    return f"“{query}” 共 {total} 条{note}\n"


def search_cli_source(source: str) -> str:
    return f"   来源：{source}\n"


def search_cli_citation(citation: str, chapter: str) -> str:
    """A statute's article in `run.py search`: 《劳动合同法》第十九条（第二章 劳动合同的订立）."""
    return f"{citation}（{chapter}）" if chapter else citation

#: A seed document that yields no passage (empty, or headings only): skipped, with this reason.
CONTENT_NO_TEXT = "没有可检索的正文（空文件或只有标题），已跳过"

# --- statutes (bot/statute.py, bot/content.py) ------------------------------------------------------

#: The label of what follows a statute's last article under 附录 / 附件 (cited as 《女职工劳动保护特别规定》附录).
LAW_APPENDIX = "附录"


def content_superseded(newer: str, version: str) -> str:
    """An older text of a statute that is also there in a newer version (both dropped into seeds/local/)."""
    return f"同一法规有更新的版本 {newer}（{version}），旧版本不再使用" if version else \
        f"同一法规有更新的版本 {newer}，旧版本不再使用"

# --- 每日一题 (quiz: bot/quizbank.py, bot/quiz.py, bot/handlers/quiz.py, bot/quizexport.py) ---------------

#: The options of a 判断 question, as members see and type them (A = 对, B = 错).
QUIZ_JUDGE_OPTIONS = ("对", "错")
QUIZ_KIND_LABELS = {"single": "单选", "multi": "多选", "judge": "判断"}
HELP_QUIZ = "每日一题：今天的题目（全群同一题）"
HELP_ANSWER = "回答今天的每日一题"
USAGE_ANSWER = "答 B（或 /answer B）"
HELP_RANK = "本群本月答题排行榜（加“上月”看上月）"
USAGE_RANK = "/rank [上月]"
HELP_MYSCORE = "我的答题成绩：答对题数、正确率、连续答对天数"
HELP_QUIZSUB = "订阅每日一题（每天定时把题目发到本群）"
USAGE_QUIZSUB = "/quizsub HH:MM [工作日|每天]"
HELP_QUIZUNSUB = "取消每日一题的推送"
HELP_QUIZEXPORT = "导出答题成绩（Excel，按成员和月份）"
USAGE_QUIZEXPORT = "/quizexport [上月|2026-03]"
#: Words for "last month" after /rank, /quizexport (input vocabulary).
QUIZ_LAST_MONTH_WORDS = ("上月", "上个月", "上一月", "上一个月")

QUIZ_EMPTY = (
    "题库里还没有题目。请工会干部把题库（.xlsx）放进 seeds/local/，运行 python run.py content build 后再试。"
)
QUIZ_NOT_SHOWN = "这里今天还没有出题。发送 /quiz（每日一题）查看今天的题目。"
QUIZ_GONE = "这道题已从题库中移除。发送 /quiz 查看今天的题目。"
QUIZ_ANSWER_USAGE = "用法：答 B（多选如“答 ACD”，判断题“答 对”或“答 错”）。发送 /quiz 查看今天的题目。"
#: Telegram: the poll's question when the full question does not fit a poll (it is sent as a message first).
QUIZ_POLL_SEE_ABOVE = "（题目见上一条消息）"
#: Telegram: the end of a quiz poll's explanation cut to the platform's limit.
QUIZ_POLL_MORE = "…（完整解析见今日答案揭晓）"


def quiz_header(day: date) -> str:
    return f"每日一题 · {day.month}月{day.day}日"


def quiz_message(header: str, kind: str, question: str, options: list[str], group: bool) -> str:
    """The day's question as text: every platform's fallback (numbered options, how to answer in words)."""
    lines = [f"📝 <b>{escape(header)}</b>（{QUIZ_KIND_LABELS[kind]}题）", escape(question)]
    if kind != "judge":
        lines += [f"{'ABCDEF'[i]}. {escape(o)}" for i, o in enumerate(options)]
    how = {  # no example letter: it could be taken for a hint
        "single": "回复“答”加选项字母作答",
        "multi": "回复“答”加全部正确选项的字母作答（须选全，多选少选都不得分）",
        "judge": "回复“答 对”或“答 错”作答",
    }[kind]
    if group:
        how += "；群里请 @我 或回复本条消息"
    lines.append(f"<i>{how}。每人每天以第一次回答为准。</i>")
    return "\n".join(lines)


def quiz_explanation(explanation: str) -> str:
    """A question's 解析 as plain text (a native poll's explanation), or ""."""
    return f"解析：{explanation}" if explanation else ""


def _quiz_answer_text(q: object) -> str:
    letters = q.answer_letters()  # type: ignore[attr-defined]
    if q.kind == "judge":  # type: ignore[attr-defined]
        return escape(letters)
    opts = q.choices  # type: ignore[attr-defined]
    return "；".join(f"{'ABCDEF'[i]}. {escape(opts[i])}" for i in q.answer)  # type: ignore[attr-defined]


def quiz_verdict(header: str, q: object, letters: str, right: bool, streak: int) -> str:
    """The verdict for the member who answered: right or wrong, the right answer, the 解析, the streak."""
    head = "✅ <b>回答正确！</b>" if right else f"❌ <b>回答错误</b>（你的答案：{escape(letters)}）"
    lines = [f"{head} · {escape(header)}", escape(q.text),  # type: ignore[attr-defined]
             f"正确答案：{_quiz_answer_text(q)}"]
    if q.explanation:  # type: ignore[attr-defined]
        lines.append(f"<i>解析：{escape(q.explanation)}</i>")  # type: ignore[attr-defined]
    if right and streak > 1:
        lines.append(f"🔥 已连续答对 {streak} 天")
    lines.append("发送 /rank 查看排行榜，/myscore 查看我的成绩。")
    return "\n".join(lines)


def quiz_choice(q: object | None, letters: str) -> str:
    """A member's answer as they saw the options: "B. 乙", "A. 甲；C. 丙", or 对 / 错 for 判断 (a Telegram poll
    shows option texts without letters, so both are given). Escaped."""
    if q is None or q.kind == "judge":  # type: ignore[attr-defined]
        return escape(letters)
    opts = q.choices  # type: ignore[attr-defined]
    return "；".join(f"{c}. {escape(opts['ABCDEF'.index(c)])}" if c in "ABCDEF"[:len(opts)] else escape(c)
                    for c in letters)


def quiz_already(q: object | None, letters: str, right: bool) -> str:
    """A repeated answer, told to the member alone (their private chat): what they chose first, and whether it
    was right."""
    verdict = "回答正确 ✅" if right else "回答错误 ❌"
    return (f"你今天已经答过这道题了，你选的是：{quiz_choice(q, letters)}（{verdict}）。\n"
            "每人每天以第一次回答为准，再次作答不计分。")


def quiz_already_in_group(name: str, told: bool) -> str:
    """A repeated answer in a group: who it was, never what they chose first (a click or a private answer the group
    did not see) nor whether it was right: that goes to them privately, or waits for the reveal."""
    if told:
        return f"{escape(name)} 今天已经答过这道题了，以第一次回答为准；你第一次的答案已私信发给你。"
    return (f"{escape(name)} 今天已经答过这道题了，以第一次回答为准，再次作答不计分。"
            "私聊我一次（发任意消息），以后你的答案和对错会私信告诉你。")


def quiz_taken(name: str, told: bool) -> str:
    """A group answer taken without saying right or wrong there (the question stays open for the others)."""
    if told:
        return f"已记下 {escape(name)} 的答案，对错已私信告诉你。"
    return (f"已记下 {escape(name)} 的答案。答案在今天结束后公布；私聊我一次（发任意消息），"
            "以后答题结果会马上私信告诉你。")


def quiz_card_progress(header: str, answered: int) -> str:
    """A question card after a click in a group: still open, with how many answered (fits a WeCom card)."""
    return f"📝 {header}\n已有 {answered} 人作答，点下方选项作答，对错私信告知"


def quiz_over(day: date) -> str:
    return f"这是 {day.month}月{day.day}日 的题目，已经结束了。发送 /quiz 查看今天的题目。"


def quiz_poll_late(day: date) -> str:
    """A vote in a day's poll after that day closed (its stop had not gone through yet): it does not count."""
    return f"{day.month}月{day.day}日 的题目已经结束，这次投票不计成绩。发送 /quiz 查看今天的题目。"


def quiz_not_an_answer(kind: str, options: int) -> str:
    letters = "、".join("ABCDEF"[:options])
    if kind == "judge":
        return "没看懂你的答案。判断题请回复“答 对”或“答 错”。"
    more = "，多选题写出全部选项，如“答 ACD”" if kind == "multi" else "，如“答 B”"
    return f"没看懂你的答案。请回复选项字母（{letters}）{more}。"


def quiz_reveal(day: date, q: object, answered: int, right: int) -> str:
    """The day's close in a group: the question, its answer, the full 解析 and how the group did."""
    lines = [f"📝 <b>{escape(quiz_header(day))} · 答案揭晓</b>", escape(q.text),  # type: ignore[attr-defined]
             f"正确答案：{_quiz_answer_text(q)}"]
    if q.explanation:  # type: ignore[attr-defined]
        lines.append(f"解析：{escape(q.explanation)}")  # type: ignore[attr-defined]
    if answered:
        lines.append(f"本群 {answered} 人作答，{right} 人答对（正确率 {right * 100 // answered}%）。"
                     "发送 /rank 查看排行榜。")
    else:
        lines.append("这道题没有人作答。明天继续！")
    return "\n".join(lines)


def quiz_admins_only(group_admins: bool = True) -> str:
    who = "本群管理员或工会干部" if group_admins else "配置的工会干部"
    return f"抱歉，只有{who}可以设置每日一题的推送。发送 /quiz 可查看今天的题目。"


QUIZSUB_USAGE = (
    "用法：/quizsub HH:MM [工作日|每天]，例如 /quizsub 12:00 工作日\n"
    "时间用 24 小时制（00:00–23:59）；“工作日”按国家法定节假日安排（含调休上班日）。"
)


def quiz_subscribed(hhmm: str, mode: str, next_at: datetime | None, tz_label: str, changed: bool) -> str:
    head = "已更新每日一题的推送时间" if changed else "已订阅每日一题"
    when = f"\n下次推送：{format_when(next_at, tz_label)}" if next_at else ""
    return f"✅ {head}：{schedule_text(hhmm, mode)}。{when}\n发送 /quizunsub 取消；/rank 查看排行榜。"


def quiz_already_subscribed(hhmm: str, mode: str) -> str:
    return f"本聊天已订阅每日一题：{schedule_text(hhmm, mode)}。要改时间请发送 /quizsub HH:MM。"


QUIZ_UNSUBSCRIBED = "已取消每日一题的推送。发送 /quiz 仍可查看当天的题目，成绩和排行榜都保留。"
QUIZ_NOT_SUBSCRIBED = "本聊天没有订阅每日一题。发送 /quizsub 12:00 即可订阅。"


def quiz_month_label(month: str) -> str:
    """"2026-03" -> 2026年3月."""
    return f"{month[:4]}年{int(month[5:7])}月"


def _quiz_pct(correct: int, answered: int) -> str:
    return f"{correct * 100 / answered:.0f}%" if answered else "—"


def quiz_rank(month: str, top: list, mine: object | None, total: int, current: bool) -> str:
    """/rank: the top of the month (list of bot.quiz.Score) and the asker's own place."""
    label = quiz_month_label(month)
    if not top:
        return (f"{label}还没有人答题。发送 /quiz 开始答题！" if current
                else f"{label}没有答题记录。发送 /rank 查看本月排行榜。")
    lines = [f"🏆 <b>答题排行榜 · {label}</b>（共 {total} 人参与）"]
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    for s in top:
        streak = f" · 连续答对 {s.streak} 天" if s.streak else ""
        lines.append(f"{medals.get(s.place, f'{s.place}.')} {escape(s.name)}  答对 {s.correct} 题{streak}")
    if mine is not None:
        lines.append(f"\n你：第 {mine.place} 名，答对 {mine.correct} / {mine.answered} 题"  # type: ignore[attr-defined]
                     f"（正确率 {_quiz_pct(mine.correct, mine.answered)}）")  # type: ignore[attr-defined]
    elif current:
        lines.append("\n你本月还没有答题，发送 /quiz 参加！")
    lines.append("<i>按答对题数排名，相同时比连续答对天数。" + ("发送 /rank 上月 查看上月排行。</i>" if current
                                                          else "</i>"))
    return "\n".join(lines)


def _quiz_score_line(s: object, total: int) -> str:
    return (f"答对 {s.correct} / {s.answered} 题，正确率 {_quiz_pct(s.correct, s.answered)}，"  # type: ignore[attr-defined]
            f"当前连续答对 {s.streak} 天，最长 {s.best} 天，排名第 {s.place} / {total}")  # type: ignore[attr-defined]


def quiz_myscore(rows: list[tuple[str, str, object | None, int]], last: object | None, last_total: int) -> str:
    """/myscore: (chat name, "" for this chat; month; Score or None; members ranked) rows; last month here."""
    lines = ["📊 <b>我的答题成绩</b>"]
    for title, month, score, total in rows:
        where = f"（{escape(title)}）" if title else ""
        if score is None:
            lines.append(f"{quiz_month_label(month)}{where}：还没有答题，发送 /quiz 试试。")
        else:
            lines.append(f"{quiz_month_label(month)}{where}：{_quiz_score_line(score, total)}")
    if last is not None:
        lines.append(f"上月：{_quiz_score_line(last, last_total)}")
    return "\n".join(lines)


def quiz_export_officers_only(group_admins: bool = True) -> str:
    who = "群管理员（导出本群）或配置的工会干部（私聊导出全部）" if group_admins else "配置的工会干部"
    return f"抱歉，答题成绩只有{who}可以导出。"


def quiz_export_in_private(link: bool) -> str:
    """A group's /quizexport: the workbook (every member's answers) goes to the asker's private chat only."""
    if link:
        return ("成绩表里有每位成员的作答明细，不在群里发。"
                "请点下面的按钮，在和我的私聊里领取本群的成绩表（10 分钟内有效）。")
    return "成绩表里有每位成员的作答明细，不在群里发。请私聊我发送 /quizexport 导出。"


QUIZ_EXPORT_BTN = "私聊领取成绩表"
QUIZ_EXPORT_LINK_EXPIRED = "这个领取链接已失效（10 分钟内有效，只能用一次）。请回到群里重新发送 /quizexport。"
QUIZ_EXPORT_USAGE = "用法：/quizexport [上月|2026-03]，不加月份即导出本月。"
QUIZ_RANK_USAGE = "用法：/rank（本月）或 /rank 上月，也可写月份如 /rank 2026-02。"


def quiz_export_filename(month: str, stamp: str) -> str:
    return f"答题成绩-{month}-{stamp}.xlsx"


def quiz_export_caption(month: str, members: int) -> str:
    return f"{quiz_month_label(month)}答题成绩：{members} 人次（工作表“成员成绩”和“答题明细”）。"


def quiz_export_empty(month: str) -> str:
    return f"{quiz_month_label(month)}还没有答题记录，没有可导出的内容。"


QUIZ_EXPORT_SHEET_MEMBERS = "成员成绩"
QUIZ_EXPORT_SHEET_DAYS = "答题明细"
QUIZ_EXPORT_HEADERS = ("月份", "群/聊天", "成员", "成员ID", "排名", "答题数", "答对数", "正确率",
                       "当前连续答对天数", "最长连续答对天数")
QUIZ_EXPORT_DAY_HEADERS = ("日期", "群/聊天", "成员", "成员ID", "题号", "题目", "作答", "正确答案", "结果", "作答时间")
QUIZ_EXPORT_RIGHT = "对"
QUIZ_EXPORT_WRONG = "错"
QUIZ_PRIVATE_CHAT = "私聊"
#: /myscore in a private chat: a chat whose name the bot never learnt.
QUIZ_OTHER_CHAT = "另一个群"
QUIZ_QUESTION_GONE = "（题目已从题库移除）"

# Bank build (content build): summary and the reasons a row or file is skipped.


def quiz_build_summary(questions: int, files: int, skipped: int) -> str:
    return (f"题库：{files} 个文件，{questions} 道题，跳过 {skipped} 处 "
            f"(quiz_questions={questions} quiz_skipped={skipped})")


def quiz_skipped(name: str, row: int, why: str) -> str:
    where = f"{name} 第 {row} 行" if row else name
    return f"  已跳过 {where}：{why}"


def quiz_file_read(name: str, questions: int) -> str:
    return f"  {name}: {questions} 道题"


def quiz_where(name: str, row: int) -> str:
    return f"{name} 第 {row} 行"


QUIZ_BAD_NO_QUESTION = "题目为空"
QUIZ_BAD_NO_ANSWER = "没有答案"
QUIZ_BAD_FEW_OPTIONS = "选项少于两个"
QUIZ_NO_HEADER = "第一个工作表的前 5 行里没有表头（需要“题目”或“题干”一列）"
QUIZ_OLD_EXCEL = "旧版 Excel 文件（.xls/.et）不能直接读取，请用 Excel 或 WPS“另存为” .xlsx"


def quiz_bad_kind(cell: str) -> str:
    return f"题型“{cell}”无法识别（应为 单选 / 多选 / 判断）"


def quiz_bad_answer(cell: str) -> str:
    return f"答案“{cell}”不是选项字母（如 B、ACD）"


def quiz_bad_answer_option(letters: str) -> str:
    return f"答案 {letters} 没有对应的选项"


def quiz_bad_single(letters: str) -> str:
    return f"单选题却有多个答案（{letters}）"


def quiz_bad_judge(cell: str) -> str:
    return f"判断题的答案“{cell}”应为 对/错（或 正确/错误、√/×）"


def quiz_bad_duplicate(where: str) -> str:
    return f"与{where}的题目重复"


def quiz_bad_file(kind: str) -> str:
    return f"无法打开，可能已损坏或不是 .xlsx（{kind}）"


def quiz_bad_too_many(limit: int) -> str:
    return f"选项超过 {limit} 个"


def quiz_starter_not_array(path: object) -> str:
    return f"{path}：question 必须是 [[question]] 表的数组"


def quiz_starter_bad(n: int, why: str) -> str:
    return f"content/quiz.toml 第 {n} 题：{why}"


def quiz_starter_no_passage(n: int, pid: str) -> str:
    return f"content/quiz.toml 第 {n} 题：出处段落“{pid}”不存在（请在 content/passages.jsonl 里找到段落的 id）"


def quiz_with_source(explanation: str, source: str) -> str:
    """The starter bank's 解析, ending with the passage it comes from."""
    return f"{explanation}（出处：{source}）" if explanation else f"出处：{source}"

#: The desk's 每日一题 page (bot/desk/templates/quiz.html).
QUIZ_DESK = {
    "nav": "每日一题",
    "title": "每日一题 · 答题情况",
    "month": "月份",
    "show": "查看",
    "export": "导出本月成绩（Excel）",
    "members": "参与人数",
    "answers": "作答人次",
    "right": "答对",
    "accuracy": "正确率",
    "days_title": "每天的参与情况",
    "day": "日期",
    "chat": "群/聊天",
    "answered": "作答人数",
    "none": "这个月还没有人答题。",
    "hard_title": "最难的题（正确率最低）",
    "hard_hint": "至少 {n} 人作答的题；题库里已删除的题不列出。",
    "question": "题目",
    "answer": "正确答案",
    "origin": "来源",
    "bank": "题库：{n} 道题",
    "bad_month": "月份格式应为 2026-03，已显示本月。",
}
