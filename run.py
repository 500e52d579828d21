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
    python run.py --config FILE ...    # default: ./config.toml if present, else built-in defaults
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load
from bot.content import ContentError
from bot.store import StoreError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="工会助手：每日一招、关键词检索、合理化建议")
    p.add_argument("--config", help="配置文件 (TOML)；默认读取 ./config.toml（如存在）")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("console", help="本地控制台聊天（无需 Telegram token）")
    sub.add_parser("telegram", help="只运行 Telegram 机器人")
    sub.add_parser("wecom", help="只运行企业微信智能机器人")
    sub.add_parser("dingtalk", help="只运行钉钉机器人（Stream 模式）")
    content = sub.add_parser("content", help="内容管理")
    content.add_argument("action", choices=["build"], help="build: 由 seeds/ 生成 content/")
    content.add_argument("--seeds", default="seeds", help="种子文档目录（默认 seeds）")
    search = sub.add_parser("search", help="检索（与机器人同一引擎）")
    search.add_argument("query", nargs="?", help="关键词；省略则从标准输入逐行读取")
    search.add_argument("--json", action="store_true", help="输出 JSON")
    search.add_argument("--limit", type=_positive, default=5, help="返回条数（默认 5，1–50）")
    search.add_argument("--law", action="store_true", help="只检索法规（与 /law 相同）")
    sugg = sub.add_parser("suggestions", help="合理化建议")
    sugg.add_argument("action", choices=["export"])
    sugg.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    sugg.add_argument("-o", "--output", required=True, help="输出文件")
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
        print(f"内容错误 / content error: {e} (run: python run.py content build)", file=sys.stderr)
        return 2
    except StoreError as e:
        print(f"数据错误 / store error: {e}", file=sys.stderr)
        return 2
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
    _logging(args.verbose, console=command in ("console", "content", "search", "suggestions"))

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

    from bot.services import create_services
    from bot.suggestions import officers_warning

    warning = officers_warning(cfg)
    if warning:
        logging.getLogger("bot").warning(warning)
    if command == "telegram" and not cfg.telegram.token:
        raise ConfigError("[telegram] token: not set (or set env TELEGRAM_BOT_TOKEN)")
    if command == "wecom" and not cfg.wecom.enabled:
        raise ConfigError("[wecom] bot_id: not set (and secret, or env WECOM_BOT_SECRET)")
    if command == "dingtalk" and not cfg.dingtalk.enabled:
        raise ConfigError("[dingtalk] client_id: not set (and client_secret, or env DINGTALK_CLIENT_SECRET)")
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
