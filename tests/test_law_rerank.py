"""The bigram re-ranking (bot/search/grams.py) and the statutes' weights (content/law_weights.txt).

The bigram parts are checked on small texts written here: the document frequencies against a plain count, and the
scores' order. Against the law pack in ../shared/laws (skipped when it is absent locally, failing under CI=true):
a question whose characters, not its words, meet the answer comes first with the re-ranking and not without it;
the shipped weights file is what puts 《劳动合同法》第十九条 before 《劳动法》第二十一条 for the probation question;
and editing the weights file is a new content version that a running engine picks up.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import lawgen  # noqa: E402

import bot.search.engine as engine_module  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.search import LAW, SearchEngine  # noqa: E402
from bot.search.grams import Bigrams, bigrams  # noqa: E402
from bot.search.topics import WEIGHTS_FILE, read_weights  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_bigrams_are_cjk_pairs_in_order_once_and_never_across_punctuation() -> None:
    assert bigrams("试用期，试用期最长") == ["试用", "用期", "期最", "最长"]
    assert bigrams("工会 经费") == ["工会", "经费"]  # not 会经: a space ends a run
    assert bigrams("OA系统😀审批") == ["系统", "审批"]
    assert bigrams("") == [] and bigrams("会") == [] and bigrams("ok 1234") == []


def test_document_frequencies_are_the_number_of_texts_holding_each_pair() -> None:
    texts = ["工会经费按月拨缴", "工会会员", "拨缴工会经费，工会经费", "", "会员\x00会员"]
    stats = Bigrams.build(texts)
    assert stats.n_docs == 5
    for gram in ("工会", "会经", "经费", "拨缴", "会员", "按月"):
        want = sum(gram in t for t in texts)
        code = (ord(gram[0]) << 21) | ord(gram[1])
        assert int(stats.df[list(stats.codes).index(code)]) == want, gram
    assert set(stats.idf(["工会", "没有"])) == {"工会"}  # a pair no text holds has no idf
    assert stats.idf(["按月"])["按月"] > stats.idf(["工会"])["工会"]  # rarer weighs more
    assert Bigrams.build([]).n_docs == 0 and not Bigrams.build([]).idf(["工会"])
    many = ["工会经费"] * 5000 + ["会员"] * 5000  # more texts than one block of the count
    assert Bigrams.build(many).idf(["工会"]) == Bigrams.build(["工会经费", "会员"] * 5000).idf(["工会"])


def test_a_text_holding_more_of_the_question_scores_higher() -> None:
    texts = ["工会经费按月拨缴", "企业拨缴工会经费", "职工食堂卫生", "经费"]
    stats = Bigrams.build(texts)
    got = stats.scores(bigrams("工会经费怎么拨缴"), texts, range(4))
    assert got[0] > 0 and got[1] > 0 and got[2] == 0
    assert min(got[0], got[1]) > got[3] > 0
    assert not stats.scores([], texts, range(4)).any()
    assert list(stats.lengths) == [7, 7, 5, 1]


@pytest.fixture(scope="module")
def law_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, content_dir = lawgen.build_with_laws(tmp_path_factory.mktemp("laws"), lawgen.laws_dir())
    return content_dir


@pytest.fixture(scope="module")
def engine(law_content: Path, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    return SearchEngine.load(load_content(law_content), tmp_path_factory.mktemp("cache"), law_content)


@pytest.fixture
def no_bigrams() -> Iterator[None]:
    saved = engine_module.BIGRAM_WEIGHT
    engine_module.BIGRAM_WEIGHT = 0.0
    yield
    engine_module.BIGRAM_WEIGHT = saved


def _first(engine: SearchEngine, query: str) -> str:
    hits = engine.search(query, limit=3, scope=LAW).hits
    return hits[0].passage.citation if hits else ""


#: Questions whose answer comes first only with the bigram re-ranking (their words alone rank it lower).
BY_CHARACTERS = [
    ("公积金最低按工资的百分之几交", "《住房公积金管理条例》第十八条"),
    ("劳动监察大队到底管哪些事？什么情况能去投诉", "《劳动保障监察条例》第十一条"),
]


@pytest.mark.parametrize(("query", "cite"), BY_CHARACTERS)
def test_the_bigram_reranking_brings_the_answer_first(engine: SearchEngine, query: str, cite: str) -> None:
    assert _first(engine, query) == cite


@pytest.mark.parametrize(("query", "cite"), BY_CHARACTERS)
def test_without_the_bigram_reranking_it_is_not_first(
    engine: SearchEngine, no_bigrams: None, query: str, cite: str,
) -> None:
    assert _first(engine, query) != cite


def test_the_cached_engine_ranks_as_the_built_one(
    law_content: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    content = load_content(law_content)
    built = SearchEngine.load(content, tmp_path, law_content)  # builds and writes the cache

    def no_build(*_: object, **__: object) -> SearchEngine:
        raise AssertionError("rebuilt instead of read from the cache")

    monkeypatch.setattr(SearchEngine, "build", no_build)
    with caplog.at_level(logging.WARNING):
        cached = SearchEngine.load(content, tmp_path, law_content)
    assert not caplog.records
    for query, _ in BY_CHARACTERS + [("试用期最长多久", ""), ("工会法 第三条", "")]:
        a = [h.passage.id for h in cached.search(query, limit=5, scope=LAW).hits]
        assert a == [h.passage.id for h in built.search(query, limit=5, scope=LAW).hits]
    assert cached.weights == built.weights == {"劳动法": 0.75}
    assert (cached.grams.codes == built.grams.codes).all() and cached.grams.avg == built.grams.avg


def test_the_shipped_weights_put_the_specific_statute_first(law_content: Path, tmp_path: Path) -> None:
    shipped = SearchEngine.build(load_content(law_content), law_content, tmp_path / "a")
    assert _first(shipped, "试用期最长多久") == "《劳动合同法》第十九条"
    bare = tmp_path / "content"
    shutil.copytree(law_content, bare)
    (bare / WEIGHTS_FILE).unlink()
    without = SearchEngine.build(load_content(bare), bare, tmp_path / "b")
    assert _first(without, "试用期最长多久") == "《劳动法》第二十一条"  # both answer; the general one wins alone


def test_editing_the_weights_is_a_new_content_version(law_content: Path, tmp_path: Path) -> None:
    content_dir = tmp_path / "content"
    shutil.copytree(law_content, content_dir)
    before = load_content(content_dir)
    engine = SearchEngine.load(before, tmp_path / "cache", content_dir)
    assert engine.weights == {"劳动法": 0.75}
    (content_dir / WEIGHTS_FILE).write_text("劳动法 0.75\n劳动合同法 0.5\n", encoding="utf-8")
    after = load_content(content_dir)
    assert after.version != before.version
    engine = SearchEngine.load(after, tmp_path / "cache", content_dir)
    assert engine.weights == {"劳动法": 0.75, "劳动合同法": 0.5}
    assert _first(engine, "试用期最长多久") == "《劳动法》第二十一条"


def _two_statutes(tmp: Path) -> SearchEngine:
    """A statute and a later one that cites it by name (made-up texts)."""
    content_dir = lawgen.build_small(tmp, {
        "休假.md": "# 职工休假条例\n\n第一条　为保障职工休息，制定本条例。\n\n第二条　本条例适用于本市的单位。\n\n"
                   "第三条　职工连续工作满一年的，享受带薪年休假，具体天数由单位根据工龄确定，国家法定休假日不计入。\n",
        "用工.md": "# 用工管理办法\n\n第一条　为规范用工，制定本办法。\n\n"
                   "第二条　职工休假条例规定的带薪年休假，单位应当安排；职工休假条例未规定的，按照本办法执行。\n",
    })
    return SearchEngine.build(load_content(content_dir), content_dir, tmp / "cache")


def test_naming_a_statute_puts_it_first_not_a_statute_that_cites_it(tmp_path: Path) -> None:
    """The named statute's name is not read as bigrams: only the citing article holds it."""
    engine = _two_statutes(tmp_path)
    hits = engine.search("职工休假条例规定的带薪年休假", limit=3, scope=LAW).hits
    assert [h.passage.citation for h in hits[:2]] == ["《职工休假条例》第三条", "《用工管理办法》第二条"]


def test_a_lone_surrogate_is_searched_and_indexed_without_a_crash(engine: SearchEngine) -> None:
    assert engine.search("工会\ud800经费", limit=3, scope=LAW).hits
    assert Bigrams.build(["工会\ud800经费", "经费"]).idf(["经费"])
    assert bigrams("工会\ud800经费") == ["工会", "经费"]


def test_a_weight_for_a_statute_the_content_lacks_is_named_in_the_log(
    law_content: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    content_dir = tmp_path / "content"
    shutil.copytree(law_content, content_dir)
    (content_dir / WEIGHTS_FILE).write_text("劳动法 0.75\n劳动法律 0.5\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        engine = SearchEngine.build(load_content(content_dir), content_dir, tmp_path / "cache")
    assert [r.getMessage() for r in caplog.records if "劳动法律" in r.getMessage()]
    assert engine.weights == {"劳动法": 0.75, "劳动法律": 0.5}
    assert SearchEngine(engine.passages, engine.vocab, engine.index, engine.qvocab, engine.topics, engine.grams,
                        {"劳动法": 0.0}).weights == {"劳动法": 0.1}  # never a zero prior


def test_bad_weight_lines_are_skipped_and_the_rest_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / WEIGHTS_FILE
    path.write_text(
        "# 注释\n\n劳动法 0.75  # 行尾注释\n劳动争议司法解释（一） 0.9\n只有名字\n工会法 零点五\n社会保险法 0\n"
        "安全生产法 1.5\n就业促进法 nan\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        weights = read_weights(path)
    assert weights == {"劳动法": 0.75, "劳动争议司法解释（一）": 0.9}
    assert sum("ignored" in r.getMessage() for r in caplog.records) == 5
    assert read_weights(tmp_path / "absent.txt") == {}
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00garbage")
    assert read_weights(tmp_path / "bad.txt") == {}
