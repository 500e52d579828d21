"""[wecom] configuration: defaults, the secret from the environment (never in repr), one line per bad key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_config import write_with_storage as write

from bot.config import DEFAULT_WECOM_WS_URL, ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_wecom_is_off_by_default(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, ""), env={})
    assert not cfg.wecom.enabled
    assert cfg.wecom.ws_url == DEFAULT_WECOM_WS_URL


def test_secret_from_environment_and_never_in_repr(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[wecom]\nbot_id = "aibXYZ"\nofficers = ["zhangsan", "lisi"]\n'),
               env={"WECOM_BOT_SECRET": "s3cr3t-value"})
    assert cfg.wecom.secret == "s3cr3t-value"
    assert cfg.wecom.officers == ("zhangsan", "lisi")
    assert "s3cr3t-value" not in repr(cfg)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('bot_id = "aib"\n', "[wecom] secret"),
        ('bot_id = "has space"\nsecret = "x"\n', "[wecom] bot_id"),
        ('ws_url = "ws://127.0.0.1:1"\n', "[wecom] ws_url"),
        ("officers = [1, 2]\n", "[wecom] officers[0]"),
        ('officers = ["ok", "bad id"]\n', "[wecom] officers[1]"),
        ('officers = ["wecom:zhangsan"]\n', "[wecom] officers[0]"),
        ('ws_url = "wss://"\n', "[wecom] ws_url"),
        ('ws_url = "wss:///path"\n', "[wecom] ws_url"),
        ('officers = "zhangsan"\n', "[wecom] officers"),
        ('ca_file = "/nonexistent/ca.pem"\n', "[wecom] ca_file"),
        ('botid = "x"\n', "[wecom] botid"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, "[wecom]\n" + body), env={})
    assert str(e.value).startswith(key)
    assert "\n" not in str(e.value)


def test_bad_wecom_key_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[wecom]\nws_url = "http://x"\n')
    proc = subprocess.run([sys.executable, "run.py", "--config", str(path), "console"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2
    assert "[wecom] ws_url" in proc.stderr
