"""DingTalk benchmark: reply latency beside WeCom's, and a 200-group push, through the real adapters and fakes.

Latency: --messages member messages, each from its own single chat (alternating `今日` and `搜索 集体合同`),
timed from the moment the fake sends the callback until it received the reply: for DingTalk, the CALLBACK
frame over the Stream WebSocket (routed and acked by DingTalk's SDK) to the sessionWebhook POST; for WeCom, in
the same run, the callback frame to the aibot_respond_msg ack (Tencent's SDK over TLS). Baseline, same run: the
same requests through bot.commands.dispatch alone.

Push: --groups DingTalk groups, each subscribed by the configured officer with a real `@工会助手 订阅 08:00`
(not timed); then ONE push tick at 08:00:05 (bot.ticks.run_ticks, the runtime's job) with the fake's limits on
(20 messages a minute per conversation, 20 calls a second per API: 403 QpsLimit beyond) and --faults extra 403s
injected. Measured: the tick's duration and the time until the last group got its practice; lost = groups with
no push, duplicated = groups with more than one (both must be 0). The floor at 20 calls a second is printed.

Notices: --members officers/proposers sent the same notice at once (as the weekly reminder does): the time, the
number of batchSend calls (<= 20 userIds each), and lost / duplicated.

Usage: .venv/bin/python bench/dingtalk.py [--messages 300] [--groups 200] [--faults 20] [--members 200]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dingtalk_e2e import OFFICER, running_dingtalk  # noqa: E402
from wecom_e2e import running_wecom  # noqa: E402

from bot import texts  # noqa: E402
from bot.commands import dispatch  # noqa: E402
from bot.core import Reply, Request  # noqa: E402
from bot.ticks import run_ticks  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
SUBSCRIBE_AT = datetime(2026, 3, 2, 7, 0, tzinfo=TZ)
PUSH_AT = datetime(2026, 3, 2, 8, 0, 5, tzinfo=TZ)
ASKS = ["今日", "搜索 集体合同"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def line(name: str, lat: list[float]) -> str:
    return (f"{name:<34} p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms   "
            f"mean {statistics.mean(lat):6.1f} ms")


async def latency(messages: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with running_dingtalk(Path(tmp)) as dt:
            dt.services.search  # noqa: B018 - build the index first, outside the timings
            base: list[float] = []
            for i in range(messages):
                req = Request(platform="dingtalk", chat_id=f"dingtalk:base{i}", chat_type="private",
                              user_id=f"dingtalk:base{i}", user_name="u", text=ASKS[i % 2])
                t0 = time.perf_counter()
                await dispatch(req, dt.services)
                base.append((time.perf_counter() - t0) * 1000)
            out["baseline: dispatch alone"] = base
            lat: list[float] = []
            for i in range(messages):
                t0 = time.monotonic()
                sent = await dt.server.message(ASKS[i % 2], user=f"user{i}")
                (reply,) = await dt.server.wait_replies(sent, timeout=30)
                lat.append((reply.at - t0) * 1000)
            out["DingTalk (SDK frames + webhook)"] = lat
    with tempfile.TemporaryDirectory() as tmp:
        async with running_wecom(Path(tmp)) as wc:
            wc.services.search  # noqa: B018
            lat = []
            for i in range(messages):
                frame = await wc.server.message(ASKS[i % 2], userid=f"user{i}")
                (reply,) = await wc.server.wait_for("aibot_respond_msg", req_id=frame.req_id, timeout=30)
                lat.append((reply.at - frame.at) * 1000)
            out["WeCom (SDK over TLS)"] = lat
    return out


async def push(groups: int, faults: int, members: int) -> int:
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        async with running_dingtalk(Path(tmp), adapter={"retry_base": 1.0}) as dt:
            dt.clock.set(SUBSCRIBE_AT)
            ids = [f"cidBench{i:04d}==" for i in range(groups)]
            sem = asyncio.Semaphore(16)

            async def sub(g: str) -> None:
                async with sem:
                    (reply,) = await dt.say("订阅 08:00", conversation=g, user=OFFICER, timeout=60)
                    assert "已订阅" in reply.text, reply.text

            await asyncio.gather(*(sub(g) for g in ids))
            await asyncio.sleep(1.1)  # the per-API second window drains
            mark = len(dt.server.deliveries)
            retries = dt.adapter.retries
            dt.server.fail_next("qps", faults)
            dt.clock.set(PUSH_AT)
            t0 = time.monotonic()
            await run_ticks(dt.services)
            tick = time.monotonic() - t0
            pushed = [d for d in dt.server.delivered(since=mark, via="group") if texts.PUSH_FOOTER in d.text]
            got = Counter(d.conversation for d in pushed)
            lost = sum(1 for g in ids if got[g] == 0)
            dup = sum(n - 1 for n in got.values() if n > 1)
            done = max((d.at for d in pushed), default=t0) - t0
            qps = sum(1 for c in dt.server.find("group", ok=False) if "QpsLimit" in c.code)
            floor = max(0.0, (groups - 20) / 20)
            print(f"push to {groups} DingTalk groups, one tick, limits on, {faults} x 403 QpsLimit injected:")
            print(f"  tick {tick:.2f} s, last group served at {done:.2f} s (floor at 20 calls/s: {floor:.2f} s); "
                  f"lost {lost}, duplicated {dup}; 403s {qps} (injected {faults}); "
                  f"retries {dt.adapter.retries - retries}; other refusals {len(dt.server.refusals()) - qps}")
            bad |= lost or dup

            users = [f"member{i:04d}" for i in range(members)]
            mark = len(dt.server.deliveries)
            calls = len(dt.server.find("batch", ok=None))
            t0 = time.monotonic()
            await asyncio.gather(*(dt.adapter.send(Reply("<b>本周超期建议</b>：3 条待答复", chat_id=f"dingtalk:{u}"))
                                   for u in users))
            took = time.monotonic() - t0
            got = Counter(d.conversation for d in dt.server.delivered(since=mark, via="batch"))
            lost = sum(1 for u in users if got[u] == 0)
            dup = sum(n - 1 for n in got.values() if n > 1)
            n_calls = len(dt.server.find("batch", ok=None)) - calls
            print(f"the same notice to {members} members: {took:.2f} s in {n_calls} batchSend calls "
                  f"(<= 20 userIds each); lost {lost}, duplicated {dup}")
            bad |= lost or dup
    return 1 if bad else 0


async def main(messages: int, groups: int, faults: int, members: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    rows = await latency(messages)
    print(f"reply latency over {messages} messages (same run):")
    for name, lat in rows.items():
        print("  " + line(name, lat))
    return await push(groups, faults, members)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--faults", type=int, default=20)
    ap.add_argument("--members", type=int, default=200)
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.messages, a.groups, a.faults, a.members)))
