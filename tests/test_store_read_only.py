"""Store(dir, read_only=True): loads every acknowledged write without the lock (the bot may be running),
even while compactions replace the files under it, and never writes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.store import Store, StoreError


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_read_only_sees_snapshot_and_journal_while_the_writer_holds_the_dir(tmp_path: Path) -> None:
    with Store(tmp_path / "d") as writer:
        t = writer.db.table("t")
        t.insert({"n": 1})
        writer.compact()
        t.insert({"n": 2})  # in the journal only
        t.update({"u": "改"}, doc_ids=[1])
        with pytest.raises(StoreError, match="in use by another process"):
            Store(writer.dir)
        ro = Store(writer.dir, read_only=True)
        assert [dict(d) for d in ro.db.table("t").all()] == [{"n": 1, "u": "改"}, {"n": 2}]
        assert ro.read_only
        ro.close()
        t.insert({"n": 3})  # the writer is undisturbed
    with Store(tmp_path / "d") as again:
        assert len(again.db.table("t")) == 3


def test_read_only_refuses_every_write_and_changes_no_file(tmp_path: Path) -> None:
    with Store(tmp_path / "d") as writer:
        writer.db.table("t").insert({"n": 1})
        writer.db.table("t").insert({"n": 2})
        before = _files(writer.dir)
        ro = Store(writer.dir, read_only=True)
        t = ro.db.table("t")
        writes = [
            lambda: t.insert({"n": 9}),
            lambda: t.update({"n": 9}, doc_ids=[1]),
            lambda: t.remove(doc_ids=[1]),
            lambda: t.truncate(),
            lambda: ro.db.drop_table("t"),
            lambda: ro.db.drop_tables(),
            lambda: ro.compact(),
            lambda: ro.next_sequence("x"),
        ]
        for write in writes:
            with pytest.raises(StoreError, match="read-only"):
                write()
        assert [d["n"] for d in t.all()] == [1, 2]  # memory unchanged too
        assert _files(writer.dir) == before
        ro.close()


def test_read_only_of_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store in"):
        Store(tmp_path / "nowhere", read_only=True)
    assert not (tmp_path / "nowhere").exists()  # not created either


def test_read_only_ignores_a_torn_tail(tmp_path: Path) -> None:
    with Store(tmp_path / "d") as writer:
        writer.db.table("t").insert({"n": 1})
        with (writer.dir / "store.journal").open("ab") as f:
            f.write(b"0badc0de {\"t\":\"t\",\"s\"")  # an append in progress
        ro = Store(writer.dir, read_only=True)
        assert [d["n"] for d in ro.db.table("t").all()] == [1]


def test_read_only_during_writes_and_compactions_sees_every_acknowledged_write(tmp_path: Path) -> None:
    writer = Store(tmp_path / "d", compact_after=5)  # a compaction every 5 writes: reads race them
    acked = [0]
    stop = threading.Event()

    def write() -> None:
        table = writer.db.table("t")
        n = 0
        while not stop.is_set() and n < 300:
            n += 1
            table.insert({"n": n, "pad": "职工" * 50})
            acked[0] = n

    thread = threading.Thread(target=write)
    gen_before = writer._engine.gen
    thread.start()
    try:
        reads = 0
        while thread.is_alive():  # read until the writer is done
            floor = acked[0]
            ro = Store(writer.dir, read_only=True)
            seen = [d["n"] for d in ro.db.table("t").all()]
            assert seen == list(range(1, len(seen) + 1)), "a gap: a write lost or torn state"
            assert len(seen) >= floor, f"acknowledged write {floor} missing (saw {len(seen)})"
            reads += 1
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert reads >= 20 and acked[0] == 300
    assert writer._engine.gen - gen_before >= 50  # compactions really happened during the reads
