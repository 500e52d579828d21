"""Configuration: defaults, the example file, and one clear line (exit 2) for every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(body, encoding="utf-8")
    return p


def write_with_storage(tmp_path: Path, body: str) -> Path:
    """A config file with a writable data dir in tmp_path, then `body` (for tests of other sections)."""
    return write(tmp_path, f'[storage]\ndir = "{tmp_path / "d"}"\n' + body)


def test_defaults_are_beijing_time_and_eight_oclock(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, f'[storage]\ndir = "{tmp_path / "d"}"\n'), env={})
    assert cfg.bot.timezone == "Asia/Shanghai"
    assert cfg.push.default_time == "08:00"
    assert cfg.telegram.mode == "polling"
    assert cfg.telegram.api_base_url == "https://api.telegram.org/bot"


def test_example_file_loads(tmp_path: Path) -> None:
    """Every key documented, at its default: tests/test_docs.py."""
    example = ROOT / "config.example.toml"
    text = example.read_text(encoding="utf-8").replace('dir = "./data"', f'dir = "{tmp_path}"')
    assert load(write(tmp_path, text), env={}).storage.dir == str(tmp_path)


def test_token_from_environment(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, f'[storage]\ndir = "{tmp_path}"\n'), env={"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert cfg.telegram.token == "1:abc"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[push]\ndefualt_time = "08:00"\n', "[push] defualt_time"),
        ('[push]\ndefault_time = "25:00"\n', "[push] default_time"),
        ('[push]\ndefault_time = "8点"\n', "[push] default_time"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "[bot] timezone"),
        ('[bot]\nofficers = "123"\n', "[bot] officers"),
        ('[bot]\nofficers = ["abc"]\n', "[bot] officers[0]"),
        ('[telegram]\nmode = "carrier-pigeon"\n', "[telegram] mode"),
        ('[telegram]\nport = "8443"\n', "[telegram] port"),
        ("[telegram]\nport = 70000\n", "[telegram] port"),
        ('[telegram]\napi_base_url = "ftp://x"\n', "[telegram] api_base_url"),
        ('[push]\ndefault_mode = "周末"\n', "[push] default_mode"),
        ("[suggestions]\nper_hour = 0\n", "[suggestions] per_hour"),
        ("[push]\ngrace_minutes = 99999\n", "[push] grace_minutes"),
        ('[telegram]\nsecret_token = "has space!"\n', "[telegram] secret_token"),
        ('[nonsense]\nx = 1\n', "[nonsense]"),
        ("[push\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, body), env={}, check_dirs=False)
    assert key in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_dir(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match=r"\[storage\] dir"):
        load(write(tmp_path, f'[storage]\ndir = "{ro / "data"}"\n'), env={})


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ConfigError, match=r"\[storage\] dir"):
        load(write(tmp_path, f'[storage]\ndir = "{f}"\n'), env={})


def test_run_py_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[push]\ndefault_time = "25:00"\n')
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "console"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "[push] default_time" in lines[0]


def test_run_py_missing_config_file(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr
