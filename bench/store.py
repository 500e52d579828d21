"""Benchmark: durable insert latency and load time of bot.store.Store vs TinyDB's default JSONStorage.

Run from the repo root:  .venv/bin/python bench/store.py [--samples 500]
Prints a table; numbers are from real files in a temporary directory on the data disk.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinydb import Query, TinyDB  # noqa: E402  (the bench compares against plain TinyDB)

from bot.store import Store  # noqa: E402

SIZES = (0, 1_000, 10_000)
HAN = "工会职工代表大会合理化建议安全生产劳动保护技能培训班组管理节能降耗设备维护质量改进食堂宿舍通勤"


def suggestion(rng: random.Random, n: int) -> dict[str, Any]:
    """A suggestion-like document: ~300 Chinese characters of text and a dozen fields."""
    return {
        "number": f"JY-2026-{n:04d}",
        "year": 2026,
        "seq": n,
        "chat_id": -1001234567890,
        "user_id": rng.randrange(10**9),
        "user_name": "张" + "".join(rng.choices(HAN, k=2)),
        "anonymous": rng.random() < 0.3,
        "category": rng.choice(["安全生产", "劳动保护", "生活福利", "技术革新"]),
        "title": "".join(rng.choices(HAN, k=20)),
        "text": "".join(rng.choices(HAN, k=300)),
        "status": rng.choice(["待处理", "处理中", "已采纳", "未采纳"]),
        "created": "2026-05-01T08:30:00+08:00",
        "history": [{"at": "2026-05-01T08:30:00+08:00", "status": "待处理", "by": 0}],
    }


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99, max in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3, ordered[-1] * 1e3


def timed(fn: Callable[[], object], count: int) -> list[float]:
    """Wall-clock seconds of `count` calls of `fn`."""
    out = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_store(root: Path, size: int, samples: int, rng: random.Random) -> list[float]:
    """Insert latency of our Store with `size` suggestions already stored (reopened, so from a snapshot)."""
    with Store(root) as store:
        store.db.table("suggestions").insert_multiple(suggestion(rng, i) for i in range(size))
    with Store(root) as store:
        table = store.db.table("suggestions")
        counter = iter(range(size, size + samples))
        return timed(lambda: table.insert(suggestion(rng, next(counter))), samples)


def bench_tinydb(root: Path, size: int, samples: int, rng: random.Random) -> list[float]:
    """Insert latency of TinyDB(path) (default JSONStorage: rewrites the whole file, no fsync)."""
    path = root / "db.json"
    with TinyDB(path, ensure_ascii=False) as db:
        db.table("suggestions").insert_multiple(suggestion(rng, i) for i in range(size))
    with TinyDB(path, ensure_ascii=False) as db:
        table = db.table("suggestions")
        counter = iter(range(size, size + samples))
        return timed(lambda: table.insert(suggestion(rng, next(counter))), samples)


def load_times(root: Path, rng: random.Random) -> list[tuple[str, float]]:
    """Open + count 10,000 suggestions: our Store (snapshot only; snapshot + 1,000-record journal), TinyDB."""
    rows = []
    store_dir = root / "store"
    with Store(store_dir) as store:
        store.db.table("suggestions").insert_multiple(suggestion(rng, i) for i in range(10_000))

    def open_store() -> None:
        with Store(store_dir) as store:
            assert len(store.db.table("suggestions")) >= 10_000

    rows.append(("Store, snapshot of 10,000", min(timed(open_store, 3))))
    with Store(store_dir, compact_after=10**9) as store:
        table = store.db.table("suggestions")
        for i in range(1_000):
            table.insert(suggestion(rng, 10_000 + i))
    # The first open replays the journal and compacts; measure exactly that (once).
    rows.append(("Store, snapshot 10,000 + journal 1,000", timed(open_store, 1)[0]))
    path = root / "db.json"
    with TinyDB(path, ensure_ascii=False) as db:
        db.table("suggestions").insert_multiple(suggestion(rng, i) for i in range(10_000))

    def open_tinydb() -> None:
        with TinyDB(path, ensure_ascii=False) as db:
            assert len(db.table("suggestions")) == 10_000

    rows.append(("TinyDB JSONStorage, 10,000", min(timed(open_tinydb, 3))))
    return rows


def other_ops(root: Path, rng: random.Random) -> list[tuple[str, list[float]]]:
    """Other operations at 10,000 stored: update by field query, update by doc id, search."""
    with Store(root) as store:
        table = store.db.table("suggestions")
        table.insert_multiple(suggestion(rng, i) for i in range(10_000))
        q = Query()
        number = lambda: f"JY-2026-{rng.randrange(10_000):04d}"  # noqa: E731
        by_query = timed(lambda: table.update({"status": "已采纳"}, q.number == number()), 100)
        by_id = timed(lambda: table.update({"status": "处理中"}, doc_ids=[rng.randrange(1, 10_001)]), 500)
        search = timed(lambda: table.search(q.status == "待处理"), 20)
    return [("update by Query (1 match)", by_query), ("update by doc_ids", by_id), ("search (2,500 matches)", search)]


def row(name: str, size: int, samples: list[float]) -> None:
    """One line of the table."""
    print(f"{name:<32}{size:>8}{len(samples):>9}" + "".join(f"{v:>10.2f}" for v in percentiles(samples)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500, help="timed inserts per Store row")
    args = parser.parse_args()
    rng = random.Random(7)
    baseline_samples = {0: 200, 1_000: 100, 10_000: 20}
    print(f"{'engine':<32}{'stored':>8}{'samples':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for size in SIZES:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            row("Store (journal, fdatasync)", size, bench_store(Path(tmp) / "data", size, args.samples, rng))
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
            row("TinyDB JSONStorage (no fsync)", size, bench_tinydb(Path(tmp), size, baseline_samples[size], rng))
    print("\nother Store operations with 10,000 stored")
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        for name, lat in other_ops(Path(tmp) / "data", rng):
            row(name, 10_000, lat)
    print("\nload time (open + count)")
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        for name, seconds in load_times(Path(tmp), rng):
            print(f"  {name:<42}{seconds * 1e3:>8.1f} ms")
    print("\nBaseline has fewer samples (each insert rewrites the whole file); it does not fsync, so a durable")
    print("TinyDB write would be slower still. p99 with fewer than 100 samples is effectively the max.")


if __name__ == "__main__":
    main()
