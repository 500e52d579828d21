"""The content pipeline: seeds -> content/ (passages, practices, manifest) and fast loading."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.content import (
    MANIFEST_FILE,
    PASSAGES_FILE,
    PRACTICES_FILE,
    PRACTICES_INPUT,
    TITLES_FILE,
    Content,
    ContentError,
    build,
    load_content,
)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CONTENT = ROOT / "content"
OUTPUTS = (PASSAGES_FILE, PRACTICES_FILE, MANIFEST_FILE, "quiz.json")
METHODS = ("选择法", "广益法", "附加法", "反求法", "借脑法", "移植法", "开发法", "组合法", "异同法", "联想法")
PLACEHOLDER = re.compile(r"[_＿*＊]")


def _content_dir(tmp: Path) -> Path:
    """A fresh content dir holding only the hand-curated practices.toml, titles.toml and quiz.toml."""
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONTENT / PRACTICES_INPUT, tmp / PRACTICES_INPUT)
    shutil.copy(CONTENT / TITLES_FILE, tmp / TITLES_FILE)
    shutil.copy(CONTENT / "quiz.toml", tmp / "quiz.toml")  # the 每日一题 starter bank
    return tmp


def _seeds_copy(tmp: Path) -> Path:
    """A copy of the real seeds (without any operator's local documents)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, tmp / path.name)
    return tmp


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Content:
    """Content freshly built from the real seeds."""
    out = _content_dir(tmp_path_factory.mktemp("content"))
    build(_seeds_copy(tmp_path_factory.mktemp("seeds")), out, progress=lambda _: None)
    return load_content(out)


def _with(content: Content, needle: str) -> list[str]:
    return [p.text for p in content.passages if needle in p.text]


def test_build_is_deterministic(tmp_path: Path) -> None:
    seeds = _seeds_copy(tmp_path / "seeds")
    a, b = _content_dir(tmp_path / "a"), _content_dir(tmp_path / "b")
    build(seeds, a, progress=lambda _: None)
    build(seeds, b, progress=lambda _: None)
    for name in OUTPUTS:
        data = (a / name).read_bytes()
        assert data == (b / name).read_bytes(), name
        assert data.endswith(b"\n") and "“".encode() in (a / PASSAGES_FILE).read_bytes()  # ensure_ascii=False


def test_committed_content_equals_a_fresh_build(tmp_path: Path) -> None:
    fresh = _content_dir(tmp_path / "content")
    build(_seeds_copy(tmp_path / "seeds"), fresh, progress=lambda _: None)
    for name in OUTPUTS:
        assert (CONTENT / name).read_bytes() == (fresh / name).read_bytes(), f"content/{name} is stale: rebuild"


def test_each_innovation_method_appears_once(built: Content) -> None:
    for method in METHODS:
        hits = [p for p in built.passages if re.match(rf"\d+、{method}。", p.text)]
        assert len(hits) == 1, method
        assert hits[0].title == method


def test_duplicates_merged_keep_uncensored_variant(built: Content) -> None:
    kept = _with(built, "自党的十六大以来")
    assert len(kept) == 1
    assert not _with(built, "自党的_以来")
    intro = next(p for p in built.passages if "自党的十六大以来" in p.text)
    assert intro.files == ("000_9fb8ea368a94a24e.txt", "003_dfe89861acfabbd5.txt")
    assert len(_with(built, "完善职工代表大会制度。")) == 1
    assert len(built.passages) == len({p.id for p in built.passages})


def test_broken_lines_are_rejoined(built: Content) -> None:
    assert len(_with(built, "将其做大、做强、做实，由派生事物")) == 1
    assert len(_with(built, "存在的难点、热点问题，下大力气")) == 1
    assert len(_with(built, "同时，我们也看到工作还有许多不足之处")) == 1


def test_no_misencoded_quotes_anywhere(built: Content) -> None:
    for name in OUTPUTS:
        text = (CONTENT / name).read_text(encoding="utf-8")
        assert "‚" not in text and "‛" not in text
    assert _with(built, "“工人先锋号”")
    assert _with(built, "建功‘十一五’、和谐奔小康”")


def test_headings_become_sections_not_passages(built: Content) -> None:
    texts = {p.text for p in built.passages}
    for heading in ("1.思想政治引领", "【五年回眸】", "【亮点撷英】", "巷修区车间工会的六大亮点：",
                    "2、职工诉求重心发生了新变化，求维权取代了谋福利", "2.服务大局"):
        assert heading not in texts
        assert not any(t.startswith(heading) for t in texts), heading
    assert not any(re.match(r"^【篇.】", t) or t.startswith("(二)") for t in texts)
    sections = {p.section for p in built.passages}
    assert "思想政治引领 › 亮点撷英" in sections
    assert any(s.endswith("广泛开展劳动竞赛和岗位练兵，全面提升员工素质") for s in sections)
    # heading + body run together: split, and the body merged with its copy in the other file
    body = next(p for p in built.passages if p.text.startswith("为进一步发挥工会组织在推进企业改革"))
    assert body.section.endswith("发挥工会组织的桥梁纽带作用") and len(body.files) == 2
    # long numbered items stay passages with their lead phrase as title
    assert next(p for p in built.passages if "凸显在法理上" in p.text).title == "工会组织地位作用发生了新变化"
    # the truncated teaser line is dropped
    assert not any(t.endswith("...") or t.startswith("工会建设主题论文征集范文") for t in texts)
    assert all(len(p.title) <= 30 for p in built.passages)


def test_practices_resolve_and_are_clean(built: Content) -> None:
    practices = built.practices
    assert len(practices) >= 40
    assert len({p.id for p in practices}) == len(practices)
    assert len({p.title for p in practices}) == len(practices)
    for practice in practices:
        sources = [built.passage(pid) for pid in practice.passages]
        assert all(sources), practice.id
        assert any(practice.body in s.text for s in sources if s), practice.id
        assert not PLACEHOLDER.search(practice.body + practice.title), practice.id
        assert 0 < len(practice.title) <= 20 and practice.tags and practice.source
    assert {m for m in METHODS if any(m in p.title for p in practices)} == set(METHODS)
    assert built.practice("labour-relations-consultation") is not None
    assert built.practice("nope") is None


def _practice_entry(pid: str, passage: str, body: str = "") -> str:
    extra = f'body = "{body}"\n' if body else ""
    return f'\n[[practice]]\nid = "{pid}"\ntitle = "测试一招"\npassage = "{passage}"\n{extra}tags = ["测试"]\n'


def test_practice_with_missing_passage_fails_naming_it(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    before = (content / PASSAGES_FILE).read_bytes()
    with (content / PRACTICES_INPUT).open("a", encoding="utf-8") as f:
        f.write(_practice_entry("ghost-practice", "p0000000000"))
    with pytest.raises(ContentError, match="ghost-practice.*p0000000000"):
        build(_seeds_copy(tmp_path / "seeds"), content, progress=lambda _: None)
    assert (content / PASSAGES_FILE).read_bytes() == before  # nothing half-written


def test_practice_with_placeholder_fails(tmp_path: Path, built: Content) -> None:
    censored = next(p for p in built.passages if "20**年，市总" in p.text)
    content = _content_dir(tmp_path / "content")
    with (content / PRACTICES_INPUT).open("a", encoding="utf-8") as f:
        f.write(_practice_entry("censored-practice", censored.id))
    with pytest.raises(ContentError, match="censored-practice.*占位符"):
        build(_seeds_copy(tmp_path / "seeds"), content, progress=lambda _: None)


def test_practice_body_must_be_an_excerpt(tmp_path: Path, built: Content) -> None:
    target = next(p for p in built.passages if p.text.startswith("1、选择法"))
    content = _content_dir(tmp_path / "content")
    with (content / PRACTICES_INPUT).open("a", encoding="utf-8") as f:
        f.write(_practice_entry("invented-body", target.id, body="这是编造的话"))
    with pytest.raises(ContentError, match="invented-body"):
        build(_seeds_copy(tmp_path / "seeds"), content, progress=lambda _: None)


def test_local_markdown_document_is_added_on_rebuild(tmp_path: Path) -> None:
    seeds = _seeds_copy(tmp_path / "seeds")
    local = seeds / "local"
    local.mkdir()
    (local / "README.md").write_text("# 说明\n\n这段说明不应被收录。\n", encoding="utf-8")
    (local / "经验.md").write_text(
        "# 我厂经验\n\n## 职工小家\n\n我们在每个班组建立了**职工小家**，\n配备微波炉和药箱，职工反映很好。\n\n"
        "- 每月开一次小家会。\n- 自党的十六大以来，见诸报端的已有许多相关的内容。\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    summary = build(seeds, _content_dir(tmp_path / "content"), progress=lines.append)
    content = load_content(tmp_path / "content")
    home = next(p for p in content.passages if "职工小家，配备微波炉" in p.text)
    assert home.section == "我厂经验 › 职工小家"
    assert home.files == ("local/经验.md",) and home.source == "《我厂经验》 · 职工小家"
    assert _with(content, "每月开一次小家会。")
    assert not _with(content, "这段说明不应被收录")
    assert summary.files == 3
    assert sum("段" in line and ".md" in line for line in lines) == 1
    assert str(summary) in lines[-1]


def test_build_reports_progress_and_summary(tmp_path: Path) -> None:
    lines: list[str] = []
    summary = build(_seeds_copy(tmp_path / "seeds"), _content_dir(tmp_path / "content"), progress=lines.append)
    assert sum(".txt" in line for line in lines) == 2
    assert summary.files == 2 and summary.passages > 60 and summary.duplicates_merged >= 15
    assert summary.practices >= 40
    text = str(summary)
    assert "\n" not in text and str(summary.passages) in text and "practices=" in text
    manifest = json.loads((tmp_path / "content" / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["counts"]["passages"] == summary.passages


def test_load_content_is_versioned_and_fails_clearly(tmp_path: Path) -> None:
    content = load_content(CONTENT)
    assert re.fullmatch(r"[0-9a-f]{64}", content.version)
    assert load_content(CONTENT).version == content.version
    assert content.passage(content.passages[0].id) == content.passages[0]
    assert content.passage("missing") is None
    with pytest.raises(ContentError, match="content build"):
        load_content(tmp_path / "nowhere")


def test_no_seeds_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="种子"):
        build(tmp_path, _content_dir(tmp_path / "content"), progress=lambda _: None)
