"""Operators' documents (issue 12): Word, PDF, GBK text, broken and old files in seeds/local -> titled passages.

Every document here is generated (tests/docgen.py): a .docx with a title, chapters, articles and a table,
a text-layer PDF with a running header, footer, page numbers, Kangxi-radical look-alikes and sentences
broken across lines, a GBK .txt, a corrupt .docx, an old .doc and a scanned PDF without text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import docgen  # noqa: E402

from bot.content import (  # noqa: E402
    MANIFEST_FILE,
    PASSAGES_FILE,
    PRACTICES_FILE,
    TITLES_FILE,
    Content,
    build,
    load_content,
)
from bot.docs_import import fold_compat  # noqa: E402
from bot.search import SearchEngine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = '[[source]]\nfile = "local/制度汇编.docx"\ntags = ["制度"]\nmin_chars = 20\n'
DOCX = "《职工之家工会工作制度汇编》"
#: The generated PDF (中华人民共和国职工互助法（节选）, chapters and articles) reads as a statute: cited by short name.
PDF = "《职工互助法》"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return docgen.build_corpus(tmp_path_factory.mktemp("docs"), sources=SOURCE)


@pytest.fixture(scope="module")
def content(corpus: tuple[Path, Path]) -> Content:
    return load_content(corpus[1])


@pytest.fixture(scope="module")
def engine(content: Content, corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    return SearchEngine.load(content, tmp_path_factory.mktemp("cache"), content_dir=corpus[1])


def _from(content: Content, name: str) -> list[tuple[str, str]]:
    return [(p.source, p.text) for p in content.passages if f"local/{name}" in p.files]


def test_docx_headings_articles_and_table_rows(content: Content) -> None:
    got = _from(content, "制度汇编.docx")
    by_source = dict(got)
    assert by_source[f"{DOCX} · 第二章 民主管理 › 第五条"] == (
        "第五条　职工代表大会闭会期间，由职工代表团（组）长联席会议处理需要临时解决的重要问题。"
    )
    # An article keeps the paragraph that follows it; every article is a passage of its own.
    assert by_source[f"{DOCX} · 第三章 帮扶救助 › 第七条"].endswith(docgen.DOCX_ARTICLE_TAIL)
    assert sum(text.startswith("第") and "条" in text[:5] for _, text in got) == 11
    rows = [text for source, text in got if source == f"{DOCX} · 困难职工补助标准"]
    assert rows == ["困难类别：特困职工；补助标准：每人每年三千元；审批人：工会主席。",
                    "困难类别：因病致困职工；补助标准：每人每次一千五百元；审批人：工会经费审查委员会。"]
    assert not any(docgen.DOCX_TITLE == text for _, text in got)  # the title names the document, no passage


def test_pdf_text_is_clean_and_rejoined(content: Content) -> None:
    got = _from(content, "huzhufa.pdf")
    texts = [text for _, text in got]
    assert len(texts) == 6 and all(source.startswith(f"{PDF}第") for source, _ in got)
    joined = "\n".join(texts)
    for furniture in (docgen.PDF_HEADER, "内部资料", "注意保存", "- 1 -", "- 2 -", "- 3 -", docgen.PDF_TITLE):
        assert furniture not in joined
    assert not re.search(r"[\u2e80-\u2fdf]", joined)  # ⼯ folded to 工
    assert "讲清互助会能做什么、该做什么，让工会在职工互助保障工作中出力" in joined  # broken line, ⼯ folded
    assert texts[2] == ("第三条　在本单位连续工作满三个月、以劳动收入维持家庭生活的在岗职工，不论用工形式和户籍，"
                        "都可以自愿加入互助会并享受互助待遇。")
    sources = dict((text[:3], source) for source, text in got)
    assert sources["第五条"] == f"{PDF}第五条 · 第二章 互助组织"


def test_gbk_text_is_read_with_its_title(content: Content) -> None:
    got = _from(content, "帮扶办法.txt")
    assert got == [
        ("《困难职工帮扶办法》 · 帮扶对象",
         "因病、因灾、因意外事故导致家庭生活困难的在职职工，可以申请金秋助学和节日慰问帮扶。"),
        ("《困难职工帮扶办法》 · 申请程序",
         "职工本人提出书面申请，经车间工会初审、公司工会复核后，在厂务公开栏公示五个工作日。"),
    ]


def test_no_source_is_a_file_name(content: Content) -> None:
    for p in content.passages:
        assert p.source.startswith("《") and not re.search(r"\.(txt|md|docx|pdf)\b", p.source), p.source
    for pr in content.practices:
        assert pr.source.startswith("《"), pr.source
    assert any(p.source.startswith("《省直工会工作经验汇编》") for p in content.passages)
    assert any(p.source.startswith("《工会建设主题论文选编》") for p in content.passages)


def test_unreadable_files_are_named_with_what_to_do_and_the_rest_builds(corpus: tuple[Path, Path]) -> None:
    manifest = json.loads((corpus[1] / MANIFEST_FILE).read_text(encoding="utf-8"))
    skipped = manifest["skipped"]
    assert set(skipped) == {"local/损坏.docx", "local/旧文件.doc", "local/扫描件.pdf"}
    assert "另存为" in skipped["local/旧文件.doc"] and ".docx" in skipped["local/旧文件.doc"]
    assert "OCR" in skipped["local/扫描件.pdf"]
    assert "损坏" in skipped["local/损坏.docx"]
    assert manifest["files"][-3:] == ["local/huzhufa.pdf", "local/制度汇编.docx", "local/帮扶办法.txt"]
    assert manifest["titles"]["local/huzhufa.pdf"] == docgen.PDF_TITLE


def test_content_build_command_prints_lines_and_summary_when_not_a_tty(tmp_path: Path) -> None:
    seeds, content_dir = docgen.build_corpus(tmp_path)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[content]\ndir = "{content_dir}"\n', "utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "content", "build",
                        "--seeds", str(seeds)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "TERM": "dumb"})
    assert r.returncode == 0, r.stderr
    err = r.stderr
    assert "\r" not in err and "\033" not in err  # no progress bar when not on a terminal
    assert "local/制度汇编.docx: 13 段" in err and f"{DOCX}" in err
    assert "已跳过 local/旧文件.doc：旧版 Word 格式" in err and "已跳过 local/扫描件.pdf：PDF 没有文字层" in err
    summary = [line for line in err.splitlines() if line.startswith("内容构建完成")]
    assert summary and "skipped=3" in summary[0]


def test_rebuild_is_byte_identical(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    seeds, first = corpus
    again = tmp_path / "content"
    again.mkdir()
    for name in ("practices.toml", TITLES_FILE, "quiz.toml"):
        (again / name).write_bytes((first / name).read_bytes())
    build(seeds, again, progress=lambda _: None)
    for name in (PASSAGES_FILE, PRACTICES_FILE, MANIFEST_FILE):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name


def test_titles_file_overrides_and_fallbacks(tmp_path: Path) -> None:
    import docx

    seeds = tmp_path / "seeds"
    local = seeds / "local"
    local.mkdir(parents=True)
    (seeds / "a.txt").write_text("一段普通的文字，说明工会怎样开展工作，讲得很具体。\n", encoding="utf-8")
    plain = docx.Document()
    plain.add_paragraph("没有标题也没有标题样式的文档，只有一段正文，讲职工书屋怎么办。")
    plain.save(str(local / "职工书屋.docx"))
    docgen.make_docx(local / "制度.docx", title_property=False)  # no title property: its Title paragraph
    docgen.make_pdf(local / "law.pdf", title_line="")  # no title line: the running header
    content_dir = tmp_path / "content"
    content_dir.mkdir()
    (content_dir / "practices.toml").write_text("", encoding="utf-8")
    (content_dir / TITLES_FILE).write_text('[titles]\n"a.txt" = "改过的标题"\n', encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    titles = json.loads((content_dir / MANIFEST_FILE).read_text(encoding="utf-8"))["titles"]
    assert titles == {"a.txt": "改过的标题", "local/law.pdf": docgen.PDF_HEADER,
                      "local/制度.docx": docgen.DOCX_TITLE, "local/职工书屋.docx": "职工书屋"}
    sources = {p.files[0]: p.source for p in load_content(content_dir).passages}
    assert sources["a.txt"] == "《改过的标题》" and sources["local/职工书屋.docx"] == "《职工书屋》"


def test_near_identical_articles_of_two_documents_are_both_kept(tmp_path: Path) -> None:
    import docx

    seeds = tmp_path / "seeds"
    (seeds / "local").mkdir(parents=True)
    (seeds / "a.txt").write_text("工会工作要贴近职工，倾听职工的呼声。\n", encoding="utf-8")
    for name, who in (("甲.docx", "工会委员会"), ("乙.docx", "职工代表大会")):
        d = docx.Document()
        d.add_paragraph(f"第九条 本单位职工的年度疗休养计划，由{who}审议通过后组织实施，所需经费从工会经费中列支。")
        d.save(str(seeds / "local" / name))
    content_dir = tmp_path / "content"
    content_dir.mkdir()
    (content_dir / "practices.toml").write_text("", encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    articles = [p for p in load_content(content_dir).passages if p.text.startswith("第九条")]
    assert len(articles) == 2 and {p.source for p in articles} == {"《甲》 · 第九条", "《乙》 · 第九条"}


def test_a_source_document_feeds_the_rotation_with_stable_ids(content: Content, corpus: tuple[Path, Path]) -> None:
    from_doc = [p for p in content.practices if p.id.startswith("doc-")]
    assert len(from_doc) == 13  # 11 articles and 2 table rows, each at least 20 characters
    for practice in from_doc:
        passage = content.passage(practice.passages[0])
        assert passage is not None and practice.id == f"doc-{passage.id}"
        assert practice.source.startswith(DOCX) and practice.tags == ("制度",)
        assert 0 < len(practice.title) <= 20 and practice.body in passage.text
        assert re.fullmatch(r"(第[一二三四五六七八九十]+条：\S+|困难类别：\S+)", practice.title), practice.title
    assert len({p.title for p in content.practices}) == len(content.practices)
    curated = [p for p in content.practices if not p.id.startswith("doc-")]
    assert len(curated) == 50


def test_search_finds_document_content_with_clean_text_and_titled_sources(engine: SearchEngine) -> None:
    hit = engine.search("大病救助").hits[0]
    assert hit.passage.source == f"{DOCX} · 第三章 帮扶救助 › 第七条"
    assert docgen.DOCX_ARTICLE_TAIL in hit.passage.text and "大病" in hit.terms
    hit = engine.search("受灾职工渡过难关").hits[0]
    assert hit.passage.source == f"{PDF}第一条 · 第一章 总则" and "渡过难关" in hit.passage.text
    hit = engine.search("金秋助学").hits[0]
    assert hit.passage.source == "《困难职工帮扶办法》 · 帮扶对象"


def test_compatibility_characters_fold_but_punctuation_stays() -> None:
    assert fold_compat("⼯会⻓期坚持，（一）“职⼯之家”！") == "工会长期坚持，（一）“职工之家”！"


def test_content_build_command_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    seeds, content_dir = docgen.build_corpus(tmp_path)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "data"}"\n[content]\ndir = "{content_dir}"\n', "utf-8")
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "content", "build",
                            "--seeds", str(seeds)], stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert r.returncode == 0
    err = out.decode("utf-8")
    assert "\r" in err and "[##############################] 8/8" in err
    assert "已跳过 local/旧文件.doc" in err and "内容构建完成" in err
    assert "local/帮扶办法.txt: 2 段" not in err  # per-file lines give way to the bar on a terminal


def test_pdf_enumerated_headings_become_sections(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "local").mkdir(parents=True)
    (seeds / "a.txt").write_text("工会工作要贴近职工，倾听职工的呼声。\n", encoding="utf-8")
    docgen.make_pdf(seeds / "local" / "bf.pdf", [
        ["一、帮扶对象", "因病、因灾导致家庭生活困难的在职职工，可以", "申请帮扶。",
         "（一）特困职工", "每年补助三千元。"],
        ["二、申请程序", "本人提出申请，车间工会初审，公司工会复核。"],
    ], title_line="帮扶细则")
    content_dir = tmp_path / "content"
    content_dir.mkdir()
    (content_dir / "practices.toml").write_text("", encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    got = [(p.source, p.text) for p in load_content(content_dir).passages if p.files == ("local/bf.pdf",)]
    assert got == [("《帮扶细则》 · 帮扶对象", "因病、因灾导致家庭生活困难的在职职工，可以申请帮扶。"),
                   ("《帮扶细则》 · 帮扶对象 › 特困职工", "每年补助三千元。"),
                   ("《帮扶细则》 · 申请程序", "本人提出申请，车间工会初审，公司工会复核。")]


def test_an_empty_file_is_named_with_its_reason(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    (seeds / "local").mkdir(parents=True)
    (seeds / "a.txt").write_text("一段普通的文字，说明工会怎样开展工作，讲得很具体。\n", encoding="utf-8")
    (seeds / "local" / "空.txt").write_text("", encoding="utf-8")
    content_dir = tmp_path / "content"
    content_dir.mkdir()
    (content_dir / "practices.toml").write_text("", encoding="utf-8")
    lines: list[str] = []
    summary = build(seeds, content_dir, progress=lines.append)
    manifest = json.loads((content_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert "正文" in manifest["skipped"]["local/空.txt"] and any("空.txt" in line and "跳过" in line for line in lines)
    assert summary.passages >= 1 and ("local/空.txt", manifest["skipped"]["local/空.txt"]) in summary.skipped
