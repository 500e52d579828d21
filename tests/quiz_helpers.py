"""Shared set-up for the 每日一题 tests: small question banks in a tmp content dir, swapped into running Services."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from bot.config import ContentConfig
from bot.content import load_content
from bot.quizbank import JUDGE, Question, _question_dict
from bot.services import Services

ROOT = Path(__file__).resolve().parent.parent


def q(i: int, kind: str = "single", answer: tuple[int, ...] = (1,), text: str = "", explanation: str = ""
      ) -> Question:
    """Question i: options 甲 乙 丙 丁 (none for 判断), answer B unless told otherwise."""
    opts = () if kind == JUDGE else ("甲", "乙", "丙", "丁")
    return Question(f"q{i:010d}", kind, text or f"第{i}题？", opts, answer, explanation or f"解析{i}")


def with_bank(tmp: Path, questions: list[Question]) -> Path:
    """A content dir under `tmp`: the real passages and practices, and a bank of exactly `questions`."""
    content = tmp / "content"
    content.mkdir(exist_ok=True)
    for name in ("passages.jsonl", "practices.json", "manifest.json"):
        shutil.copy(ROOT / "content" / name, content / name)
    (content / "quiz.json").write_text(json.dumps([_question_dict(x) for x in questions], ensure_ascii=False),
                                       encoding="utf-8")
    return content


def use_bank(svc: Services, tmp: Path, questions: list[Question]) -> None:
    """Point running Services at a content dir whose bank is `questions` (as a rebuild plus reload would)."""
    content = with_bank(tmp, questions)
    svc.config = dataclasses.replace(svc.config, content=ContentConfig(dir=str(content)))
    svc.content = load_content(content)
    svc._content_stamp = svc._manifest_stamp()
