"""A data dir of the previous release (bare Telegram int ids) opens in this one with every id qualified.

Input: tests/fixtures/datadir-v1, written by release f35d634 (see tests/fixtures/make_datadir_v1.py): a group
-1001000000001 subscribed 08:00 by user 501 with two sent deliveries, a private chat 601 subscribed 07:30 工作日,
suggestions JY-2026-0001 (named, from the group, by 602, 已采纳 by officer 777), JY-2026-0002 (anonymous) and
JY-2026-0003 (named, private, by 604). The expected state is computed here from the fixture's own journal,
independently of bot/store.py, so "nothing lost" means: every document, field for field, with ids qualified.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import practice as P
from bot.commands import dispatch
from bot.config import BotConfig, Config, ContentConfig, StorageConfig
from bot.content import load_content
from bot.core import Reply, Request
from bot.handlers import push
from bot.services import Services
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "datadir-v1"
TZ = ZoneInfo("Asia/Shanghai")

GROUP_RAW = -1001000000001
GROUP = f"tg:{GROUP_RAW}"
PRIVATE = "tg:601"  # a private chat's id is its user's
OFFICER_TG = 777  # [bot] officers holds Telegram's ints
OFFICER = f"tg:{OFFICER_TG}"


# --- the expected state, from the fixture's files alone ------------------------------------------------


def _q(value: Any) -> Any:
    """What the migration must make of a legacy id field: an int becomes "tg:<int>", None stays None."""
    assert value is None or (isinstance(value, int) and not isinstance(value, bool)), value
    return None if value is None else f"tg:{value}"


def expected_tables() -> dict[str, dict[int, dict[str, Any]]]:
    """Replay the fixture's journal over its snapshot (the legacy format) and qualify the id fields by hand."""
    snap = json.loads((FIXTURE / "store.json").read_bytes())
    tables: dict[str, dict[int, dict[str, Any]]] = {
        name: {int(k): v for k, v in docs.items()} for name, docs in snap["tables"].items()
    }
    lines = (FIXTURE / "store.journal").read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = []
    for line in lines[:-1]:
        crc, _, payload = line.partition(b" ")
        assert int(crc, 16) == zlib.crc32(payload)
        records.append(json.loads(payload))
    assert records[0] == {"gen": snap["gen"]}
    for rec in records[1:]:
        assert set(rec) <= {"t", "s", "n"}, rec  # the fixture has no deletes or clears
        tables.setdefault(rec["t"], {}).update({int(k): v for k, v in rec["s"].items()})
    for doc in tables["push_chats"].values():
        doc["chat_id"] = _q(doc["chat_id"])
        doc["sub"]["by"] = _q(doc["sub"]["by"])
    for doc in tables["suggestions"].values():
        doc["chat_id"] = _q(doc["chat_id"])
        doc["proposer_id"] = _q(doc["proposer_id"])
        for entry in doc["history"]:
            entry["by_id"] = _q(entry["by_id"])
    return tables


EXPECTED = expected_tables()


def dump(store: Store) -> dict[str, dict[int, dict[str, Any]]]:
    """Every table of the store, by doc id (public TinyDB API only)."""
    return {name: {doc.doc_id: dict(doc) for doc in store.db.table(name).all()} for name in store.db.tables()}


def legacy_copy(tmp_path: Path, name: str = "data") -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURE, dest)
    return dest


def files(directory: Path) -> dict[str, bytes]:
    """Every file in the data dir and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def bare_ints(value: Any, path: str = "") -> list[str]:
    """Paths of id-like fields (…id, by) that still hold a bare int."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}"
            if (str(k).endswith("id") or k == "by") and isinstance(v, int) and not isinstance(v, bool):
                found.append(here)
            found += bare_ints(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += bare_ints(v, f"{path}[{i}]")
    return found


# --- the migrated data -------------------------------------------------------------------------------


def test_the_expected_state_is_the_documented_fixture() -> None:
    """Guard the test input itself: the fixture holds what the docstring says (so the checks below mean it)."""
    push_docs = {d["chat_id"]: d for d in EXPECTED["push_chats"].values()}
    assert set(push_docs) == {GROUP, PRIVATE}
    group, private = push_docs[GROUP], push_docs[PRIVATE]
    assert (group["sub"]["time"], group["sub"]["mode"], group["sub"]["by"]) == ("08:00", "每天", "tg:501")
    assert (private["sub"]["time"], private["sub"]["mode"], private["sub"]["by"]) == ("07:30", "工作日", PRIVATE)
    for doc in (group, private):
        assert sorted(doc["deliveries"]) == ["2026-03-02", "2026-03-03"]
        assert {r["status"] for r in doc["deliveries"].values()} == {"sent"}
        assert len(doc["used"]) == 2 and sorted(doc["picks"].values()) == sorted(doc["used"])
    sugg = {d["number"]: d for d in EXPECTED["suggestions"].values()}
    assert sorted(sugg) == ["JY-2026-0001", "JY-2026-0002", "JY-2026-0003"]
    assert sugg["JY-2026-0001"]["status"] == "已采纳"
    assert [e["by_id"] for e in sugg["JY-2026-0001"]["history"]] == ["tg:602", OFFICER, OFFICER]
    assert {d["name"]: d["value"] for d in EXPECTED["_sequences"].values()} == {"JY-2026": 3}


def test_open_qualifies_every_id_and_keeps_everything(tmp_path: Path) -> None:
    data = legacy_copy(tmp_path)
    with Store(data) as store:
        assert dump(store) == EXPECTED  # every table, document and field; ids qualified
        assert bare_ints(dump(store)) == []
        # through the store's own accessors, as the handlers read it
        group = store.push_doc(GROUP)
        assert group is not None and group["sub"]["by"] == "tg:501"
        assert group["used"] == ["innovate-associate", "labour-dispute-mediation"]
        assert group["last"] == "labour-dispute-mediation" and group["round"] == 0
        assert group["picks"] == {"2026-03-02": "innovate-associate", "2026-03-03": "labour-dispute-mediation"}
        assert [(d, r["status"]) for d, r in sorted(group["deliveries"].items())] == [
            ("2026-03-02", "sent"), ("2026-03-03", "sent")]
        private = store.push_doc(PRIVATE)
        assert private is not None and private["sub"]["mode"] == "工作日" and private["sub"]["time"] == "07:30"
        assert private["used"] == ["innovate-combine", "innovate-select"]
        assert store.push_doc(GROUP_RAW) is None  # type: ignore[arg-type]  # no bare id left to find

        named = store.suggestion_get("JY-2026-0001")
        assert named is not None
        assert (named["chat_id"], named["proposer_id"], named["proposer_name"]) == (GROUP, "tg:602", "张三")
        assert [(e["action"], e["by_id"], e["by_name"], e["note"]) for e in named["history"]] == [
            ("提交", "tg:602", "张三", ""), ("受理", OFFICER, "工会办", ""), ("采纳", OFFICER, "工会办", "下月起执行")]
        anonymous = store.suggestion_get("JY-2026-0002")
        assert anonymous is not None and anonymous["anonymous"] is True
        assert anonymous["proposer_id"] is None and anonymous["proposer_name"] is None
        assert anonymous["chat_id"] is None and anonymous["history"][0]["by_id"] is None
        private_sugg = store.suggestion_get("JY-2026-0003")
        assert private_sugg is not None and private_sugg["chat_id"] is None
        assert private_sugg["proposer_id"] == "tg:604" and private_sugg["history"][0]["by_id"] == "tg:604"
        assert store.suggest_meta("overdue_week") == "2026-W10"
    for name in ("store.json", "store.journal"):
        assert (data / name).stat().st_mode & 0o777 == 0o600
    assert not (data / "store.json.tmp").exists()

    # a second open changes nothing: not a byte
    migrated = files(data)
    with Store(data) as store:
        assert dump(store) == EXPECTED
    assert files(data) == migrated
    # the counters continue where the old release stopped; new documents get fresh doc ids
    with Store(data) as store:
        assert store.next_sequence("JY-2026") == 4
        store.suggestion_add({"number": "JY-2026-0004", "chat_id": None, "proposer_id": "tg:605", "history": []})
        assert {d.doc_id for d in store.db.table("suggestions").all()} == {1, 2, 3, 4}
    with Store(data) as store:
        assert store.suggestion_get("JY-2026-0001") == EXPECTED["suggestions"][1]
        assert store.suggestion_get("JY-2026-0004") is not None


def test_read_only_open_of_a_legacy_dir_shows_qualified_ids_and_writes_nothing(tmp_path: Path) -> None:
    data = legacy_copy(tmp_path)
    before = files(data)
    with Store(data, read_only=True) as store:
        assert dump(store) == EXPECTED
        assert store.push_doc(GROUP) is not None
        assert store.suggestion_get("JY-2026-0001")["proposer_id"] == "tg:602"  # type: ignore[index]
    assert files(data) == before  # same files (no lock, no temp file), same bytes
    with Store(data, read_only=True) as store:  # and again: it did not half-write anything either
        assert dump(store) == EXPECTED


def test_rotation_order_of_a_migrated_telegram_chat_is_unchanged() -> None:
    """The old release seeded a chat's shuffle with its bare int id; the qualified id must give the same order."""
    for pid in ("innovate-associate", "labour-dispute-mediation", "p1"):
        for round_no in (0, 3):
            old = hashlib.sha256(f"{GROUP_RAW}:{round_no}:{pid}".encode()).hexdigest()
            assert P.rank(GROUP, round_no, pid) == old


# --- behaviour over the migrated dir -----------------------------------------------------------------


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[tuple[Services, Clock, list[Reply]]]:
    data = legacy_copy(tmp_path)
    cfg = Config(storage=StorageConfig(dir=str(data)), content=ContentConfig(dir=str(ROOT / "content")),
                 bot=BotConfig(officers=(OFFICER_TG,)))
    clock = Clock(at(3, 8, 6))  # the day after the fixture's first push, just after its second one
    sent: list[Reply] = []

    async def sender(reply: Reply) -> None:
        sent.append(reply)

    svc = Services(config=cfg, content=load_content(cfg.content_dir), store=Store(cfg.data_dir), clock=clock,
                   senders={"tg": sender})
    yield svc, clock, sent
    svc.close()


async def replies(svc: Services, text: str, chat_id: str, user_id: str, data: str | None = None) -> list[Reply]:
    chat_type = "private" if chat_id == user_id else "supergroup"
    req = Request(chat_id=chat_id, chat_type=chat_type, user_id=user_id, user_name="张三", text=text,
                  chat_title="控制台测试群", callback_data=data, platform="tg", bot_username="union_helper_bot")
    return await dispatch(req, svc)


async def ask(svc: Services, text: str, chat_id: str, user_id: str) -> str:
    return "\n".join(r.text for r in await replies(svc, text, chat_id, user_id))


def to(sent: list[Reply], chat_id: str) -> list[str]:
    return [r.text for r in sent if r.chat_id == chat_id]


async def test_migrated_subscriptions_are_not_pushed_twice_and_continue(
    migrated: tuple[Services, Clock, list[Reply]],
) -> None:
    svc, clock, sent = migrated
    for t in (at(3, 8, 6), at(3, 9, 59), at(3, 10, 30), at(3, 23, 59)):  # 03-03 was delivered already
        clock.t = t
        await push.tick(svc)
    assert sent == []

    status = await ask(svc, "/status", GROUP, "tg:501")
    assert "已订阅" in status and "每天 08:00" in status and "2026年3月4日（周三） 08:00" in status
    status = await ask(svc, "/status", PRIVATE, PRIVATE)
    assert "已订阅" in status and "工作日 07:30" in status and "2026年3月4日（周三） 07:30" in status

    clock.t = at(4, 8, 0)
    await push.tick(svc)
    clock.t = at(4, 8, 30)
    await push.tick(svc)  # a second tick in the window: no duplicate
    [group_push], [private_push] = to(sent, GROUP), to(sent, PRIVATE)
    assert len(sent) == 2
    group = svc.store.push_doc(GROUP)
    assert group is not None and group["deliveries"]["2026-03-04"]["status"] == "sent"
    pick = group["picks"]["2026-03-04"]
    assert pick not in ("innovate-associate", "labour-dispute-mediation")  # the round went on, no repeat
    remaining = [p.id for p in svc.content.practices if p.id not in ("innovate-associate", "labour-dispute-mediation")]
    old_order = sorted(remaining, key=lambda pid: hashlib.sha256(f"{GROUP_RAW}:0:{pid}".encode()).hexdigest())
    assert pick == old_order[0]  # exactly what the old release would have pushed next
    title = next(p.title for p in svc.content.practices if p.id == pick)
    assert title.strip() in group_push
    assert "每日一招" in private_push
    assert svc.store.push_doc(PRIVATE)["used"][:2] == ["innovate-combine", "innovate-select"]  # type: ignore[index]


async def test_migrated_suggestions_answer_mine_review_and_notify(
    migrated: tuple[Services, Clock, list[Reply]],
) -> None:
    svc, clock, sent = migrated
    mine = await ask(svc, "/mine", "tg:602", "tg:602")
    assert "JY-2026-0001" in mine and "已采纳" in mine and "JY-2026-0003" not in mine
    mine = await ask(svc, "/mine", "tg:604", "tg:604")
    assert "JY-2026-0003" in mine and "JY-2026-0001" not in mine
    assert "JY-2026-0004" in await ask(svc, "建议 厂区路灯太暗，建议尽快更换", "tg:605", "tg:605")

    review = await ask(svc, "/review", OFFICER, OFFICER)  # the configured officer, as before
    assert "共 4 条" in review and "JY-2026-0001</b> [其他] 已采纳" in review  # adopted: still to be carried out
    assert "JY-2026-0002" in review and "JY-2026-0003" in review and "JY-2026-0004" in review
    out = await replies(svc, "", OFFICER, OFFICER, data="sg:t:JY-2026-0003:acc")
    [told] = to(out, "tg:604")  # the migrated proposer id addresses the proposer's private chat
    assert "JY-2026-0003" in told and "已受理" in told
    rec = svc.store.suggestion_get("JY-2026-0003")
    assert rec is not None and rec["history"][-1]["by_id"] == OFFICER


async def test_migrated_dir_over_the_wire(tmp_path: Path) -> None:
    """The real Telegram adapter against the fake Bot API (which speaks Telegram's ints) on the migrated dir."""
    from e2e import Clock as E2EClock
    from e2e import running_bot
    from fakebotapi import FakeBotAPI, User

    legacy_copy(tmp_path)  # running_bot's data dir is tmp_path / "data"
    async with FakeBotAPI() as api:
        api.chat(GROUP_RAW, "supergroup", title="控制台测试群")
        api.chat(601)
        clock = E2EClock(at(3, 9, 0))
        async with running_bot(tmp_path, api=api, clock=clock, officers=(OFFICER_TG,)) as bot:
            mark = api.mark()
            await push.tick(bot.services)  # 03-03 was delivered by the old release
            assert api.find("sendMessage", since=mark) == []
            assert "已订阅" in await bot.said("/status", user=User(501, "王主席"), chat_id=GROUP_RAW)
            mine = await bot.said("/mine", user=User(602, "张三"))
            assert "JY-2026-0001" in mine and "已采纳" in mine

            clock.set(at(4, 8, 0))
            mark = api.mark()
            await push.tick(bot.services)
            clock.set(at(4, 8, 1))
            await push.tick(bot.services)
            [group_push] = api.find("sendMessage", since=mark, chat_id=GROUP_RAW, ok=True)
            [private_push] = api.find("sendMessage", since=mark, chat_id=601, ok=True)
            assert "每日一招" in group_push.params["text"] and "每日一招" in private_push.params["text"]


# --- a failed write during the migration ---------------------------------------------------------------


def clean_legacy_copy(tmp_path: Path) -> Path:
    """The fixture as the old release leaves it after a compaction: all data in store.json, a journal with only
    its header. Opening it needs no compaction to load, so the migration's compaction is the first write."""
    data = tmp_path / "clean"
    data.mkdir()
    tables: dict[str, dict[str, Any]] = {}
    for line in (FIXTURE / "store.journal").read_bytes().split(b"\n")[1:-1]:
        rec = json.loads(line.partition(b" ")[2])
        tables.setdefault(rec["t"], {}).update(rec["s"])
    snap = {"format": "union-bot-store/1", "gen": 1, "next_ids": {}, "tables": tables}
    (data / "store.json").write_bytes(json.dumps(snap, ensure_ascii=False, separators=(",", ":")).encode())
    header = b'{"gen":1}'
    (data / "store.journal").write_bytes(b"%08x %s\n" % (zlib.crc32(header), header))
    for p in data.iterdir():
        p.chmod(0o600)
    return data


#: Opens the store with writes limited to 2,000 bytes (the snapshot is bigger: its write fails, EFBIG), then
#: opens it once more in the same process; prints what each open did.
FAILING_WRITE = r"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
from bot.store import Store, StoreError
for attempt in (1, 2):
    try:
        Store(sys.argv[1]).close()
        print(attempt, "opened")
    except StoreError as e:
        print(attempt, "StoreError", str(e).splitlines()[0])
    except BaseException as e:
        print(attempt, "raw", type(e).__name__, e)
"""


def _open_with_failing_writes(data: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", FAILING_WRITE, str(data)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_failed_migration_write_keeps_the_legacy_data_and_the_next_open_migrates(tmp_path: Path) -> None:
    data = clean_legacy_copy(tmp_path)
    with Store(data, read_only=True) as store:
        assert dump(store) == EXPECTED  # the hand-made compacted legacy dir holds the same data
    lines = _open_with_failing_writes(data)
    assert not any("opened" in line for line in lines), lines  # the migration could not be written
    assert b'"chat_id":-1001000000001' in (data / "store.json").read_bytes()  # still the old snapshot
    with Store(data) as store:
        assert dump(store) == EXPECTED
    with Store(data, read_only=True) as store:
        assert dump(store) == EXPECTED
    assert b'"chat_id":"tg:-1001000000001"' in (data / "store.json").read_bytes()


def test_a_failed_migration_write_is_a_store_error_and_releases_the_lock(tmp_path: Path) -> None:
    lines = _open_with_failing_writes(clean_legacy_copy(tmp_path))
    assert len(lines) == 2 and all(" StoreError " in line for line in lines), lines
    assert not any("in use by another process" in line for line in lines), lines


# --- a kill during the migration ----------------------------------------------------------------------
# A zygote imports the store once and forks one child per run; the child opens (= migrates) a fresh copy of
# the fixture and is SIGKILLed in the middle. Two kinds of kill:
#   "step N": the child SIGKILLs itself just before its N-th file-system call (open, write, fsync, fdatasync,
#             replace, ftruncate, unlink) -- every step of both compactions, deterministically;
#   "time":   the zygote SIGKILLs the child after a random delay (0 .. 1.5 x a full open's duration).
# Nothing in bot/ is changed or hooked: the child wraps functions of the `os` module in its own process.

ZYGOTE = r"""
import os, signal, sys, time
from bot.store import Store

real_write = os.write
out = sys.stdout.fileno()
STEPS = ("open", "write", "fsync", "fdatasync", "replace", "ftruncate", "unlink")
for line in sys.stdin:
    mode, n, data = line.split(maxsplit=2)
    data = data.strip()
    pid = os.fork()
    if pid == 0:
        try:
            count = 0
            if mode in ("step", "count"):
                def wrap(real):
                    def call(*args, **kwargs):
                        global count
                        count += 1
                        if mode == "step" and count == int(n):
                            os.kill(os.getpid(), signal.SIGKILL)
                        return real(*args, **kwargs)
                    return call
                for name in STEPS:
                    setattr(os, name, wrap(getattr(os, name)))
            start = time.perf_counter()
            Store(data).close()
            real_write(out, b"D %d %f\n" % (count, time.perf_counter() - start))
        finally:
            os._exit(3)
    real_write(out, b"P %d\n" % pid)
    if mode == "time":  # the parent kills: the child cannot be reaped (its pid reused) before the kill
        time.sleep(int(n) / 1e6)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    real_write(out, b"X %d %d\n" % (pid, status))
"""


RANDOM_KILLS = 40


class Zygote:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=ROOT, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.decode())

    def next(self) -> list[str]:
        return self.lines.get(timeout=30).split()

    def run(self, mode: str, n: int, data: Path) -> tuple[int, list[str] | None]:
        """One child run; returns its wait status and its "D" line (None if it was killed before finishing).

        Modes: "count" (a full open, counting steps), "step" (killed before step n), "time" (killed n µs after fork).
        """
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{mode} {n} {data}\n".encode())
        self.proc.stdin.flush()
        kind, pid = self.next()
        assert kind == "P"
        done = None
        while (msg := self.next())[0] != "X":
            assert msg[0] == "D"
            done = msg
        return int(msg[2]), done

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def state_on_disk(data: Path) -> str:
    """What a kill left: the legacy ids ("legacy"), the qualified ones ("migrated"); for coverage only."""
    raw = b"".join(files(data).values())
    legacy = b'"chat_id":-1001000000001' in raw
    qualified = b'"chat_id":"tg:-1001000000001"' in raw
    assert legacy or qualified, "the data is gone from the files"
    return "legacy" if legacy else "migrated"


def check_after_kill(data: Path) -> None:
    """Whatever the kill left opens with all the data, qualified; reading it read-only writes nothing."""
    before = files(data)
    with Store(data, read_only=True) as store:
        assert dump(store) == EXPECTED
    assert files(data) == before
    with Store(data) as store:
        assert dump(store) == EXPECTED
    settled = files(data)
    with Store(data) as store:
        assert dump(store) == EXPECTED
    assert files(data) == settled  # fully migrated now: opening again changes nothing
    with Store(data) as store:
        assert store.next_sequence("JY-2026") == 4


def test_sigkill_at_every_step_and_random_moments_of_the_migration(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    zygote = Zygote()
    try:
        # a full migration in the child: how many steps it takes and how long
        status, done = zygote.run("count", 0, legacy_copy(tmp_path, "count"))
        assert done is not None and os.WIFEXITED(status), status
        steps, seconds = int(done[1]), float(done[2])
        assert steps >= 10, done  # two compactions (load + migrate), each several durable steps
        check_after_kill(tmp_path / "count")

        seen: dict[str, int] = {}
        for n in range(1, steps + 1):
            data = legacy_copy(tmp_path, f"step{n}")
            status, done = zygote.run("step", n, data)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and done is None, (n, status)
            state = state_on_disk(data)
            seen[state] = seen.get(state, 0) + 1
            check_after_kill(data)
        assert set(seen) == {"legacy", "migrated"}, seen  # the kills spanned the migration step

        # 40 kills at random moments; a run that finished first (the machine is shared, timings vary) does not
        # count and narrows the window, so the kills keep landing inside the open
        killed, runs, window = 0, 0, 1.5 * seconds
        while killed < RANDOM_KILLS and runs < 4 * RANDOM_KILLS:
            data = legacy_copy(tmp_path, f"time{runs}")
            runs += 1
            status, done = zygote.run("time", int(rng.uniform(0, window) * 1e6), data)
            if done is None:  # killed inside the open
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
                killed += 1
            else:
                window *= 0.8
            state_on_disk(data)
            check_after_kill(data)
        assert killed == RANDOM_KILLS, f"only {killed} of {runs} runs were killed before they finished"
    finally:
        zygote.close()
