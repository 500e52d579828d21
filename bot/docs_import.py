"""Readers for operators' documents in seeds/local/: Word (.docx), PDF with a text layer, text and markdown.

Each reader turns one file into a `Doc`: a title candidate and a flat list of blocks (headings with their
level, paragraphs, numbered articles 第X条, table rows carrying their header row). `bot.content` turns the
blocks into passages. A file we cannot read raises `Unsupported` (a known format we do not read, with what
the operator should do) or `Unreadable` (a corrupt file, with the reason); the build names it and goes on.
"""

from __future__ import annotations

import math
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
    ideographs, radicals supplement) and Latin ligatures (ﬁ -> fi) to the ordinary characters, leaving
    full-width punctuation alone (the search folds full-width forms itself)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if 0x2E80 <= cp <= 0x2FDF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F:
            n = unicodedata.normalize("NFKC", ch)
            ch = _RADICALS_SUPPLEMENT.get(ch, n)
        elif 0xFB00 <= cp <= 0xFB4F:  # alphabetic presentation forms: ligatures
            ch = unicodedata.normalize("NFKC", ch)
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
    text = fold_compat(text.replace("\ufeff", "").replace("\x00", "").replace("\xa0", " "))
    return re.sub(r"[ \t\u2000-\u200a\u3000]+", " ", text).strip()


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


# --- text and markdown, as blocks (to recognise a statute; essays keep bot.content's own parsers) -----------


def _md_words(text: str) -> str:
    """Markdown emphasis, code and link syntax removed, the words kept."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"`([^`]*)`", r"\1", text)


def read_md_blocks(raw: str) -> Doc:
    """A markdown file as blocks: '#' headings (level = number of #), paragraphs split at blank lines and at
    every line that starts an article 第X条 or an item （一）; HTML comments and rules dropped."""
    doc = Doc("")
    para: list[str] = []

    def flush() -> None:
        if para:
            text = _clean(join_all(para))
            para.clear()
            if text:
                kind = structural_kind(text)
                doc.blocks.append(Block(kind[0], text, kind[1] + 1 if kind[0] == "heading" else 0)
                                  if kind else Block("para", text))

    in_comment = False
    for raw_line in raw.replace("\ufeff", "").splitlines():
        line = raw_line.strip(" \t\u3000\xa0")
        if in_comment or line.startswith("<!--"):
            in_comment = "-->" not in line
            flush()
            continue
        heading = re.match(r"^(#{1,6})\s+(.+?)\s*#*$", line)
        if heading:
            flush()
            text = _clean(_md_words(heading.group(2)))
            if len(heading.group(1)) == 1 and not doc.title and not doc.blocks:
                doc.title = text
            else:
                doc.blocks.append(Block("heading", text, len(heading.group(1))))
            continue
        if not line or re.fullmatch(r"[-*_]{3,}", line):
            flush()
            continue
        line = _md_words(re.sub(r"^(?:>\s?|[-*+]\s+)", "", line))
        if para and (structural_kind(_clean(line)) or _STRUCT_RE.match(_clean(line))):
            flush()
        para.append(line)
    flush()
    return doc


def read_text_blocks(raw: str) -> Doc:
    """A plain-text file as blocks: the title line, then lines rejoined into paragraphs as for a PDF."""
    title = text_title(raw)
    lines = [line for line in (_clean(r) for r in raw.splitlines()) if line]
    if title and lines and lines[0].lstrip(">＞ ") == title:
        lines = lines[1:]
    return Doc(title, _pdf_blocks(lines))


def join_all(parts: list[str]) -> str:
    """Soft-wrapped pieces of one paragraph joined (no space between Chinese, one between Latin words)."""
    out = ""
    for part in parts:
        out = join_lines(out, part.strip())
    return out


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


@dataclass
class _PdfLine:
    """One visual line of a PDF page: its text, baseline height above the page bottom and font size (pt)."""

    text: str
    y: float
    size: float


def _page_lines(page: object) -> tuple[list[_PdfLine], float]:
    """The page's lines, top to bottom, with their position and size (from pypdf's text visitor), and the page
    height. Pieces on one baseline make one line, in the order the page draws them."""
    box = page.mediabox  # type: ignore[attr-defined]
    height, bottom = float(box.height), float(box.bottom)
    rows: list[list[object]] = []  # [y, size, [texts]]
    by_y: dict[int, list[object]] = {}

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        text = text.replace("\n", "").replace("\r", "")
        if not text:
            return
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5] - bottom
        eff = abs(size) * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or abs(size)
        key = round(y / 2)
        row = next((by_y[k] for k in (key, key - 1, key + 1) if k in by_y
                    and abs(float(by_y[k][0]) - y) <= max(1.5, 0.35 * eff)), None)  # type: ignore[arg-type]
        if row is None:
            row = [y, eff, []]
            rows.append(row)
            by_y[key] = row
        row[1] = max(float(row[1]), eff)  # type: ignore[arg-type]
        row[2].append(text)  # type: ignore[union-attr]

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    lines = [_PdfLine(_clean("".join(r[2])), float(r[0]), float(r[1])) for r in rows]  # type: ignore[arg-type]
    lines = [line for line in lines if line.text]
    lines.sort(key=lambda line: -line.y)
    return lines, height


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line)


#: What a browser or office printer writes in the page margins: a date with a time (a date alone may be text), a
#: time, the page's address, page x/y.
_FURNITURE_FORMS = re.compile(
    r"\d{1,4}\s*[/\-.年]\s*\d{1,2}\s*[/\-.月]\s*\d{1,4}\s*日?[\s,，]*"
    r"(?:上午|下午|AM|PM|am|pm)?\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:AM|PM|am|pm)?"
    r"|(?:上午|下午)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:AM|PM|am|pm)?"
    r"|(?:file|https?|ftp)://\S*|www\.\S+|about:blank"
    r"|第?\s*\d{1,4}\s*(?:/|／|of|页\s*[,，]?\s*共)\s*\d{1,4}\s*页?"
)
#: Left over when the forms are taken out of a margin line, at most this many characters (a print header's
#: page title such as 内部资料) still makes it furniture.
_FURNITURE_REST = 24


def _furniture_form(line: str) -> bool:
    """A line made of margin furniture: date/time, URLs, page x/y, with at most a short title beside them."""
    if not _FURNITURE_FORMS.search(line):
        return False
    rest = _FURNITURE_FORMS.sub(" ", line).strip(" -—–|·,，")
    return len(rest) <= _FURNITURE_REST and not re.search(r"[。；！？]", rest)


#: /Title values that name nothing: printers' placeholders and browsers' print headers.
_GENERIC_TITLES = frozenset({"untitled", "无标题", "none", "", "内部资料", "内部文件", "内部材料", "打印", "document",
                             "文档", "新建文档", "新建 microsoft word 文档", "about:blank", "print", "打印预览"})


def _meta_title(value: str) -> str:
    """A PDF's /Title unless it is a placeholder ('untitled', 'Microsoft Word - a.docx', a print header)."""
    value = _clean(value)
    if value.lower() in _GENERIC_TITLES or re.search(r"\.(docx?|wps|pdf|txt|html?)$", value, re.I) \
            or re.match(r"^(?:file|https?)://", value):
        return ""
    return re.sub(r"^Microsoft Word - ", "", value)


#: Running headers/footers and page numbers are looked for among this many lines at each end of a page.
_EDGE = 4
#: Lines whose baseline is this close to the top or bottom edge (share of the page height) are in the margin.
_BAND = 0.05


def _body_size(pages: list[tuple[list[_PdfLine], float]]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for lines, _ in pages:
        for line in lines:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _title_lines(lines: list[_PdfLine], body: float) -> list[int]:
    """Indexes of page 1's largest text (the heading), if it is clearly larger than the body text."""
    if not lines or body <= 0:
        return []
    top = lines[: 12]
    biggest = max(line.size for line in top)
    if biggest < body * 1.15:
        return []
    first = next(i for i, line in enumerate(top) if line.size >= biggest - 0.5)
    out = [first]
    for i in range(first + 1, len(top)):  # a long heading set on two lines
        if top[i].size >= biggest - 0.5 and len(top[i].text) <= 40:
            out.append(i)
        else:
            break
    return out if sum(len(lines[i].text) for i in out) <= 60 else []


def read_pdf(path: Path) -> Doc:
    """Text-layer PDF: running headers, footers and page numbers dropped (repeated on many pages, or in the
    margins by position and form, even on one page), broken lines rejoined, the title from the /Title property
    or else the largest text on page 1."""
    try:
        import logging

        import pypdf

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable(texts.DOCS_PDF_ENCRYPTED)
        laid = [_page_lines(page) for page in reader.pages]
        meta_title = _meta_title(str((reader.metadata or {}).get("/Title") or ""))
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        raise Unreadable(texts.docs_bad_pdf(type(exc).__name__)) from exc
    chars = sum(len(line.text) for lines, _ in laid for line in lines)
    if not laid or chars < 20 * len(laid) ** 0.5:
        raise Unsupported(NO_TEXT_LAYER)
    body = _body_size(laid)
    # Running headers/footers: lines among the first/last few of a page that recur on many pages.
    edge: Counter[str] = Counter()
    for lines, _ in laid:
        texts_ = [line.text for line in lines]
        edge.update({_furniture_key(t) for t in texts_[:_EDGE] + texts_[-_EDGE:] if len(t) <= 40})
    repeat = max(2, (len(laid) + 1) // 2)
    furniture = {k for k, n in edge.items() if n >= repeat} if len(laid) >= 2 else set()
    headers: list[str] = []  # what the dropped lines at the top of pages say besides dates, URLs and numbers
    kept: list[list[_PdfLine]] = []
    for lines, height in laid:
        n = len(lines)
        page: list[_PdfLine] = []
        for i, line in enumerate(lines):
            text = line.text
            at_edge = i < _EDGE or i >= n - _EDGE
            band = height > 0 and (line.y > height * (1 - _BAND) or line.y < height * _BAND)
            if at_edge and (_PAGE_NO_RE.match(text) or _furniture_form(text)) \
                    or band and line.size < body * 0.95 \
                    or at_edge and _furniture_key(text) in furniture:
                rest = _FURNITURE_FORMS.sub(" ", text).strip(" -—–|·,，")
                if rest and line.y > height / 2 and not _PAGE_NO_RE.match(rest):
                    headers.append(rest)
                continue
            page.append(line)
        kept.append(page)
    title = meta_title
    if title and any(title in h or h in title for h in headers):
        title = ""  # the property is the print header, not the document's name
    first = kept[0] if kept else []
    heading = _title_lines(first, body)
    if heading and (not title or _clean("".join(first[i].text for i in heading)) == title):
        title = title or _clean("".join(first[i].text for i in heading))
        kept[0] = [line for i, line in enumerate(first) if i not in heading]
    lines = [line.text for page in kept for line in page]
    if lines and not title:
        first_line = lines[0]
        if len(first_line) <= 40 and not first_line.endswith(tuple("。！？；!?;，,：:")) \
                and structural_kind(first_line) is None and not _STRUCT_RE.match(first_line) \
                and not re.search(r"[。，；]", first_line):
            title = first_line
            lines = lines[1:]
    if not title and headers and len(headers[0]) <= 40:
        title = headers[0]
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
