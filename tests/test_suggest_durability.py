"""Nothing ever lost: 200 concurrent submissions, and a bot process SIGKILLed mid-stream."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from test_suggest_helpers import ROOT, make_services, pm, say, text_of

NUMBER = re.compile(r"JY-\d{4}-\d{4}")


async def test_200_concurrent_submissions_get_unique_numbers(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "data")
    try:

        async def one(i: int) -> str:
            out = await say(svc, pm(f"tg:{600000 + i}", f"建议 第{i}条并发提交的合理化建议", f"职工{i}"))
            m = NUMBER.search(text_of(out))
            assert m, text_of(out)
            return m.group(0)

        receipts: list[str] = []
        lock = threading.Lock()

        def worker(start: int) -> None:
            got = asyncio.run(_many(one, range(start, start + 25)))
            with lock:
                receipts.extend(got)

        threads = [threading.Thread(target=worker, args=(100 + 25 * k,)) for k in range(4)]
        for t in threads:
            t.start()
        receipts.extend(await asyncio.gather(*(one(i) for i in range(100))))
        for t in threads:
            t.join()

        assert len(receipts) == 200 and len(set(receipts)) == 200
        records = svc.store.suggestions_all()
        assert len(records) == 200
        assert {r["number"] for r in records} == set(receipts)
        assert sorted(r["seq"] for r in records) == list(range(1, 201))
        texts = {r["proposer_id"]: r["text"] for r in records}
        assert texts["tg:600123"] == "第123条并发提交的合理化建议"
    finally:
        svc.close()


async def _many(one, ids: range) -> list[str]:  # type: ignore[no-untyped-def]
    return list(await asyncio.gather(*(one(i) for i in ids)))


CHILD = r"""
import asyncio, re, sys
from pathlib import Path
from test_suggest_helpers import make_services, pm, say, text_of

async def main() -> None:
    svc = make_services(Path(sys.argv[1]))
    base = int(sys.argv[2])
    i = 0
    while True:
        out = await say(svc, pm(f"tg:{base + i}", f"建议 第{base + i}号职工的崩溃测试建议"))
        m = re.search(r"JY-\d{4}-\d{4}", text_of(out))
        print(m.group(0) if m else "ERROR " + text_of(out), flush=True)
        i += 1

asyncio.run(main())
"""


def _run_and_kill(data: Path, base: int, after: int) -> list[str]:
    """Run a bot process submitting suggestions; SIGKILL it after `after` receipts; return every receipt seen."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(base)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    acked: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while len(acked) < after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    acked += [line.strip() for line in rest.splitlines() if line.strip()]
    assert proc.returncode == -signal.SIGKILL
    assert not [a for a in acked if a.startswith("ERROR")], acked
    return acked


def test_sigkill_mid_submission_loses_no_acknowledged_suggestion(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acked: list[str] = []
    for round_, after in enumerate((15, 40, 7)):
        got = _run_and_kill(data, 100000 * (round_ + 1), after)
        assert len(got) >= after
        acked += got
        svc = make_services(data)  # the store loads after the crash
        try:
            stored = {r["number"]: r for r in svc.store.suggestions_all()}
            missing = [n for n in acked if n not in stored]
            assert not missing, f"acknowledged but lost: {missing}"
            assert len(set(acked)) == len(acked)  # never reused across restarts
            for rec in stored.values():
                assert rec["text"] == f"第{rec['proposer_id'].removeprefix('tg:')}号职工的崩溃测试建议"
        finally:
            svc.close()
    svc = make_services(data)
    try:
        highest = max(int(n.rsplit("-", 1)[1]) for n in acked)
        out = asyncio.run(say(svc, pm("tg:1", "建议 重启后的第一条建议")))
        n = NUMBER.search(text_of(out))
        assert n and int(n.group(0).rsplit("-", 1)[1]) > highest
    finally:
        svc.close()
