"""The only module that imports TinyDB: crash-safe, durable storage for subscriptions, rotation, suggestions.

Sections: the storage engine; subscriptions & rotation (daily push); suggestions.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, cast

from tinydb import Query, TinyDB, where
from tinydb.storages import Storage
from tinydb.table import Document, Table

__all__ = ["Query", "Store", "StoreError", "where"]  # feature code gets Query/where from here, not tinydb


# --- storage engine -------------------------------------------------------------------------
# Durability is an append-only journal under the in-memory state TinyDB queries:
#   store.json     snapshot {"format", "gen", "next_ids", "tables"}, only ever replaced atomically
#                  (temp file, fsync, os.replace, fsync of the directory);
#   store.journal  one line per write: "<crc32 hex> <json>\n"; the first record is {"gen": N} naming the
#                  snapshot it extends; every write is appended and fdatasync'ed before it returns;
#   store.lock     flock'ed while a process has the store open (one bot process per data dir).
# A read-only open (Store(dir, read_only=True), e.g. an export while the bot runs) takes no lock and never
# writes: it reads snapshot + journal and reads the snapshot again after the journal; if a compaction
# replaced the snapshot meanwhile (the journal may then be cut short) it reads both again.
# Loading = snapshot + replay of the journal; a torn or corrupt tail (a crash mid-append) is ignored.
# Compaction (at open, and every `compact_after` records) writes a new snapshot with gen+1, then
# truncates the journal and writes its header; a journal whose gen is older than the snapshot's was
# already folded into it and is skipped, so a crash at any point loads the last acknowledged state.

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "store.json"
JOURNAL_NAME = "store.journal"
LOCK_NAME = "store.lock"
SNAPSHOT_FORMAT = "union-bot-store/1"
SEQUENCES_TABLE = "_sequences"
#: A read-only open retries this often while compactions keep replacing the snapshot under it.
READ_ATTEMPTS = 50


class StoreError(Exception):
    """The store cannot be opened or written; the message is one line for the operator."""


_CONTAINERS = (dict, list)


def _clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts and lists; everything else is immutable)."""
    kind = type(value)
    if kind is dict or isinstance(value, dict):
        return {k: v if type(v) not in _CONTAINERS else _clone(v) for k, v in value.items()}
    if kind is list or isinstance(value, list):
        return [v if type(v) not in _CONTAINERS else _clone(v) for v in value]
    return value


def _dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese text stays readable and small)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _record_line(data: Any) -> bytes:
    """One journal line: checksum, space, JSON, newline."""
    payload = _dumps(data)
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _parse_line(line: bytes) -> dict[str, Any] | None:
    """The record in one complete journal line, or None when it is damaged."""
    crc, _, payload = line.partition(b" ")
    try:
        if len(crc) != 8 or int(crc, 16) != zlib.crc32(payload):
            return None
        record = json.loads(payload)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _read_or_none(path: Path) -> bytes | None:
    """A file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _fsync_dir(path: Path) -> None:
    """Make a rename or file creation in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    """Write `data` to a new file (mode 0600) and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


class _Doc(Document):
    """A document handed to callers: a deep copy, so mutating it never changes the store unseen."""

    def __init__(self, value: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(_clone(value), doc_id)


class _Changes(MutableMapping[int, dict[str, Any]]):
    """The table as one write's updater sees it: reads fall through to the live table, changes are kept
    apart (copies), so a failing updater changes nothing and the journal gets only what changed."""

    def __init__(self, live: dict[str, dict[str, Any]]) -> None:
        self.live = live
        self.cleared = False
        self.docs: dict[int, dict[str, Any]] = {}
        self.written: set[int] = set()
        self.deleted: set[int] = set()

    def _in_live(self, doc_id: int) -> bool:
        return not self.cleared and doc_id not in self.deleted and str(doc_id) in self.live

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.docs or (isinstance(doc_id, int) and self._in_live(doc_id))

    def __getitem__(self, doc_id: int) -> dict[str, Any]:
        if doc_id in self.docs:
            return self.docs[doc_id]
        if not self._in_live(doc_id):
            raise KeyError(doc_id)
        doc = self.docs[doc_id] = _clone(self.live[str(doc_id)])
        return doc

    def __setitem__(self, doc_id: int, doc: dict[str, Any]) -> None:
        self.docs[doc_id] = doc
        self.written.add(doc_id)
        self.deleted.discard(doc_id)

    def __delitem__(self, doc_id: int) -> None:
        if doc_id not in self:
            raise KeyError(doc_id)
        self.docs.pop(doc_id, None)
        self.written.discard(doc_id)
        if not self.cleared and str(doc_id) in self.live:
            self.deleted.add(doc_id)

    def __iter__(self) -> Iterator[int]:
        if not self.cleared:
            for key in list(self.live):
                if int(key) not in self.deleted:
                    yield int(key)
        yield from [doc_id for doc_id in self.docs if self.cleared or str(doc_id) not in self.live]

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        self.cleared = True
        self.docs.clear()
        self.written.clear()
        self.deleted.clear()

    def changed(self) -> dict[int, dict[str, Any]]:
        """Docs written, or read and then modified in place."""
        return {
            doc_id: doc
            for doc_id, doc in self.docs.items()
            if doc_id in self.written or doc != self.live.get(str(doc_id))
        }


class _Engine:
    """Snapshot + journal files and the in-memory tables they hold; every method runs under `lock`."""

    def __init__(self, directory: Path, compact_after: int, read_only: bool = False) -> None:
        self.dir = directory
        self.lock = threading.RLock()
        self.compact_after = max(1, compact_after)
        self.read_only = read_only
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.next_ids: dict[str, int] = {}
        self.gen = 0
        self.records = 0
        self._fd = -1
        self._lock_fd = -1
        self._size = 0
        if read_only:
            self._open_read_only()
        else:
            self._open()

    @property
    def snapshot_path(self) -> Path:
        return self.dir / SNAPSHOT_NAME

    @property
    def journal_path(self) -> Path:
        return self.dir / JOURNAL_NAME

    def _open(self) -> None:
        """Lock the directory, load snapshot + journal, compact if the journal holds anything."""
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.dir, 0o700)
            self._take_lock()
            (self.dir / (SNAPSHOT_NAME + ".tmp")).unlink(missing_ok=True)
            has_snapshot = self._load_snapshot()
            clean = self._load_journal(has_snapshot)
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.fchmod(self._fd, 0o600)
            self._size = os.fstat(self._fd).st_size
            if not (has_snapshot and clean):
                self.compact()
            else:
                os.chmod(self.snapshot_path, 0o600)
        except OSError as exc:
            self.close()
            raise StoreError(f"cannot open the store in {self.dir}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def _open_read_only(self) -> None:
        """Load a consistent view without the lock (the bot may be writing): retry if a compaction interleaves."""
        if not (self.dir / SNAPSHOT_NAME).exists() and not (self.dir / JOURNAL_NAME).exists():
            raise StoreError(f"no store in {self.dir} (no {SNAPSHOT_NAME} or {JOURNAL_NAME})")
        error: StoreError | None = None
        for attempt in range(READ_ATTEMPTS):
            try:
                snap, journal = _read_or_none(self.snapshot_path), _read_or_none(self.journal_path)
                if _read_or_none(self.snapshot_path) != snap:
                    error = StoreError(f"{self.dir} kept changing while it was read; try again")
                else:
                    self.gen, self.tables, self.next_ids = 0, {}, {}
                    self._replay(journal, self._use_snapshot(snap))
                    return
            except StoreError as exc:
                error = exc
            except OSError as exc:
                raise StoreError(f"cannot read the store in {self.dir}: {exc}") from exc
            time.sleep(0.002 * attempt)
        assert error is not None
        raise error

    def _take_lock(self) -> None:
        """One process per data dir: a second bot on the same files would corrupt them."""
        self._lock_fd = os.open(self.dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        os.fchmod(self._lock_fd, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{self.dir} is in use by another process (it holds {LOCK_NAME})") from None

    def _damaged(self, path: Path, why: str) -> StoreError:
        return StoreError(
            f"{path} is damaged ({why}); not starting with missing data: restore it from a backup, "
            "or move the data directory away to start empty"
        )

    def _load_snapshot(self) -> bool:
        """Read store.json into memory; False when there is none yet."""
        return self._use_snapshot(_read_or_none(self.snapshot_path))

    def _use_snapshot(self, raw: bytes | None) -> bool:
        """Take the snapshot file's bytes into memory; False when there is none."""
        if raw is None:
            return False
        try:
            snap = json.loads(raw)
        except ValueError as exc:
            raise self._damaged(self.snapshot_path, f"not valid JSON: {exc}") from None
        ok = (
            isinstance(snap, dict)
            and snap.get("format") == SNAPSHOT_FORMAT
            and isinstance(snap.get("gen"), int)
            and isinstance(snap.get("tables"), dict)
            and isinstance(snap.get("next_ids"), dict)
            and all(isinstance(t, dict) for t in snap["tables"].values())
        )
        if not ok:
            raise self._damaged(self.snapshot_path, f"not a {SNAPSHOT_FORMAT} snapshot")
        self.gen, self.tables, self.next_ids = snap["gen"], snap["tables"], snap["next_ids"]
        return True

    def _load_journal(self, has_snapshot: bool) -> bool:
        """Replay store.journal; True when it is exactly a header for the current snapshot."""
        return self._replay(_read_or_none(self.journal_path), has_snapshot)

    def _replay(self, raw: bytes | None, has_snapshot: bool) -> bool:
        """Replay the journal file's bytes (see _load_journal)."""
        if raw is None:
            return False
        *lines, torn = raw.split(b"\n")
        records = [_parse_line(line) for line in lines]
        good = [i for i, rec in enumerate(records) if rec is not None]
        bad = [i for i, rec in enumerate(records) if rec is None]
        if bad and good and bad[0] < good[-1]:
            raise self._damaged(self.journal_path, f"record {bad[0] + 1} of {len(records)} is corrupt")
        if bad or torn:
            kept = sum(len(lines[i]) + 1 for i in good)
            # a reader racing the bot's append sees a partial last line: normal, not worth a warning
            level = logging.DEBUG if self.read_only else logging.WARNING
            log.log(level, "%s: ignoring a torn last write (%d bytes)", self.journal_path, len(raw) - kept)
        valid = [rec for rec in records if rec is not None]
        if not valid:
            return False
        header = valid[0].get("gen")
        if not isinstance(header, int):
            raise self._damaged(self.journal_path, "no header record")
        if not has_snapshot or header > self.gen:
            raise self._damaged(self.journal_path, f"generation {header} has no matching {SNAPSHOT_NAME}")
        if header < self.gen:
            return False  # a crash between snapshot and journal truncation: already in the snapshot
        for rec in valid[1:]:
            self._apply(rec)
        return len(valid) == 1 and not bad and not torn

    def _apply(self, rec: dict[str, Any]) -> None:
        """Apply one journal record to the in-memory tables."""
        table = self.tables.setdefault(rec["t"], {})
        if rec.get("c"):
            table.clear()
        for doc_id in rec.get("d", ()):
            table.pop(str(doc_id), None)
        table.update(rec.get("s", {}))
        if "n" in rec:
            self.next_ids[rec["t"]] = max(self.next_ids.get(rec["t"], 1), rec["n"])

    def commit(self, name: str, changes: _Changes) -> None:
        """Journal one table write (fsync'ed), then apply it in memory."""
        self._check_writable()
        sets = changes.changed()
        if not (sets or changes.deleted or changes.cleared):
            return
        rec: dict[str, Any] = {"t": name}
        if changes.cleared:
            rec["c"] = 1
        if changes.deleted:
            rec["d"] = sorted(changes.deleted)
        if sets:
            rec["s"] = sets
            top = max(sets) + 1
            if top > self.next_ids.get(name, 1):
                rec["n"] = top
        line = _record_line(rec)
        applied = json.loads(line[9:])  # exactly what a reload will see (str keys, lists, copies)
        self._append(line)
        self._apply(applied)
        self.records += 1
        if self.records >= self.compact_after:
            self.compact()

    def _check_writable(self) -> None:
        """Refuse any write to a store opened read-only."""
        if self.read_only:
            raise StoreError(f"the store in {self.dir} was opened read-only; it cannot be written")

    def _append(self, line: bytes) -> None:
        """Append + fdatasync; on failure cut the journal back so no half record stays in it."""
        if self._fd < 0:
            raise StoreError("the store is closed")
        try:
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"short write: {written} of {len(line)} bytes")
            os.fdatasync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                self.close()
            raise StoreError(f"cannot write {self.journal_path}: {exc}") from exc
        self._size += len(line)

    def compact(self) -> None:
        """Fold the journal into a new snapshot (atomic replace), then start a fresh journal."""
        with self.lock:
            self._check_writable()
            if self._fd < 0:
                raise StoreError("the store is closed")
            gen = self.gen + 1
            snap = {"format": SNAPSHOT_FORMAT, "gen": gen, "next_ids": self.next_ids, "tables": self.tables}
            tmp = self.dir / (SNAPSHOT_NAME + ".tmp")
            _write_durably(tmp, _dumps(snap))
            os.replace(tmp, self.snapshot_path)
            _fsync_dir(self.dir)
            self.gen = gen
            os.ftruncate(self._fd, 0)
            self._size = 0
            self.records = 0
            self._append(_record_line({"gen": gen}))
            _fsync_dir(self.dir)

    def snapshot_to(self, directory: Path) -> Path:
        """Write the state in memory as a snapshot in `directory` (a backup: a data dir holding only this file
        opens as exactly this state). Refuses a live data dir, whose journal would be replayed onto it twice."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (directory / JOURNAL_NAME).exists() or (directory / LOCK_NAME).exists():
            raise StoreError(f"{directory} is a data directory (it has {JOURNAL_NAME}); back up into another one")
        with self.lock:
            data = _dumps({"format": SNAPSHOT_FORMAT, "gen": self.gen, "next_ids": self.next_ids,
                           "tables": self.tables})
        target, tmp = directory / SNAPSHOT_NAME, directory / (SNAPSHOT_NAME + ".tmp")
        try:
            _write_durably(tmp, data)
            os.replace(tmp, target)
            _fsync_dir(directory)
        except OSError as exc:
            raise StoreError(f"cannot write the backup in {directory}: {exc}") from exc
        return target

    def replace_all(self, tables: dict[str, dict[str, dict[str, Any]]]) -> None:
        """TinyDB's whole-database write (drop_table/drop_tables): becomes a compaction."""
        with self.lock:
            self._check_writable()
            self.tables = tables
            self.compact()

    def close(self) -> None:
        """Close the journal and release the directory lock (idempotent)."""
        with self.lock:
            for fd in (self._fd, self._lock_fd):
                if fd >= 0:
                    os.close(fd)
            self._fd = self._lock_fd = -1


class _Storage(Storage):
    """TinyDB's storage interface over the engine's in-memory tables."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine

    def read(self) -> dict[str, dict[str, Any]]:
        return self.engine.tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.engine.replace_all(data)

    def close(self) -> None:
        self.engine.close()


class _Table(Table):
    """A TinyDB table whose every write is one fsync'ed journal record, atomic and serialised."""

    document_class = _Doc

    def __init__(self, storage: Storage, name: str, cache_size: int = 0, persist_empty: bool = False) -> None:
        # No query cache: cached result documents would be shared between callers.
        super().__init__(storage, name, cache_size=cache_size, persist_empty=persist_empty)

    @property
    def _engine(self) -> _Engine:
        return cast(_Storage, self._storage).engine

    def _update_table(self, updater: Callable[[dict[int, Mapping[str, Any]]], None]) -> None:
        engine = self._engine
        with engine.lock:
            changes = _Changes(engine.tables.get(self.name, {}))
            updater(cast(dict[int, Mapping[str, Any]], changes))
            engine.commit(self.name, changes)
            self.clear_cache()

    def _get_next_id(self) -> int:
        engine = self._engine
        with engine.lock:
            if self._next_id is None:
                live = engine.tables.get(self.name, {})
                top = max((int(k) for k in live), default=0) + 1
                self._next_id = max(top, engine.next_ids.get(self.name, 1))
            doc_id: int = self._next_id
            self._next_id = doc_id + 1
            return doc_id

    # Every public operation runs under the engine lock (writes serialised, reads never see a
    # half-applied write nor a dict changing size under them).
    def insert(self, document: Mapping[str, Any]) -> int:
        with self._engine.lock:
            return super().insert(document)

    def insert_multiple(self, documents: Iterable[Mapping[str, Any]]) -> list[int]:
        with self._engine.lock:
            return super().insert_multiple(documents)

    def _matching(self, cond: Any) -> list[int]:
        """Ids of the live docs matching `cond` (evaluated without copying every doc)."""
        return [int(key) for key, doc in self._engine.tables.get(self.name, {}).items() if cond(doc)]

    def update(self, fields: Any, cond: Any = None, doc_ids: Iterable[int] | None = None) -> list[int]:
        with self._engine.lock:
            if cond is not None and doc_ids is None:
                return super().update(fields, doc_ids=self._matching(cond))
            return super().update(fields, cond, doc_ids)

    def update_multiple(self, updates: Any) -> list[int]:
        with self._engine.lock:
            return super().update_multiple(updates)

    def upsert(self, document: Mapping[str, Any], cond: Any = None) -> list[int]:
        with self._engine.lock:
            return super().upsert(document, cond)

    def remove(self, cond: Any = None, doc_ids: Iterable[int] | None = None) -> list[int]:
        with self._engine.lock:
            if cond is not None and doc_ids is None:
                return super().remove(doc_ids=self._matching(cond))
            return super().remove(cond, doc_ids)

    def truncate(self) -> None:
        with self._engine.lock:
            super().truncate()

    def search(self, cond: Any) -> list[Document]:
        with self._engine.lock:
            return super().search(cond)

    def get(self, cond: Any = None, doc_id: int | None = None, doc_ids: list[int] | None = None) -> Any:
        with self._engine.lock:
            return super().get(cond, doc_id, doc_ids)

    def contains(self, cond: Any = None, doc_id: int | None = None) -> bool:
        with self._engine.lock:
            return super().contains(cond, doc_id)

    def count(self, cond: Any) -> int:
        with self._engine.lock:
            return super().count(cond)

    def __len__(self) -> int:
        with self._engine.lock:
            return super().__len__()

    def __iter__(self) -> Iterator[Document]:
        with self._engine.lock:
            docs = list(super().__iter__())
        return iter(docs)


class _TinyDB(TinyDB):
    """TinyDB over the journaled engine."""

    table_class = _Table

    def drop_table(self, name: str) -> None:
        engine = cast(_Storage, self.storage).engine
        with engine.lock:
            engine._check_writable()  # before TinyDB deletes from the live tables
            super().drop_table(name)

    def drop_tables(self) -> None:
        engine = cast(_Storage, self.storage).engine
        with engine.lock:
            engine._check_writable()
            super().drop_tables()


# --- id migration ------------------------------------------------------------------------------
#: Releases before the platform seam were Telegram-only and stored Telegram's ints bare.
LEGACY_ID_PLATFORM = "tg"


def _qualified(value: Any) -> Any:
    """A legacy bare Telegram id (int) -> "tg:<id>"; anything else unchanged (so migrating twice is a no-op)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{LEGACY_ID_PLATFORM}:{value}"
    return value


def _qualify_legacy_ids(tables: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """Qualify every id field of the push and suggestion tables in place; True if anything changed."""
    changed = False

    def fix(doc: dict[str, Any], key: str) -> None:
        nonlocal changed
        if key in doc and (new := _qualified(doc[key])) is not doc[key]:
            doc[key] = new
            changed = True

    for doc in tables.get("push_chats", {}).values():
        fix(doc, "chat_id")
        if isinstance(doc.get("sub"), dict):
            fix(doc["sub"], "by")
    for doc in tables.get(SUGGEST_TABLE, {}).values():
        fix(doc, "chat_id")
        fix(doc, "proposer_id")
        for entry in doc.get("history", []):
            if isinstance(entry, dict):
                fix(entry, "by_id")
    return changed


class Store:
    """All persistent state of one bot, under `data_dir` (dir 0700, files 0600).

    `read_only=True` loads the state as it is now (every acknowledged write), without the directory lock,
    so it works while the bot runs (exports, inspection); it never writes (StoreError) nor follows later writes.
    """

    def __init__(self, data_dir: str | Path, *, compact_after: int = 5000, read_only: bool = False) -> None:
        self.dir = Path(data_dir)
        self.read_only = read_only
        self._engine = _Engine(self.dir, compact_after, read_only)
        #: Held by every table operation; hold it yourself around a read-modify-write.
        self.lock = self._engine.lock
        self.db: TinyDB = _TinyDB(self._engine, storage=_Storage)
        #: (chat, month) -> {member: doc id} of "quiz_scores" (see _score_index); None until first used.
        self._quiz_index: dict[tuple[str, str], dict[str, int]] | None = None
        self._migrate_ids()

    def _migrate_ids(self) -> None:
        """Data dirs of releases before the platform seam hold bare Telegram ids (ints): qualify them ("tg:…").

        All of it lands in one atomic step (a compaction: new snapshot, then rename), so a kill at any moment
        leaves either the old data, which is migrated again at the next open, or the migrated data. A
        read-only open migrates in memory only.
        """
        with self.lock:
            tables = _clone(self._engine.tables)
            if not _qualify_legacy_ids(tables):
                return
            if self.read_only:
                self._engine.tables = tables
                return
            try:
                self._engine.replace_all(tables)
            except OSError as e:
                self.close()  # release the lock: the old data is intact and is migrated at the next open
                raise StoreError(f"{self.dir}: could not migrate the data dir ({e.strerror or e})") from None
            log.info("data dir %s: ids qualified for the multi-platform release", self.dir)

    def close(self) -> None:
        """Close the files and release the data dir (every acknowledged write is already on disk)."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def compact(self) -> None:
        """Fold the journal into the snapshot now (also done at open and every `compact_after` writes)."""
        self._engine.compact()

    def backup(self, directory: str | Path) -> Path:
        """Write a consistent copy of the whole store (every acknowledged write) to `directory`/store.json, 0600.

        Works on a read-only open while the bot runs. To restore: stop the bot, put that file alone into an empty
        data dir (the old one moved away), start the bot.
        """
        return self._engine.snapshot_to(Path(directory))

    def next_sequence(self, name: str) -> int:
        """The next value (1, 2, ...) of the durable counter `name`; never reused, even after a crash."""
        with self.lock:
            table = self.db.table(SEQUENCES_TABLE)
            doc = table.get(where("name") == name)
            value = (doc["value"] if doc else 0) + 1
            if doc:
                table.update({"value": value}, doc_ids=[doc.doc_id])
            else:
                table.insert({"name": name, "value": value})
            return value

    # --- subscriptions & rotation (daily push) ----------------------------------------------
    # One document per chat in table "push_chats"; its layout and logic live in bot/practice.py.
    PUSH_TABLE = "push_chats"

    @staticmethod
    def _push_replace(data: dict[str, Any]) -> Callable[[MutableMapping[str, Any]], None]:
        """A TinyDB update transform that makes the stored document exactly `data` (one write)."""

        def transform(doc: MutableMapping[str, Any]) -> None:
            doc.clear()
            doc.update(_clone(data))

        return transform

    def push_doc(self, chat_id: str) -> dict[str, Any] | None:
        """A copy of the chat's push document (subscription, rotation, picks, deliveries), or None."""
        return self._chat_doc(self.PUSH_TABLE, chat_id)

    def push_docs(self) -> list[dict[str, Any]]:
        """Copies of every chat's push document."""
        return self._chat_docs(self.PUSH_TABLE)

    def push_update(
        self, chat_id: str, fn: Callable[[dict[str, Any]], Any], new: Callable[[str], dict[str, Any]]
    ) -> Any:
        """Atomically let `fn` mutate a copy of the chat's document (or of `new(chat_id)`); returns its result.

        The document is written (one durable journal record) only if `fn` changed it.
        """
        return self._chat_update(self.PUSH_TABLE, chat_id, fn, new)

    # One document per chat ("push_chats", "quiz_chats"): read, list, change atomically.

    def _chat_doc(self, name: str, chat_id: str) -> dict[str, Any] | None:
        with self.lock:
            doc = self.db.table(name).get(Query().chat_id == chat_id)
            return _clone(dict(doc)) if doc is not None else None

    def _chat_docs(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [_clone(dict(d)) for d in self.db.table(name).all()]

    def _chat_update(
        self, name: str, chat_id: str, fn: Callable[[dict[str, Any]], Any], new: Callable[[str], dict[str, Any]]
    ) -> Any:
        with self.lock:
            table = self.db.table(name)
            doc = table.get(Query().chat_id == chat_id)
            data = _clone(dict(doc)) if doc is not None else new(chat_id)
            before = _clone(data)
            result = fn(data)
            if data != before:
                if doc is None:
                    table.insert(data)
                else:
                    table.update(self._push_replace(data), doc_ids=[doc.doc_id])
            return result

    def push_move(self, old_id: str, new_id: str) -> bool:
        """Move a chat's document to `new_id` (group→supergroup), merging delivery records; False if none."""
        return self._chat_move(self.PUSH_TABLE, old_id, new_id, ("picks", "deliveries"))

    def _chat_move(self, name: str, old_id: str, new_id: str, merged: tuple[str, ...]) -> bool:
        """Move a per-chat document to `new_id`; the day records under `merged` are merged into a document already
        there (the old one's win). False if there was none to move."""
        with self.lock:
            table = self.db.table(name)
            old = table.get(Query().chat_id == old_id)
            if old is None:
                return False
            data = _clone(dict(old))
            data["chat_id"] = new_id
            existing = table.get(Query().chat_id == new_id)
            if existing is not None:
                for key in merged:
                    data[key] = {**existing.get(key, {}), **data.get(key, {})}
                table.update(self._push_replace(data), doc_ids=[existing.doc_id])
            else:
                table.insert(data)
            table.remove(doc_ids=[old.doc_id])
            return True

    # --- 每日一题 (quiz) --------------------------------------------------------------------------
    # "quiz_chats": one document per chat, laid out like "push_chats" (subscription, rotation, picks, deliveries;
    #     bot/practice.py) plus the days a question was shown and closed (bot/quiz.py).
    # "quiz_scores": one document per (chat, month, member): the month's aggregates (answered, correct, streaks)
    #     and that member's answers by day, so an answer is one small durable write that keeps both consistent,
    #     and a ranking reads one chat-month's documents through an in-memory index, never the whole table.
    # "quiz_polls": one document per native poll sent (platform reference -> chat, day, question), so a vote
    #     finds its chat and the day's close stops the polls; kept until the poll is stopped (a stop that failed
    #     is retried from here, across restarts: "stop_tries", "stop_retry_at").
    QUIZ_CHATS = "quiz_chats"
    QUIZ_SCORES = "quiz_scores"
    QUIZ_POLLS = "quiz_polls"

    def quiz_doc(self, chat_id: str) -> dict[str, Any] | None:
        """A copy of the chat's quiz document, or None."""
        return self._chat_doc(self.QUIZ_CHATS, chat_id)

    def quiz_docs(self) -> list[dict[str, Any]]:
        """Copies of every chat's quiz document."""
        return self._chat_docs(self.QUIZ_CHATS)

    def quiz_update(
        self, chat_id: str, fn: Callable[[dict[str, Any]], Any], new: Callable[[str], dict[str, Any]]
    ) -> Any:
        """Atomically let `fn` mutate a copy of the chat's quiz document (or of `new(chat_id)`); its result.
        Written (one durable record) only if `fn` changed it."""
        return self._chat_update(self.QUIZ_CHATS, chat_id, fn, new)

    def _score_index(self) -> dict[tuple[str, str], dict[str, int]]:
        """(chat, month) -> {member: doc id} over "quiz_scores", built on first use, kept up to date by the
        methods below (the only writers of that table)."""
        if self._quiz_index is None:
            index: dict[tuple[str, str], dict[str, int]] = {}
            for key, doc in self._engine.tables.get(self.QUIZ_SCORES, {}).items():
                index.setdefault((doc["chat_id"], doc["month"]), {})[doc["user_id"]] = int(key)
            self._quiz_index = index
        return self._quiz_index

    def quiz_score(self, chat_id: str, month: str, user_id: str) -> dict[str, Any] | None:
        """A copy of one member's document for a chat and month ("2026-03"), or None."""
        with self.lock:
            doc_id = self._score_index().get((chat_id, month), {}).get(user_id)
            if doc_id is None:
                return None
            return _clone(self._engine.tables[self.QUIZ_SCORES][str(doc_id)])

    def quiz_score_update(
        self, chat_id: str, month: str, user_id: str, fn: Callable[[dict[str, Any]], Any],
        new: Callable[[str, str, str], dict[str, Any]],
    ) -> Any:
        """Atomically let `fn` change a copy of the member's chat-month document (or of `new(...)`); its result.
        One durable write, only if `fn` changed it."""
        with self.lock:
            table = self.db.table(self.QUIZ_SCORES)
            members = self._score_index().setdefault((chat_id, month), {})
            doc_id = members.get(user_id)
            live = self._engine.tables.get(self.QUIZ_SCORES, {}).get(str(doc_id)) if doc_id is not None else None
            data = _clone(live) if live is not None else new(chat_id, month, user_id)
            before = _clone(data)
            result = fn(data)
            if data != before:
                if doc_id is None:
                    members[user_id] = table.insert(data)
                else:
                    table.update(self._push_replace(data), doc_ids=[doc_id])
            return result

    def quiz_scores(self, chat_id: str, month: str) -> list[dict[str, Any]]:
        """Copies of every member's document for one chat and month (through the index: no table scan)."""
        with self.lock:
            live = self._engine.tables.get(self.QUIZ_SCORES, {})
            ids = self._score_index().get((chat_id, month), {}).values()
            return [_clone(live[str(i)]) for i in ids if str(i) in live]

    def quiz_scores_where(self, select: Callable[[Mapping[str, Any]], bool]) -> list[dict[str, Any]]:
        """Copies of the score documents `select` keeps (it sees the stored documents and must not change them)."""
        with self.lock:
            return [_clone(d) for d in self._engine.tables.get(self.QUIZ_SCORES, {}).values() if select(d)]

    def quiz_poll_add(self, record: dict[str, Any]) -> None:
        """Remember one native poll sent ({"ref", "chat_id", "day", ...}); one durable write."""
        with self.lock:
            self.db.table(self.QUIZ_POLLS).insert(_clone(record))

    def quiz_poll(self, ref: str) -> dict[str, Any] | None:
        """The poll record with reference `ref` (e.g. "tg:5432"), or None."""
        with self.lock:
            for doc in self._engine.tables.get(self.QUIZ_POLLS, {}).values():
                if doc.get("ref") == ref:
                    return _clone(doc)
            return None

    def quiz_polls(self, chat_id: str, day: str) -> list[dict[str, Any]]:
        """The polls sent to a chat for a day."""
        with self.lock:
            live = self._engine.tables.get(self.QUIZ_POLLS, {}).values()
            return [_clone(d) for d in live if d.get("chat_id") == chat_id and d.get("day") == day]

    def quiz_polls_before(self, day: str) -> list[dict[str, Any]]:
        """The polls of every chat sent for days before `day` (each is dropped once it is stopped)."""
        with self.lock:
            live = self._engine.tables.get(self.QUIZ_POLLS, {}).values()
            return [_clone(d) for d in live if str(d.get("day", "")) < day]

    def quiz_poll_set(self, ref: str, fields: dict[str, Any]) -> None:
        """Update the poll record `ref` with `fields` (e.g. when its stop is retried); one durable write."""
        with self.lock:
            self.db.table(self.QUIZ_POLLS).update(_clone(fields), Query().ref == ref)

    def quiz_poll_drop(self, ref: str) -> None:
        """Forget the poll record `ref` (stopped, or no longer stoppable)."""
        with self.lock:
            self.db.table(self.QUIZ_POLLS).remove(Query().ref == ref)

    def quiz_move(self, old_id: str, new_id: str) -> bool:
        """A group got a new id: move its quiz document (merging day records), scores and polls; False if none."""
        with self.lock:
            moved = self._chat_move(self.QUIZ_CHATS, old_id, new_id, ("picks", "deliveries", "shown", "closed"))
            if self.db.table(self.QUIZ_SCORES).update({"chat_id": new_id}, Query().chat_id == old_id):
                moved = True
                self._quiz_index = None
            self.db.table(self.QUIZ_POLLS).update({"chat_id": new_id}, Query().chat_id == old_id)
            return moved

    # --- suggestions --------------------------------------------------------------------------
    # Table "suggestions": one document per suggestion (layout and rules in bot/suggestions.py).
    # Table "suggest_meta": small key/value state (e.g. the week of the last overdue reminder).
    # Nothing about anonymous proposers is stored (their rate limiting is in memory, bot/suggestions.py);
    # the table "suggest_throttle" and file "suggest.salt" of earlier versions are removed on first use.

    def suggestions_all(self) -> list[dict[str, Any]]:
        """Copies of every suggestion, in insertion order."""
        with self.lock:
            return [_clone(dict(d)) for d in self.db.table(SUGGEST_TABLE).all()]

    def suggestion_get(self, number: str) -> dict[str, Any] | None:
        """A copy of suggestion `number` (e.g. "JY-2026-0007"), or None."""
        with self.lock:
            doc = self.db.table(SUGGEST_TABLE).get(Query().number == number)
            return _clone(dict(doc)) if doc is not None else None

    def suggestion_add(self, record: dict[str, Any]) -> None:
        """Store a new suggestion (one durable write)."""
        with self.lock:
            self.db.table(SUGGEST_TABLE).insert(_clone(record))

    def suggestions_page(
        self,
        select: Callable[[Mapping[str, Any]], bool],
        key: Callable[[Mapping[str, Any]], Any],
        reverse: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many suggestions `select` keeps, copies of those in `key` order from `offset`, at most `limit`).

        `select` and `key` see the stored documents themselves (no copies, for speed) and must not change them.
        """
        with self.lock:
            live = self._engine.tables.get(SUGGEST_TABLE, {}).values()
            kept = sorted((d for d in live if select(d)), key=key, reverse=reverse)
            stop = None if limit is None else offset + limit
            return len(kept), [_clone(d) for d in kept[offset:stop]]

    def suggestions_values(self, name: str) -> set[Any]:
        """The distinct values of field `name` over every suggestion (e.g. the source groups' titles)."""
        with self.lock:
            return {d.get(name) for d in self._engine.tables.get(SUGGEST_TABLE, {}).values()}

    def suggestions_add_many(self, records: Iterable[dict[str, Any]]) -> int:
        """Store many new suggestions in one durable write (imports, benchmarks); returns how many."""
        docs = [_clone(r) for r in records]
        with self.lock:
            self.db.table(SUGGEST_TABLE).insert_multiple(docs)
        return len(docs)

    def suggestion_update(self, number: str, fn: Callable[[dict[str, Any]], Any]) -> Any:
        """Atomically let `fn` change a copy of suggestion `number` and write it back; returns fn's result.

        Raises KeyError if there is no such suggestion. Nothing is written if `fn` raises.
        """
        with self.lock:
            table = self.db.table(SUGGEST_TABLE)
            doc = table.get(Query().number == number)
            if doc is None:
                raise KeyError(number)
            data = _clone(dict(doc))
            result = fn(data)
            table.update(_clone(data), doc_ids=[doc.doc_id])
            return result

    def suggestions_update_many(self, numbers: list[str], fn: Callable[[dict[str, dict[str, Any]]], Any]) -> Any:
        """Atomically let `fn` change copies of several suggestions ({number: record}); one durable write.

        Raises KeyError if any is missing. Nothing is written if `fn` raises.
        """
        with self.lock:
            table = self.db.table(SUGGEST_TABLE)
            data: dict[str, dict[str, Any]] = {}
            for number in numbers:
                doc = table.get(Query().number == number)
                if doc is None:
                    raise KeyError(number)
                data[number] = _clone(dict(doc))
            result = fn(data)
            table.update_multiple([(self._push_replace(rec), Query().number == n) for n, rec in data.items()])
            return result

    def suggestions_move_chat(self, old_id: str, new_id: str) -> int:
        """Credit chat `old_id`'s suggestions to `new_id` (group became a supergroup); returns how many."""
        with self.lock:
            table = self.db.table(SUGGEST_TABLE)
            return len(table.update({"chat_id": new_id}, Query().chat_id == old_id))

    def suggest_drop_legacy(self) -> bool:
        """Remove the anonymous-throttle table and salt file earlier versions kept; True if any was there."""
        with self.lock:
            found = False
            if _LEGACY_THROTTLE_TABLE in self.db.tables():
                self.db.drop_table(_LEGACY_THROTTLE_TABLE)  # a compaction: gone from the journal too
                found = True
            salt = self.dir / _LEGACY_SALT_NAME
            if salt.exists():
                salt.unlink()
                _fsync_dir(self.dir)
                found = True
            return found

    def suggest_meta(self, key: str) -> Any:
        """A small stored value of the suggestions feature, or None."""
        with self.lock:
            doc = self.db.table(SUGGEST_META_TABLE).get(Query().key == key)
            return _clone(doc["value"]) if doc is not None else None

    def set_suggest_meta(self, key: str, value: Any) -> None:
        """Durably store a small value of the suggestions feature."""
        with self.lock:
            self.db.table(SUGGEST_META_TABLE).upsert({"key": key, "value": _clone(value)}, Query().key == key)


SUGGEST_TABLE = "suggestions"
SUGGEST_META_TABLE = "suggest_meta"
_LEGACY_THROTTLE_TABLE = "suggest_throttle"
_LEGACY_SALT_NAME = "suggest.salt"
