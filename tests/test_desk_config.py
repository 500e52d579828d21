"""The [desk] section and the new [suggestions] keys: defaults, one clear line for every bad value; the console
runs the desk (so an operator without a token can try it); a taken port is one line and exit status 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from e2e import free_port
from test_config import write_with_storage as write

from bot.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_defaults(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, ""), env={})
    assert not cfg.desk.enabled and cfg.desk.listen == "127.0.0.1" and cfg.desk.port == 8080
    assert cfg.suggestions.overdue_days == 30 and cfg.suggestions.major_overdue_days == 90
    assert "设备管理部" in cfg.suggestions.departments and "一等奖" in cfg.suggestions.reward_tiers


def test_the_example_file_loads() -> None:
    cfg = load(ROOT / "config.example.toml", env={}, check_dirs=False)
    assert cfg.desk.session_minutes == 480


@pytest.mark.parametrize(
    ("body", "key", "says"),
    [
        ('[desk]\nenabled = "yes"\n', "[desk] enabled", "应为 true 或 false，实际是 'yes'"),
        ("[desk]\nenabled = true\n", "[desk] public_url", "启用工作台（enabled = true）时必须填写，即干部打开的网址"),
        ('[desk]\npublic_url = "desk.example.org"\n', "[desk] public_url",
         "应为 http:// 或 https:// 开头的网址，实际是 'desk.example.org'"),
        ("[desk]\nport = 70000\n", "[desk] port", "应在 1–65535 之间，实际是 70000"),
        ('[desk]\nlisten = "no such host"\n', "[desk] listen",
         "应为 IP 地址或主机名（如 127.0.0.1），实际是 'no such host'"),
        ("[desk]\nsession_minutes = 0\n", "[desk] session_minutes", "应在 1–10080 之间（最多一周），实际是 0"),
        ("[desk]\nlogin = 1\n", "[desk] login",
         "没有这个配置项（可用的有 enabled、listen、port、public_url、session_minutes）"),
        ('[suggestions]\ndepartments = ["安全环保部", ""]\n', "[suggestions] departments",
         "名称不能为空、不能重复，每个最多 30 个字"),
        ('[suggestions]\nreward_tiers = ["一等奖", "一等奖"]\n', "[suggestions] reward_tiers", "不能重复"),
        ("[suggestions]\nmajor_overdue_days = 0\n", "[suggestions] major_overdue_days", "至少为 1，实际是 0"),
    ],
)
def test_bad_values_name_the_key_in_chinese(tmp_path: Path, body: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, body), env={})
    assert str(e.value).startswith(key + "：") and says in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def console(tmp_path: Path, port: int, script: str) -> subprocess.CompletedProcess[str]:
    cfg = write(
        tmp_path,
        f'[content]\ndir = "{ROOT / "content"}"\n[bot]\nofficers = [10001]\n'
        f'[desk]\nenabled = true\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n',
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "console"],
        input=script, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip


def test_the_console_runs_the_desk_and_prints_a_login_link(tmp_path: Path) -> None:
    port = free_port()
    r = console(tmp_path, port, "/desk\n:user 42 路人\n/desk\n")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert f"http://127.0.0.1:{port}/login/" in r.stdout and "只有配置的工会干部" in r.stdout


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = console(tmp_path, port, "/help\n")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"配置错误 / config error: [desk] port：无法在 127.0.0.1:{port} 上监听"), r.stderr
