"""/law end to end (issue 15): the operator's steps on a fresh copy (statutes from ../shared/laws dropped into
seeds/local/法规/, `run.py content build`, then the console), and the real Telegram bot against the fake Bot API
(every reply validated by the fake server: HTML, length, buttons)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import lawgen  # noqa: E402
from e2e import ALICE, press, running_bot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PREGNANCY = ("《劳动合同法》第四十二条", "《女职工劳动保护特别规定》第五条", "《妇女权益保障法》第四十八条")


def fresh_copy_with_laws(tmp: Path) -> tuple[Path, Path]:
    """seeds/ and content/ as in a fresh clone, with ../shared/laws/*.md in seeds/local/法规/; returns (seeds, cfg)."""
    laws = lawgen.laws_dir()
    seeds, content = tmp / "seeds", tmp / "content"
    shutil.copytree(ROOT / "seeds", seeds)
    shutil.copytree(ROOT / "content", content)
    (seeds / "local" / "法规").mkdir()
    for path in laws.glob("*.md"):
        shutil.copy(path, seeds / "local" / "法规" / path.name)
    cfg = tmp / "config.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp / "data"}"\n[content]\ndir = "{content}"\n', "utf-8")
    return seeds, cfg


def run(cfg: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "--config", str(cfg), *args], input=stdin,
                       capture_output=True, text=True, timeout=300, cwd=cfg.parent,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(cfg.parent)})
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_operator_drops_the_statutes_in_builds_and_asks_in_the_console(tmp_path: Path) -> None:
    seeds, cfg = fresh_copy_with_laws(tmp_path)
    built = run(cfg, "content", "build", "--seeds", str(seeds))
    assert built.returncode == 0, built.stderr
    assert "local/法规/劳动合同法.md: 98 段 《中华人民共和国劳动合同法》" in built.stderr
    assert "README.md" not in built.stderr.split("内容构建完成")[0].replace("seeds/local/README.md", "")
    out = run(cfg, "console", stdin="/law 试用期最长多久\n/law 怀孕了公司能辞退我吗\n").stdout
    first, second = out.split("\n> ")[1:3]
    assert "1. 【法规】《劳动合同法》第十九条\n第二章 劳动合同的订立\n第十九条" in first
    assert "来源：《中华人民共和国劳动合同法》（2012年12月28日修正）" in first
    lead = next(line for line in second.splitlines() if line.startswith("1. "))
    assert lead.removeprefix("1. 【法规】") in PREGNANCY


@pytest.fixture(scope="module")
def law_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, content_dir = lawgen.build_with_laws(tmp_path_factory.mktemp("laws"), lawgen.laws_dir())
    return content_dir


async def test_law_over_telegram(tmp_path: Path, law_content: Path) -> None:
    async with running_bot(tmp_path, content_dir=law_content) as tg:
        [answer] = await tg.say("/law 试用期最长多久", user=ALICE)
        assert "1. 【法规】《劳动合同法》第十九条" in answer.text and answer.params["parse_mode"] == "HTML"
        assert "2012年12月28日修正" in answer.text
        [full] = await press(tg.api, answer, "全文 1", ALICE, wait="sendMessage")
        assert full.text.startswith("【法规】《劳动合同法》第十九条\n第二章 劳动合同的订立")
        [plain] = await tg.say("怀孕了公司能辞退我吗", user=ALICE)  # private text: statutes first, labelled
        lead = next(line for line in plain.text.splitlines() if line.startswith("1. "))
        assert lead.removeprefix("1. 【法规】") in PREGNANCY
        assert "【经验】" in (await tg.said("搜索 职工之家", user=ALICE)).split("\n", 3)[2]
        mark = tg.api.mark()
        tg.api.push_inline_query("试用期最长多久", user=ALICE)
        [inline] = await tg.api.wait_for("answerInlineQuery", since=mark, ok=True)
        titles = [r["title"] for r in inline.params["results"]]
        assert "【法规】《劳动合同法》第十九条" in titles
