"""WeCom benchmark: reply latency and a 200-group push through the real WecomAdapter and the fake server.

The fake (tests/fakewecom.py) speaks the SDK's frames over TLS on 127.0.0.1 and enforces WeCom's limits
(30 messages a minute and 1,000 an hour per chat, errcode 45009 beyond; proactive sends only where someone
talked). Latency: --messages member messages (each from its own single chat, alternating `今日` and
`搜索 集体合同`), timed from the callback frame leaving the server to the reply frame's ack; baseline in the
same run: the same requests through bot.commands.dispatch alone (no network, no SDK). Push: one message to
each of --groups groups, 32 at a time (as the push tick does), with --faults errcode 45009 answers injected;
counts lost and duplicated messages (both must be 0).

Optional --burst N: N messages to one chat (over 30 a minute the adapter's windows pace them; the server
must refuse none).

Usage: .venv/bin/python bench/wecom.py [--messages 300] [--groups 200] [--faults 20] [--burst 35]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from wecom_e2e import running_wecom  # noqa: E402

from bot.adapters.wecom import PREFIX  # noqa: E402
from bot.commands import dispatch  # noqa: E402
from bot.core import Reply, Request  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main(messages: int, groups: int, faults: int, burst: int) -> int:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        async with running_wecom(Path(tmp)) as wc:
            texts = ["今日", "搜索 集体合同"]
            wc.services.search  # noqa: B018 - build the index first, outside the timings
            # baseline: dispatch alone
            base: list[float] = []
            for i in range(messages):
                req = Request(platform="wecom", chat_id=f"{PREFIX}base{i}", chat_type="private",
                               user_id=f"{PREFIX}base{i}", user_name="u", text=texts[i % 2])
                t0 = time.perf_counter()
                await dispatch(req, wc.services)
                base.append((time.perf_counter() - t0) * 1000)
            # through the SDK, TLS and the fake
            lat: list[float] = []
            for i in range(messages):
                frame = await wc.server.message(texts[i % 2], userid=f"user{i}")
                (reply,) = await wc.server.wait_for("aibot_respond_msg", req_id=frame.req_id, timeout=30)
                lat.append((reply.at - frame.at) * 1000)
            print(f"reply latency over {messages} messages: p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, "
                  f"mean {statistics.mean(lat):.1f} ms")
            print(f"  baseline dispatch alone:          p50 {pct(base, 50):.1f} ms, p99 {pct(base, 99):.1f} ms")

            ids = [f"wrBench{i:04d}" for i in range(groups)]
            wc.server.talked.update(ids)
            wc.server._groups.update(ids)
            mark = len(wc.server.frames)
            wc.server.fail_next(45009, faults)
            sem = asyncio.Semaphore(32)
            errors = 0

            async def one(chat: str) -> None:
                nonlocal errors
                async with sem:
                    try:
                        await wc.adapter.send(Reply(f"<b>每日一招</b> 推送 {chat}", chat_id=PREFIX + chat))
                    except Exception:  # noqa: BLE001 - counted as lost below
                        errors += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(one(c) for c in ids))
            took = time.perf_counter() - t0
            got = Counter(f.chatid for f in wc.server.find("aibot_send_msg", since=mark))
            lost = sum(1 for c in ids if got[c] == 0)
            dup = sum(n - 1 for n in got.values() if n > 1)
            print(f"push to {groups} WeCom groups ({faults} x 45009 injected): {took:.2f} s, "
                  f"lost {lost}, duplicated {dup}, send errors {errors}, retries {wc.adapter.retries}")
            bad = lost or dup
            if burst:  # one chat, more than WeCom's 30 a minute: paced by the adapter, never refused
                chat = "wrBurst"
                wc.server.talked.add(chat)
                wc.server._groups.add(chat)
                mark = len(wc.server.frames)
                t0 = time.perf_counter()
                await asyncio.gather(*(wc.adapter.send(Reply(f"第{i}条", chat_id=PREFIX + chat)) for i in range(burst)))
                took = time.perf_counter() - t0
                sent = wc.server.find("aibot_send_msg", since=mark, ok=None)
                got = Counter(f.content for f in sent if f.ok)
                refused = sum(1 for f in sent if not f.ok)
                lost = sum(1 for i in range(burst) if got[f"第{i}条"] == 0)
                dup = sum(n - 1 for n in got.values() if n > 1)
                print(f"burst of {burst} to one chat (limit 30/min): {took:.1f} s, refused by server {refused}, "
                      f"lost {lost}, duplicated {dup}")
                bad = bad or lost or dup
            return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--faults", type=int, default=20)
    ap.add_argument("--burst", type=int, default=0, help="also send N messages to one chat (N > 30 takes a minute)")
    a = ap.parse_args()
    sys.exit(asyncio.run(main(a.messages, a.groups, a.faults, a.burst)))
