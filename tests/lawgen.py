"""A made-up statute for the format tests (its words are written here, not taken from any real law), written as
an official Word file (title line, history in brackets, a table of contents, chapters with spaced titles), a
multi-page PDF, a plain-text file and markdown; and the helpers that find ../shared/laws for the statute tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAWS = ROOT.parent / "shared" / "laws"
NOT_STATUTES = ("README.md", "SOURCES.md")

TITLE = "职工疗休养管理条例"
HISTORY = "（2019年3月1日某某市第十五届人民代表大会常务委员会第九次会议通过　2023年6月30日修正）"
VERSION = "2023年6月30日修正"
#: (chapter, section or "", [(label, [paragraphs])]) -- the first paragraph of an article follows its label.
CHAPTERS: list[tuple[str, str, list[tuple[str, list[str]]]]] = [
    ("第一章　总　　则", "", [
        ("第一条", ["为保障职工休息休养，规范疗休养活动的组织和经费，制定本条例。"]),
        ("第二条", ["本市行政区域内的用人单位组织职工疗休养，适用本条例。",
                   "用人单位的工会协助组织疗休养，并对经费使用进行监督。"]),
    ]),
    ("第二章　疗休养的安排", "第一节　对象和时间", [
        ("第三条", ["有下列情形之一的职工，优先安排疗休养：",
                   "（一）在生产一线连续工作满五年的；",
                   "（二）当年被评为劳动模范或者先进工作者的；",
                   "（三）从事高温、井下等繁重岗位的。"]),
        ("第四条", ["每名职工每年参加疗休养一次，每次不超过七日，往返路途时间另计。"]),
    ]),
    ("第二章　疗休养的安排", "第二节　经费", [
        ("第五条", ["疗休养所需经费由用人单位承担，不得向职工收取押金或者其他费用。"]),
        ("第六条", ["疗休养期间，职工的工资照发，不影响其考勤、评优和晋升。"]),
    ]),
    ("第三章　附　　则", "", [
        ("第七条", ["本条例自公布之日起施行。"]),
    ]),
]
#: What an older text of the same statute says in its history (dropped in beside the newer one).
OLD_HISTORY = "（2019年3月1日某某市第十五届人民代表大会常务委员会第九次会议通过）"


def articles() -> list[tuple[str, str, str, list[str]]]:
    """(label, chapter, section, paragraphs) of every article."""
    return [(label, chapter, section, paras) for chapter, section, arts in CHAPTERS for label, paras in arts]


def chapter_path(chapter: str, section: str) -> str:
    """How the build names an article's chapter: 第二章 疗休养的安排 › 第一节 对象和时间."""
    def tidy(heading: str) -> str:
        head, _, rest = heading.partition("\u3000")
        return head + " " + rest.replace("\u3000", "")

    return " › ".join(tidy(h) for h in (chapter, section) if h)


def lines(history: str = HISTORY) -> list[str]:
    """The statute as text lines: title, history, then chapters, sections and articles (one paragraph a line)."""
    out = [TITLE, history]
    last_chapter = last_section = ""
    for label, chapter, section, paras in articles():
        if chapter != last_chapter:
            out.append(chapter)
            last_chapter = chapter
        if section and section != last_section:
            out.append(section)
            last_section = section
        out.append(f"{label}　{paras[0]}")
        out += paras[1:]
    return out


def make_txt(path: Path, history: str = HISTORY) -> Path:
    path.write_text("\n".join(lines(history)) + "\n", encoding="utf-8")
    return path


def make_md(path: Path) -> Path:
    out = [f"# {TITLE}", "", HISTORY, ""]
    last_chapter = last_section = ""
    for label, chapter, section, paras in articles():
        if chapter != last_chapter:
            out += [f"## {chapter}", ""]
            last_chapter = chapter
        if section and section != last_section:
            out += [f"### {section}", ""]
            last_section = section
        out += [f"{label}　{paras[0]}", ""]
        for para in paras[1:]:
            out += [para, ""]
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def make_docx(path: Path) -> Path:
    """As the national database's Word files are laid out: a centred title paragraph (no title property), the
    history in brackets, 目录 with the chapter list, then chapters and articles as plain paragraphs."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    d = docx.Document()
    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE)
    run.font.size = Pt(22)
    d.add_paragraph(HISTORY)
    d.add_paragraph("目　　录")
    for chapter in dict.fromkeys(c for c, _, _ in CHAPTERS):
        d.add_paragraph(chapter)
    for line in lines()[2:]:
        d.add_paragraph(line)
    d.save(str(path))
    return path


def make_pdf(path: Path) -> Path:
    """Two pages: the title in a large font, a running header and page numbers, long lines broken."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from docgen import _font
    from reportlab.pdfgen import canvas

    font = _font()
    c = canvas.Canvas(str(path), invariant=1)
    body = lines()[1:]
    pages = [body[:8], body[8:]]
    for no, page in enumerate(pages, 1):
        c.setFont(font, 9)
        c.drawString(72, 805, "某某市总工会 法规汇编")
        c.drawString(290, 30, f"- {no} -")
        y = 760
        if no == 1:
            c.setFont(font, 18)
            c.drawString(160, y, TITLE)
            y -= 40
        c.setFont(font, 11)
        for line in page:
            while line:  # 36 characters a line, as a narrow column would break them
                c.drawString(72, y, line[:36])
                line = line[36:]
                y -= 17
        c.showPage()
    c.save()
    return path


def laws_dir() -> Path:
    """../shared/laws; skip when absent, fail when absent under CI=true."""
    if (LAWS / "劳动合同法.md").is_file():
        return LAWS
    if os.environ.get("CI") == "true":
        pytest.fail(f"{LAWS} is missing: the statute tests need ../shared/laws (CI=true)")
    pytest.skip(f"{LAWS} is absent")


def build_with_laws(tmp: Path, laws: Path) -> tuple[Path, Path]:
    """The seed essays and every statute of ../shared/laws (as seeds/local/法规/*.md) built with the real content
    files into tmp. Returns (seeds, content)."""
    import shutil

    from bot.content import build

    seeds, content = tmp / "seeds", tmp / "content"
    (seeds / "local" / "法规").mkdir(parents=True)
    content.mkdir(parents=True)
    for path in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    for path in laws.glob("*.md"):
        if path.name not in NOT_STATUTES:
            shutil.copy(path, seeds / "local" / "法规" / path.name)
    for path in (ROOT / "content").iterdir():
        if path.suffix in (".toml", ".txt"):
            shutil.copy(path, content / path.name)
    build(seeds, content, progress=lambda _: None)
    return seeds, content


def build_small(tmp: Path, statutes: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    """One seed essay and the given made-up statutes (file name under seeds/local/法规/ -> markdown text), built
    with the query vocabularies of content/ (no topics or weights unless `extra` gives them: file name -> text)
    into tmp. Returns the content directory."""
    import shutil

    from bot.content import build

    seeds, content = tmp / "seeds", tmp / "content"
    (seeds / "local" / "法规").mkdir(parents=True)
    content.mkdir(parents=True)
    (seeds / "a.txt").write_text("工会工作要贴近职工，倾听职工的呼声，把实事办好。\n", encoding="utf-8")
    (content / "practices.toml").write_text("", encoding="utf-8")
    for name in ("colloquial.txt", "fillers.txt", "stopwords.txt", "synonyms.txt", "userdict.txt"):
        shutil.copy(ROOT / "content" / name, content / name)
    for name, text in (extra or {}).items():
        (content / name).write_text(text, encoding="utf-8")
    for name, text in statutes.items():
        (seeds / "local" / "法规" / name).write_text(text, encoding="utf-8")
    build(seeds, content, progress=lambda _: None)
    return content
