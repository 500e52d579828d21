"""工会助手 command line: start the bot (Telegram, or the local console without a token), build content, search, export.

    python run.py                      # every configured platform (Telegram, WeCom, DingTalk) in one process;
                                       # else the console
    python run.py console              # the local console chat
    python run.py telegram             # only the Telegram bot (polling or webhook, as configured)
    python run.py wecom                # only the WeCom (企业微信) 智能机器人
    python run.py dingtalk             # only the DingTalk (钉钉) robot (Stream mode)
    python run.py content build        # seeds/ -> content/
    python run.py search 集体合同 [--json] [--limit 5] [--law]   # no query: one per line from stdin
    python run.py suggestions export --format xlsx -o 建议.xlsx
    python run.py backup DIR           # a consistent copy of the data (works while the bot runs)
    python run.py --config FILE ...    # default: ./config.toml if present, else built-in defaults

Help and operator-facing errors are in Chinese, or bilingual (`配置错误 / config error: ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot import texts
from bot.config import Config, ConfigError, load
from bot.content import ContentError
from bot.core import PlatformUnreachable
from bot.store import StoreError

EPILOG = """\
不带命令时：启动 config.toml 里配置的全部平台（Telegram、企业微信、钉钉，同一进程）；一个都没配置时打开本地控制台。
例如：
  python run.py                          启动全部已配置的平台
  python run.py wecom                    只启动企业微信
  python run.py --config /etc/union-bot/config.toml
  python run.py content build            seeds/ 里的文档 -> content/
  python run.py search 集体合同 --limit 3
  python run.py search --law 试用期最长多久   只查法规条文
  python run.py suggestions export --format xlsx -o 建议.xlsx
  python run.py backup /var/backups/union-bot/今天
退出码：0 正常停止；1 意外错误或启动时连不上平台（可自动重启）；2 配置错误、凭据被拒、内容或数据错误（重启无用）；
3 企业微信的同一个机器人被另一个进程连上。详见 README.md「部署上线」。"""


class _Parser(argparse.ArgumentParser):
    """argparse in Chinese: headings, the help option, usage and errors (bilingual where argparse speaks)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)  # type: ignore[arg-type]
        self._positionals.title = "参数 / arguments"
        self._optionals.title = "选项 / options"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出 / show this help and exit")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 命令行错误 / error: {message}（加 -h 查看帮助）\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage: str | None, actions: object, groups: object, prefix: str | None = None) -> None:
        # argparse asks with prefix "" for the sub-commands' prog: keep that
        super().add_usage(usage, actions, groups, "用法 / usage: " if prefix is None else prefix)  # type: ignore[arg-type]


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py", epilog=EPILOG,
                description="工会助手：每日一招、关键词检索、合理化建议、每日一题、工作台")
    p.add_argument("--config", metavar="文件", help="配置文件 (TOML)；默认读取当前目录的 ./config.toml（如存在）")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    sub = p.add_subparsers(dest="command", title="命令 / commands", metavar="命令")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text)  # type: ignore[no-any-return]

    command("console", "本地控制台聊天（无需任何平台账号）")
    command("telegram", "只运行 Telegram 机器人（polling 或 webhook，按配置）")
    command("wecom", "只运行企业微信智能机器人（长连接）")
    command("dingtalk", "只运行钉钉机器人（Stream 模式）")
    content = command("content", "内容管理：由 seeds/ 里的文档生成 content/")
    content.add_argument("action", choices=["build"], help="build: 由 seeds/ 生成 content/")
    content.add_argument("--seeds", default="seeds", metavar="目录", help="种子文档目录（默认 seeds）")
    search = command("search", "检索（与机器人同一引擎）")
    search.add_argument("query", nargs="?", help="关键词；省略则从标准输入逐行读取")
    search.add_argument("--json", action="store_true", help="输出 JSON")
    search.add_argument("--limit", type=_positive, default=5, help="返回条数（默认 5，1–50）")
    search.add_argument("--law", action="store_true", help="只检索法规（与 /law 相同）")
    sugg = sub.add_parser("suggestions", help="合理化建议")
    sugg.description = "合理化建议：导出全部建议（机器人运行时也可以用）"
    sugg.add_argument("action", choices=["export"], help="export: 导出")
    sugg.add_argument("--format", choices=["xlsx", "csv"], default="xlsx", help="文件格式（默认 xlsx）")
    sugg.add_argument("-o", "--output", required=True, metavar="文件", help="输出文件")
    backup = command("backup", "备份数据目录：把全部数据写成一个一致的 store.json（机器人运行时也可以用）")
    backup.add_argument("directory", metavar="目录", help="备份写到 目录/store.json（目录不存在时自动创建）")
    return p


def _positive(value: str) -> int:
    n = int(value) if value.strip().isdigit() else 0
    if not 1 <= n <= 50:
        raise argparse.ArgumentTypeError(f"需要 1–50 之间的整数 / a whole number 1-50, got {value!r}")
    return n


def _config(path: str | None) -> Config:
    if path is None and Path("config.toml").exists():
        path = "config.toml"
    return load(path)


def _logging(verbose: bool, console: bool) -> None:
    level = logging.DEBUG if verbose else (logging.WARNING if console else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not two lines every 30 s
    # The WeCom SDK's frames hold member text beside userids (anonymous suggestions too): never in the logs.
    logging.getLogger("aibot").setLevel(logging.INFO)
    # The DingTalk SDK logs every ping with the whole frame (and callbacks with member text): warnings only, and
    # the adapter hands it format strings without their arguments.
    logging.getLogger("dingtalk_stream").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run; bad configuration -> one line on stderr, exit status 2."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as e:
        print(f"配置错误 / config error: {e}", file=sys.stderr)
        return 2
    except ContentError as e:
        hint = "" if "content build" in str(e) else " (run: python run.py content build)"
        print(f"内容错误 / content error: {e}{hint}", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"数据错误 / store error: {e}", file=sys.stderr)
        return 2
    except PlatformUnreachable as e:
        print(f"网络错误 / network error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _content_build(seeds: Path, content_dir: Path) -> int:
    """`content build`: a progress bar on a terminal, one line per file otherwise; then the summary."""
    import time

    from bot.content import build

    tty = sys.stderr.isatty()
    t0 = time.perf_counter()

    def line(text: str) -> None:
        if not tty or not text.startswith("  ") or "已跳过" in text:
            print(("\r\033[K" if tty else "") + text, file=sys.stderr)

    def bar(done: int, total: int, name: str) -> None:
        if tty:
            width = 30
            filled = width * done // max(total, 1)
            print(f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name[-40:]}",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)

    try:
        summary = build(seeds, content_dir, progress=line, step=bar)
    except ContentError as e:
        print(f"内容构建失败 / content build failed: {e}", file=sys.stderr)
        return 1
    print(f"用时 {time.perf_counter() - t0:.1f} 秒；运行中的机器人一分钟内自动换用新内容（或发送 /reload）",
          file=sys.stderr)
    return 0 if summary.practices else 1


def _run(args: argparse.Namespace) -> int:
    cfg = _config(args.config)
    command = args.command or "serve"
    _logging(args.verbose, console=command in ("console", "content", "search", "suggestions", "backup"))

    if command == "content":
        return _content_build(Path(args.seeds), cfg.content_dir)
    if command == "search":
        from bot.search import ALL, LAW, run_cli

        cache = cfg.data_dir / "cache"
        return run_cli(cfg.content_dir, cache, args.query, args.json, args.limit, sys.stdin, sys.stdout,
                       scope=LAW if args.law else ALL)
    if command == "suggestions":
        from bot.export import export_suggestions
        from bot.store import Store

        store = Store(cfg.data_dir, read_only=True)  # works while the bot runs
        try:
            n = export_suggestions(store, args.format, Path(args.output), cfg.tz)
        finally:
            store.close()
        print(f"已导出 {n} 条建议 -> {args.output}")
        return 0
    if command == "backup":
        from bot.store import Store

        store = Store(cfg.data_dir, read_only=True)  # a consistent view while the bot runs
        try:
            target = store.backup(args.directory)
        finally:
            store.close()
        print(f"已备份 / backed up: {cfg.data_dir} -> {target}")
        return 0

    from bot.services import create_services
    from bot.suggestions import officers_warning

    warning = officers_warning(cfg)
    if warning:
        logging.getLogger("bot").warning(warning)
    if command == "telegram" and not cfg.telegram.token:
        raise ConfigError(texts.config_error("[telegram] token", texts.CFG_TELEGRAM_NOT_SET))
    if command == "wecom" and not cfg.wecom.enabled:
        raise ConfigError(texts.config_error("[wecom] bot_id", texts.CFG_WECOM_NOT_SET))
    if command == "dingtalk" and not cfg.dingtalk.enabled:
        raise ConfigError(texts.config_error("[dingtalk] client_id", texts.CFG_DINGTALK_NOT_SET))
    svc = create_services(cfg)
    try:
        from bot.runtime import configured_platforms, serve

        only = None if command == "serve" else command
        platforms = [] if command == "console" else configured_platforms(cfg, svc, only)
        if platforms:
            return asyncio.run(serve(platforms, svc))
        logging.getLogger().setLevel(logging.WARNING)  # the console's screen is the chat
        from bot.adapters.console import run_console

        return asyncio.run(run_console(svc))
    finally:
        svc.close()


if __name__ == "__main__":
    sys.exit(main())
