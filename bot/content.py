"""Content pipeline: seeds/*.txt (+ seeds/local/*.txt|md|docx|pdf) -> content/ passages and practices.

`build()` cleans the seed essays and the operators' documents into passages (one per paragraph or article,
headings as sections, broken lines rejoined, duplicates merged), names every document by its title
(`content/titles.toml` overrides), resolves the hand-curated `content/practices.toml` (single practices and
whole documents marked as practice sources) into `practices.json` and writes a manifest.
`load_content()` reads the built files at every start (no jieba, no parsing).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from bot import docs_import as D
from bot import quizbank, texts
from bot import statute as S

PASSAGES_FILE = "passages.jsonl"
PRACTICES_FILE = "practices.json"
PRACTICES_INPUT = "practices.toml"
MANIFEST_FILE = "manifest.json"
TITLES_FILE = "titles.toml"
#: A passage of a document marked as a practice source joins the rotation if it has at least this many chars.
SOURCE_MIN_CHARS = 60
#: The article topics (bot/search/topics.py): the words members use when an article is the answer.
TOPICS_FILE = "law_topics.txt"
#: Files of the search engine that also live in content/; they take part in `Content.version` if present (and in
#: the search index's cache key).
#: Statutes' weights when two statutes answer alike (劳动法 0.75), read by bot/search/topics.py.
WEIGHTS_FILE = "law_weights.txt"
EXTRA_VERSION_FILES = ("userdict.txt", "synonyms.txt", "stopwords.txt", "colloquial.txt", "fillers.txt", TOPICS_FILE,
                       WEIGHTS_FILE)
SECTION_SEP = " › "
TITLE_MAX = 30
PRACTICE_TITLE_MAX = 20

#: Censored / anonymised spots in the seeds that we must never fill in with invented words.
PLACEHOLDER_RE = re.compile(r"[_＿*＊]")


class ContentError(Exception):
    """A build or load failure; the message is one line."""


# --- data types ---------------------------------------------------------------------------------


#: Passage kinds: an article of a statute, or anything else (essays, practices, operators' own documents).
LAW = "law"
ESSAY = "essay"


@dataclass(frozen=True)
class Passage:
    """One paragraph of the corpus (or one whole article of a statute), with its section path and source."""

    id: str
    section: str
    text: str
    source: str
    files: tuple[str, ...]
    #: LAW for an article of a statute (its paragraphs and items joined by newlines), else ESSAY.
    kind: str = ESSAY
    #: For a statute: its usual short name (劳动合同法), full title (中华人民共和国劳动合同法), the article
    #: (第十九条; '' for a preamble), chapter and section (第二章 劳动合同的订立) and version (2012年12月28日修正).
    law: str = ""
    law_title: str = ""
    article: str = ""
    chapter: str = ""
    version: str = ""

    @property
    def is_law(self) -> bool:
        return self.kind == LAW

    @property
    def citation(self) -> str:
        """《劳动合同法》第十九条 for an article of a statute, '' otherwise."""
        return S.citation(self.law, self.article) if self.kind == LAW else ""

    @property
    def title(self) -> str:
        """A display title (<= 30 chars): a statute's citation; else the passage's lead phrase, else the section's
        last component."""
        if self.kind == LAW:
            return self.citation
        lead = lead_phrase(self.text)
        if lead:
            return _clip(lead, TITLE_MAX)
        if self.section:
            return _clip(self.section.split(SECTION_SEP)[-1], TITLE_MAX)
        return _clip(re.split(r"(?<=[。！？])", self.text, maxsplit=1)[0].rstrip("。！？"), TITLE_MAX)


@dataclass(frozen=True)
class Practice:
    """A titled 'practice of the day' curated from one or more passages."""

    id: str
    title: str
    body: str
    source: str
    tags: tuple[str, ...]
    passages: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    """All passages and practices, with a version hash for cache keys."""

    passages: tuple[Passage, ...]
    practices: tuple[Practice, ...]
    version: str
    _passage_index: dict[str, Passage] = field(default_factory=dict, repr=False, compare=False)
    _practice_index: dict[str, Practice] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._passage_index.update((p.id, p) for p in self.passages)
        self._practice_index.update((p.id, p) for p in self.practices)

    def passage(self, pid: str) -> Passage | None:
        """The passage with id `pid`, or None."""
        return self._passage_index.get(pid)

    def practice(self, pid: str) -> Practice | None:
        """The practice with id `pid`, or None."""
        return self._practice_index.get(pid)


@dataclass
class BuildSummary:
    """What a build produced."""

    files: int
    passages: int
    duplicates_merged: int
    practices: int
    #: (file, what to do / why) for every file that was not read.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return texts.content_build_summary(
            self.files, self.passages, self.duplicates_merged, self.practices, self.skipped
        )


# --- small text helpers -------------------------------------------------------------------------

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CN_NUM = "一二三四五六七八九十百"
_ENUM_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(rf"^[{_CN_NUM}]+、")),
    ("paren", re.compile(rf"^[(（][{_CN_NUM}]+[)）]")),
    ("num", re.compile(r"^\d{1,2}(?:[、．]|\.(?!\d))")),
    ("chapter", re.compile(rf"^第[{_CN_NUM}\d]+[章节部分篇][、：:\s]?")),
)
_ITEM_LEAD_RE = re.compile(rf"^(?:[{_CN_NUM}]是|其[{_CN_NUM}]+[，,、])")
_SENTENCE_END = "。！？；!?;"
_TERMINAL = "。！？；!?;…”’」』）)》】：:"
_PIAN_RE = re.compile(r"^【篇[^】]{1,4}】")
_BRACKET_RE = re.compile(r"^【([^】]{1,20})】$")
_META_RE = re.compile(r"^[\[【［](?:关键词|关键字)[\]】］]")


def _clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` chars with an ellipsis if longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_clause(text: str) -> str:
    """Text up to the first comma or sentence end."""
    m = re.search(r"[，,。！？；：:]", text)
    return text[: m.start()] if m else text


def enumerator(text: str) -> tuple[str, str] | None:
    """(kind, marker) if `text` starts with a list/heading enumerator such as 一、 (二) 1、 1．."""
    for kind, rx in _ENUM_RES:
        m = rx.match(text)
        if m:
            return kind, m.group(0)
    return None


def lead_phrase(text: str) -> str:
    """The natural title of a numbered/bulleted item: '1、选择法。…' -> '选择法'; '' if none."""
    numbered = enumerator(text)
    rest = text[len(numbered[1]) :] if numbered else text
    item = _ITEM_LEAD_RE.match(rest)
    if item:
        rest = rest[item.end() :]
    m = re.search(r"[。！？；]", rest)
    if not m or m.end() >= len(rest):
        return ""  # a single sentence has no separate lead
    first = rest[: m.start()]
    if len(first) <= 20:
        return first
    if numbered or item:
        clause = _first_clause(first)
        return clause if len(clause) <= 20 else ""
    return ""


_ARTICLE_GAP_RE = re.compile(rf"^(第[{_CN_NUM}零〇两千\d]{{1,6}}条)[ \u3000]?(?=[{_CJK}“（(])")


def normalise(text: str) -> str:
    """NFC, collapsed whitespace; the form ids are hashed from."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(f"(?<=[{_CJK}，。、；：！？“”‘’（）《》]) (?=[{_CJK}，。、；：！？“”‘’（）《》])", "", text)
    return _ARTICLE_GAP_RE.sub("\\1\u3000", text, count=1)  # 第五条 工会… -> 第五条　工会… (as printed)


def passage_id(text: str) -> str:
    """Stable id: 'p' + first 10 hex of sha1 of the normalised text."""
    return "p" + hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()[:10]


def _skeleton(text: str) -> str:
    """Text without placeholders, punctuation and spaces, for near-duplicate matching."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN" and ch not in "_＿*＊")


def _placeholders(text: str) -> int:
    return len(PLACEHOLDER_RE.findall(text))


# --- line cleaning (seed .txt) ------------------------------------------------------------------


@dataclass
class _Line:
    """One cleaned source line and what we know about it."""

    text: str
    marked: bool = False  # had a leading '>'
    doc_start: bool = False  # a new essay begins (the seeds start each essay with one ASCII space)
    heading_tail: bool = False  # a short heading fragment split off the front of this line


def _clean_inline(text: str) -> str:
    """Fix mis-encoded quotes, half-width punctuation in Chinese, doubled punctuation."""
    text = text.replace("‚", "“").replace("‛", "”")
    text = re.sub(rf"(?<=[{_CJK}”’）])\s*,\s*|\s*,\s*(?=[{_CJK}“‘（])", "，", text)
    text = re.sub(rf"(?<=[{_CJK}”’）])\s*;\s*|\s*;\s*(?=[{_CJK}“‘（])", "；", text)
    text = re.sub(r"([，。、；])\1+", r"\1", text)
    return text


def _clean_line(raw: str) -> _Line:
    """Strip indentation (incl. full-width 　), '>' markers and fix punctuation."""
    raw = raw.replace("\ufeff", "").rstrip()
    doc_start = bool(re.match(r"^ (?=\S)", raw))
    text = re.sub(r"[\xa0\u2000-\u200b\u3000]", " ", raw).strip(" \t")
    marked = False
    if text[:1] in (">", "＞"):
        marked = True
        text = text[1:].strip(" \t")
    return _Line(_clean_inline(text), marked=marked, doc_start=doc_start)


def _is_teaser(line: _Line, rest: str) -> bool:
    """A truncated teaser ('…正确领...') whose words reappear right after it."""
    text = line.text
    if not (text.endswith("...") or text.endswith("…")):
        return False
    core = text.rstrip(".…").strip()
    tail = core[-20:]
    return len(core) >= 20 and tail in rest


def _is_broken_heading(rest: str) -> bool:
    """A line cut mid-phrase: ends with 、/， or with a 1–2 char fragment after one ('…难点、热')."""
    if rest.endswith(("、", "，", ",")):
        return True
    m = re.search(r"[，、,]([^，、,]*)$", rest)
    return bool(m) and len(m.group(1)) <= 2 and not rest.endswith(tuple(_TERMINAL))


def _structural(text: str) -> bool:
    """True if the line starts something new: an enumerator, bullet, bracket heading or item lead."""
    return bool(
        enumerator(text) or text.startswith(("——", "【", "[", "［")) or _ITEM_LEAD_RE.match(text)
    )


def _heading_like(line: _Line) -> bool:
    """True if a line can't be the first half of a broken sentence."""
    text = line.text
    if line.marked or _PIAN_RE.match(text) or _BRACKET_RE.match(text):
        return True
    numbered = enumerator(text)
    if numbered:
        return not _is_broken_heading(text[len(numbered[1]) :])
    return False


def _joinable(prev: _Line, line: _Line) -> bool:
    """True if `line` continues the sentence `prev` broke off."""
    if line.doc_start or line.marked or _structural(line.text) or _heading_like(prev):
        return False
    if prev.heading_tail:
        return False
    if prev.text.endswith(("、", "，", ",")):
        return True
    return bool(_CJK_RE.match(prev.text[-1:])) and len(prev.text) >= 20 and bool(_CJK_RE.match(line.text[:1]))


def _split_heading_body(line: _Line) -> list[_Line]:
    """'四、围绕…作用 为进一步…' -> heading line + body line (heading and body run together)."""
    m = re.match(rf"^(.{{2,40}}?[{_CJK}”’）]) +(?=[{_CJK}“‘])(.{{20,}})$", line.text)
    if not m or re.search(r"[。！？；]", m.group(1)):
        return [line]
    head, body = m.group(1), m.group(2)
    numbered = enumerator(head)
    if numbered or line.marked:
        return [_Line(head, marked=True, doc_start=line.doc_start), _Line(body)]
    if len(head) <= 20 and not re.search(r"[，、,：:]", head):
        return [_Line(head, doc_start=line.doc_start, heading_tail=True), _Line(body)]
    return [line]


def _prepare_lines(raw_text: str) -> tuple[list[_Line | None], int]:
    """Clean, drop teasers/metadata, split heading+body, rejoin broken lines. None marks a blank line."""
    cleaned = [_clean_line(r) for r in raw_text.splitlines()]
    dropped = 0
    lines: list[_Line | None] = []
    for i, line in enumerate(cleaned):
        if not line.text:
            lines.append(None)
            continue
        if _META_RE.match(line.text):
            continue
        if _is_teaser(line, "".join(c.text for c in cleaned[i + 1 :])):
            dropped += 1
            continue
        lines.extend(_split_heading_body(line))
    joined: list[_Line | None] = []
    for line in lines:
        prev = joined[-1] if joined else None
        if line is not None and prev is not None and _joinable(prev, line):
            prev.text = _clean_inline(prev.text + line.text)
            continue
        joined.append(line)
    return joined, dropped


# --- classification and sections (seed .txt) -----------------------------------------------------


@dataclass
class _Unit:
    """A passage candidate before deduplication."""

    text: str
    section: tuple[str, ...]
    file: str
    order: tuple[int, int]
    #: May merge with a near-identical unit (censored variants of essays); articles and table rows may not.
    near: bool = True
    #: For an article of a statute: what bot.statute found (never merged with anything).
    law: LawUnit | None = None


@dataclass(frozen=True)
class LawUnit:
    """Where an article stands in its statute (the title comes from the build's titles, so titles.toml applies)."""

    article: str
    chapter: tuple[str, ...]
    version: str


def _is_item(rest: str) -> bool:
    """A numbered line that is a whole paragraph, not a heading: several sentences, or long."""
    body = rest.rstrip(_SENTENCE_END)
    return bool(re.search(r"[。！？；]", body)) or len(rest) > 40 or _is_broken_heading(rest)


def _heading_title(text: str, kind: str) -> str:
    """A section component from a heading line: enumerator, brackets and end punctuation removed."""
    if kind == "bracket":
        return text.strip("【】")
    if kind != "pian":
        numbered = enumerator(text)
        if numbered:
            text = text[len(numbered[1]) :]
    return text.rstrip("。：:；;").strip()


def _classify(lines: list[_Line | None]) -> list[tuple[str, str, _Line | None]]:
    """Label each line ('heading', kind, line) / ('text', '', line) / ('blank', '', None)."""
    out: list[tuple[str, str, _Line | None]] = []
    numbered_runs: list[list[int]] = []
    prev_kind = ""
    for line in lines:
        if line is None:
            out.append(("blank", "", None))
            continue
        text = line.text
        numbered = enumerator(text)
        if _PIAN_RE.match(text) and len(text) <= 40:
            out.append(("heading", "pian", line))
        elif _BRACKET_RE.match(text):
            out.append(("heading", "bracket", line))
        elif line.heading_tail:
            out.append(("heading", "tail", line))
        elif numbered and line.marked and not _is_item(text[len(numbered[1]) :].rstrip("。")):
            out.append(("heading", numbered[0], line))
        elif numbered:
            out.append(("numbered", numbered[0], line))
            if prev_kind == numbered[0] and numbered_runs:
                numbered_runs[-1].append(len(out) - 1)
            else:
                numbered_runs.append([len(out) - 1])
            prev_kind = numbered[0]
            continue
        elif text.endswith(("：", ":")) and len(text) <= 30 and not re.search(r"[。！？；]", text):
            out.append(("heading", "colon", line))
        else:
            out.append(("text", "", line))
        prev_kind = ""
    for run in numbered_runs:
        items = any(_is_item(_rest(out[i][2])) for i in run)
        for i in run:
            _, kind, line = out[i]
            heading = not items or (not _is_item(_rest(line)) and _has_body(out, i))
            out[i] = ("heading", kind, line) if heading else ("text", "", line)
    return out


def _has_body(out: list[tuple[str, str, _Line | None]], i: int) -> bool:
    """True if the numbered line at `i` is followed by plain text (its body), not by a sibling or a heading."""
    for label, _, _ in out[i + 1 :]:
        if label != "blank":
            return label == "text"
    return False


def _rest(line: _Line | None) -> str:
    """A numbered line's text after its enumerator."""
    assert line is not None
    numbered = enumerator(line.text)
    return line.text[len(numbered[1]) :] if numbered else line.text


def _parse_txt(raw_text: str, file: str, file_no: int) -> tuple[list[_Unit], int]:
    """Units (passage candidates with sections) of one seed text file, and how many teasers were dropped."""
    lines, dropped = _prepare_lines(raw_text)
    stack: list[tuple[str, str]] = []
    units: list[_Unit] = []
    filled = [line for line in lines if line is not None]
    inner_blanks = sum(1 for i, line in enumerate(lines) if line is None and 0 < i < len(lines) - 1)
    # In a file that rarely uses blank lines, a blank line stands where a sub-heading was removed.
    blank_breaks = 0 < inner_blanks < 0.3 * len(filled)
    for label, kind, line in _classify(lines):
        if line is None:
            if blank_breaks:
                stack = stack[:1]
            continue
        if line.doc_start:
            stack = []
        if label == "heading":
            if kind == "tail" and stack:
                stack[-1] = (stack[-1][0], f"{stack[-1][1]} {line.text}")
                continue
            title = _heading_title(line.text, kind)
            kinds = [k for k, _ in stack]
            if kind in kinds:
                stack = stack[: kinds.index(kind)]
            stack.append((kind, title))
            continue
        numbered = enumerator(line.text)
        kinds = [k for k, _ in stack]
        if numbered and numbered[0] in kinds:  # a sibling item ends the previous sibling heading's scope
            stack = stack[: kinds.index(numbered[0])]
        text = normalise(line.text.removeprefix("——").strip())
        if text:
            units.append(_Unit(text, tuple(t for _, t in stack), file, (file_no, len(units))))
    return units, dropped


# --- markdown (seeds/local/*.md) ----------------------------------------------------------------


def _md_inline(text: str) -> str:
    """Strip markdown emphasis, code and link syntax, keeping the words."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return _clean_inline(text)


def _join_md(parts: list[str]) -> str:
    """Join soft-wrapped markdown lines: no space between Chinese, a space between Latin words."""
    out = ""
    for part in parts:
        if out and not (_CJK_RE.match(out[-1]) or _CJK_RE.match(part[:1]) or out[-1] in "，。、；：！？"):
            out += " "
        out += part
    return out


def _parse_md(raw_text: str, file: str, file_no: int) -> list[_Unit]:
    """Units of a markdown document: '#' headings become sections, paragraphs and list items passages."""
    stack: list[tuple[int, str]] = []
    units: list[_Unit] = []
    para: list[str] = []
    in_code = False

    def flush() -> None:
        text = normalise(_join_md(para))
        para.clear()
        if text:
            units.append(_Unit(text, tuple(t for _, t in stack), file, (file_no, len(units))))

    for raw in raw_text.replace("\ufeff", "").splitlines():
        line = raw.strip(" \t\u3000\xa0")
        if line.startswith("```"):
            flush()
            in_code = not in_code
            continue
        heading = re.match(r"^(#{1,6})\s+(.+?)\s*#*$", line)
        if heading and not in_code:
            flush()
            level = len(heading.group(1))
            stack = [s for s in stack if s[0] < level]
            stack.append((level, _md_inline(heading.group(2)).strip()))
            continue
        if not line or re.fullmatch(r"[-*_]{3,}", line):
            flush()
            continue
        line = re.sub(r"^>\s?", "", line)
        item = re.match(r"^(?:[-*+]|\d+[.)])\s+", line)
        if item:
            flush()
            line = line[item.end() :]
        para.append(_md_inline(line).strip())
    flush()
    return units


# --- deduplication --------------------------------------------------------------------------------


@dataclass
class _Group:
    """Variants of one passage found in one or more places."""

    variants: list[_Unit]

    def best(self) -> _Unit:
        """Fewest placeholders, then the deeper (more specific) section, then the first seen."""
        return min(self.variants, key=lambda u: (_placeholders(u.text), -len(u.section), u.order))


def _near(a: str, b: str) -> bool:
    """True if two skeletons are the same passage up to a few censored or changed words."""
    if a == b:
        return True
    if min(len(a), len(b)) < 20 or min(len(a), len(b)) / max(len(a), len(b)) < 0.85:
        return False
    sm = SequenceMatcher(None, a, b, autojunk=False)
    return sm.quick_ratio() >= 0.9 and sm.ratio() >= 0.9


_GRAM = 4
#: A 4-gram shared by more groups than this says nothing about near-duplication (too common).
_GRAM_CAP = 300


def _grams(skeleton: str) -> set[str]:
    return {skeleton[i : i + _GRAM] for i in range(len(skeleton) - _GRAM + 1)}


def _near_candidates(sk: str, gram_index: dict[str, list[int]]) -> list[int]:
    """Groups sharing enough 4-grams with `sk` to possibly be a near duplicate, in group order."""
    grams = _grams(sk)
    if not grams:
        return []
    shared: Counter[int] = Counter()
    for g in grams:
        posting = gram_index.get(g)
        if posting is not None and len(posting) <= _GRAM_CAP:
            shared.update(posting)
    need = max(1, len(grams) // 3)
    return sorted(i for i, n in shared.items() if n >= need)


def _dedupe(units: list[_Unit]) -> tuple[list[_Group], int]:
    """Group exact and near-duplicate units; returns groups and how many units were merged away.

    Near duplicates are looked for only among units that allow it, through a 4-gram index (so the build
    stays linear on thousands of pages) and checked with the exact similarity test."""
    groups: list[_Group] = []
    skeletons: list[str] = []
    by_skeleton: dict[str, int] = {}
    gram_index: dict[str, list[int]] = {}
    merged = 0
    for unit in units:
        if unit.law is not None:  # an article is never merged, least of all with another statute's
            groups.append(_Group([unit]))
            skeletons.append("")
            continue
        sk = _skeleton(unit.text)
        idx = by_skeleton.get(sk)
        if idx is None and unit.near and len(sk) >= 20:
            idx = next((i for i in _near_candidates(sk, gram_index) if _near(sk, skeletons[i])), None)
        if idx is None:
            by_skeleton[sk] = len(groups)
            skeletons.append(sk)
            if unit.near:
                for g in _grams(sk):
                    gram_index.setdefault(g, []).append(len(groups))
            groups.append(_Group([unit]))
        else:
            by_skeleton.setdefault(sk, idx)
            groups[idx].variants.append(unit)
            merged += 1
    return groups, merged


def source_label(title: str, section: tuple[str, ...]) -> str:
    """How a passage names where it comes from: `《标题》 · 章节` (never a file name)."""
    if section and section[0] == title:
        section = section[1:]
    return f"《{title}》 · {SECTION_SEP.join(section)}" if section else f"《{title}》"


def _to_passages(groups: list[_Group], titles: dict[str, str]) -> list[Passage]:
    """One Passage per group, in document order of the kept variant."""
    chosen = sorted(((g.best(), g) for g in groups), key=lambda bg: bg[0].order)
    passages: list[Passage] = []
    for best, group in chosen:
        if best.law is not None:
            passages.append(_law_passage(best, best.law, titles[best.file]))
            continue
        files = tuple(sorted({u.file for u in group.variants}))
        section = SECTION_SEP.join(best.section)
        source = source_label(titles[best.file], best.section)
        passages.append(Passage(passage_id(best.text), section, best.text, source, files))
    return passages


def law_source(short: str, article: str, chapter: str) -> str:
    """How an article names where it comes from: 《劳动合同法》第十九条 · 第二章 劳动合同的订立."""
    cite = S.citation(short, article)
    return f"{cite} · {chapter}" if chapter else cite


def _law_passage(unit: _Unit, law: LawUnit, title: str) -> Passage:
    """The Passage of one article; its id hashes the statute's title too (two laws may share a sentence)."""
    full = S.base_title(title)
    short = S.short_name(full)
    chapter = SECTION_SEP.join(law.chapter)
    return Passage(
        passage_id(f"{full}\n{unit.text}"), SECTION_SEP.join(unit.section), unit.text,
        law_source(short, law.article, chapter), (unit.file,), kind=LAW, law=short, law_title=full,
        article=law.article, chapter=chapter, version=law.version,
    )


# --- practices ----------------------------------------------------------------------------------


def _load_practice_specs(path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The [[practice]] and [[source]] tables of practices.toml."""
    if not path.is_file():
        raise ContentError(texts.content_no_practices_file(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContentError(texts.content_bad_toml(path, str(exc).splitlines()[0])) from exc
    specs = data.get("practice", [])
    if not isinstance(specs, list):
        raise ContentError(texts.content_practice_not_array(path))
    sources = data.get("source", [])
    if not isinstance(sources, list) or not all(isinstance(x, dict) for x in sources):
        raise ContentError(texts.content_source_not_array(path))
    return specs, sources


def _unique_title(title: str, taken: set[str]) -> str:
    """`title`, or `title（2）`… clipped to PRACTICE_TITLE_MAX, not yet in `taken`."""
    n = 1
    cand = _clip(title, PRACTICE_TITLE_MAX)
    while cand in taken:
        n += 1
        suffix = f"（{n}）"
        cand = _clip(title, PRACTICE_TITLE_MAX - len(suffix)) + suffix
    return cand


def _source_practices(
    sources: list[dict[str, object]], passages: list[Passage], files: list[str], taken: set[str]
) -> list[Practice]:
    """Every substantial passage of a document marked `[[source]]` as a practice with a stable id
    ('doc-' + the passage id, which is a hash of its text, so rotation state survives rebuilds)."""
    out: list[Practice] = []
    for spec in sources:
        file = str(spec.get("file", "")).strip()
        if file not in files:
            raise ContentError(texts.content_source_missing(file))
        min_chars = spec.get("min_chars", SOURCE_MIN_CHARS)
        tags = spec.get("tags", [])
        if not isinstance(min_chars, int) or min_chars < 1:
            raise ContentError(texts.content_source_bad_min_chars(file))
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ContentError(texts.content_source_bad_tags(file))
        for p in passages:
            if file not in p.files or len(p.text) < min_chars or PLACEHOLDER_RE.search(p.text):
                continue
            numbered = enumerator(p.text)
            body = p.text[len(numbered[1]) if numbered else 0 :]
            label = D.ARTICLE_RE.match(p.text)
            if label:  # 第九条：工会经费按规定比例拨缴
                rest = p.text[label.end() :].strip()
                lead = f"{label.group(0)}：{_first_clause(rest) or rest}"
            else:
                lead = p.title if p.title != _clip(p.text, TITLE_MAX) else _first_clause(body)
            title = _unique_title(lead, taken)
            taken.add(title)
            out.append(Practice(f"doc-{p.id}", title, body, p.source, tuple(tags), (p.id,)))
    return out


def _resolve_practice(spec: dict[str, object], index: dict[str, Passage]) -> Practice:
    """Check one practice spec against the passages and build the Practice."""
    pid = str(spec.get("id", "")).strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", pid):
        raise ContentError(texts.content_practice_bad_id(pid))
    title = str(spec.get("title", "")).strip()
    if not title or len(title) > PRACTICE_TITLE_MAX:
        raise ContentError(texts.content_practice_bad_title(pid, PRACTICE_TITLE_MAX, title))
    refs = spec.get("passages", [spec["passage"]] if "passage" in spec else [])
    if not isinstance(refs, list) or not refs:
        raise ContentError(texts.content_practice_no_passage(pid))
    missing = [str(r) for r in refs if str(r) not in index]
    if missing:
        raise ContentError(texts.content_practice_missing_passages(pid, title, missing))
    first = index[str(refs[0])]
    numbered = enumerator(first.text)
    body = str(spec.get("body", "")).strip() or first.text[len(numbered[1]) if numbered else 0 :]
    if not any(body in index[str(r)].text for r in refs):
        raise ContentError(texts.content_practice_body_not_quoted(pid, title))
    for label, value in ((texts.CONTENT_FIELD_TITLE, title), (texts.CONTENT_FIELD_BODY, body)):
        if PLACEHOLDER_RE.search(value):
            raise ContentError(texts.content_practice_placeholder(pid, title, label))
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ContentError(texts.content_practice_bad_tags(pid))
    return Practice(pid, title, body, first.source, tuple(tags), tuple(str(r) for r in refs))


def _resolve_practices(
    specs: list[dict[str, object]], passages: list[Passage],
    sources: list[dict[str, object]] | None = None, files: list[str] | None = None,
) -> list[Practice]:
    """All practices (curated ones, then those from source documents), checked for unique ids and titles."""
    index = {p.id: p for p in passages}
    practices = [_resolve_practice(spec, index) for spec in specs]
    if sources:
        practices += _source_practices(sources, passages, files or [], {p.title for p in practices})
    for attr in ("id", "title"):
        seen: set[str] = set()
        for practice in practices:
            value = getattr(practice, attr)
            if value in seen:
                raise ContentError(texts.content_practice_duplicate(attr, value))
            seen.add(value)
    return practices


# --- serialisation ------------------------------------------------------------------------------


def _dumps(obj: object, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=indent)


#: Fields of a statute's article, written only for kind "law" (essays' lines stay as they were).
_LAW_FIELDS = ("kind", "law", "law_title", "article", "chapter", "version")


def _passage_dict(p: Passage) -> dict[str, object]:
    out: dict[str, object] = {"id": p.id, "section": p.section, "text": p.text, "source": p.source,
                              "files": list(p.files)}
    if p.kind != ESSAY:
        out.update((name, getattr(p, name)) for name in _LAW_FIELDS)
    return out


def _practice_dict(p: Practice) -> dict[str, object]:
    return {
        "id": p.id,
        "title": p.title,
        "body": p.body,
        "source": p.source,
        "tags": list(p.tags),
        "passages": list(p.passages),
    }


def _write_atomic(path: Path, data: str) -> None:
    """Write `data` so a reader never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(content_dir: Path) -> str:
    """sha256 over the content files (and the search dictionaries when present)."""
    h = hashlib.sha256()
    for name in (PASSAGES_FILE, PRACTICES_FILE, *EXTRA_VERSION_FILES, quizbank.QUIZ_FILE):
        path = content_dir / name
        if path.is_file():
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# --- build --------------------------------------------------------------------------------------


def seed_files(seeds_dir: Path) -> list[Path]:
    """seeds/*.txt then every file in seeds/local/ and its sub-folders (seeds/local/法规/), README files and
    hidden/temporary files and folders excluded, sorted by path.

    Unreadable formats (.doc, .wps) are listed too, so the build can say what to do with them."""
    files = sorted(p for p in seeds_dir.glob("*.txt") if p.is_file())
    local = seeds_dir / "local"
    if local.is_dir():
        files += sorted(
            (
                p
                for p in local.rglob("*")
                if p.is_file()
                and p.suffix.lower() in (*D.READABLE, *D.UNSUPPORTED)
                and p.stem.lower() != "readme"
                and not any(part.startswith((".", "~$")) for part in p.relative_to(local).parts)
            ),
            key=lambda p: p.relative_to(local).as_posix(),
        )
    return files


def _read(path: Path) -> str:
    try:
        return D.decode_text(path.read_bytes())
    except D.Unreadable as exc:
        raise ContentError(texts.content_not_text(path)) from exc


def _doc_units(doc: D.Doc, file: str, file_no: int) -> list[_Unit]:
    """Units of a structured document: headings become sections, an article (with the paragraphs that
    follow it) one passage whose section ends with its number, a table row one passage."""
    stack: list[tuple[int, str]] = []
    units: list[_Unit] = []
    article: _Unit | None = None
    for block in doc.blocks:
        if block.kind == "heading":
            stack = [s for s in stack if s[0] < block.level]
            numbered = enumerator(block.text)  # 一、帮扶对象 -> 帮扶对象; 第一章 总则 stays whole
            title = block.text[len(numbered[1]) :] if numbered and numbered[0] != "chapter" else block.text
            stack.append((block.level, title.rstrip("。：:；;").strip() or block.text))
            article = None
            continue
        section = tuple(t for _, t in stack)
        text = normalise(_clean_inline(block.text))
        if not text:
            continue
        if block.kind == "para" and article is not None:
            article.text = normalise(D.join_lines(article.text, text))
            continue
        article = None
        label = D.ARTICLE_RE.match(text) if block.kind == "article" else None
        unit = _Unit(text, section + ((label.group(0),) if label else ()), file, (file_no, len(units)),
                     near=block.kind == "para")
        units.append(unit)
        if label:
            article = unit
    return units


def _load_titles(content_dir: Path) -> dict[str, str]:
    """content/titles.toml: `[titles]` file (relative to seeds/) = "标题"."""
    path = content_dir / TITLES_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContentError(texts.content_bad_toml(path, str(exc).splitlines()[0])) from exc
    titles = data.get("titles", {})
    if not isinstance(titles, dict) or not all(isinstance(v, str) and v.strip() for v in titles.values()):
        raise ContentError(texts.content_bad_titles(path))
    return {str(k): v.strip() for k, v in titles.items()}


@dataclass
class _Collected:
    units: list[_Unit]
    dropped: int
    titles: dict[str, str]
    read: list[str]
    skipped: list[tuple[str, str]]


def _drop_first_line(raw: str) -> str:
    """`raw` without its first non-blank line."""
    lines = raw.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip())
    return "\n".join(lines[first + 1 :])


@dataclass
class _Parsed:
    """What one reader found in one file."""

    units: list[_Unit]
    title: str
    #: Teaser lines dropped (seed essays).
    dropped: int = 0
    #: The statute, if the file is one (bot.statute).
    statute: S.Statute | None = None


def _statute_units(law: S.Statute, name: str, no: int) -> list[_Unit]:
    """One unit per article: its paragraphs and items on lines of their own, the chapter path as section."""
    units: list[_Unit] = []
    for art in law.articles:
        text = "\n".join(t for t in (normalise(_clean_inline(para)) for para in art.paragraphs) if t)
        if text:
            section = art.chapter + ((art.label,) if art.label else ())
            units.append(_Unit(text, section, name, (no, len(units)), near=False,
                               law=LawUnit(art.label, art.chapter, law.version)))
    return units


def _structured(doc: D.Doc, name: str, no: int, stem: str) -> _Parsed:
    """A Word or PDF document: a statute article by article, else headings, articles and table rows."""
    law = S.parse(doc, stem)
    if law is not None:
        return _Parsed(_statute_units(law, name, no), law.title, statute=law)
    return _Parsed(_doc_units(doc, name, no), doc.title)


def _read_docx(path: Path, name: str, no: int) -> _Parsed:
    return _structured(D.read_docx(path), name, no, path.stem)


def _read_pdf(path: Path, name: str, no: int) -> _Parsed:
    return _structured(D.read_pdf(path), name, no, path.stem)


def _decode(path: Path) -> str:
    try:
        return D.decode_text(path.read_bytes())
    except OSError as exc:
        raise D.Unreadable(texts.content_read_failed(exc.strerror)) from exc


def _read_md(path: Path, name: str, no: int) -> _Parsed:
    raw = _decode(path)
    law = S.parse(D.read_md_blocks(raw), path.stem)
    if law is not None:
        return _Parsed(_statute_units(law, name, no), law.title, statute=law)
    heading = re.search(r"^#\s+(.+?)\s*#*$", raw, re.M)
    return _Parsed(_parse_md(raw, name, no), _md_inline(heading.group(1)).strip() if heading else "")


def _read_txt(path: Path, name: str, no: int) -> _Parsed:
    raw = _decode(path)
    law = S.parse(D.read_text_blocks(raw), path.stem)
    if law is not None:
        return _Parsed(_statute_units(law, name, no), law.title, statute=law)
    title = D.text_title(raw)
    if title:  # the title line names the document; it is not a passage of it
        raw = _drop_first_line(raw)
    found, teasers = _parse_txt(raw, name, no)
    return _Parsed(found, title, teasers)


#: The reader of each readable file type: reader(path, name relative to seeds/, file number) -> _Parsed.
#: Another format is one more entry here (and its suffix in bot.docs_import.READABLE).
READERS: dict[str, Callable[[Path, str, int], _Parsed]] = {
    ".docx": _read_docx, ".pdf": _read_pdf, ".md": _read_md, ".txt": _read_txt,
}


def _parse_file(path: Path, name: str, no: int) -> _Parsed:
    """What one file holds; raises D.Unsupported / D.Unreadable."""
    suffix = path.suffix.lower()
    if suffix in D.UNSUPPORTED:
        raise D.Unsupported(D.UNSUPPORTED[suffix])
    return READERS[suffix](path, name, no)


def _collect(
    files: Iterable[Path], seeds_dir: Path, overrides: dict[str, str],
    progress: Callable[[str], None], step: Callable[[int, int, str], None] | None = None,
) -> _Collected:
    """Parse every seed file into units; unreadable files are skipped and named, and so is an older text of a
    statute that is also there in a newer version."""
    files = list(files)
    out = _Collected([], 0, {}, [], [])
    statutes: dict[str, list[tuple[tuple[int, int, int], str, str]]] = {}  # title -> [(date, file, version)]
    for no, path in enumerate(files):
        name = path.relative_to(seeds_dir).as_posix()
        try:
            parsed = _parse_file(path, name, no)
        except (D.Unsupported, D.Unreadable) as exc:
            out.skipped.append((name, str(exc)))
            progress(texts.content_skipped(name, str(exc)))
            if step:
                step(no + 1, len(files), name)
            continue
        if not parsed.units:  # an empty file, or nothing but headings: named with the reason like any skipped file
            out.skipped.append((name, texts.CONTENT_NO_TEXT))
            progress(texts.content_skipped(name, texts.CONTENT_NO_TEXT))
            if step:
                step(no + 1, len(files), name)
            continue
        out.dropped += parsed.dropped
        out.read.append(name)
        out.titles[name] = overrides.get(name) or parsed.title or path.stem
        if parsed.statute is not None:
            statutes.setdefault(S.base_title(out.titles[name]), []).append(
                (parsed.statute.version_date or (0, 0, 0), name, parsed.statute.version))
        progress(texts.content_file_read(name, len(parsed.units), out.titles[name]))
        if step:
            step(no + 1, len(files), name)
        out.units.extend(parsed.units)
    _drop_superseded(out, statutes, progress)
    return out


def _drop_superseded(
    out: _Collected, statutes: dict[str, list[tuple[tuple[int, int, int], str, str]]],
    progress: Callable[[str], None],
) -> None:
    """Of several texts of one statute (same title), keep the newest version (the later file on a tie)."""
    gone: set[str] = set()
    for versions in statutes.values():
        if len(versions) < 2:
            continue
        newest = max(versions)
        for _, name, _ in versions:
            if name != newest[1]:
                gone.add(name)
                why = texts.content_superseded(newest[1], newest[2])
                out.skipped.append((name, why))
                progress(texts.content_skipped(name, why))
    if gone:
        out.units = [u for u in out.units if u.file not in gone]
        out.read = [n for n in out.read if n not in gone]


def build(
    seeds_dir: Path = Path("seeds"),
    content_dir: Path = Path("content"),
    progress: Callable[[str], None] = print,
    step: Callable[[int, int, str], None] | None = None,
) -> BuildSummary:
    """Turn the seed documents into content/passages.jsonl, practices.json and manifest.json.

    `progress` gets one line per file and the summary; `step(done, total, file)` (optional) drives a
    progress bar. Files that cannot be read are skipped and listed in the summary; the rest is built."""
    seeds_dir, content_dir = Path(seeds_dir), Path(content_dir)
    files = seed_files(seeds_dir)
    if not files:
        raise ContentError(texts.content_no_seeds(seeds_dir))
    progress(texts.content_reading(len(files), seeds_dir))
    got = _collect(files, seeds_dir, _load_titles(content_dir), progress, step)
    if not got.units:
        raise ContentError(texts.content_nothing_readable(seeds_dir))
    groups, merged = _dedupe(got.units)
    passages = _to_passages(groups, got.titles)
    specs, sources = _load_practice_specs(content_dir / PRACTICES_INPUT)
    practices = _resolve_practices(specs, passages, sources, got.read)
    passages_text = "".join(_dumps(_passage_dict(p)) + "\n" for p in passages)
    practices_text = _dumps([_practice_dict(p) for p in practices], indent=2) + "\n"
    try:  # 每日一题: the starter bank (content/quiz.toml) and the Excel banks in seeds/local/
        quiz_text, bank = quizbank.build_bank(seeds_dir, content_dir, {p.id: p for p in passages}, progress)
    except quizbank.BankError as exc:
        raise ContentError(str(exc)) from exc
    summary = BuildSummary(len(got.read), len(passages), merged + got.dropped, len(practices), got.skipped)
    manifest: dict[str, object] = {
        "files": got.read,
        "titles": {name: got.titles[name] for name in got.read},
        "counts": {
            "files": summary.files,
            "passages": summary.passages,
            "duplicates_merged": summary.duplicates_merged,
            "practices": summary.practices,
        },
        "sha256": {
            PASSAGES_FILE: _sha256(passages_text.encode("utf-8")),
            PRACTICES_FILE: _sha256(practices_text.encode("utf-8")),
            quizbank.QUIZ_FILE: _sha256(quiz_text.encode("utf-8")),
        },
        "quiz": bank.manifest(),
    }
    if got.skipped:
        manifest["skipped"] = {name: why for name, why in got.skipped}
    content_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(content_dir / PASSAGES_FILE, passages_text)
    _write_atomic(content_dir / PRACTICES_FILE, practices_text)
    _write_atomic(content_dir / quizbank.QUIZ_FILE, quiz_text)
    _write_atomic(content_dir / MANIFEST_FILE, _dumps(manifest, indent=2) + "\n")
    progress("\n".join([str(summary), *bank.lines()]))
    return summary


# --- load ---------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ContentError(texts.content_bad_jsonl(path, no, exc.msg)) from exc


def load_content(content_dir: Path) -> Content:
    """Read the built content/ (fast: no parsing of seeds); ContentError with one line if it is missing."""
    content_dir = Path(content_dir)
    hint = texts.CONTENT_BUILD_HINT
    for name in (PASSAGES_FILE, PRACTICES_FILE):
        if not (content_dir / name).is_file():
            raise ContentError(texts.content_missing(content_dir / name, hint))
    try:
        passages = tuple(
            Passage(str(d["id"]), str(d["section"]), str(d["text"]), str(d["source"]), tuple(d["files"]),  # type: ignore[arg-type]
                    **{name: str(d[name]) for name in _LAW_FIELDS if name in d})
            for d in _read_jsonl(content_dir / PASSAGES_FILE)
        )
        raw_practices = json.loads((content_dir / PRACTICES_FILE).read_text(encoding="utf-8"))
        practices = tuple(
            Practice(
                str(d["id"]), str(d["title"]), str(d["body"]), str(d["source"]), tuple(d["tags"]), tuple(d["passages"])
            )
            for d in raw_practices
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ContentError(texts.content_bad_format(content_dir, repr(exc), hint)) from exc
    if not passages:
        raise ContentError(texts.content_empty(content_dir / PASSAGES_FILE, hint))
    return Content(passages, practices, _version(content_dir))
