"""[dingtalk] configuration: defaults, the secret from the environment (never in repr), one line per bad key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_config import write_with_storage as write

from bot.config import DEFAULT_DINGTALK_ENDPOINT, ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_dingtalk_is_off_by_default(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, ""), env={"DINGTALK_CLIENT_SECRET": "ignored-without-client-id"})
    assert not cfg.dingtalk.enabled
    assert cfg.dingtalk.endpoint == DEFAULT_DINGTALK_ENDPOINT == "https://api.dingtalk.com"
    assert cfg.dingtalk.client_secret == ""


def test_secret_from_environment_never_in_repr_and_robot_code_defaults_to_client_id(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, '[dingtalk]\nclient_id = "dingabc"\nofficers = ["manager4521", "lisi"]\n'),
               env={"DINGTALK_CLIENT_SECRET": "s3cr3t-value"})
    assert cfg.dingtalk.client_secret == "s3cr3t-value"
    assert cfg.dingtalk.robot == "dingabc"
    assert cfg.officer_ids() >= {"dingtalk:manager4521", "dingtalk:lisi"}
    assert "s3cr3t-value" not in repr(cfg) and "s3cr3t-value" not in str(cfg)
    cfg = load(write(tmp_path, '[dingtalk]\nclient_id = "dingabc"\nclient_secret = "in-file"\nrobot_code = "r1"\n'),
               env={"DINGTALK_CLIENT_SECRET": "from-env"})
    assert cfg.dingtalk.client_secret == "in-file" and cfg.dingtalk.robot == "r1"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('client_id = "dingabc"\n', "[dingtalk] client_secret"),
        ('client_secret = "x"\n', "[dingtalk] client_id"),
        ('client_id = "has space"\nclient_secret = "x"\n', "[dingtalk] client_id"),
        ('client_id = "a"\nclient_secret = "sp ace"\n', "[dingtalk] client_secret"),
        ('robot_code = "r c"\n', "[dingtalk] robot_code"),
        ('endpoint = "api.dingtalk.com"\n', "[dingtalk] endpoint"),
        ('endpoint = "https://api.dingtalk.com/"\n', "[dingtalk] endpoint"),
        ('endpoint = "ftp://x"\n', "[dingtalk] endpoint"),
        ("officers = [1]\n", "[dingtalk] officers[0]"),
        ('officers = ["ok", "bad id"]\n', "[dingtalk] officers[1]"),
        ('officers = ["dingtalk:manager4521"]\n', "[dingtalk] officers[0]"),
        ('appkey = "x"\n', "[dingtalk] appkey"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, body: str, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, "[dingtalk]\n" + body), env={})
    assert str(e.value).startswith(key)
    assert "\n" not in str(e.value)


def test_bad_dingtalk_key_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[dingtalk]\nclient_id = "dingabc"\nclient_secret = "top-secret"\nendpoint = "x"\n')
    proc = subprocess.run([sys.executable, "run.py", "--config", str(path), "dingtalk"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2
    assert "[dingtalk] endpoint" in proc.stderr and "Traceback" not in proc.stderr
    assert "top-secret" not in proc.stderr


def test_run_py_dingtalk_without_client_id_names_the_key(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "run.py", "--config", str(write(tmp_path, "")), "dingtalk"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2 and "[dingtalk] client_id" in proc.stderr
