"""The store survives SIGKILL at any moment: every acknowledged write is there after the next load.

A long-lived "zygote" subprocess imports the store once and forks a writer per round; the writer inserts
numbered documents (and now and then updates an earlier one), printing each after the call returned.
The test kills the writer with SIGKILL after a random delay (landing in open, insert, update or
compaction), then loads the same data dir and checks every printed write. 200 kills on one data dir.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
KILLS = 200
TABLE = "crash"

ZYGOTE = r"""
import os, sys
from bot.store import Store

data_dir = sys.argv[1]
out = sys.stdout.fileno()
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            store = Store(data_dir, compact_after=40)  # compactions happen mid-run, so kills hit them too
            table = store.db.table("crash")
            while True:
                n = store.next_sequence("crash")
                doc_id = table.insert({"n": n, "text": "职工代表大会" * 20, "tags": [n]})
                os.write(out, b"A %d %d\n" % (doc_id, n))
                if n % 5 == 0:
                    target = 1 + n % doc_id
                    if table.update({"u": n}, doc_ids=[target]):
                        os.write(out, b"U %d %d\n" % (target, n))
        finally:
            os._exit(3)
    os.write(out, b"P %d\n" % pid)
    _, status = os.waitpid(pid, 0)
    os.write(out, b"X %d %d\n" % (pid, status))
"""


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    """Forward the zygote's output lines to a queue."""
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line.decode())


def _next(lines: queue.Queue[str]) -> list[str]:
    """The next protocol line, split."""
    return lines.get(timeout=20).split()


def _check(data_dir: Path, acked: dict[int, int], updates: dict[int, int]) -> int:
    """Load the store; every acknowledged insert and update must be there. Returns the doc count."""
    with Store(data_dir) as store:
        docs = {doc.doc_id: doc for doc in store.db.table(TABLE).all()}
        for doc_id, n in acked.items():
            assert doc_id in docs, f"acknowledged insert {doc_id} (n={n}) lost"
            assert docs[doc_id]["n"] == n
            assert docs[doc_id]["tags"] == [n]
        for doc_id, n in updates.items():
            assert docs[doc_id].get("u", 0) >= n, f"acknowledged update u={n} of doc {doc_id} lost"
        numbers = [doc["n"] for doc in docs.values()]
        assert len(numbers) == len(set(numbers)), "a sequence number was handed out twice"
        counter = store.db.table("_sequences").all()
        assert not numbers or counter[0]["value"] >= max(numbers)
        return len(docs)


def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rng = random.Random(20260501)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    zygote = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(zygote.stdout, lines), daemon=True).start()
    acked: dict[int, int] = {}
    updates: dict[int, int] = {}
    try:
        for _ in range(KILLS):
            assert zygote.stdin is not None
            zygote.stdin.write(b"go\n")
            zygote.stdin.flush()
            kind, pid = _next(lines)
            assert kind == "P"
            threading.Event().wait(rng.uniform(0, 0.025))  # the random moment of the crash
            os.kill(int(pid), signal.SIGKILL)
            while (msg := _next(lines))[0] != "X":
                kind, doc_id, n = msg[0], int(msg[1]), int(msg[2])
                if kind == "A":
                    acked[doc_id] = n
                else:
                    updates[doc_id] = max(updates.get(doc_id, 0), n)
            status = int(msg[2])
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "writer died by itself"
            assert _check(data_dir, acked, updates) >= len(acked)
    finally:
        zygote.kill()
        zygote.wait()
    assert len(acked) > KILLS, "the writers hardly wrote anything: the test did not exercise the store"
