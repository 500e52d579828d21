"""What an operator sees when `python run.py` cannot start a platform: one line, the documented exit status, no
traceback, no secret (the lines README.md's 常见问题排查 quotes). And `run.py backup`: a consistent copy while the
bot runs, that a data directory opens as the same state."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
from pathlib import Path

from e2e import ROOT, free_port
from fakebotapi import FakeBotAPI
from fakewecom import FakeWeCom

from bot.store import Store

WRONG_TOKEN = "123456789:WRONG-token-never-logged"


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _run(tmp_path: Path, config: str, *args: str, timeout: float = 60) -> tuple[int, str]:
    """`python run.py --config ... args` to its end: (exit status, stderr)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(config + f"\n[storage]\ndir = {_q(str(tmp_path / 'data'))}\n"
                   f"[content]\ndir = {_q(str(ROOT / 'content'))}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if k not in ("TELEGRAM_BOT_TOKEN", "WECOM_BOT_SECRET", "DINGTALK_CLIENT_SECRET")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run.py"), "--config", str(cfg), *args, cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, err.decode("utf-8", "replace")


def _last_line(err: str) -> str:
    return err.rstrip("\n").splitlines()[-1]


async def test_a_wrong_telegram_token_is_one_line_exit_2_and_never_shown(tmp_path: Path) -> None:
    async with FakeBotAPI() as api:
        code, err = await _run(tmp_path, f"[telegram]\ntoken = {_q(WRONG_TOKEN)}\napi_base_url = {_q(api.base_url)}\n",
                               "telegram")
    assert code == 2, err
    assert "Traceback" not in err and "WRONG-token" not in err, err
    assert _last_line(err) == ("配置错误 / config error: [telegram] token：被 Telegram 拒绝（Unauthorized），"
                               "请核对 token，或环境变量 TELEGRAM_BOT_TOKEN"), err


async def test_an_unreachable_bot_api_is_one_line_and_exit_1(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    code, err = await _run(tmp_path, f"[telegram]\ntoken = {_q(WRONG_TOKEN)}\napi_base_url = {_q(base)}\n")
    assert code == 1, err  # not 2: systemd's Restart=on-failure tries again later
    assert "Traceback" not in err and "WRONG-token" not in err, err
    line = _last_line(err)
    assert line.startswith(f"网络错误 / network error: cannot reach the Telegram Bot API at {base} ("), err
    assert "HTTPS_PROXY" in line


async def test_a_webhook_telegram_refuses_or_a_taken_port_names_its_key(tmp_path: Path) -> None:
    async with FakeBotAPI() as api:
        base = (f"[telegram]\ntoken = {_q(api.token)}\napi_base_url = {_q(api.base_url)}\nmode = \"webhook\"\n"
                'listen = "127.0.0.1"\n')
        bad_port = 'webhook_url = "https://bot.example.org:1234/hook"\n'  # Telegram allows 443, 80, 88, 8443 only
        code, err = await _run(tmp_path, base + bad_port + f"port = {free_port()}\n")
        assert code == 2 and "Traceback" not in err, err
        assert _last_line(err).startswith("配置错误 / config error: [telegram] webhook_url：被 Telegram 拒绝（"), err
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, err = await _run(tmp_path, base + f'webhook_url = "https://bot.example.org/hook"\nport = {port}\n')
        assert code == 2 and "Traceback" not in err, err
        expected = f"配置错误 / config error: [telegram] port：无法在 127.0.0.1:{port} 上监听（"
        assert _last_line(err).startswith(expected), err


async def test_a_wecom_certificate_not_trusted_is_logged_with_the_fix(tmp_path: Path) -> None:
    """Without `ca_file` the fake's certificate is not trusted: the log says what failed and what to set."""
    async with FakeWeCom(tmp=tmp_path) as wc:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[wecom]\nbot_id = {_q(wc.bot_id)}\nsecret = {_q(wc.secret)}\nws_url = {_q(wc.url)}\n"
                       f"officers = [\"zhangsan\"]\n[storage]\ndir = {_q(str(tmp_path / 'data'))}\n"
                       f"[content]\ndir = {_q(str(ROOT / 'content'))}\n", encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "wecom", cwd=tmp_path,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            assert proc.stderr is not None
            line = ""
            while "企业微信连接失败" not in line:
                raw = await asyncio.wait_for(proc.stderr.readline(), 60)
                assert raw, "run.py ended without logging the failed connection"
                line = raw.decode()
        finally:
            proc.kill()
            await proc.wait()
        assert wc.connections == 0  # the handshake failed before any frame
    assert "企业微信连接失败：SSLCertVerificationError；TLS 证书校验失败：" in line, line
    assert "私有化部署请在配置里设置 ca_file" in line, line
    assert wc.secret not in line


async def test_backup_while_the_bot_holds_the_store_opens_as_the_same_state(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    live = Store(data)  # the running bot's store: locked, with writes in its journal
    try:
        for i in range(30):
            live.next_sequence("suggestion")
            live.db.table("notes").insert({"n": i, "text": f"第{i}条"})
        code, err = await _run(tmp_path, "", "backup", str(backups / "today"))
        assert code == 0, err
        expected = sorted(d["n"] for d in live.db.table("notes").all())
        refused, err2 = await _run(tmp_path, "", "backup", str(data))  # never into a live data dir
    finally:
        live.close()
    assert refused == 2 and _last_line(err2).startswith("数据错误 / store error:") and "Traceback" not in err2
    snapshot = backups / "today" / "store.json"
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    (restored / "store.json").write_bytes(snapshot.read_bytes())
    with Store(restored) as again:  # a data dir holding only the backup
        assert sorted(d["n"] for d in again.db.table("notes").all()) == expected == list(range(30))
        assert again.next_sequence("suggestion") == 31  # counters kept: no number is reused
