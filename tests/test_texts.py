"""Message splitting: every part within Telegram's limit and valid HTML on its own, nothing lost."""

from __future__ import annotations

import re

import pytest
from fakebotapi import parse_html
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.texts import escape, search_full, split_message


def visible(parts: list[str]) -> str:
    return "".join(parse_html(p)[0] for p in parts)


def check(text: str, limit: int = 4096) -> list[str]:
    parts = split_message(text, limit)
    for p in parts:
        assert len(p) <= limit
        parse_html(p)  # raises on broken HTML
    plain = re.sub(r"\s", "", visible(parts))
    assert plain == re.sub(r"\s", "", parse_html(text)[0])
    return parts


def test_short_text_is_one_message() -> None:
    assert split_message("<b>标题</b>\n正文") == ["<b>标题</b>\n正文"]


def test_splits_at_paragraph_ends() -> None:
    paras = [f"第{i}段。" + "职工" * 300 for i in range(10)]
    parts = check("\n\n".join(paras))
    assert len(parts) > 1
    assert all(p.lstrip().startswith("第") for p in parts)


def test_long_bold_line_is_closed_and_reopened() -> None:
    parts = check("<b>" + "甲" * 5000 + "</b>")
    assert len(parts) == 2 and parts[1].startswith("<b>")


def test_entities_and_links_are_never_cut() -> None:
    text = '<a href="https://t.me/x?a=1&amp;b=2">' + "&amp;&lt;" * 2000 + "</a>"
    check(text)


def test_passage_over_4096_in_full() -> None:
    parts = search_full("标题", "这是一句话。" * 1500, "seeds/x.txt")
    for p in parts:
        assert len(p) <= 4096
        parse_html(p)
    assert parts[0].startswith("<b>标题</b>") and "来源" in parts[-1]


@pytest.mark.parametrize("limit", [50, 200, 4096])
def test_limits(limit: int) -> None:
    check("<i>" + "，".join(["工会"] * 3000) + "</i>\n<b>完</b>", limit)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "b", "i", "code"]), st.text(min_size=0, max_size=700)), max_size=12))
def test_any_formatted_text_splits_validly(chunks: list[tuple[str, str]]) -> None:
    text = "\n".join(f"<{t}>{escape(s)}</{t}>" if t else escape(s) for t, s in chunks)
    if not parse_html(text)[0].strip():
        return
    check(text, 300)
