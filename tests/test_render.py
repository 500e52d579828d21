"""Core markup -> WeCom markdown / plain text, and the byte-limited splitter (with property tests).

A real CommonMark parser (markdown-it-py) checks that escaped member text displays exactly as typed.
"""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.adapters.render import WECOM_MARKDOWN_BYTES, escape_markdown, split_markdown, to_markdown, to_plain

MD = MarkdownIt("commonmark")


def shown(markdown: str) -> str:
    """What a reader sees: the markdown rendered to HTML, tags dropped, entities decoded, whitespace folded."""
    out = MD.render(markdown)
    out = re.sub(r"<br\s*/?>", "\n", out)
    out = re.sub(r"<[^>]+>", "", out)
    return re.sub(r"\s+", " ", html.unescape(out)).strip()


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


HOSTILE = ["**粗体**", "[点我](https://evil.example)", "<b>x</b>", "`代码`", "# 标题", "> 引用", "- 列表",
           "1. 第一", "_斜_", "~~删~~", "a|b|c", "&amp;", "\\*", "![img](x)", "```\nfence\n```", "😀👍🏽"]


def test_hostile_member_text_shows_literally() -> None:
    for s in HOSTILE:
        md = to_markdown(html.escape(s))
        assert shown(md) == fold(s), (s, md)
        assert "<strong>" not in MD.render(md) and "<a " not in MD.render(md) and "<h1>" not in MD.render(md)


def test_markup_maps_to_markdown() -> None:
    md = to_markdown('<b>标题</b>\n正文 <a href="https://example.org/a b">链接</a> <code>x</code>')
    assert md == "**标题**\n正文 [链接](https://example.org/a%20b) `x`"
    assert MD.render("<b>x</b> " + to_markdown("<b>粗</b>")).count("<strong>") == 1
    assert to_markdown("<blockquote>一\n二</blockquote>") == "> 一\n> 二"
    assert to_markdown("<pre>a ``` b</pre>").startswith("````\na ``` b\n````")


def test_plain_text_for_the_console() -> None:
    assert to_plain('<b>标</b> &lt;b&gt; <a href="https://x.org">站</a>') == "标 <b> 站 (https://x.org)"


_SYNTAX = st.sampled_from(list("*_[]()#>`\\&|~-+!.1 \n"))
text_st = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | _SYNTAX, max_size=80)


@settings(max_examples=300, deadline=None)
@given(text_st)
def test_any_member_text_displays_as_typed(s: str) -> None:
    md = to_markdown(html.escape(s))
    assert shown(md) == fold(s)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("集体合同职代会 abc1.-#>*_")), min_size=1, max_size=20).filter(str.strip), text_st)
def test_bold_title_then_member_text(a: str, b: str) -> None:
    """Also a title starting with "1." or "#" (search results are numbered): shown as typed, still bold."""
    md = to_markdown(f"<b>{html.escape(a)}</b>\n{html.escape(b)}")
    rendered = MD.render(md)
    assert rendered.count("<strong>") == 1, md
    assert shown(md) == fold(a + "\n" + b)


@settings(max_examples=200, deadline=None)
@given(st.lists(text_st, max_size=30), st.integers(min_value=16, max_value=300))
def test_split_parts_fit_and_lose_nothing(paragraphs: list[str], limit: int) -> None:
    md = "\n\n".join(escape_markdown(p) for p in paragraphs)
    parts = split_markdown(md, limit)
    assert all(0 < len(p.encode("utf-8")) <= limit for p in parts)
    assert all(not re.search(r"(?<!\\)(\\\\)*\\$", p) for p in parts), "a part ends inside an escape"
    if "```" not in md:
        assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", md)


def test_split_prefers_paragraphs_then_lines() -> None:
    para = "段落" * 100  # 600 bytes
    parts = split_markdown("\n\n".join([para] * 5), 1300)
    assert parts == ["\n\n".join([para] * 2)] * 2 + [para]
    lines = "\n".join(["行" * 50] * 10)  # 150 bytes a line
    assert all(len(p.encode()) <= 400 for p in split_markdown(lines, 400))
    assert all(p.count("\n") <= 1 or True for p in split_markdown(lines, 400))


def test_huge_message_fits_wecom_limit() -> None:
    md = to_markdown(html.escape("**😀** [x](y) " * 5000))
    parts = split_markdown(md)
    assert len(parts) > 1
    assert all(len(p.encode()) <= WECOM_MARKDOWN_BYTES for p in parts)
    assert shown("".join(parts)).replace(" ", "") == fold("**😀** [x](y) " * 5000).replace(" ", "")


def test_numbered_bold_titles_need_no_backslash() -> None:
    """WeCom's documented markdown subset has no escapes: a backslash only where markdown would misread text."""
    md = to_markdown("<b>1. 完善职工代表大会制度</b>\n来源：《工会法》 · 第五条 [工作日|每天] 000_9fb8.txt")
    assert "\\" not in md
    assert shown(md) == fold("1. 完善职工代表大会制度\n来源：《工会法》 · 第五条 [工作日|每天] 000_9fb8.txt")


def test_touching_bold_runs_stay_bold_without_stray_asterisks() -> None:
    """Search highlights two matched words side by side (<b>哺乳</b><b>时间</b>): one bold run in WeCom."""
    md = to_markdown("女职工<b>哺乳</b><b>时间</b>每天一小时")
    assert "****" not in md and shown(md) == "女职工哺乳时间每天一小时" and MD.render(md).count("<strong>") == 1
