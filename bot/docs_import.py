"""Readers for operators' documents in seeds/local/: Word (.docx), PDF with a text layer, text and markdown.

Each reader turns one file into a `Doc`: a title candidate and a flat list of blocks (headings with their
level, paragraphs, numbered articles 第X条, table rows carrying their header row). `bot.content` turns the
blocks into passages. A file we cannot read raises `Unsupported` (a known format we do not read, with what
the operator should do) or `Unreadable` (a corrupt file, with the reason); the build names it and goes on.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot import texts

#: Formats we recognise but do not read, and what the operator should do (shown in the build summary).
UNSUPPORTED = texts.DOCS_UNSUPPORTED
READABLE = (".txt", ".md", ".docx", ".pdf")
NO_TEXT_LAYER = texts.DOCS_NO_TEXT_LAYER

_CN_DIGITS = "零〇一二三四五六七八九十百千两"
ARTICLE_RE = re.compile(rf"^第[{_CN_DIGITS}\d]{{1,6}}条(?=[\s\u3000：:]|[^\s])")
_CHAPTER_RE = re.compile(rf"^第[{_CN_DIGITS}\d]{{1,4}}([编章节])(?:[\s\u3000：:]|$)")
_PAGE_NO_RE = re.compile(
    r"^[-—–－\s]*(?:第\s*)?\d{1,4}\s*(?:页)?(?:\s*[/／]\s*(?:共\s*)?\d{1,4}\s*页?)?[-—–－\s]*$"
    r"|^(?:page|Page|PAGE)\s*\d+(?:\s*(?:of|/)\s*\d+)?$"
)
_TERMINAL = "。！？；!?;…”’」』）)》】：:"
_STRUCT_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、．.](?!\d))")


class Unsupported(Exception):
    """A format we recognise but do not read; the message says what to do."""


class Unreadable(Exception):
    """A corrupt or unreadable file; the message is the reason."""


@dataclass
class Block:
    """One structural piece of a document."""

    kind: str  # "heading" | "para" | "article" | "row"
    text: str
    level: int = 0


@dataclass
class Doc:
    """What a reader found in one file."""

    title: str
    blocks: list[Block] = field(default_factory=list)


# --- shared helpers --------------------------------------------------------------------------------


def fold_compat(text: str) -> str:
    """Fold the look-alike characters PDF printers emit (Kangxi radicals ⼯ -> 工, CJK compatibility
    ideographs, radicals supplement) to the ordinary ideographs, leaving full-width punctuation alone."""
    out = []
    for ch in text:
        cp = ord(ch)
        if 0x2E80 <= cp <= 0x2FDF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F:
            n = unicodedata.normalize("NFKC", ch)
            ch = _RADICALS_SUPPLEMENT.get(ch, n)
        out.append(ch)
    return "".join(out)


#: Radicals-supplement forms NFKC leaves alone but which stand for an ordinary character in printed text.
_RADICALS_SUPPLEMENT = {"⺁": "厂", "⺇": "几", "⺈": "刀", "⺊": "卜", "⺌": "小", "⺍": "小", "⺕": "彐",
                        "⺟": "母", "⺠": "民", "⺢": "水", "⺣": "火", "⺤": "爪", "⺦": "丬", "⺧": "牛",
                        "⺨": "犬", "⺫": "目", "⺬": "示", "⺮": "竹", "⺲": "罒", "⺶": "羊", "⺸": "羊",
                        "⻊": "足", "⻌": "辶", "⻖": "阝", "⻗": "雨", "⻘": "青", "⻝": "食", "⻢": "马",
                        "⻤": "鬼", "⻥": "鱼", "⻦": "鸟", "⻧": "卤", "⻨": "麦", "⻩": "黄", "⻬": "齐",
                        "⻮": "齿", "⻰": "龙", "⻳": "龟", "⻆": "角", "⻓": "长", "⻔": "门", "⻚": "页",
                        "⻛": "风", "⻜": "飞", "⻋": "车", "⻉": "贝", "⻅": "见", "⻁": "虎", "⻄": "西"}


def _clean(text: str) -> str:
    text = fold_compat(text.replace("\ufeff", "").replace("\xa0", " "))
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def _is_cjk(ch: str) -> bool:
    return bool(ch) and ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")


def join_lines(a: str, b: str) -> str:
    """Join two pieces of one sentence: no space between Chinese, one space between Latin words."""
    if not a:
        return b
    if a[-1].isascii() and a[-1].isalnum() and b[:1].isascii() and b[:1].isalnum():
        return f"{a} {b}"
    return a + b


def structural_kind(line: str) -> tuple[str, int] | None:
    """('article', 0) for 第X条, ('heading', level) for 第X编/章/节; None otherwise."""
    if ARTICLE_RE.match(line):
        return "article", 0
    m = _CHAPTER_RE.match(line)
    if m and len(line) <= 40 and not re.search(r"[。；]", line):
        return "heading", {"编": 1, "章": 2, "节": 3}[m.group(1)]
    return None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise Unreadable(texts.DOCS_BAD_ENCODING)


def text_title(text: str) -> str:
    """The first line of a text file when it reads as a title (short, no sentence punctuation), else ''."""
    for raw in text.splitlines():
        line = _clean(raw).lstrip(">＞ ")
        if not line:
            continue
        if len(line) <= 30 and not re.search(r"[。！？；，,：:]", line) and not _STRUCT_RE.match(line) \
                and not line.startswith(("【", "[", "［", "#")) and structural_kind(line) is None:
            return line
        return ""
    return ""


# --- docx ------------------------------------------------------------------------------------------


def _heading_level(style_name: str) -> int | None:
    m = re.match(r"^(?:heading|标题)\s*(\d)$", style_name.strip(), re.I)
    return int(m.group(1)) if m else None


def read_docx(path: Path) -> Doc:
    """Headings (by style, or 第X章/节 lines) become sections, 第X条 articles blocks of their own, table rows
    blocks that carry their header row."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise Unreadable(texts.docs_bad_docx(type(exc).__name__)) from exc
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on broken XML
        if type(exc).__name__ == "PackageNotFoundError":
            raise Unreadable(texts.docs_bad_docx("PackageNotFoundError")) from exc
        raise Unreadable(texts.docs_unparsable(type(exc).__name__)) from exc
    title = _clean(document.core_properties.title or "")
    doc = Doc(title)
    first_heading = ""
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = _clean(item.text)
            if not text:
                continue
            style = item.style.name if item.style is not None else ""
            if style.lower() in ("title", "标题"):
                title = title or text
                doc.title = title
                continue
            level = _heading_level(style)
            if level is not None:
                first_heading = first_heading or text
                doc.blocks.append(Block("heading", text, level))
                continue
            kind = structural_kind(text)
            if kind is not None:
                doc.blocks.append(Block(kind[0], text, kind[1] + 3 if kind[0] == "heading" else 0))
            else:
                doc.blocks.append(Block("para", text))
        elif isinstance(item, Table):
            doc.blocks.extend(_table_rows(item))
    if not doc.title:
        doc.title = first_heading
        if doc.blocks and doc.blocks[0].kind == "heading" and doc.blocks[0].text == first_heading:
            doc.blocks.pop(0)
    return doc


def _table_rows(table: object) -> list[Block]:
    """Each body row as '列名：值；列名：值' (merged cells once); the first row is the header."""
    rows: list[list[str]] = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_clean(cell.text))
        rows.append(cells)
    if len(rows) < 2:
        return [Block("para", "；".join(c for c in rows[0] if c))] if rows and any(rows[0]) else []
    header, out = rows[0], []
    for cells in rows[1:]:
        pairs = [f"{h}：{v}" if h else v for h, v in zip(header, cells, strict=False) if v]
        if pairs:
            out.append(Block("row", "；".join(pairs) + "。"))
    return out


# --- pdf -------------------------------------------------------------------------------------------


def _page_lines(text: str) -> list[str]:
    return [line for line in (_clean(raw) for raw in text.splitlines()) if line]


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line)


def _meta_title(value: str) -> str:
    """A PDF's /Title unless it is a printer's placeholder ('untitled', 'Microsoft Word - a.docx')."""
    value = _clean(value)
    if value.lower() in ("untitled", "无标题", "none", "") or re.search(r"\.(docx?|wps|pdf|txt)$", value, re.I):
        return ""
    return re.sub(r"^Microsoft Word - ", "", value)


#: Running headers/footers and page numbers are looked for among this many lines at each end of a page.
_EDGE = 4


def read_pdf(path: Path) -> Doc:
    """Text-layer PDF: running headers/footers and page numbers dropped, broken lines rejoined."""
    try:
        import logging

        import pypdf

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable(texts.DOCS_PDF_ENCRYPTED)
        pages = [_page_lines(page.extract_text() or "") for page in reader.pages]
        meta_title = _meta_title(str((reader.metadata or {}).get("/Title") or ""))
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        raise Unreadable(texts.docs_bad_pdf(type(exc).__name__)) from exc
    chars = sum(len(line) for page in pages for line in page)
    if not pages or chars < 20 * len(pages) ** 0.5:
        raise Unsupported(NO_TEXT_LAYER)
    # Running headers/footers: lines among the first/last two of a page that recur on many pages.
    edge: Counter[str] = Counter()
    for page in pages:
        edge.update({_furniture_key(line) for line in page[:_EDGE] + page[-_EDGE:] if len(line) <= 40})
    repeat = max(2, (len(pages) + 1) // 2)
    furniture = {k for k, n in edge.items() if n >= repeat} if len(pages) >= 2 else set()
    header = ""
    lines: list[str] = []
    for page in pages:
        n = len(page)
        for i, line in enumerate(page):
            at_edge = i < _EDGE or i >= n - _EDGE
            if at_edge and _PAGE_NO_RE.match(line):
                continue
            if at_edge and _furniture_key(line) in furniture:
                header = header or (line if i < _EDGE else "")
                continue
            lines.append(line)
    title = meta_title
    if lines and not title:
        first = lines[0]
        if len(first) <= 40 and not first.endswith(tuple("。！？；!?;，,：:")) and structural_kind(first) is None \
                and not _STRUCT_RE.match(first) and not re.search(r"[。，；]", first):
            title = first
            lines = lines[1:]
    if not title and header and len(header) <= 40:
        title = header
    return Doc(title, _pdf_blocks(lines))


def _pdf_blocks(lines: list[str]) -> list[Block]:
    """Rejoin visual lines into paragraphs: a line continues the previous one unless that ended a sentence
    or this one starts something new (article, chapter, enumerator)."""
    blocks: list[Block] = []
    open_para = False
    for line in lines:
        kind = structural_kind(line)
        if kind is not None:
            blocks.append(Block(kind[0], line, kind[1] if kind[0] == "heading" else 0))
            open_para = kind[0] == "article" and not line.endswith(tuple(_TERMINAL))
            continue
        numbered = _STRUCT_RE.match(line)
        if numbered and len(line) <= 25 and not re.search(r"[。！？；，,]", line):  # 一、帮扶对象
            level = 5 if "、" in numbered.group(0) and not numbered.group(0)[0].isdigit() else 6
            blocks.append(Block("heading", line, level if not line.startswith(("(", "（")) else 7))
            open_para = False
            continue
        if open_para and blocks and not numbered:
            blocks[-1].text = join_lines(blocks[-1].text, line)
        else:
            blocks.append(Block("para", line))
        open_para = not line.endswith(tuple(_TERMINAL))
    return blocks
