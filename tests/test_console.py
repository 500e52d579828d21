"""The console chat, driven through piped stdin exactly as an operator would script it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def console(tmp_path: Path, script: str) -> str:
    """Run `run.py console` with `script` on stdin and a fresh data dir; return stdout."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[content]\ndir = "{ROOT / "content"}"\n', "utf-8")
    r = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "console"],
        input=script, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout


def replies(out: str) -> list[tuple[str, str]]:
    """(typed line, what the bot printed after it) for each scripted line."""
    chunks = out.split("\n> ")[1:]
    pairs = []
    for chunk in chunks:
        line, _, answer = chunk.partition("\n")
        pairs.append((line, answer.replace("再见！", "").strip()))
    return pairs


def test_help_lists_commands_and_exits_on_eof(tmp_path: Path) -> None:
    out = console(tmp_path, "/help\n")
    assert "命令一览" in out and "/search" in out and "/today" in out
    assert out.rstrip().endswith("再见！")


def test_start_and_unknown_command(tmp_path: Path) -> None:
    out = console(tmp_path, "/start\n/nosuchthing\n")
    assert "工会助手" in out
    assert "没有 /nosuchthing 这个命令" in out


def test_today_gives_a_real_practice(tmp_path: Path) -> None:
    from bot.content import load_content

    practices = load_content(ROOT / "content").practices
    out = console(tmp_path, "/today\n今日\n")
    shown = [p for p in practices if p.title in out]
    assert shown, out
    # asked twice on one day: the same practice both times
    assert out.count(shown[0].title) >= 2


def test_search_in_private_and_group(tmp_path: Path) -> None:
    out = console(tmp_path, "搜索 职代会\n:group\n/search 集体合同\n厂务公开\n@union_helper_bot 厂务公开\n")
    answers = dict(replies(out))
    assert "职工代表大会" in answers["搜索 职代会"]
    assert "<b>" not in answers["搜索 职代会"]  # HTML rendered for the terminal
    assert "集体合同" in answers["/search 集体合同"]
    assert answers[":group"] == "（已切换：群聊·成员）"
    assert answers["厂务公开"] == ""  # plain group chatter gets no answer
    assert "厂务公开" in answers["@union_helper_bot 厂务公开"]  # a mention does


def test_switching_roles(tmp_path: Path) -> None:
    out = console(tmp_path, ":group\n:admin\n:private\n:member\n:bogus\n")
    assert "群聊·管理员" in out and "私聊·管理员" in out and "私聊·成员" in out
    assert ":group 切到群聊" in out  # :bogus shows the console help


def test_hostile_input_gets_answers_not_crashes(tmp_path: Path) -> None:
    lines = ["<b>unclosed", "&amp; &lt;", "😀" * 500, "搜索", "建议", "/search " + "职" * 10000, "\x07\x1b[31m"]
    out = console(tmp_path, "\n".join(lines) + "\n")
    assert "抱歉，处理时出了点问题" not in out
    answered = replies(out)
    assert len(answered) == len(lines)
    for line, answer in answered:
        assert answer, f"no answer to {line[:20]!r}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer), f"no Chinese answer to {line[:20]!r}"



def test_preview_switches_show_each_platforms_source(tmp_path: Path) -> None:
    query = "搜索 <b>x</b> **粗体** [x](y) `c`"
    out = console(tmp_path, f":wecom\n{query}\n:telegram\n/today\n:plain\n/help\n")
    pairs = dict(replies(out))
    wecom = pairs[query]
    assert wecom.startswith("┌─ WeCom markdown 1/1")
    # member text shows literally in WeCom: every markdown-looking part of the query is escaped
    assert r"\<b>x\</b> \*\*粗体\*\* \[x\](y) \`c\`" in wecom
    assert pairs["/today"].startswith("┌─ Telegram HTML 1/1") and "<b>每日一招</b>" in pairs["/today"]
    assert "┌─" not in pairs["/help"] and "<b>" not in pairs["/help"]


def test_dingtalk_preview_shows_markdown_with_json_sizes_and_tappable_choices(tmp_path: Path) -> None:
    out = console(tmp_path, ":dingtalk\n搜索 **粗体** [x](y)\n/suggest\n:group\n/search 集体合同\n")
    pairs = dict(replies(out))
    assert pairs[":dingtalk"] == "（已切换：预览 钉钉 markdown 原文，每条消息单独显示）"
    search = pairs["搜索 **粗体** [x](y)"]
    assert search.startswith("┌─ DingTalk markdown · ") and "字节（JSON 转义后）" in search
    assert r"\*\*粗体\*\*" in search
    suggest = pairs["/suggest"]
    assert "dtmd://dingtalkclient/sendMessage?content=" in suggest and "请点选" in suggest
    group = pairs["/search 集体合同"]
    assert "dtmd://" not in group and "请 @我 并回复数字" in group  # a tap in a group would not reach the robot


def test_quiz_in_the_console_numbered_with_buttons_and_typed_answers(tmp_path: Path) -> None:
    """每日一题 on a fresh clone's starter bank: numbered options, :N presses one, typed answers, the ranking."""
    out = console(tmp_path, "/quiz\n:1\nB\n/rank\n:group\n每日一题\n答 对\n")
    pairs = dict(replies(out))
    question = pairs["/quiz"]
    assert question.startswith("📝 每日一题 · ") and "每人每天以第一次回答为准" in question
    assert "[1] " in question and "（输入 :1 等编号按下按钮）" in question or "全部正确选项的字母" in question
    first = pairs[":1"] if "[1] " in question else pairs["B"]
    assert "回答正确" in first or "回答错误" in first
    assert "正确答案：" in first and "出处：《" in first
    assert "共 1 人参与" in pairs["/rank"] and "控制台用户" in pairs["/rank"]
    assert "群里请 @我" in pairs["每日一题"]
