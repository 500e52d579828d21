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
    ("body", "key", "says"),
    [
        ('bot_id = "aib"\n', "[wecom] secret", "填了 bot_id 就必须填写（或设置环境变量 WECOM_BOT_SECRET）"),
        ('bot_id = "has space"\nsecret = "x"\n', "[wecom] bot_id", "应为 1–128 个英文字母、数字或半角符号，不能有空格"),
        ('bot_id = "aib"\nsecret = "sec ret"\n', "[wecom] secret", "应为 1–256 个英文字母、数字或半角符号，不能有空格"),
        ('ws_url = "ws://127.0.0.1:1"\n', "[wecom] ws_url",
         "应为带主机名的 wss:// 地址（企业微信只支持加密连接），实际是 'ws://"),
        ("officers = [1, 2]\n", "[wecom] officers[0]", "应为字符串，实际是 1"),
        ('officers = ["ok", "bad id"]\n', "[wecom] officers[1]",
         "应为企业微信的 userid（1–64 个字符，不能有空格），实际是 'bad id'"),
        ('officers = ["wecom:zhangsan"]\n', "[wecom] officers[0]",
         "只写 userid 本身，不要加 'wecom:'，实际是 'wecom:zhangsan'"),
        ('ws_url = "wss://"\n', "[wecom] ws_url", "实际是 'wss://'"),
        ('ws_url = "wss:///path"\n', "[wecom] ws_url", "实际是 'wss:///path'"),
        ('officers = "zhangsan"\n', "[wecom] officers", "应为列表"),
        ('ca_file = "/nonexistent/ca.pem"\n', "[wecom] ca_file", "找不到文件 '/nonexistent/ca.pem'"),
        ('botid = "x"\n', "[wecom] botid", "没有这个配置项（可用的有 bot_id、secret、ws_url、officers、ca_file）"),
    ],
)
def test_bad_values_name_the_key_in_chinese(tmp_path: Path, body: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(write(tmp_path, "[wecom]\n" + body), env={})
    assert str(e.value).startswith(key + "：") and says in str(e.value), str(e.value)
    assert "\n" not in str(e.value) and "sec ret" not in str(e.value)


def test_bad_wecom_key_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[wecom]\nws_url = "http://x"\n')
    proc = subprocess.run([sys.executable, "run.py", "--config", str(path), "console"], cwd=ROOT,
                          capture_output=True, text=True, input="", timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("配置错误 / config error: [wecom] ws_url：应为带主机名的 wss:// 地址"
                                   "（企业微信只支持加密连接），实际是 'http://x'")
