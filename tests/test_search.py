"""The search engine: relevance on the real corpus, normalisation, segmentation, fallback, cache and CLI."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.content import Content, Passage, load_content
from bot.search import SearchEngine, run_cli
from bot.texts import search_snippet

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
CASES = tomllib.loads((Path(__file__).parent / "relevance.toml").read_text(encoding="utf-8"))["case"]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="module")
def engine(content: Content, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    return SearchEngine.load(content, tmp_path_factory.mktemp("cache"), content_dir=CONTENT_DIR)


def _rank(engine: SearchEngine, query: str, expect: str) -> int | None:
    hits = engine.search(query, limit=3).hits
    return next((i for i, h in enumerate(hits) if expect in h.passage.text), None)


@pytest.fixture(scope="module")
def docs_engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    """The engine over the seeds plus the generated operator documents (tests/docgen.py)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import docgen

    _, content_dir = docgen.build_corpus(tmp_path_factory.mktemp("docs"))
    return SearchEngine.load(load_content(content_dir), tmp_path_factory.mktemp("cache"), content_dir=content_dir)


def test_relevance_set_is_big_and_each_expected_passage_exists(content: Content, docs_engine: SearchEngine) -> None:
    assert len(CASES) >= 80 and sum(bool(c.get("docs")) for c in CASES) >= 20
    for case in CASES:
        corpus = docs_engine.passages if case.get("docs") else content.passages
        assert sum(case["expect"] in p.text for p in corpus) >= 1, case


def _hit_rates(engine: SearchEngine, cases: list[dict[str, object]]) -> tuple[float, float, dict[str, int | None]]:
    ranks = {str(c["query"]): _rank(engine, str(c["query"]), str(c["expect"])) for c in cases}
    hit1 = sum(r == 0 for r in ranks.values()) / len(ranks)
    hit3 = sum(r is not None for r in ranks.values()) / len(ranks)
    return hit1, hit3, {q: r for q, r in ranks.items() if r != 0}


def test_relevance_hit_at_1_and_3(engine: SearchEngine) -> None:
    hit1, hit3, misses = _hit_rates(engine, [c for c in CASES if not c.get("docs")])
    assert hit3 == 1.0, misses
    assert hit1 >= 0.97, misses


def test_relevance_with_documents_hit_at_1_and_3(docs_engine: SearchEngine) -> None:
    """Every case (the essays' too) over seeds + documents: hit@1 >= 0.97, hit@3 = 1.00."""
    hit1, hit3, misses = _hit_rates(docs_engine, CASES)
    print(f"relevance over seeds + documents: {len(CASES)} cases, hit@1 = {hit1:.3f}, hit@3 = {hit3:.3f}")
    assert hit3 == 1.0, misses
    assert hit1 >= 0.97, misses


def test_phrase_and_proximity_bonus_lifts_the_passage_holding_the_words_together(docs_engine: SearchEngine) -> None:
    """第十条 holds 安全培训 as a phrase; the shorter 第十一条 holds 培训 … 安全 apart and wins on BM25 alone."""
    together, apart = "每年组织一线职工开展安全培训", "培训结束后进行考核"
    try:
        docs_engine.proximity = False
        plain = [h.passage.text for h in docs_engine.search("安全培训").hits]
    finally:
        docs_engine.proximity = True
    assert apart in plain[0] and together in plain[1]
    for query in ("安全培训", "安全 培训", "培训 安全"):
        hits = docs_engine.search(query).hits
        assert together in hits[0].passage.text, query
        assert apart in hits[1].passage.text, query


@pytest.mark.parametrize(
    ("query", "article", "source"),
    [("职工互助法第三条", "第三条", "《职工互助法》第三条 · 第一章 总则"),  # the generated PDF reads as a statute
     ("职工互助法 第3条", "第三条", "《职工互助法》第三条 · 第一章 总则"),
     ("制度汇编第五条", "第五条", "《职工之家工会工作制度汇编》 · 第二章 民主管理 › 第五条"),
     ("第十一条", "第十一条", "《职工之家工会工作制度汇编》 · 第四章 经费管理 › 第十一条")],
)
def test_article_queries_find_that_article(docs_engine: SearchEngine, query: str, article: str, source: str) -> None:
    hit = docs_engine.search(query).hits[0]
    assert hit.passage.text.startswith(article)
    assert hit.passage.source == source


def test_bare_article_number_lists_that_article_of_every_document(docs_engine: SearchEngine) -> None:
    hits = docs_engine.search("第五条").hits
    assert len(hits) == 2 and all(h.passage.text.startswith("第五条") for h in hits)
    titles = {h.passage.source.split(" · ")[0] for h in hits}
    assert titles == {"《职工互助法》第五条", "《职工之家工会工作制度汇编》"}


@pytest.mark.parametrize(
    ("query", "same_as"),
    [("職代會", "职代会"), ("廠務公開", "厂务公开"), ("ＯＡ", "oa"), ("集体合同　！！", "集体合同"),
     ("怎么签订集体合同？", "签订 集体合同"), ("劳动模范", "劳模")],
)
def test_normalised_variants_rank_alike(engine: SearchEngine, query: str, same_as: str) -> None:
    a = [h.passage.id for h in engine.search(query, limit=3).hits]
    b = [h.passage.id for h in engine.search(same_as, limit=3).hits]
    assert a and a[0] == b[0]


def test_abbreviation_finds_the_full_form_and_highlights_both(engine: SearchEngine) -> None:
    hit = engine.search("职代会").hits[0]
    assert "职工代表大会" in hit.passage.text
    assert "职工代表大会" in hit.terms and "职代会" in hit.terms


def test_search_mode_keeps_sub_words(engine: SearchEngine) -> None:
    terms = [t for t, _ in engine.seg.terms("完善职工代表大会制度")]
    assert {"职工代表大会", "代表大会", "代表", "大会", "职工"} <= set(terms)


def test_question_words_are_dropped(engine: SearchEngine) -> None:
    assert set(engine.analyse("如何开展劳动竞赛")) >= {"劳动竞赛"}
    assert not {"如何", "怎么", "什么", "吗"} & set(engine.analyse("怎么 什么 如何 吗"))


def test_every_synonym_is_a_dictionary_word(engine: SearchEngine) -> None:
    from bot.search import read_synonyms

    equal, related = read_synonyms(CONTENT_DIR / "synonyms.txt")
    for group in equal + related:
        for word in group:
            assert engine.vocab.freq.get(engine.norm(word)), word
            assert [w for w, _ in engine.seg.cut(engine.norm(word))] == [engine.norm(word)], word


def test_terms_are_surface_forms_in_the_text(engine: SearchEngine) -> None:
    for q in ("職代會", "ＯＡ办公", "廠務公開", "劳模"):
        for hit in engine.search(q).hits:
            assert hit.terms and all(t in hit.passage.text for t in hit.terms), (q, hit.terms)


def test_pagination_is_consistent(engine: SearchEngine) -> None:
    full = [h.passage.id for h in engine.search("工会", limit=30).hits]
    pages = [h.passage.id for off in range(0, 30, 3) for h in engine.search("工会", limit=3, offset=off).hits]
    assert pages == full
    assert engine.search("工会", limit=3, offset=10_000).hits == []


def test_bigram_fallback_then_suggestions(engine: SearchEngine) -> None:
    fb = engine.search("诸葛亮会议")  # 诸葛亮 is not a corpus term on its own; bigrams still match
    assert fb.hits
    nothing = engine.search("量子计算机")
    assert not nothing.hits and not nothing.fallback
    assert 1 <= len(nothing.suggestions) <= 5
    assert engine.search("🎉🎉").suggestions  # never a bare "no result"


def test_fallback_used_when_no_term_is_known(engine: SearchEngine) -> None:
    r = engine.search("臭皮匠们")
    assert r.hits and (r.fallback or "臭皮匠" in r.hits[0].passage.text)
    assert "三个臭皮匠" in r.hits[0].passage.text


@pytest.mark.parametrize("query", ["集体合同" * 2500, "<b>&amp;</b><script>", "😀" * 50, "", "   ", "\x00\ufeff"])
def test_bad_queries_do_not_crash_and_are_fast(engine: SearchEngine, query: str) -> None:
    import time

    t = time.perf_counter()
    r = engine.search(query)
    assert time.perf_counter() - t < 0.5
    assert isinstance(r.hits, list) and len(r.query) <= 100


def _synthetic(texts: list[str]) -> Content:
    passages = tuple(
        Passage(f"t{i}", "测试 › 小节", t, f"test.txt · 小节{i}", ("test.txt",)) for i, t in enumerate(texts)
    )
    return Content(passages, (), "synthetic-" + hashlib.sha256("\0".join(texts).encode()).hexdigest())


HOSTILE = [
    "签订<b>集体合同</b>时 & 要注意 &amp; 实体，<i>别</i>被坑 😀 集体合同要公开。",
    "厂务公开 <a href=\"x\">链接</a> & 集体合同 \"引号\" '单引号' " + "很长的文字。" * 40 + "集体合同结尾",
    "完全无关的一段话，讲的是篮球比赛。",
]


def test_snippet_escapes_hostile_text_and_bolds_terms(tmp_path: Path) -> None:
    from fakebotapi import parse_html

    engine = SearchEngine.load(_synthetic(HOSTILE), tmp_path, content_dir=CONTENT_DIR)
    result = engine.search("集体合同")
    assert {h.passage.id for h in result.hits} == {"t0", "t1"}
    for hit in result.hits:
        html = search_snippet(hit.passage.text, hit.terms)
        plain, entities = parse_html(html)  # Telegram's own parsing rules: raises on a broken tag/entity
        assert all(e["type"] == "bold" for e in entities)
        assert any(plain[e["offset"] : e["offset"] + e["length"]] == "集体合同" for e in entities)
        assert len(plain.strip("…")) <= 120
        assert plain.strip("…") in hit.passage.text
    first = search_snippet(HOSTILE[0], ("集体合同",))
    assert "&lt;b&gt;<b>集体合同</b>&lt;/b&gt;" in first and "&amp;amp;" in first and "😀" in first


def test_snippet_highlight_never_splits_an_entity() -> None:
    from fakebotapi import parse_html

    text = "a&b<c>d" * 30
    for terms in (("amp",), ("&",), ("lt",), ("<c>",), ("b<c",)):
        html = search_snippet(text, terms)
        plain, _ = parse_html(html)
        assert plain.strip("…") in text


def test_cache_is_reused_and_rebuilt_when_dictionaries_change(tmp_path: Path) -> None:
    content_dir = tmp_path / "content"
    content_dir.mkdir()
    for name in ("userdict.txt", "synonyms.txt", "stopwords.txt"):
        (content_dir / name).write_text((CONTENT_DIR / name).read_text("utf-8"), "utf-8")
    content = _synthetic(HOSTILE)
    cache = tmp_path / "cache"
    SearchEngine.load(content, cache, content_dir=content_dir)
    first = sorted(cache.glob("search-*.pkl"))
    assert len(first) == 1
    SearchEngine.load(content, cache, content_dir=content_dir)
    assert sorted(cache.glob("search-*.pkl")) == first
    (content_dir / "synonyms.txt").write_text("篮球比赛 = 集体合同\n", "utf-8")
    engine = SearchEngine.load(content, cache, content_dir=content_dir)
    assert sorted(cache.glob("search-*.pkl")) != first and len(list(cache.glob("search-*.pkl"))) == 1
    assert "t2" in {h.passage.id for h in engine.search("集体合同").hits}
    first[0].write_bytes(b"garbage")  # a corrupt cache is rebuilt, not fatal
    assert SearchEngine.load(content, tmp_path / "cache2", content_dir=content_dir).search("集体合同").hits


def test_run_cli_json_and_stdin(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_cli(CONTENT_DIR, tmp_path, "集体合同", True, 5, io.StringIO(), out) == 0
    rows = json.loads(out.getvalue())
    assert 1 <= len(rows) <= 5
    assert {"id", "title", "text", "source", "score"} <= set(rows[0])
    assert "集体合同" in rows[0]["text"]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    out = io.StringIO()
    assert run_cli(CONTENT_DIR, tmp_path, None, True, 3, io.StringIO("职代会\n量子计算机\n厂务公开\n"), out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and json.loads(lines[1]) == [] and json.loads(lines[0])
    out = io.StringIO()
    run_cli(CONTENT_DIR, tmp_path, "量子计算机", False, 3, io.StringIO(), out)
    assert "你是不是想找" in out.getvalue()


def test_cold_cli_with_a_warm_cache_does_not_load_jieba(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run_cli(CONTENT_DIR, cache, "集体合同", True, 1, io.StringIO(), io.StringIO())
    code = (
        "import io, sys; from pathlib import Path; from bot.search import run_cli; "
        f"run_cli(Path({str(CONTENT_DIR)!r}), Path({str(cache)!r}), '集体合同', True, 3, io.StringIO(), sys.stdout); "
        "assert 'jieba' not in sys.modules, 'jieba was imported'"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["id"]
    assert r.stderr == ""  # no index build, no progress line
