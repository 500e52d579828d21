"""Article topics (content/law_topics.txt): the words members use when an article is the answer, indexed with it.

From the made-up statute of tests/lawgen.py: a question in words its text never uses finds the article once a topic
line gives those words, and not before; the words are never shown; bad lines are skipped, not fatal. Against the law
pack in ../shared/laws: every line of the shipped file names an article that exists (a wrong label would be dropped
silently), and every article of the pack has a line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import lawgen  # noqa: E402

from bot.content import load_content  # noqa: E402
from bot.search import LAW, SearchEngine  # noqa: E402
from bot.search.topics import TOPICS_FILE, read_topics, topic_texts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "去疗养要自己掏腰包吗"
CITE = f"《{lawgen.TITLE}》第五条"


def _engine(tmp: Path, topics: str | None) -> SearchEngine:
    tmp.mkdir(parents=True, exist_ok=True)
    statute = lawgen.make_md(tmp / "疗休养.md").read_text(encoding="utf-8")
    content_dir = lawgen.build_small(tmp, {"疗休养.md": statute}, {TOPICS_FILE: topics} if topics is not None else {})
    return SearchEngine.build(load_content(content_dir), content_dir, tmp / "cache")


def _first(engine: SearchEngine, query: str) -> str:
    hits = engine.search(query, limit=3, scope=LAW).hits
    return hits[0].passage.citation if hits else ""


def test_a_topic_line_leads_a_question_in_other_words_to_its_article(tmp_path: Path) -> None:
    assert _first(_engine(tmp_path / "without", None), QUESTION) != CITE
    line = f"{lawgen.TITLE} 第五条: 自己掏腰包 疗养自费 疗养花销\n"
    engine = _engine(tmp_path / "with", f"# 测试\n{line}")
    hits = engine.search(QUESTION, limit=3, scope=LAW).hits
    assert hits and hits[0].passage.citation == CITE
    assert "掏腰包" not in hits[0].passage.text  # the topic words are indexed, never shown
    assert _first(engine, "疗休养 押金") == CITE  # the article's own words still find it


def test_bad_lines_are_skipped_and_the_rest_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / TOPICS_FILE
    path.write_text(
        "# 注释\n\n没有冒号的一行\n劳动合同法: 缺条号\n劳动合同法 第十九条: 试用期 最长多久\n"
        "劳动合同法 第十九条：  试用期几次 \n某通知 二、: 日工资\n劳动法 第一条:\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        topics = read_topics(path)
    assert topics == {("劳动合同法", "第十九条"): "试用期 最长多久 试用期几次", ("某通知", "二"): "日工资"}
    assert sum("ignored" in r.getMessage() for r in caplog.records) == 2
    assert read_topics(tmp_path / "absent.txt") == {}
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00garbage")
    assert read_topics(tmp_path / "bad.txt") == {}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> list:
    _, content_dir = lawgen.build_with_laws(tmp_path_factory.mktemp("pack"), lawgen.laws_dir())
    return [p for p in load_content(content_dir).passages if p.is_law]


def test_every_line_names_an_article_of_the_pack_and_every_article_has_one(pack: list) -> None:
    topics = read_topics(ROOT / "content" / TOPICS_FILE)
    texts = topic_texts(pack, topics)
    matched = {(p.law, p.article.split("、")[0]) for p, t in zip(pack, texts, strict=True) if t}
    assert set(topics) - matched == set()  # a line whose label is wrong would be dropped without a word
    articles = [p for p in pack if p.article.startswith("第")]
    missing = [p.citation for p, t in zip(pack, texts, strict=True) if not t and p in articles]
    assert missing == []
    assert len(articles) >= 1271


def test_editing_the_topics_is_a_new_content_version(tmp_path: Path) -> None:
    """The running bot swaps content when its version changes (bot/content.py); the topics are part of it."""
    _engine(tmp_path, "")
    content_dir = tmp_path / "content"
    before = load_content(content_dir).version
    (content_dir / TOPICS_FILE).write_text(f"{lawgen.TITLE} 第五条: 自己掏腰包\n", encoding="utf-8")
    after = load_content(content_dir)
    assert after.version != before
    engine = SearchEngine.load(after, tmp_path / "cache", content_dir)
    assert _first(engine, QUESTION) == CITE
