"""The storage engine: every TinyDB table operation is durable across close/reopen, ids are stable,
files are private, damaged files are handled (torn tail ignored, real damage reported), writes are
serialised under concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from bot.store import Query, Store, StoreError

Q = Query()


def reopen(store: Store) -> Store:
    """Close `store` and load its data dir again."""
    store.close()
    return Store(store.dir)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data") as s:
        yield s


def rows(store: Store, name: str = "t") -> dict[int, dict]:
    """The table as {doc_id: doc}."""
    return {doc.doc_id: dict(doc) for doc in store.db.table(name).all()}


def test_every_write_op_survives_reopen(store: Store) -> None:
    t = store.db.table("t")
    assert t.insert({"name": "甲", "n": 1}) == 1
    assert t.insert_multiple([{"name": "乙", "n": 2}, {"name": "丙", "n": 3}, {"name": "丁", "n": 4}]) == [2, 3, 4]
    assert t.update({"status": "已办"}, Q.n == 2) == [2]
    assert t.update({"status": "在办"}, doc_ids=[3, 99]) == [3]
    assert t.update(lambda d: d.setdefault("log", []).append("x"), doc_ids=[1]) == [1]
    assert t.upsert({"name": "甲", "n": 10}, Q.name == "甲") == [1]
    assert t.upsert({"name": "戊", "n": 5}, Q.name == "戊") == [5]
    assert t.remove(Q.n == 4) == [4]
    assert t.remove(doc_ids=[3]) == [3]
    other = store.db.table("other")
    other.insert_multiple([{"k": 1}, {"k": 2}])
    other.truncate()
    expected = {
        1: {"name": "甲", "n": 10, "log": ["x"]},
        2: {"name": "乙", "n": 2, "status": "已办"},
        5: {"name": "戊", "n": 5},
    }
    assert rows(store) == expected
    store = reopen(store)
    t = store.db.table("t")
    assert rows(store) == expected
    assert rows(store, "other") == {}
    assert t.search(Q.n >= 5)[0]["name"] == "甲"
    assert t.get(doc_id=5) == {"name": "戊", "n": 5} and t.get(doc_id=4) is None
    assert t.get(Q.name == "乙").doc_id == 2
    assert [d.doc_id for d in t.get(doc_ids=[1, 5])] == [1, 5]
    assert t.count(Q.n < 10) == 2 and len(t) == 3
    assert t.contains(doc_id=2) and not t.contains(doc_id=3) and t.contains(Q.status == "已办")
    assert [d.doc_id for d in t] == [1, 2, 5]
    store.close()


def test_doc_ids_stable_across_compaction_and_never_reused(store: Store) -> None:
    t = store.db.table("t")
    t.insert_multiple({"i": i} for i in range(10))
    t.remove(doc_ids=[2, 10])
    store.compact()
    store = reopen(store)
    t = store.db.table("t")
    assert sorted(rows(store)) == [1, 3, 4, 5, 6, 7, 8, 9]
    assert t.get(doc_id=9) == {"i": 8}
    assert t.insert({"i": "new"}) == 11  # 10 was removed, yet it is never handed out again
    t.truncate()
    store = reopen(store)
    assert store.db.table("t").insert({"i": "after truncate"}) == 12
    store.close()


def test_automatic_compaction_keeps_everything(tmp_path: Path) -> None:
    store = Store(tmp_path, compact_after=3)
    t = store.db.table("t")
    ids = [t.insert({"i": i}) for i in range(10)]
    journal = (tmp_path / "store.journal").read_text().splitlines()
    assert len(journal) <= 3  # header + fewer than `compact_after` records
    store = reopen(store)
    assert sorted(rows(store)) == ids
    store.close()


def test_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = Store(tmp_path / "data")
        store.db.table("t").insert({"x": 1})
        store.next_sequence("JY-2026")
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == ["store.journal", "store.json", "store.lock"]
    for name in names:
        assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name


def test_torn_journal_tail_is_ignored_and_later_writes_survive(store: Store) -> None:
    t = store.db.table("t")
    t.insert({"i": 1})
    t.insert({"i": 2})
    store.close()
    journal = store.dir / "store.journal"
    whole = journal.read_bytes()
    with journal.open("ab") as f:
        f.write(b'1234abcd {"t":"t","s":{"3":{"i"')  # a crash in the middle of an append
    store = Store(store.dir)
    assert rows(store) == {1: {"i": 1}, 2: {"i": 2}}
    store.db.table("t").insert({"i": 3})
    store = reopen(store)
    assert rows(store) == {1: {"i": 1}, 2: {"i": 2}, 3: {"i": 3}}
    store.close()
    assert whole  # the journal held the records before the tear


def test_record_with_bad_checksum_at_tail_is_ignored(store: Store) -> None:
    store.db.table("t").insert({"i": 1})
    store.close()
    journal = store.dir / "store.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    last = lines[-1].replace(b'"i":1', b'"i":7')  # same length, checksum no longer matches
    journal.write_bytes(b"".join(lines) + last)
    store = Store(store.dir)
    assert rows(store) == {1: {"i": 1}}
    store.close()


def test_corrupt_record_before_good_ones_is_reported(store: Store) -> None:
    t = store.db.table("t")
    for i in range(3):
        t.insert({"i": i})
    store.close()
    journal = store.dir / "store.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"i":1', b'"i":9')
    journal.write_bytes(b"".join(lines))
    with pytest.raises(StoreError) as err:
        Store(store.dir)
    message = str(err.value)
    assert "\n" not in message and "store.journal" in message and "record 3 of 4 is corrupt" in message
    assert journal.read_bytes() == b"".join(lines)  # left as it was, for the operator


def test_damaged_snapshot_is_reported_not_emptied(store: Store) -> None:
    store.db.table("t").insert({"i": 1})
    store.compact()
    store.close()
    snapshot = store.dir / "store.json"
    damaged = snapshot.read_bytes()[:-5]
    snapshot.write_bytes(damaged)
    with pytest.raises(StoreError) as err:
        Store(store.dir)
    message = str(err.value)
    assert "\n" not in message and "store.json is damaged" in message and "backup" in message
    assert snapshot.read_bytes() == damaged  # nothing overwritten with an empty store
    snapshot.write_text('{"some": "other json"}')
    with pytest.raises(StoreError, match="not a union-bot-store/1 snapshot"):
        Store(store.dir)


def test_crash_between_snapshot_and_journal_truncation(store: Store) -> None:
    t = store.db.table("gone")
    t.insert({"i": 1})
    store.db.table("kept").insert({"k": 1})
    stale = (store.dir / "store.journal").read_bytes()
    store.db.drop_table("gone")  # a whole-database write: a compaction
    store.close()
    (store.dir / "store.journal").write_bytes(stale)  # as if killed before the journal was truncated
    (store.dir / "store.json.tmp").write_bytes(b'{"half": ')  # and a leftover temp snapshot
    store = Store(store.dir)
    assert store.db.tables() == {"kept"}  # the stale journal is not replayed: no resurrected table
    assert rows(store, "kept") == {1: {"k": 1}}
    assert not (store.dir / "store.json.tmp").exists()
    store.close()


def test_journal_without_its_snapshot_is_reported(store: Store) -> None:
    store.db.table("t").insert({"i": 1})
    store.close()
    (store.dir / "store.json").unlink()
    with pytest.raises(StoreError, match="has no matching store.json"):
        Store(store.dir)


def test_second_process_on_same_dir_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="in use by another process"):
        Store(store.dir)


def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.db.table("t").insert({"x": 1})


def test_returned_documents_are_copies(store: Store) -> None:
    t = store.db.table("t")
    t.insert({"tags": ["a"]})
    doc = t.get(doc_id=1)
    doc["tags"].append("b")
    t.search(Q.tags.any(["a"]))[0]["tags"].append("c")
    assert t.get(doc_id=1) == {"tags": ["a"]}
    doc_for_update = t.get(doc_id=1)
    doc_for_update["tags"].append("d")
    t.update({"tags": doc_for_update["tags"]}, doc_ids=[1])
    store = reopen(store)
    assert rows(store) == {1: {"tags": ["a", "d"]}}
    store.close()


def test_failed_write_changes_nothing(store: Store) -> None:
    t = store.db.table("t")
    t.insert({"i": 1})
    with pytest.raises(ValueError):
        t.insert_multiple([{"i": 2}, "not a document"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        t.insert({"when": object()})

    def half_update(doc: dict) -> None:
        doc["i"] = 100
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        t.update(half_update)
    assert rows(store) == {1: {"i": 1}}
    store = reopen(store)
    assert rows(store) == {1: {"i": 1}}
    store.close()


def test_values_read_back_as_json_would(store: Store) -> None:
    store.db.table("t").insert({"pair": (1, 2), "map": {3: "三"}, "emoji": "👍<b>"})
    live = rows(store)
    store = reopen(store)
    assert rows(store) == live == {1: {"pair": [1, 2], "map": {"3": "三"}, "emoji": "👍<b>"}}
    store.close()


def test_next_sequence_is_durable_and_per_name(store: Store) -> None:
    assert [store.next_sequence("JY-2026") for _ in range(3)] == [1, 2, 3]
    assert store.next_sequence("JY-2027") == 1
    store = reopen(store)
    assert store.next_sequence("JY-2026") == 4
    store.close()


def test_200_concurrent_threads_all_land_with_unique_numbers(store: Store) -> None:
    t = store.db.table("suggestions")
    barrier = threading.Barrier(20)

    def submit(k: int) -> None:
        if k < 20:
            barrier.wait()
        with store.lock:  # number + insert as one step, so numbers follow insertion order
            n = store.next_sequence("JY-2026")
            t.insert({"number": f"JY-2026-{n:04d}", "by": k})

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(200)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    store = reopen(store)
    docs = store.db.table("suggestions").all()
    assert sorted(d["by"] for d in docs) == list(range(200))
    assert sorted(d["number"] for d in docs) == [f"JY-2026-{n:04d}" for n in range(1, 201)]
    assert len({d.doc_id for d in docs}) == 200
    store.close()


async def test_concurrent_inserts_from_asyncio_tasks_all_land(store: Store) -> None:
    t = store.db.table("t")

    async def direct(k: int) -> int:
        await asyncio.sleep(0)
        return t.insert({"k": k, "n": store.next_sequence("async")})

    async def threaded(k: int) -> int:
        return await asyncio.to_thread(lambda: t.insert({"k": k, "n": store.next_sequence("async")}))

    ids = await asyncio.gather(*(direct(k) if k % 2 else threaded(k) for k in range(200)))
    assert len(set(ids)) == 200
    store = reopen(store)
    docs = store.db.table("t").all()
    assert sorted(d["k"] for d in docs) == list(range(200))
    assert sorted(d["n"] for d in docs) == list(range(1, 201))
    store.close()


def test_snapshot_is_plain_json(store: Store) -> None:
    store.db.table("t").insert({"text": "工会"})
    store.compact()
    snap = json.loads((store.dir / "store.json").read_text(encoding="utf-8"))
    assert snap["tables"]["t"] == {"1": {"text": "工会"}}
