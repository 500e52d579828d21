"""TOML configuration -> frozen dataclasses, validated with one clear line per error."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import texts

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class ConfigError(Exception):
    """A bad configuration value; the message is one line naming the key (in Chinese: bot/texts.py)."""


def _bad(key: str, reason: str) -> ConfigError:
    """`[telegram] token：应为字符串，实际是 5`: the key as written in config.toml, then the reason."""
    return ConfigError(texts.config_error(key, reason))


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    listen: str = "0.0.0.0"
    port: int = 8443
    secret_token: str = ""


# --- wecom: [wecom] section (owner: WeCom adapter) ------------------------------------------------
#: The SDK's own long-connection endpoint (aibot.ws.DEFAULT_WS_URL; kept here so config needs no SDK import).
DEFAULT_WECOM_WS_URL = "wss://openws.work.weixin.qq.com"


@dataclass(frozen=True)
class WecomConfig:
    #: Bot ID of the 智能机器人 (admin console, API mode with long connection). Empty: WeCom is off.
    bot_id: str = ""
    #: Its Secret; the environment variable WECOM_BOT_SECRET is used when this is empty. Never logged.
    secret: str = ""
    ws_url: str = DEFAULT_WECOM_WS_URL
    #: WeCom userids of union officers (WeCom has no group-admin flag).
    officers: tuple[str, ...] = ()
    #: Extra CA certificate file (PEM) to trust for ws_url, for private deployments (and the tests' fake).
    ca_file: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.bot_id)

    def __repr__(self) -> str:  # the secret never reaches a log line or a traceback
        return f"WecomConfig(bot_id={self.bot_id!r}, ws_url={self.ws_url!r}, officers={self.officers!r})"


def _validate_wecom(w: WecomConfig) -> None:
    if w.bot_id and not re.fullmatch(r"[\x21-\x7e]{1,128}", w.bot_id):
        raise _bad("[wecom] bot_id", texts.cfg_printable(128))
    if w.bot_id and not w.secret:
        raise _bad("[wecom] secret", texts.cfg_needed_with("bot_id", "WECOM_BOT_SECRET"))
    if w.secret and not re.fullmatch(r"[\x21-\x7e]{1,256}", w.secret):
        raise _bad("[wecom] secret", texts.cfg_printable(256))
    if not re.fullmatch(r"wss://[A-Za-z0-9.\-\[\]:]+(/\S*)?", w.ws_url) or w.ws_url.startswith("wss:///"):
        raise _bad("[wecom] ws_url", texts.cfg_not_wss_url(w.ws_url))  # the SDK speaks TLS only
    for i, officer in enumerate(w.officers):
        if not re.fullmatch(r"[\x21-\x7e]{1,64}", officer):
            raise _bad(f"[wecom] officers[{i}]", texts.cfg_not_userid("wecom", officer))
        if officer.startswith("wecom:"):
            raise _bad(f"[wecom] officers[{i}]", texts.cfg_prefixed_userid("wecom:", officer))
    if w.ca_file and not Path(w.ca_file).is_file():
        raise _bad("[wecom] ca_file", texts.cfg_no_such_file(w.ca_file))


# --- end wecom -------------------------------------------------------------------------------------


# --- dingtalk: [dingtalk] section (owner: DingTalk adapter) ----------------------------------------
DEFAULT_DINGTALK_ENDPOINT = "https://api.dingtalk.com"


@dataclass(frozen=True)
class DingtalkConfig:
    #: Client ID (AppKey) of the 企业内部应用 with the 机器人 capability in Stream mode. Empty: DingTalk is off.
    client_id: str = ""
    #: Its Client Secret (AppSecret); the environment variable DINGTALK_CLIENT_SECRET is used when this is empty.
    #: Never logged, never in a repr.
    client_secret: str = ""
    #: The robot's robotCode (for the robot send APIs); empty: the client_id (DingTalk's default).
    robot_code: str = ""
    #: DingTalk userids (staffIds) of union officers.
    officers: tuple[str, ...] = ()
    #: Base of every DingTalk call: the stream gateway, OAuth and the robot send APIs (private deployments, tests).
    endpoint: str = DEFAULT_DINGTALK_ENDPOINT

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)

    @property
    def robot(self) -> str:
        """The robotCode used in sends."""
        return self.robot_code or self.client_id

    def __repr__(self) -> str:  # the secret never reaches a log line or a traceback
        return (f"DingtalkConfig(client_id={self.client_id!r}, robot_code={self.robot_code!r}, "
                f"officers={self.officers!r}, endpoint={self.endpoint!r})")


def _validate_dingtalk(d: DingtalkConfig) -> None:
    if d.client_id and not re.fullmatch(r"[\x21-\x7e]{1,128}", d.client_id):
        raise _bad("[dingtalk] client_id", texts.cfg_printable(128))
    if d.client_id and not d.client_secret:
        raise _bad("[dingtalk] client_secret", texts.cfg_needed_with("client_id", "DINGTALK_CLIENT_SECRET"))
    if d.client_secret and not re.fullmatch(r"[\x21-\x7e]{1,256}", d.client_secret):
        raise _bad("[dingtalk] client_secret", texts.cfg_printable(256))
    if d.client_secret and not d.client_id:
        raise _bad("[dingtalk] client_id", texts.CFG_DINGTALK_ID_NEEDED)
    if d.robot_code and not re.fullmatch(r"[\x21-\x7e]{1,128}", d.robot_code):
        raise _bad("[dingtalk] robot_code", texts.cfg_printable(128))
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#]*)?", d.endpoint) or d.endpoint.endswith("/"):
        raise _bad("[dingtalk] endpoint", texts.cfg_not_endpoint(d.endpoint))
    for i, officer in enumerate(d.officers):
        if officer.startswith("dingtalk:"):
            raise _bad(f"[dingtalk] officers[{i}]", texts.cfg_prefixed_userid("dingtalk:", officer))
        if not re.fullmatch(r"[\x21-\x7e]{1,64}", officer):
            raise _bad(f"[dingtalk] officers[{i}]", texts.cfg_not_userid("dingtalk", officer))


# --- end dingtalk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotConfig:
    timezone: str = "Asia/Shanghai"
    officers: tuple[int, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: Push schedule modes (stored values; bot.practice.DAILY / WORKDAYS are the same strings).
PUSH_MODES = ("每天", "工作日")


@dataclass(frozen=True)
class PushConfig:
    default_time: str = "08:00"
    default_mode: str = PUSH_MODES[0]  # 每天 | 工作日
    grace_minutes: int = 120

    @property
    def time(self) -> time:
        return parse_hhmm(self.default_time)


@dataclass(frozen=True)
class StorageConfig:
    dir: str = "./data"


@dataclass(frozen=True)
class ContentConfig:
    dir: str = "content"


@dataclass(frozen=True)
class SuggestionsConfig:
    min_chars: int = 5
    max_chars: int = 2000
    per_hour: int = 5
    overdue_days: int = 30
    flow_timeout_minutes: int = 10
    # --- desk / lifecycle (issue 11) ---
    #: Reply deadline of a suggestion marked major (重大), in days; others use overdue_days.
    major_overdue_days: int = 90
    #: Handling departments officers may assign (承办部门).
    departments: tuple[str, ...] = ("安全环保部", "生产技术部", "设备管理部", "人力资源部", "综合办公室", "工会办公室")
    #: Reward tiers officers may record (奖励等级); recorded only, nothing is paid by the bot.
    reward_tiers: tuple[str, ...] = ("一等奖", "二等奖", "三等奖", "鼓励奖")


@dataclass(frozen=True)
class DeskConfig:
    """The officers' web desk (工作台), served by the bot process itself."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 8080
    #: The address officers open (behind the operator's reverse proxy), e.g. "https://desk.example.org".
    public_url: str = ""
    session_minutes: int = 480


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    push: PushConfig = field(default_factory=PushConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    content: ContentConfig = field(default_factory=ContentConfig)
    suggestions: SuggestionsConfig = field(default_factory=SuggestionsConfig)
    wecom: WecomConfig = field(default_factory=WecomConfig)
    dingtalk: DingtalkConfig = field(default_factory=DingtalkConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.dir)

    @property
    def content_dir(self) -> Path:
        return Path(self.content.dir)

    @property
    def tz(self) -> ZoneInfo:
        return self.bot.tz

    def officer_ids(self) -> frozenset[str]:
        """Every configured officer as a qualified user id ("tg:42", "wecom:zhangsan", "dingtalk:manager4521").

        [bot] officers are Telegram user ids; the local console accepts the same numbers (`:user 42`).
        """
        ids = {f"{platform}:{uid}" for uid in self.bot.officers for platform in ("tg", "console")}
        ids |= {f"wecom:{uid}" for uid in self.wecom.officers}
        ids |= {f"dingtalk:{uid}" for uid in self.dingtalk.officers}
        return frozenset(ids)


def parse_hhmm(value: str) -> time:
    """'08:00' -> time(8, 0); raises ValueError for '25:00', '8点', ''."""
    parts = value.strip().replace("：", ":").split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"not a time HH:MM: {value!r}")
    h, m = int(parts[0]), int(parts[1])
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"not a time HH:MM: {value!r}")
    return time(h, m)


#: Keys whose values are never shown in an error message, even of the wrong type.
_SECRET_WORDS = ("secret", "token", "password")


class _Hidden:
    """Stands for a secret's value in an error message."""

    def __repr__(self) -> str:
        return texts.CFG_HIDDEN_VALUE


def _convert(key: str, ftype: Any, value: Any) -> Any:
    origin = get_origin(ftype)
    if origin is tuple:
        (item_type, _ellipsis) = get_args(ftype)
        if not isinstance(value, list):
            raise _bad(key, texts.cfg_not_list(value))
        return tuple(_convert(f"{key}[{i}]", item_type, v) for i, v in enumerate(value))
    expected = {"str": str, "int": int, "bool": bool}[ftype if isinstance(ftype, str) else ftype.__name__]
    # a token or secret mistyped (unquoted) is still a secret: never shown
    shown = _Hidden() if _is_secret(key) else value
    if expected is bool and not isinstance(value, bool):
        raise _bad(key, texts.cfg_not_bool(shown))
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _bad(key, texts.cfg_not_whole_number(shown))
    if expected is str and not isinstance(value, str):
        raise _bad(key, texts.cfg_not_string(shown))
    return value


def _is_secret(key: str) -> bool:
    """Whether the key (`[telegram] token`, or a bare field name) holds a token or secret."""
    return any(word in key.rsplit(" ", 1)[-1] for word in _SECRET_WORDS)


def _section(name: str, cls: type, raw: Any) -> Any:
    hints = {f.name: f for f in dataclasses.fields(cls)}
    if not isinstance(raw, dict):  # `[[telegram]]` or `telegram = "…"` may hold the section's token: never shown
        shown = _Hidden() if any(_is_secret(k) for k in hints) else raw
        raise _bad(f"[{name}]", texts.cfg_not_table(name, shown))
    values = {}
    for k, v in raw.items():
        if k not in hints:
            raise _bad(f"[{name}] {k}", texts.cfg_unknown_key(list(hints)))
        ftype = eval(hints[k].type, {"tuple": tuple, "int": int, "str": str, "bool": bool})  # noqa: S307 - our own annotations
        values[k] = _convert(f"[{name}] {k}", ftype, v)
    return cls(**values)


def _validate(cfg: Config, check_dirs: bool) -> None:
    t = cfg.telegram
    if t.mode not in ("polling", "webhook"):
        raise _bad("[telegram] mode", texts.cfg_one_of(("polling", "webhook"), t.mode))
    if t.mode == "webhook" and t.token and not t.webhook_url.startswith("https://"):
        raise _bad("[telegram] webhook_url", texts.CFG_WEBHOOK_NEEDS_HTTPS)
    if not t.api_base_url.startswith(("http://", "https://")):
        raise _bad("[telegram] api_base_url", texts.cfg_not_http_url(t.api_base_url))
    if not 1 <= t.port <= 65535:
        raise _bad("[telegram] port", texts.cfg_range(1, 65535, t.port))
    try:
        ZoneInfo(cfg.bot.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("[bot] timezone", texts.cfg_unknown_timezone(cfg.bot.timezone)) from None
    try:
        parse_hhmm(cfg.push.default_time)
    except ValueError:
        raise _bad("[push] default_time", texts.cfg_not_hhmm(cfg.push.default_time)) from None
    if cfg.push.default_mode not in PUSH_MODES:
        raise _bad("[push] default_mode", texts.cfg_one_of(PUSH_MODES, cfg.push.default_mode))
    if not 0 <= cfg.push.grace_minutes <= 1440:
        raise _bad("[push] grace_minutes", texts.cfg_range(0, 1440, cfg.push.grace_minutes, texts.CFG_AT_MOST_A_DAY))
    if t.secret_token and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", t.secret_token):
        raise _bad("[telegram] secret_token", texts.CFG_SECRET_TOKEN_CHARS)
    s = cfg.suggestions
    for k in ("min_chars", "max_chars", "per_hour", "overdue_days", "flow_timeout_minutes", "major_overdue_days"):
        if getattr(s, k) < 1:
            raise _bad(f"[suggestions] {k}", texts.cfg_at_least_one(getattr(s, k)))
    if s.min_chars > s.max_chars:
        raise _bad("[suggestions] min_chars", texts.CFG_MIN_OVER_MAX)
    _validate_wecom(cfg.wecom)
    _validate_dingtalk(cfg.dingtalk)
    for k in ("departments", "reward_tiers"):
        items = getattr(s, k)
        if any(not v.strip() or len(v) > 30 for v in items) or len(set(items)) != len(items):
            raise _bad(f"[suggestions] {k}", texts.CFG_NAMES)
    d = cfg.desk
    if not 1 <= d.port <= 65535:
        raise _bad("[desk] port", texts.cfg_range(1, 65535, d.port))
    if not 1 <= d.session_minutes <= 10080:
        raise _bad("[desk] session_minutes", texts.cfg_range(1, 10080, d.session_minutes, texts.CFG_AT_MOST_A_WEEK))
    if d.public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", d.public_url):
        raise _bad("[desk] public_url", texts.cfg_not_http_url(d.public_url))
    if not re.fullmatch(r"[A-Za-z0-9.\-:]{1,253}", d.listen):
        raise _bad("[desk] listen", texts.cfg_not_host(d.listen))
    if d.enabled and not d.public_url:
        raise _bad("[desk] public_url", texts.CFG_DESK_NEEDS_URL)
    if check_dirs:
        _check_writable(Path(cfg.storage.dir))


def _check_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise _bad("[storage] dir", texts.cfg_dir_not_writable(str(path), e.strerror)) from None


SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]


def load(path: str | Path | None = None, *, env: dict[str, str] | None = None, check_dirs: bool = True) -> Config:
    """Read `path` (or defaults if None), apply env TELEGRAM_BOT_TOKEN, validate; ConfigError on bad values."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            with p.open("rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(texts.cfg_config_not_found(str(p))) from None
        except tomllib.TOMLDecodeError as e:
            raise _bad(str(p), texts.cfg_not_toml(str(e))) from None
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise _bad(f"[{name}]", texts.cfg_unknown_section(list(SECTIONS)))
        cls = type(SECTIONS[name]())
        sections[name] = _section(name, cls, value)
    cfg = Config(**sections)
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if token and not cfg.telegram.token:
        cfg = dataclasses.replace(cfg, telegram=dataclasses.replace(cfg.telegram, token=token))
    wecom_secret = env.get("WECOM_BOT_SECRET", "").strip()
    if wecom_secret and not cfg.wecom.secret:
        cfg = dataclasses.replace(cfg, wecom=dataclasses.replace(cfg.wecom, secret=wecom_secret))
    dingtalk_secret = env.get("DINGTALK_CLIENT_SECRET", "").strip()
    if dingtalk_secret and cfg.dingtalk.client_id and not cfg.dingtalk.client_secret:
        cfg = dataclasses.replace(cfg, dingtalk=dataclasses.replace(cfg.dingtalk, client_secret=dingtalk_secret))
    _validate(cfg, check_dirs)
    return cfg
