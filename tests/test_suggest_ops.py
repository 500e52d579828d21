"""Operations around 合理化建议: anonymous proposers leave no trace on disk, group→supergroup migration,
a bot without configured officers, and exporting while the bot runs (read-only store)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from test_suggest_helpers import (
    ADMIN,
    GROUP,
    MEMBER,
    OFFICER,
    OFFICER_TG,
    ROOT,
    TZ,
    Clock,
    button,
    grp,
    make_services,
    member,
    pm,
    say,
    text_of,
)

from bot import texts
from bot.config import BotConfig
from bot.export import export_suggestions
from bot.handlers.suggest import chat_migrated
from bot.services import Services
from bot.store import Store, StoreError
from bot.suggestions import officers_warning

START = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


async def _anonymous(svc: Services, uid: str, text: str, name: str = "赵六") -> str:
    """The guided flow to the end, anonymously; returns what the member reads last."""
    out = await say(svc, pm(uid, "/suggest", name))
    out = await say(svc, pm(uid, name=name, data=button(out, "管理改进")))
    out = await say(svc, pm(uid, text, name))
    out = await say(svc, pm(uid, name=name, data=button(out, "匿名")))
    return text_of(await say(svc, pm(uid, name=name, data=button(out, "确认提交"))))


# --- anonymity ----------------------------------------------------------------------------------


async def _anonymous_session(data: Path, uid: str) -> dict[str, bytes]:
    """Two anonymous suggestions, a refused duplicate and a review, by member `uid`; the data files after."""
    svc = make_services(data, Clock(START))
    try:
        assert "JY-2026-0001" in await _anonymous(svc, uid, "考勤制度执行不一，建议统一标准")
        assert "24 小时内已经提交过" in await _anonymous(svc, uid, "考勤制度执行不一，建议统一标准！")
        assert "JY-2026-0002" in await _anonymous(svc, uid, "食堂晚班没有热饭，建议延长供应")
        await say(svc, pm(OFFICER, name="李干事", data="sg:t:JY-2026-0001:acc"))
        svc.store.compact()
    finally:
        svc.close()
    return {p.name: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


async def test_nothing_stored_depends_on_who_the_anonymous_proposer_is(tmp_path: Path) -> None:
    # The same session by two different members leaves byte-identical data files: no id, no name,
    # no per-user hash of the proposer is stored anywhere, so nothing on disk can link them to it.
    first = await _anonymous_session(tmp_path / "a", "tg:800001")
    second = await _anonymous_session(tmp_path / "b", "tg:800002")
    assert first == second
    assert set(first) == {"store.json", "store.journal", "store.lock"}
    tables = json.loads(first["store.json"])["tables"]
    assert set(tables) == {"suggestions", "_sequences"}


async def test_restart_resets_anonymous_rate_limiting(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "d", Clock(START))
    assert "JY-2026-0001" in await _anonymous(svc, MEMBER, "考勤制度执行不一，建议统一标准")
    assert "24 小时内已经提交过" in await _anonymous(svc, MEMBER, "考勤制度执行不一，建议统一标准")
    svc.close()
    svc = make_services(tmp_path / "d", Clock(START))  # memory only, as documented: forgotten
    try:
        assert "JY-2026-0002" in await _anonymous(svc, MEMBER, "考勤制度执行不一，建议统一标准")
    finally:
        svc.close()


async def test_hashes_persisted_by_earlier_versions_are_erased(tmp_path: Path) -> None:
    legacy_hash = "5f" * 32
    with Store(tmp_path / "d") as store:
        store.db.table("suggest_throttle").insert({"who": legacy_hash, "text": "ab" * 32, "at": START.isoformat()})
    (tmp_path / "d" / "suggest.salt").write_bytes(os.urandom(32))
    svc = make_services(tmp_path / "d", Clock(START))
    try:
        assert "JY-2026-0001" in await _anonymous(svc, MEMBER, "考勤制度执行不一，建议统一标准")
    finally:
        svc.close()
    files = [p for p in (tmp_path / "d").iterdir() if p.is_file()]
    assert sorted(p.name for p in files) == ["store.journal", "store.json", "store.lock"]
    assert not any(legacy_hash.encode() in p.read_bytes() for p in files)


# --- group → supergroup ---------------------------------------------------------------------------


async def test_migrated_group_admins_keep_reviewing_its_suggestions(tmp_path: Path) -> None:
    new_id = "tg:-1009990001"
    svc = make_services(tmp_path / "d", Clock(START))
    try:

        async def admin_check(chat_id: str, user_id: str) -> bool:
            return (chat_id, user_id) == (new_id, ADMIN)  # the old group no longer exists

        svc.admin_checks["tg"] = admin_check
        await say(svc, grp(MEMBER, "建议 [安全生产] 配电房门锁损坏需更换"))
        await say(svc, grp(member(1), "/suggest", "李四"))  # on the way to the private flow when it migrates
        assert "只有工会干部" in text_of(await say(svc, pm(ADMIN, "/review", "王主席")))

        chat_migrated(svc, GROUP, new_id)
        chat_migrated(svc, GROUP, new_id)  # the adapter may report it twice: harmless

        out = await say(svc, pm(ADMIN, "/review", "王主席"))
        assert "JY-2026-0001" in text_of(out)
        out = await say(svc, pm(ADMIN, name="王主席", data="sg:t:JY-2026-0001:acc"))
        assert "状态：<b>已受理</b>" in text_of(out)
        out = await say(svc, pm(member(1), "/start suggest", "李四"))
        out = await say(svc, pm(member(1), name="李四", data=button(out, "其他")))
        out = await say(svc, pm(member(1), "班组更衣柜不够用，建议增加", "李四"))
        out = await say(svc, pm(member(1), name="李四", data=button(out, "署名")))
        await say(svc, pm(member(1), name="李四", data=button(out, "确认提交")))
        records = svc.store.suggestions_all()
        assert [r["chat_id"] for r in records] == [new_id, new_id]
        assert records[0]["chat_title"] == "一车间工会群"
    finally:
        svc.close()
    svc = make_services(tmp_path / "d", Clock(START))  # durable
    try:
        assert {r["chat_id"] for r in svc.store.suggestions_all()} == {new_id}
    finally:
        svc.close()


# --- no officers configured -------------------------------------------------------------------------


@pytest.fixture
def no_officers(tmp_path: Path) -> Iterator[Services]:
    svc = make_services(tmp_path / "d", Clock(START))
    svc.config = dataclasses.replace(svc.config, bot=BotConfig())
    yield svc
    svc.close()


async def test_without_officers_the_private_receipt_promises_nothing(no_officers: Services) -> None:
    svc = no_officers
    out = text_of(await say(svc, pm(MEMBER, "建议 食堂午餐窗口太少，建议增加两个窗口")))
    assert "JY-2026-0001" in out and "尚未配置工会干部" in out and "在所在工会群里" in out
    assert "处理进度将私信通知你" not in out
    anon = await _anonymous(svc, member(1), "考勤制度执行不一，建议统一标准")
    assert "尚未配置工会干部" in anon and "不会记录你的身份" in anon
    out = text_of(await say(svc, grp(MEMBER, "建议 车间二楼消防通道堆放杂物，应清理")))
    assert "尚未配置工会干部" not in out and "处理进度将私信通知你" in out  # the group's admins review it
    assert "JY-2026-0003" in text_of(await say(svc, pm(ADMIN, "/review", "王主席")))


def test_officers_warning_only_when_none_are_configured(no_officers: Services) -> None:
    warning = officers_warning(no_officers.config)
    assert warning == texts.SG_NO_OFFICERS_WARNING and "\n" not in warning and "officers" in warning
    assert officers_warning(dataclasses.replace(no_officers.config, bot=BotConfig(officers=(OFFICER_TG,)))) is None


# --- exporting while the bot runs ------------------------------------------------------------------


async def test_export_reads_the_store_while_the_bot_holds_it(tmp_path: Path) -> None:
    svc = make_services(tmp_path / "d", Clock(START))
    try:
        await say(svc, grp(MEMBER, "建议 [安全生产] 配电房门锁损坏需更换"))
        svc.store.compact()
        await say(svc, pm(MEMBER, "建议 办公区下班后统一关闭空调"))  # journal only
        await _anonymous(svc, member(1), "领导作风问题希望匿名反映一下")
        await say(svc, pm(OFFICER, name="李干事", data="sg:t:JY-2026-0001:acc"))
        with pytest.raises(StoreError, match="in use by another process"):
            Store(svc.config.data_dir)

        store = Store(svc.config.data_dir, read_only=True)  # what `run.py suggestions export` uses
        try:
            out = tmp_path / "out.csv"
            assert export_suggestions(store, "csv", out, TZ) == 3
        finally:
            store.close()
        with out.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert [r[0] for r in rows[1:]] == ["JY-2026-0001", "JY-2026-0002", "JY-2026-0003"]
        assert rows[1][3] == "已受理" and rows[3][5] == "匿名"

        # a separate process, like the CLI, while this one keeps writing
        script = (
            "import sys; from pathlib import Path; from zoneinfo import ZoneInfo; from bot.store import Store;"
            "from bot.export import export_suggestions as e;"
            "s = Store(sys.argv[1], read_only=True); print(e(s, 'xlsx', Path(sys.argv[2]), ZoneInfo('Asia/Shanghai')))"
        )
        await say(svc, pm(MEMBER, "建议 厂区路灯太暗，建议更换"))
        args = [sys.executable, "-c", script, str(svc.config.data_dir), str(tmp_path / "out.xlsx")]
        done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "4"
        assert "JY-2026-0005" in text_of(await say(svc, pm(MEMBER, "建议 更衣室热水不稳定，建议检修")))
    finally:
        svc.close()
