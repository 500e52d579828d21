"""Statutes read as statutes (issue 15), in every format, from a made-up statute (tests/lawgen.py) and from the
real ones in ../shared/laws: one passage per article with all its paragraphs and items, chapter and section, full
title, short name and version; never merged across statutes; the newest text of a statute kept; PDF margins
dropped by position and form and the title taken from the largest text, also on a Chromium-printed page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import lawgen  # noqa: E402

from bot.content import MANIFEST_FILE, Content, build, load_content  # noqa: E402
from bot.docs_import import fold_compat, read_pdf  # noqa: E402

CITE = f"《{lawgen.TITLE}》"


def _seeds(tmp: Path) -> tuple[Path, Path]:
    seeds, content = tmp / "seeds", tmp / "content"
    (seeds / "local" / "法规").mkdir(parents=True)
    content.mkdir()
    (seeds / "a.txt").write_text("工会工作要贴近职工，倾听职工的呼声，把实事办好。\n", encoding="utf-8")
    (content / "practices.toml").write_text("", encoding="utf-8")
    return seeds, content


def _laws(content_dir: Path) -> list:
    return [p for p in load_content(content_dir).passages if p.is_law]


@pytest.mark.parametrize("name", ["疗休养.md", "疗休养.txt", "疗休养.docx", "疗休养.pdf"])
def test_a_statute_is_read_article_by_article_in_every_format(tmp_path: Path, name: str) -> None:
    seeds, content_dir = _seeds(tmp_path)
    maker = {".md": lawgen.make_md, ".txt": lawgen.make_txt, ".docx": lawgen.make_docx, ".pdf": lawgen.make_pdf}
    maker[Path(name).suffix](seeds / "local" / "法规" / name)
    build(seeds, content_dir, progress=lambda _: None)
    laws = _laws(content_dir)
    expected = lawgen.articles()
    assert [p.article for p in laws] == [label for label, _, _, _ in expected]
    for p, (label, chapter, section, paras) in zip(laws, expected, strict=True):
        assert p.citation == f"{CITE}{label}" and p.title == p.citation
        assert p.law == p.law_title == lawgen.TITLE and p.version == lawgen.VERSION
        assert p.chapter == lawgen.chapter_path(chapter, section)
        assert p.source == f"{CITE}{label} · {p.chapter}"
        assert p.text.split("\n") == [f"{label}\u3000{paras[0]}", *paras[1:]]  # every paragraph and item
        assert p.files == (f"local/法规/{name}",)
    manifest = json.loads((content_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["titles"][f"local/法规/{name}"] == lawgen.TITLE
    everything = "\n".join(p.text for p in load_content(content_dir).passages)
    for furniture in ("目录", "目\u3000\u3000录", "2019年3月1日", "某某市总工会", "- 1 -", "- 2 -"):
        assert furniture not in everything, furniture  # history, contents, running header, page numbers


def test_the_newest_text_of_a_statute_is_used_and_the_older_named(tmp_path: Path) -> None:
    seeds, content_dir = _seeds(tmp_path)
    lawgen.make_txt(seeds / "local" / "法规" / "疗休养（旧）.txt", history=lawgen.OLD_HISTORY)
    (seeds / "local" / "法规" / "市级").mkdir()
    lawgen.make_md(seeds / "local" / "法规" / "市级" / "疗休养.md")  # a sub-folder is read too
    lines: list[str] = []
    summary = build(seeds, content_dir, progress=lines.append)
    laws = _laws(content_dir)
    assert len(laws) == len(lawgen.articles()) and {p.version for p in laws} == {lawgen.VERSION}
    assert {p.files for p in laws} == {("local/法规/市级/疗休养.md",)}
    skipped = dict(summary.skipped)
    assert "local/法规/市级/疗休养.md" in skipped["local/法规/疗休养（旧）.txt"] and "更新的版本" in str(summary)
    assert any("疗休养（旧）.txt" in line and "旧版本" in line for line in lines)


def test_the_same_article_in_two_statutes_is_kept_twice(tmp_path: Path) -> None:
    seeds, content_dir = _seeds(tmp_path)
    lawgen.make_md(seeds / "local" / "法规" / "疗休养.md")
    other = (seeds / "local" / "法规" / "疗休养.md").read_text(encoding="utf-8").replace(
        lawgen.TITLE, "职工疗休养经费管理办法")
    (seeds / "local" / "法规" / "经费.md").write_text(other, encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    seventh = [p for p in _laws(content_dir) if p.article == "第七条"]
    assert len(seventh) == 2 and seventh[0].text == seventh[1].text and seventh[0].id != seventh[1].id
    assert {p.citation for p in seventh} == {f"{CITE}第七条", "《职工疗休养经费管理办法》第七条"}


def test_an_essay_with_articles_stays_an_essay(tmp_path: Path) -> None:
    """Numbered articles alone do not make a statute: the title must name one (制度汇编 is not)."""
    seeds, content_dir = _seeds(tmp_path)
    text = "\n".join(["职工之家活动室管理制度汇编", "第一条　活动室每天开放。", "第二条　借用器材要登记。"])
    (seeds / "local" / "汇编.txt").write_text(text, encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    passages = load_content(content_dir).passages
    assert not any(p.is_law for p in passages) and all(p.citation == "" for p in passages)


def test_old_content_without_statute_fields_still_loads(tmp_path: Path) -> None:
    """passages.jsonl written before statutes existed (no kind/law fields) loads as essays."""
    root = Path(__file__).resolve().parent.parent / "content"
    for name in ("passages.jsonl", "practices.json"):
        shutil.copy(root / name, tmp_path / name)
    content: Content = load_content(tmp_path)
    assert content.passages and all(p.kind == "essay" and not p.is_law for p in content.passages)


# --- PDF: margins, title, ligatures -----------------------------------------------------------------------------


def _one_page_pdf(path: Path, title_property: str, header: str = "") -> Path:
    """One page as a browser prints it: date and time with the page title in the top margin, the file's address
    and 1/1 in the bottom margin (small type), a large heading, articles in body type."""
    from docgen import _font
    from reportlab.pdfgen import canvas

    font = _font()
    c = canvas.Canvas(str(path), invariant=1)
    c.setTitle(title_property)
    c.setFont(font, 8)
    c.drawString(30, 822, f"2026/3/2 10:15  {header or title_property}")
    c.drawString(30, 14, "file:///home/gh/notice.html")
    c.drawString(540, 14, "1/1")
    c.setFont(font, 20)
    c.drawString(150, 760, "关于做好职工疗休养工作的通知")
    c.setFont(font, 11)
    y = 720
    for line in ("第一条　各分会应当在每年三月底前报送疗休养计划。", "第二条　疗休养名额向一线职工倾斜，",
                 "劳动模范优先安排。", "第三条　本通知自印发之日起执行，由工会办公室负责解释。"):
        c.drawString(72, y, line)
        y -= 18
    c.showPage()
    c.save()
    return path


def test_one_page_print_margins_are_dropped_and_the_title_is_the_heading(tmp_path: Path) -> None:
    doc = read_pdf(_one_page_pdf(tmp_path / "notice.pdf", "内部资料"))
    assert doc.title == "关于做好职工疗休养工作的通知"
    text = "\n".join(b.text for b in doc.blocks)
    for furniture in ("内部资料", "2026/3/2", "10:15", "file://", "notice.html", "1/1"):
        assert furniture not in text, furniture
    assert text.splitlines()[-1].endswith("由工会办公室负责解释。")
    # A title property that is neither generic nor the print header is the document's own title.
    doc = read_pdf(_one_page_pdf(tmp_path / "titled.pdf", "疗休养通知（2026）", header="工会办公室"))
    assert doc.title == "疗休养通知（2026）"
    assert "工会办公室\n" not in "\n".join(b.text for b in doc.blocks) + "\n"


def test_body_text_in_the_margin_bands_is_kept(tmp_path: Path) -> None:
    """With a browser's narrow margins the last body line of a page and the first of the next (a short wrapped
    end, a chapter heading) stand in the top and bottom bands, in body type: they are text, not furniture."""
    from docgen import _font
    from reportlab.pdfgen import canvas

    font = _font()
    path = tmp_path / "two.pdf"
    c = canvas.Canvas(str(path), pagesize=(595, 842), invariant=1)
    for no in (1, 2):
        c.setFont(font, 8)
        c.drawString(20, 828, "2026/3/2 10:15  内部资料")
        c.drawString(20, 10, "file:///home/gh/notice.html")
        c.drawString(550, 10, f"{no}/2")
        c.setFont(font, 12)
        if no == 2:
            c.drawString(40, 805, "第二章　经费")  # a heading in the top band
        c.drawString(40, 700, "第一条　疗休养的安排。" if no == 1 else "第三条　疗休养所需经费由用人单位承担。")
        for i in range(8):
            who = ("一线职工", "劳动模范", "困难职工", "女职工", "青年职工", "班组长", "技术骨干", "老职工")[i]
            what = "疗休养名额" if no == 1 else "经费"
            c.drawString(40, 400 - 20 * i, f"（{'一二三四五六七八'[i]}）{what}向{who}倾斜；")
        if no == 1:  # an article whose last line wraps into the bottom band
            c.drawString(40, 52, "第二条　本通知所称职工，包括劳务派遣到本单位工作的")
            c.drawString(40, 33, "人员")
        c.showPage()
    c.save()
    text = "\n".join(b.text for b in read_pdf(path).blocks)
    assert "劳务派遣到本单位工作的人员" in text and "第二章 经费" in text.replace("\u3000", " ")
    for furniture in ("内部资料", "2026/3/2", "file://", "1/2", "2/2"):
        assert furniture not in text, furniture


def test_ligatures_fold_to_letters() -> None:
    assert fold_compat("ﬁnance ﬂow ﬀ") == "finance flow ff"


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing (CI=true): .ci/run installs it")
        pytest.skip("chromium is not installed")
    return path


def test_a_chromium_printed_notice_gives_its_heading_and_no_margin_text(tmp_path: Path) -> None:
    """Chromium's print to PDF of a local page titled 内部资料: the print header (date, time, the page title) and
    footer (file:/// address, 1/1) are on the one page; Kangxi look-alikes and the ligature ﬁ are in the text."""
    import pylopdf_fonts_zh_cn

    font = Path(pylopdf_fonts_zh_cn.sans_path()).as_uri()
    html = tmp_path / "notice.html"
    html.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>内部资料</title><style>"
        f"@font-face{{font-family:CJK;src:url('{font}')}} body{{font-family:CJK;font-size:14px}}"
        "h1{font-size:28px;text-align:center}</style></head><body>"
        "<h1>关于加强职工疗休养管理的通知</h1><p>各分会：</p>"
        "<p>第一条　为规范职工疗休养工作，保障职工休息休养权利，制定本通知。</p>"
        "<p>第二条　职工每年可以参加一次疗休养，所需经费从工会经费中列支。</p>"
        "<p>（一）一线职工优先安排；</p><p>（二）劳动模范优先安排。</p>"
        "<p>第三条　本通知自印发之日起施行，由工会委员会负责解释，finance 部门配合。</p></body></html>",
        encoding="utf-8")
    seeds, content_dir = _seeds(tmp_path)
    pdf = seeds / "local" / "通知.pdf"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}",
                    html.as_uri()], check=True, capture_output=True, timeout=120)
    import pypdf

    raw = pypdf.PdfReader(str(pdf)).pages[0].extract_text()
    if "file://" not in raw.replace("ﬁ", "fi"):
        pytest.skip("this Chromium printed no header and footer")
    build(seeds, content_dir, progress=lambda _: None)
    manifest = json.loads((content_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["titles"]["local/通知.pdf"] == "关于加强职工疗休养管理的通知"
    passages = [p for p in load_content(content_dir).passages if p.files == ("local/通知.pdf",)]
    assert [p.citation for p in passages if p.article] == [
        "《关于加强职工疗休养管理的通知》第一条", "《关于加强职工疗休养管理的通知》第二条",
        "《关于加强职工疗休养管理的通知》第三条"]
    text = "\n".join(p.text for p in passages)
    assert "（一）一线职工优先安排；\n（二）劳动模范优先安排。" in text and "finance" in text
    assert not re.search(r"file:|\.html|\d{1,2}:\d{2}|\b1/1\b|内部资料|[\u2e80-\u2fdf\ufb00-\ufb4f\x00]", text), text


# --- the statutes in ../shared/laws -------------------------------------------------------------------------------

_ARTICLE_LINE = re.compile(r"^第[零〇一二三四五六七八九十百千两]+条", re.M)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Content]:
    laws = lawgen.laws_dir()
    _, content_dir = lawgen.build_with_laws(tmp_path_factory.mktemp("laws"), laws)
    return laws, load_content(content_dir)


def _bare(text: str) -> str:
    return re.sub(r"[\s\u3000]", "", unicodedata.normalize("NFKC", text))


def test_every_statute_in_the_pack_splits_into_its_articles(shared: tuple[Path, Content]) -> None:
    laws, content = shared
    unsplit = []
    for path in sorted(laws.glob("*.md")):
        if path.name in lawgen.NOT_STATUTES:
            continue
        body = re.split(r"<!--\s*INFO\s+END\s*-->", path.read_text(encoding="utf-8"), maxsplit=1)[1]
        labels = [m.group(0) for m in _ARTICLE_LINE.finditer(body)]
        got = [p for p in content.passages if p.files == (f"local/法规/{path.name}",)]
        assert got and all(p.is_law for p in got), path.name
        numbered = [p.article for p in got if p.article.startswith("第")]
        if not labels:
            unsplit.append(path.name)
            assert [p.article[:2] for p in got if p.article] == ["一、", "二、", "三"], path.name  # its sections
            continue
        assert numbered == labels, path.name
        for p in got:  # every paragraph of the article, none of the next one
            if p.article:
                start = body.index(f"\n{p.article}") + 1
                nxt = _ARTICLE_LINE.search(body, start + len(p.article))
                chunk = body[start : nxt.start() if nxt else len(body)]
                chunk = chunk.split("\n## ")[0].split("\n### ")[0].split("\n附录")[0]
                paras = [line for line in chunk.split("\n") if line.strip()]
                if p.article == "附录":
                    continue
                # all of it and nothing else; a sentence the source broke into paragraphs is one line again
                assert _bare(p.text) == _bare("".join(paras)), (path.name, p.article)
                assert len(p.text.split("\n")) <= len(paras), (path.name, p.article)
    assert unsplit == ["关于职工全年月平均工作时间和工资折算问题的通知.md"]
    assert sum(1 for p in content.passages if p.is_law and p.article.startswith("第")) == 1271


def test_names_versions_and_chapters_of_the_pack(shared: tuple[Path, Content]) -> None:
    _, content = shared
    by = {(p.law, p.article): p for p in content.passages if p.is_law}
    p = by[("劳动合同法", "第十九条")]
    assert p.law_title == "中华人民共和国劳动合同法" and p.version == "2012年12月28日修正"
    assert p.chapter == "第二章 劳动合同的订立" and p.citation == "《劳动合同法》第十九条"
    assert by[("劳动合同法", "第五十一条")].chapter == "第五章 特别规定 › 第一节 集体合同"
    assert by[("工会法", "第一条")].version == "2021年12月24日修正"
    assert by[("妇女权益保障法", "第四十八条")].version == "2022年10月30日修订"
    shorts = {p.law for p in content.passages if p.is_law}
    assert {"劳动争议司法解释（一）", "工会法司法解释", "工伤保险行政案件司法解释", "拒不支付劳动报酬刑事案件司法解释",
            "女职工劳动保护特别规定", "国务院关于职工工作时间的规定"} <= shorts
    assert ("女职工劳动保护特别规定", "附录") in by


def test_no_passage_is_a_history_line_a_document_number_or_a_title(shared: tuple[Path, Content]) -> None:
    _, content = shared
    for p in content.passages:
        if not p.is_law:
            continue
        first = p.text.split("\n")[0]
        assert not re.fullmatch(r"\S{2,8}[\[〔［(（]\d{4}[\]〕］)）]\d+号", first), p.citation
        assert not re.match(r"^\d{4}年\d{1,2}月\d{1,2}日\s", first), p.citation
        assert first != p.law_title, p.citation


def test_an_item_the_source_broke_over_paragraphs_reads_as_one_line(tmp_path: Path) -> None:
    """Some official texts break one item over several paragraphs (工资支付暂行规定's overtime rates): each item is
    one line again, so a long article pages between items, never inside one."""
    from bot.docs_import import Block, Doc
    from bot.statute import parse

    paras = ["第一条　为了测试，制定本规定。",
             "第二条　单位安排职工加班时，按下列标准付钱：",
             "（一）工作日延长工作时间的，", "按照不低于本人工资的一定比例", "支付；",
             "（二）休息日工作又不能补休的，按照更高的比例支付。",
             "计件工资的劳动者，", "参照上述原则执行。"]
    doc = Doc(title="示例加班工资规定", blocks=[Block("para", t) for t in paras])
    statute = parse(doc)
    assert statute is not None
    second = next(a for a in statute.articles if a.label == "第二条")
    assert second.paragraphs == ["第二条\u3000单位安排职工加班时，按下列标准付钱：",
                                 "（一）工作日延长工作时间的，按照不低于本人工资的一定比例支付；",
                                 "（二）休息日工作又不能补休的，按照更高的比例支付。",
                                 "计件工资的劳动者，参照上述原则执行。"]
