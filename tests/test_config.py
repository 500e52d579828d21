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
    ("body", "key", "says"),
    [
        ('[push]\ndefualt_time = "08:00"\n', "[push] defualt_time",
         "没有这个配置项（可用的有 default_time、default_mode、grace_minutes）"),
        ('[push]\ndefault_time = "25:00"\n', "[push] default_time",
         "不是“时:分”格式的时间（00:00–23:59），实际是 '25:00'"),
        ('[push]\ndefault_time = "8点"\n', "[push] default_time", "实际是 '8点'"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "[bot] timezone", "找不到时区 'Mars/Olympus'（应写如 'Asia/Shanghai'"),
        ('[bot]\nofficers = "123"\n', "[bot] officers", "应为列表"),
        ('[bot]\nofficers = ["abc"]\n', "[bot] officers[0]", "应为整数，实际是 'abc'"),
        ('[telegram]\nmode = "carrier-pigeon"\n', "[telegram] mode",
         "只能是 'polling' 或 'webhook'，实际是 'carrier-pigeon'"),
        ("[telegram]\ntoken = 5\n", "[telegram] token", "应为字符串，实际是 （密钥，不显示）"),
        ('[telegram]\nport = "8443"\n', "[telegram] port", "应为整数，实际是 '8443'"),
        ("[telegram]\nport = 70000\n", "[telegram] port", "应在 1–65535 之间，实际是 70000"),
        ('[telegram]\napi_base_url = "ftp://x"\n', "[telegram] api_base_url",
         "应为 http:// 或 https:// 开头的网址，实际是 'ftp://x'"),
        ('[telegram]\nmode = "webhook"\ntoken = "1:a"\nwebhook_url = "http://x"\n', "[telegram] webhook_url",
         "webhook 模式需要 https:// 开头的网址"),
        ('[push]\ndefault_mode = "周末"\n', "[push] default_mode", "只能是 '每天' 或 '工作日'，实际是 '周末'"),
        ("[suggestions]\nper_hour = 0\n", "[suggestions] per_hour", "至少为 1，实际是 0"),
        ("[suggestions]\nmin_chars = 3000\n", "[suggestions] min_chars", "不能大于 max_chars"),
        ("[push]\ngrace_minutes = 99999\n", "[push] grace_minutes", "应在 0–1440 之间（最多一天），实际是 99999"),
        ('[telegram]\nsecret_token = "has space!"\n', "[telegram] secret_token", "只能是 1–256 个"),
        ("[nonsense]\nx = 1\n", "[nonsense]", "没有这一节（可用的有 telegram、bot、push、"),
        ("push = 5\n", "[push]", "应为一节配置（以 [push] 开头，下面逐行写 键 = 值），实际是 5"),
    ],
)
def test_bad_values_name_the_key_in_chinese(tmp_path: Path, body: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, body), env={}, check_dirs=False)
    message = str(e.value)
    assert message.startswith(key + "："), message  # the key as written in config.toml, then a full-width colon
    assert says in message
    assert "\n" not in message


def test_a_secret_in_the_wrong_form_is_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, '[telegram]\nsecret_token = "top secret!"\n'), env={}, check_dirs=False)
    assert str(e.value) == "[telegram] secret_token：只能是 1–256 个 A-Z a-z 0-9 _ - 字符"


@pytest.mark.parametrize("body", ["[telegram]\ntoken = 123456789\n", "[wecom]\nbot_id = \"b\"\nsecret = 987654321\n",
                                  "[dingtalk]\nclient_id = \"c\"\nclient_secret = 555444333\n"])
def test_a_secret_of_the_wrong_type_is_not_shown(tmp_path: Path, body: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, body), env={}, check_dirs=False)
    assert "应为字符串" in str(e.value) and not any(d in str(e.value) for d in ("123456789", "987654321", "555444333"))


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[push\n")
    with pytest.raises(ConfigError) as e:
        load(path, env={}, check_dirs=False)
    assert str(e.value).startswith(f"{path}：不是有效的 TOML 格式（") and "line 1" in str(e.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_dir(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, f'[storage]\ndir = "{ro / "data"}"\n'), env={})
    assert str(e.value) == f"[storage] dir：数据目录 {str(ro / 'data')!r} 无法写入（Permission denied）"


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, f'[storage]\ndir = "{f}"\n'), env={})
    assert str(e.value).startswith(f"[storage] dir：数据目录 {str(f)!r} 无法写入（")


def test_run_py_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[push]\ndefault_time = "25:00"\n')
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "console"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == ["配置错误 / config error: [push] default_time："
                     "不是“时:分”格式的时间（00:00–23:59），实际是 '25:00'"]


def test_run_py_missing_config_file(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"配置错误 / config error: 找不到配置文件 {str(tmp_path / 'nope.toml')!r}"


@pytest.mark.parametrize("body", ['[[telegram]]\ntoken = "123456:SeCrEtToKeN"\n', 'telegram = "123456:SeCrEtToKeN"\n',
                                  '[[wecom]]\nbot_id = "b"\nsecret = "SeCrEtToKeN"\n',
                                  'dingtalk = ["c", "SeCrEtToKeN"]\n'])
def test_a_section_of_the_wrong_form_never_shows_its_secrets(tmp_path: Path, body: str) -> None:
    """`[[telegram]]` (an array of tables) or `telegram = "<token>"` is a section in the wrong form: the error names
    the section, never the token written in it."""
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, body), env={}, check_dirs=False)
    message = str(e.value)
    assert "应为一节配置" in message and "\n" not in message
    assert "SeCrEtToKeN" not in message and "（密钥，不显示）" in message
