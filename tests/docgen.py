"""Generated operator documents for the content tests and bench/content.py: .docx, .pdf, GBK .txt, broken files.

The PDF is written by reportlab with its built-in Adobe CJK font STSong-Light (a CID font with a Unicode
text layer, so extraction gives the characters back); like many PDF printers it writes some characters as
Kangxi-radical look-alikes (⼯ for 工) and breaks sentences across lines, with a running header, a running
footer and page numbers on every page.
"""

from __future__ import annotations

from pathlib import Path

#: 制度汇编 (the .docx): chapters with articles, and a table.
DOCX_TITLE = "职工之家工会工作制度汇编"
DOCX_CHAPTERS: list[tuple[str, list[str]]] = [
    ("第一章 总则", [
        "第一条 为规范本单位工会工作，维护职工合法权益，根据有关法律法规，制定本制度汇编。",
        "第二条 本制度适用于本单位各级工会组织和全体会员。",
    ]),
    ("第二章 民主管理", [
        "第三条 职工代表大会每年至少召开一次，审议企业发展规划和涉及职工切身利益的重大事项。",
        "第四条 厂务公开的内容包括企业经营状况、职工工资福利、劳动安全卫生等事项。",
        "第五条 职工代表大会闭会期间，由职工代表团（组）长联席会议处理需要临时解决的重要问题。",
    ]),
    ("第三章 帮扶救助", [
        "第六条 困难职工建档立卡，实行动态管理，每年核查一次。",
        "第七条 会员本人或直系亲属患重大疾病的，可申请大病救助金，救助金额由工会委员会集体研究确定。",
    ]),
    ("第四章 经费管理", [
        "第八条 经费审查委员会每半年开展一次经费审查，审查结果向会员代表大会报告。",
        "第九条 工会经费按规定比例拨缴。经费使用须经集体审批，大额支出另行审议，"
        "会员对经费使用有疑问的，可以要求复核；经费收支情况每季度在会员中公布，接受会员监督和上级审计。",
        "第十条 每年组织一线职工开展安全培训，内容包括岗位操作规程、应急处置和职业病防护知识，"
        "参加情况记入职工教育档案，作为评先评优的参考依据之一。",
        "第十一条 培训结束后进行考核，不合格的不得上岗，确保生产安全。",
    ]),
]
#: A paragraph that belongs to 第七条 (a second paragraph of the same article).
DOCX_ARTICLE_TAIL = "申请大病救助金须提交医院诊断证明和医疗费用票据复印件。"
DOCX_TABLE = [
    ["困难类别", "补助标准", "审批人"],
    ["特困职工", "每人每年三千元", "工会主席"],
    ["因病致困职工", "每人每次一千五百元", "工会经费审查委员会"],
]

#: A statute-like PDF: title line on page 1, chapters and articles whose sentences break across lines. The law is
#: made up for the tests (职工互助法 does not exist): the real statutes are never copied into the project.
PDF_TITLE = "中华人民共和国职工互助法（节选）"
PDF_HEADER = "职工互助法规学习资料"
PDF_PAGES: list[list[str]] = [
    [
        "第一章　总则",
        "第一条　为了规范职⼯互助活动，讲清互助会能做什么、该做什么，让⼯会在职工互助保障工作中",
        "出力，帮助患病、受灾的职工渡过难关，制定本法。",
        "第二条　职工互助会是职工自愿结成的互帮互助组织，是工会服务职工的一种经常性工作",
        "形式。",
    ],
    [
        "第三条　在本单位连续工作满三个月、以劳动收入维持家庭生活的在岗职工，不论用工形式",
        "和户籍，都可以自愿加入互助会并享受互助待遇。",
        "第四条　互助会必须遵守国家法律法规，以会员大会决议为活动依据。",
    ],
    [
        "第二章　互助组织",
        "第五条　互助会由会员大会选举产生管理委员会，管理委员会每半年向会员公布一次收支",
        "情况，接受会员的监督。",
        "第六条　及时救助困难会员、热情服务会员是互助会的基本职责。互助会在照顾多数会员",
        "利益的同时，优先帮扶最困难的会员。",
    ],
]

#: 帮扶办法 as GBK text.
GBK_TITLE = "困难职工帮扶办法"
GBK_LINES = [
    GBK_TITLE,
    "",
    "一、帮扶对象",
    "因病、因灾、因意外事故导致家庭生活困难的在职职工，可以申请金秋助学和节日慰问帮扶。",
    "",
    "二、申请程序",
    "职工本人提出书面申请，经车间工会初审、公司工会复核后，在厂务公开栏公示五个工作日。",
]


def make_docx(path: Path, title_property: bool = True) -> Path:
    """A .docx with a Title paragraph, Heading 1 chapters, 第X条 articles (one with a second paragraph)
    and a table with a header row."""
    import docx

    d = docx.Document()
    if title_property:
        d.core_properties.title = DOCX_TITLE
    d.add_paragraph(DOCX_TITLE, style="Title")
    for chapter, articles in DOCX_CHAPTERS:
        d.add_heading(chapter, level=1)
        for article in articles:
            d.add_paragraph(article)
            if article.startswith("第七条"):
                d.add_paragraph(DOCX_ARTICLE_TAIL)
    d.add_heading("困难职工补助标准", level=1)
    table = d.add_table(rows=len(DOCX_TABLE), cols=len(DOCX_TABLE[0]))
    for r, row in enumerate(DOCX_TABLE):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.save(str(path))
    return path


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    name = "STSong-Light"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def make_pdf(path: Path, pages: list[list[str]] | None = None, title_line: str = PDF_TITLE,
             header: str = PDF_HEADER) -> Path:
    """A PDF with a text layer: title line on page 1, running header, footer and '- N -' page numbers."""
    from reportlab.pdfgen import canvas

    pages = PDF_PAGES if pages is None else pages
    font = _font()
    c = canvas.Canvas(str(path), invariant=1)
    for no, lines in enumerate(pages, 1):
        c.setFont(font, 9)
        c.drawString(72, 800, header)
        c.drawString(72, 30, "内部资料 注意保存")
        c.drawString(290, 45, f"- {no} -")
        c.setFont(font, 12)
        y = 760
        if no == 1 and title_line:
            c.setFont(font, 16)
            c.drawString(150, y, title_line)
            c.setFont(font, 12)
            y -= 36
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path) -> Path:
    """A PDF with pages but no text layer (as a scanner makes it)."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), invariant=1)
    for _ in range(2):
        c.rect(72, 72, 400, 600, fill=1)
        c.showPage()
    c.save()
    return path


def make_gbk_txt(path: Path) -> Path:
    path.write_bytes("\r\n".join(GBK_LINES).encode("gbk"))
    return path


def make_corrupt_docx(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return path


def make_doc(path: Path) -> Path:
    """An old binary Word file (only its OLE signature matters: we never parse it)."""
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    return path


def make_all(local: Path) -> dict[str, Path]:
    """Every kind of test document in `local` (seeds/local)."""
    local.mkdir(parents=True, exist_ok=True)
    return {
        "docx": make_docx(local / "制度汇编.docx"),
        "pdf": make_pdf(local / "huzhufa.pdf"),
        "gbk": make_gbk_txt(local / "帮扶办法.txt"),
        "corrupt": make_corrupt_docx(local / "损坏.docx"),
        "doc": make_doc(local / "旧文件.doc"),
        "scan": make_scanned_pdf(local / "扫描件.pdf"),
    }


def build_corpus(tmp: Path, sources: str = "") -> tuple[Path, Path]:
    """The real seeds plus every generated document, built into tmp/content (with the real practices,
    titles and search dictionaries; `sources` is appended to practices.toml). Returns (seeds, content)."""
    import shutil

    from bot.content import build

    root = Path(__file__).resolve().parent.parent
    seeds, content = tmp / "seeds", tmp / "content"
    seeds.mkdir(parents=True, exist_ok=True)
    content.mkdir(parents=True, exist_ok=True)
    for path in (root / "seeds").glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    for path in (root / "content").glob("*.t*"):  # practices.toml, titles.toml, the .txt dictionaries
        if path.suffix in (".toml", ".txt"):
            shutil.copy(path, content / path.name)
    if sources:
        with (content / "practices.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + sources)
    make_all(seeds / "local")
    build(seeds, content, progress=lambda _: None)
    return seeds, content
