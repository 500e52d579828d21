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
    ("body", "key", "says"),
    [
        ('client_id = "dingabc"\n', "[dingtalk] client_secret",
         "填了 client_id 就必须填写（或设置环境变量 DINGTALK_CLIENT_SECRET）"),
        ('client_secret = "x"\n', "[dingtalk] client_id",
         "填了 client_secret 就必须填写（即应用的 Client ID / AppKey）"),
        ('client_id = "has space"\nclient_secret = "x"\n', "[dingtalk] client_id",
         "应为 1–128 个英文字母、数字或半角符号，不能有空格"),
        ('client_id = "a"\nclient_secret = "sp ace"\n', "[dingtalk] client_secret",
         "应为 1–256 个英文字母、数字或半角符号，不能有空格"),
        ('robot_code = "r c"\n', "[dingtalk] robot_code", "应为 1–128 个"),
        ('endpoint = "api.dingtalk.com"\n', "[dingtalk] endpoint",
         "应为带主机名的 http:// 或 https:// 地址，末尾不带 /，实际是 'api.dingtalk.com'"),
        ('endpoint = "https://api.dingtalk.com/"\n', "[dingtalk] endpoint", "末尾不带 /，实际是 'https://api.dingtalk.com/'"),
        ('endpoint = "ftp://x"\n', "[dingtalk] endpoint", "实际是 'ftp://x'"),
        ("officers = [1]\n", "[dingtalk] officers[0]", "应为字符串，实际是 1"),
        ('officers = ["ok", "bad id"]\n', "[dingtalk] officers[1]",
         "应为钉钉的 userid（1–64 个字符，不能有空格），实际是 'bad id'"),
        ('officers = ["dingtalk:manager4521"]\n', "[dingtalk] officers[0]",
         "只写 userid 本身，不要加 'dingtalk:'，实际是 'dingtalk:manager4521'"),
        ('appkey = "x"\n', "[dingtalk] appkey",
         "没有这个配置项（可用的有 client_id、client_secret、robot_code、officers、endpoint）"),
    ],
)
def test_bad_values_name_the_key_in_chinese(tmp_path: Path, body: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, "[dingtalk]\n" + body), env={})
    assert str(e.value).startswith(key + "：") and says in str(e.value), str(e.value)
    assert "\n" not in str(e.value) and "sp ace" not in str(e.value)


def test_bad_dingtalk_key_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[dingtalk]\nclient_id = "dingabc"\nclient_secret = "top-secret"\nendpoint = "x"\n')
    proc = subprocess.run([sys.executable, "run.py", "--config", str(path), "dingtalk"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("配置错误 / config error: [dingtalk] endpoint：应为带主机名的 http:// 或 https:// "
                                   "地址，末尾不带 /，实际是 'x'")
    assert "top-secret" not in proc.stderr


def test_run_py_dingtalk_without_client_id_names_the_key(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "run.py", "--config", str(write(tmp_path, "")), "dingtalk"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == ("配置错误 / config error: [dingtalk] client_id：没有设置"
                                                    "（还要填 client_secret，或设置环境变量 DINGTALK_CLIENT_SECRET）")
