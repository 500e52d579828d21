"""Benchmark: desk page render time with 10,000 suggestions stored, against a baseline store in the same run.

Run from the repo root:  .venv/bin/python bench/desk.py [--samples 100] [--size 10000]
Serves the real desk app (DeskServer: uvicorn in this event loop) over a real store in a temporary directory,
logs in by a one-time link like an officer, and times GET requests with httpx over 127.0.0.1:
the filtered list (status + category, first page), the unfiltered list, and one suggestion.
Baseline: the same pages over a store holding 20 suggestions.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bot import suggestions as sg  # noqa: E402
from bot.config import BotConfig, Config, ContentConfig, DeskConfig, StorageConfig  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.desk import DeskServer, links  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")
OFFICER_TG = 9001
OFFICER = f"tg:{OFFICER_TG}"  # the core's qualified id of a configured Telegram officer
HAN = "工会职工代表大会合理化建议安全生产劳动保护技能培训班组管理节能降耗设备维护质量改进食堂宿舍通勤"
GROUPS = ("一车间工会群", "二车间工会群", "机修分会", "后勤分会")
DEPTS = ("", "安全环保部", "生产技术部", "设备管理部", "综合办公室")


def record(rng: random.Random, seq: int, start: datetime) -> dict[str, Any]:
    """A realistic suggestion: 100-400 characters, 1-4 history entries, 30% anonymous."""
    created = (start + timedelta(minutes=37 * seq)).isoformat(timespec="seconds")
    anon = rng.random() < 0.3
    status = rng.choice(sg.STATUSES[:5])
    who = "匿名" if anon else "张三"
    history = [{"at": created, "action": "提交", "status": sg.PENDING, "by_id": None, "by_name": who, "note": ""}]
    steps = {sg.PENDING: (), sg.RECEIVED: ("受理",), sg.ADOPTED: ("受理", "采纳"), sg.REJECTED: ("受理", "不采纳"),
             sg.DONE: ("受理", "采纳", "已实施")}[status]  # fmt: skip
    for action in steps:
        entry = {"at": created, "action": action, "status": status, "by_id": OFFICER, "by_name": "李干事"}
        history.append({**entry, "note": "已转承办部门处理"})
    group = rng.random() < 0.7
    return {
        "number": sg.format_number(2026, seq), "year": 2026, "seq": seq,
        "chat_id": f"tg:{-1000 - GROUPS.index(g)}" if group and (g := rng.choice(GROUPS)) else None,
        "chat_title": g if group else "", "anonymous": anon,
        "proposer_id": None if anon else f"tg:{10_000 + rng.randrange(500)}", "proposer_name": None if anon else "张三",
        "category": rng.choice(sg.CATEGORIES), "text": "".join(rng.choices(HAN, k=rng.randrange(100, 400))),
        "created": created, "status": status, "history": history, "department": rng.choice(DEPTS),
    }  # fmt: skip


def services(data: Path, size: int, port: int) -> Services:
    cfg = Config(
        storage=StorageConfig(dir=str(data)),
        content=ContentConfig(dir=str(ROOT / "content")),
        bot=BotConfig(officers=(OFFICER_TG,)),
        desk=DeskConfig(enabled=True, port=port, public_url="http://127.0.0.1"),
    )
    store = Store(data)
    rng = random.Random(size)
    start = datetime(2026, 1, 1, 8, 0, tzinfo=TZ)
    store.suggestions_add_many(record(rng, i, start) for i in range(1, size + 1))
    return Services(config=cfg, content=load_content(cfg.content_dir), store=store,
                    clock=lambda: datetime(2026, 6, 1, 9, 0, tzinfo=TZ))  # fmt: skip


async def measure(size: int, samples: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        svc = services(Path(tmp) / "data", size, 0)
        desk = DeskServer(svc, port=0)
        await desk.start()
        svc.config = dataclasses.replace(
            svc.config, desk=dataclasses.replace(svc.config.desk, public_url=f"http://127.0.0.1:{desk.port}")
        )
        base = f"http://127.0.0.1:{desk.port}"
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                token = links.create(svc, OFFICER, "李干事")
                page = await client.get(f"/login/{token}")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
                await client.post(f"/login/{token}", data={"csrf": csrf})
                mid = sg.format_number(2026, max(1, size // 2))
                pages = {
                    "filtered list": "/?" + urlencode({"status": sg.RECEIVED, "category": "安全生产"}),
                    "search + sort": "/?" + urlencode({"q": "节能", "sort": "deadline", "page": "2"}),
                    "full list": "/",
                    "one suggestion": f"/s/{mid}",
                }  # fmt: skip
                out = {}
                for name, path in pages.items():
                    r = await client.get(path)
                    assert r.status_code == 200, (path, r.status_code)
                    times = []
                    for _ in range(samples):
                        t0 = time.perf_counter()
                        r = await client.get(path)
                        times.append(time.perf_counter() - t0)
                        assert r.status_code == 200
                    ordered = sorted(times)
                    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
                    out[name] = (statistics.median(ordered) * 1e3, p99 * 1e3)
                return out
        finally:
            await desk.stop()
            svc.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--size", type=int, default=10_000)
    args = ap.parse_args()
    base = await measure(20, args.samples)
    big = await measure(args.size, args.samples)
    print(f"desk page render time over HTTP (ms), {args.samples} requests each")
    print(f"{'page':<16} {'baseline (20) p50':>18} {'p99':>8}   {f'{args.size:,} stored p50':>18} {'p99':>8}")
    for name in base:
        (b50, b99), (s50, s99) = base[name], big[name]
        print(f"{name:<16} {b50:>18.1f} {b99:>8.1f}   {s50:>18.1f} {s99:>8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
