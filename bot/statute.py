"""Statutes read as statutes: recognise a law, regulation or judicial interpretation and split it into articles.

A document is a statute when its title names one (…法, …条例, …规定, …办法, …解释, …通知, …决定, …细则,
…规则) and its text has numbered articles 第X条 (or, for a notice without articles, numbered sections 一、二、
under a document number or a dated version line). `parse()` turns the reader's blocks (bot.docs_import.Doc)
into a `Statute`: the full title, the usual short name (中华人民共和国劳动合同法 -> 劳动合同法), the version
line (2012年12月28日修正) and one `Article` per 第X条 holding all its paragraphs and items, with the chapter
and section it stands in. Lines before the first article (the history in brackets, a table of contents) are
metadata, never passages. What follows the last article under 附录 / 附件 is one more passage.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot import texts
from bot.docs_import import Block, Doc

#: Chinese numerals as articles are numbered.
_CN_DIGITS = "零〇一二三四五六七八九十百千两"
#: The start of an article: 第十九条, 第19条, 第二百七十六条之一, followed by its text.
ARTICLE_START_RE = re.compile(
    rf"^第([{_CN_DIGITS}\d]{{1,7}})条(之[一二三四五六七八九十]{{1,3}})?(?=[\s\u3000：:]|[^\s，。、；的])"
)
#: Chapter-level headings: 第一编 / 第二章 / 第三节 (level 1, 2, 3), and the heading of an appendix.
CHAPTER_RE = re.compile(rf"^第([{_CN_DIGITS}\d]{{1,4}})([编章节])[\s\u3000：:]*")
_CHAPTER_LEVEL = {"编": 1, "章": 2, "节": 3}
APPENDIX_RE = re.compile(r"^附\s*[录件表]\s*[一二三四五六七八九十\d]*\s*(?:[：:]|$)")
#: Words a statute's title ends with, before any bracketed tail such as （一） or （2018年修正）.
LAW_TITLE_RE = re.compile(r"(?:法|条例|规定|办法|解释|通知|决定|细则|规则)$")
#: A bracketed tail that is not part of the usual name: （2018年修正）, （节选）, （草案）.
_TITLE_TAIL_RE = re.compile(r"[（(][^（）()]*(?:年|修正|修订|节选|摘录|草案|全文)[^（）()]*[)）]$")
#: Any bracketed tail: （一）, （试行）, （2018年修正）.
_ANY_TAIL_RE = re.compile(r"[（(][^（）()]{1,12}[)）]$")
_COUNTRY = "中华人民共和国"
#: A bracketed tail that is part of the name but not of the short name: （试行）.
_TRIAL_RE = re.compile(r"试行|暂行")
_SPC_RE = re.compile(r"^最高人民法院(?:、最高人民检察院)?关于")
_SPC_QUOTED_RE = re.compile(r"《(?:中华人民共和国)?([^》]+)》")
_SPC_CASES_RE = re.compile(r"审理(.+?)案件")
_SPC_KEEP_CASES = ("行政", "刑事", "民事")
SPC_SUFFIX = "司法解释"
#: A date in a version line and the act that follows it (通过, 修正, 修订, 公布, 施行 …).
_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ACT_RE = re.compile(r"(通过|修正|修订|公布|发布|施行|批准|印发|实施|执行)")
#: A document number: 劳社部发〔2008〕3号, 国务院令第619号.
DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,10}(?:[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*第?\d{1,5}号|令第\d{1,5}号)")
_TOC_RE = re.compile(r"^目\s*录$")
#: Enumerated items inside an article: （一） 一、 1. — paragraphs of the article, never headings.
ITEM_RE = re.compile(r"^(?:[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}、|\d{1,2}[.．、])")
#: Top-level numbered sections of a notice without articles: 一、制度工作时间的计算.
_SECTION_RE = re.compile(r"^[一二三四五六七八九十]{1,3}(?:、|$)")
#: A notice's salutation line (各省、自治区有关厅局：) is not a passage.
_SALUTATION_RE = re.compile(r"^各[^。；]{1,160}[：:]$")
_CN_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
#: At least this many articles make a document with a statute's title a statute.
MIN_ARTICLES = 2


@dataclass
class Article:
    """One article (or a notice's numbered section, or an appendix) with all its paragraphs."""

    label: str  # 第十九条; 一、制度工作时间的计算; 附录
    chapter: tuple[str, ...]  # ("第五章 特别规定", "第一节 集体合同")
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Statute:
    """A statute as read: names, version and articles."""

    title: str  # as written (中华人民共和国工会法（节选）); base_title() gives the statute's name
    short: str
    version: str
    #: (year, month, day) of the version line, for telling a newer text of the same statute from an older one.
    version_date: tuple[int, int, int] | None
    articles: list[Article]


def cn_to_int(text: str) -> int:
    """十九 -> 19, 一百零五 -> 105, 两千 -> 2000, 19 -> 19; 0 if not a number."""
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        return int(text)
    digits, units = _CN_VALUES, _CN_UNITS
    total, num = 0, 0
    for ch in text:
        if ch in digits:
            num = digits[ch]
        elif ch in units:
            total += (num or 1) * units[ch]
            num = 0
        else:
            return 0
    return total + num


def tidy(text: str) -> str:
    """NFC, whitespace collapsed, no spaces between Chinese characters (总　　则 -> 总则)."""
    text = unicodedata.normalize("NFC", text).replace("\x00", "")
    text = re.sub(r"[\s\u2000-\u200b\u3000]+", " ", text).strip()
    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", text)


def _heading_text(text: str) -> str:
    """第一章　总　　则 -> 第一章 总则."""
    text = tidy(text)
    m = CHAPTER_RE.match(text)
    if m:
        rest = text[m.end() :].strip()
        head = text[: m.end()].strip()
        return f"{head} {rest}" if rest else head
    return text


def base_title(title: str) -> str:
    """The title without a version tail: 中华人民共和国工会法（2021年修正） -> 中华人民共和国工会法."""
    title = tidy(title).strip("《》 ")
    while True:
        m = _TITLE_TAIL_RE.search(title)
        if not m:
            return title
        title = title[: m.start()].rstrip()


def is_law_title(title: str) -> bool:
    """Whether a title names a statute: it ends with 法/条例/规定/办法/解释/通知 … (before （一）, （试行）…)."""
    core = base_title(title)
    while _ANY_TAIL_RE.search(core):
        core = core[: _ANY_TAIL_RE.search(core).start()].rstrip()  # type: ignore[union-attr]
    return bool(core) and len(core) <= 80 and bool(LAW_TITLE_RE.search(core)) and not re.search(r"[。；！？]", core)


def short_name(title: str) -> str:
    """The usual short name: 中华人民共和国劳动合同法 -> 劳动合同法; 最高人民法院关于审理劳动争议案件适用法律问题的
    解释（一） -> 劳动争议司法解释（一）; 最高人民法院关于在民事审判工作中适用《中华人民共和国工会法》若干问题的解释
    -> 工会法司法解释. Other titles stay as they are (国务院关于职工工作时间的规定)."""
    title = base_title(title)
    tail_m = _ANY_TAIL_RE.search(title)
    tail = tail_m.group(0) if tail_m and not _TRIAL_RE.search(tail_m.group(0)) else ""
    core = title[: len(title) - len(tail)] if tail else title
    if _SPC_RE.match(core):
        quoted = _SPC_QUOTED_RE.search(core)
        if quoted:
            return quoted.group(1) + SPC_SUFFIX + tail
        cases = _SPC_CASES_RE.search(core)
        if cases:
            subject = cases.group(1)
            keep = subject.endswith(_SPC_KEEP_CASES)
            return subject + ("案件" if keep else "") + SPC_SUFFIX + tail
        return _SPC_RE.sub("", core) + tail
    if core.startswith(_COUNTRY) and len(core) > len(_COUNTRY) + 1:
        core = core[len(_COUNTRY) :]
    return core + tail


def version_of(lines: list[str]) -> tuple[str, tuple[int, int, int] | None]:
    """The version line from a statute's history lines: the latest date and what happened then
    ('2012年12月28日修正'), else a document number ('劳社部发〔2008〕3号'), else ''."""
    best: tuple[tuple[int, int, int], str] | None = None
    number = ""
    for line in lines:
        dates = list(_DATE_RE.finditer(line))
        for i, m in enumerate(dates):
            end = dates[i + 1].start() if i + 1 < len(dates) else len(line)
            acts = _ACT_RE.findall(line[m.end() : end])
            key = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            label = f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日{acts[-1] if acts else ''}"
            if best is None or key >= best[0]:
                best = (key, label)
        if not number:
            found = DOC_NUMBER_RE.search(line)
            number = found.group(0) if found else ""
    if best is not None:
        return best[1], best[0]
    return number, None


def _history_line(text: str) -> bool:
    """A line of the statute's history or its document number (before the first article)."""
    return bool(_DATE_RE.search(text) and _ACT_RE.search(text) or DOC_NUMBER_RE.fullmatch(text.strip("（）() ")))


def parse(doc: Doc, fallback_title: str = "") -> Statute | None:
    """The statute in `doc`, or None if it is not one (no statute title, or too few articles)."""
    blocks = [b for b in doc.blocks if tidy(b.text)]
    title = tidy(doc.title)
    if not is_law_title(title):  # the first heading or paragraph may be the title (official Word files)
        lead: list[str] = []
        for b in blocks[:3]:
            text = tidy(b.text)
            if ARTICLE_START_RE.match(text) or CHAPTER_RE.match(text) or _history_line(text) or len(text) > 40:
                break
            lead.append(text)
            if is_law_title("".join(lead)):
                title = "".join(lead)
                blocks = blocks[len(lead) :]
                break
        else:
            if not is_law_title(title) and is_law_title(fallback_title):
                title = fallback_title
    if not is_law_title(title):
        return None
    articles, history = _articles(blocks, title)
    numbered = sum(1 for a in articles if is_article(a.label))
    if numbered < MIN_ARTICLES and not (history and any(_SECTION_RE.match(a.label) for a in articles)):
        return None
    version, date = version_of(history)
    return Statute(title, short_name(base_title(title)), version, date, articles)


def _articles(blocks: list[Block], title: str) -> tuple[list[Article], list[str]]:
    """Articles (each with its paragraphs and chapter path) and the history lines found before the first one."""
    has_articles = any(b.kind != "heading" and ARTICLE_START_RE.match(tidy(b.text)) for b in blocks)
    stack: list[tuple[int, str]] = []
    history: list[str] = []
    out: list[Article] = []
    current: Article | None = None
    preamble: list[str] = []
    last_no = 0
    in_toc = False
    appendix = False
    for b in blocks:
        text = tidy(b.text)
        if not text or (b.kind == "heading" and base_title(text) == base_title(title) and not out):
            continue
        chapter = CHAPTER_RE.match(text)
        art = ARTICLE_START_RE.match(text) if not appendix else None
        if art and b.kind == "heading" and not has_articles:
            art = None
        if _TOC_RE.match(text):
            in_toc = True
            continue
        if art:
            no = cn_to_int(art.group(1))
            sequel = bool(art.group(2))
            follows = no == last_no + 1 or (sequel and no == last_no) or (no > last_no and last_no == 0)
            spaced = len(text) > art.end() and text[art.end()] in " \u3000：:"
            if follows or (no > last_no and spaced):
                in_toc = False
                label = art.group(0)
                body = text[art.end() :].lstrip(" \u3000：:")
                current = Article(label, tuple(t for _, t in stack), [f"{label}\u3000{body}" if body else label])
                out.append(current)
                last_no = no
                continue
        if chapter and len(text) <= 40 and not re.search(r"[。；]", text):
            level = _CHAPTER_LEVEL[chapter.group(2)]
            stack = [s for s in stack if s[0] < level] + [(level, _heading_text(text))]
            current = None
            continue
        if in_toc and (b.kind == "heading" or len(text) <= 30 and not re.search(r"[。；，]", text)):
            continue  # the table of contents lists chapters that follow
        in_toc = False
        if out and APPENDIX_RE.match(text) and len(text) <= 30 and not re.search(r"[。；，]", text):
            appendix = True
            current = Article(texts.LAW_APPENDIX, (), [])
            rest = APPENDIX_RE.sub("", text).strip()
            if rest:
                current.paragraphs.append(rest)
            out.append(current)
            continue
        if b.kind == "heading" and not has_articles and _SECTION_RE.match(text):
            current = Article(text, tuple(t for _, t in stack), [])  # a notice's numbered section: a passage
            out.append(current)
            continue
        if b.kind == "heading" and not ITEM_RE.match(text):
            if current is None or not appendix:
                level = b.level or 2
                stack = [s for s in stack if s[0] < level] + [(level, _heading_text(text))]
                current = None if not appendix else current
                continue
        if current is not None:
            if current.paragraphs and _broken(current.paragraphs[-1], text):
                current.paragraphs[-1] += text  # a sentence the source broke into paragraphs (an item over 3 lines)
            else:
                current.paragraphs.append(text)
        elif not out and (_history_line(text) or (not has_articles and not preamble and len(text) <= 40
                                                   and DOC_NUMBER_RE.search(text))):
            history.append(text)
        elif _SALUTATION_RE.match(text) and not out:
            continue
        else:
            preamble.append(text)
    if preamble:
        out.insert(0, Article("", (), preamble))
    return [a for a in out if a.paragraphs], history


#: How a paragraph of an article ends when its sentence is complete (an item's "；", a lead-in's "：").
_COMPLETE_END = "。；;：:！!？?）)」』”’…"


def _broken(prev: str, text: str) -> bool:
    """Whether `text` continues the sentence of `prev`: `prev` stops mid-sentence (on "，" or a bare character) and
    `text` starts no item of its own."""
    return bool(prev) and prev[-1] not in _COMPLETE_END and not ITEM_RE.match(text)


def is_article(label: str) -> bool:
    """Whether a label is a numbered article (第十九条), not a section, an appendix or a preamble."""
    return bool(ARTICLE_START_RE.match(label + " "))


def citation(short: str, label: str) -> str:
    """《劳动合同法》第十九条 (or 《…》 alone for a passage without an article number)."""
    return f"《{short}》{label}" if label else f"《{short}》"
