"""The workers' law question sets keep their shape, and every gold article exists.

Two files: tests/law_questions.toml (split into a "tune" and a "held" half) and tests/law_questions_fresh.toml (a
blind set, half = "fresh", that nobody tunes on). The shape checks run everywhere. The checks against the statutes
read the law pack in ../shared/laws (beside the repository): they skip when it is absent locally and fail when it is
absent under CI=true. Nothing of the statutes is stored in the project; these tests only look articles up by label.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = tomllib.loads((ROOT / "tests" / "law_questions.toml").read_text(encoding="utf-8"))
FRESH = tomllib.loads((ROOT / "tests" / "law_questions_fresh.toml").read_text(encoding="utf-8"))
LAWS = ROOT.parent / "shared" / "laws"
NOT_STATUTES = {"README.md", "SOURCES.md"}

QUESTIONS: list[dict] = SETS["question"]
KEYWORDS: list[dict] = SETS["keyword"]
OUTSIDE: list[dict] = SETS.get("outside", [])
FRESH_QUESTIONS: list[dict] = FRESH["question"]
FRESH_KEYWORDS: list[dict] = FRESH["keyword"]

#: Every scored entry of both files (question and keyword), for the checks against the statutes.
SCORED = {"law_questions.toml": QUESTIONS + KEYWORDS, "law_questions_fresh.toml": FRESH_QUESTIONS + FRESH_KEYWORDS}

_NUM = "一二三四五六七八九十百零"
#: "<file>.md:第X条", or "<file>.md:二、" for a section of the one statute without articles.
GOLD_RE = re.compile(rf"^(?P<file>[^:/\\]+\.md):(?P<label>第[{_NUM}]+条|[{_NUM}]+、)$")
#: A question may not share this many consecutive characters with the statutes (law names aside).
COPY_LIMIT = 10


def _check_fields(entry: dict, halves: tuple[str, ...]) -> None:
    assert set(entry) == {"q", "gold", "topic", "half"}, entry
    assert isinstance(entry["q"], str) and entry["q"].strip() == entry["q"] and entry["q"], entry
    assert isinstance(entry["topic"], str) and entry["topic"], entry
    assert entry["half"] in halves, entry
    gold = entry["gold"]
    assert isinstance(gold, list) and gold, entry
    assert len(set(gold)) == len(gold), entry
    for g in gold:
        m = GOLD_RE.match(g)
        assert m and m["file"] not in NOT_STATUTES, g


def _normal(q: str) -> str:
    """A query folded for comparison: NFKC, lower case, without spaces, punctuation and symbols (emoji)."""
    q = unicodedata.normalize("NFKC", q).lower()
    return "".join(c for c in q if unicodedata.category(c)[0] in "LN")


def test_sizes() -> None:
    assert len(QUESTIONS) >= 120
    assert len(KEYWORDS) >= 30


@pytest.mark.parametrize("name", ["question", "keyword"])
def test_fields(name: str) -> None:
    for entry in SETS[name]:
        _check_fields(entry, ("tune", "held"))


def test_outside_pack_entries() -> None:
    """Questions whose answer is not in the pack are on record, with no gold, and are not scored."""
    topics = {e["topic"] for e in QUESTIONS}
    for entry in OUTSIDE:
        assert set(entry) == {"q", "gold", "topic", "outside_pack", "missing"}, entry
        assert entry["outside_pack"] is True and entry["gold"] == [], entry
        assert entry["q"] and entry["missing"] and entry["topic"] in topics, entry


def test_no_duplicate_queries() -> None:
    seen = Counter(e["q"] for e in QUESTIONS + KEYWORDS + OUTSIDE)
    assert [q for q, n in seen.items() if n > 1] == []


@pytest.mark.parametrize("name", ["question", "keyword"])
def test_halves_alternate_within_each_topic(name: str) -> None:
    """The split is deterministic: per topic, in file order, tune, held, tune, held ... (even counts)."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for entry in SETS[name]:
        by_topic[entry["topic"]].append(entry["half"])
    for topic, halves in by_topic.items():
        assert halves == ["tune", "held"] * (len(halves) // 2), topic
    total = Counter(e["half"] for e in SETS[name])
    assert total["tune"] == total["held"]


def test_every_topic_has_questions_and_keywords() -> None:
    q_topics = Counter(e["topic"] for e in QUESTIONS)
    k_topics = Counter(e["topic"] for e in KEYWORDS)
    assert set(k_topics) == set(q_topics)
    assert min(q_topics.values()) >= 6, q_topics


# ---- the fresh (blind) set


def test_fresh_sizes() -> None:
    assert len(FRESH_QUESTIONS) >= 100
    assert len(FRESH_KEYWORDS) >= 30
    assert set(FRESH) == {"question", "keyword"}


@pytest.mark.parametrize("name", ["question", "keyword"])
def test_fresh_fields(name: str) -> None:
    for entry in FRESH[name]:
        _check_fields(entry, ("fresh",))


def test_fresh_covers_the_same_topics() -> None:
    """Every topic of law_questions.toml has fresh questions and fresh keywords, and no other topic appears."""
    topics = {e["topic"] for e in QUESTIONS}
    assert {e["topic"] for e in FRESH_QUESTIONS} == topics
    assert {e["topic"] for e in FRESH_KEYWORDS} == topics


def test_fresh_keywords_are_short() -> None:
    for entry in FRESH_KEYWORDS:
        assert 2 <= len(entry["q"].split()) <= 4, entry["q"]


def test_fresh_queries_are_new() -> None:
    """No fresh query repeats another fresh query or any query of law_questions.toml (spaces, punctuation, emoji and
    full-width forms aside)."""
    fresh = Counter(_normal(e["q"]) for e in FRESH_QUESTIONS + FRESH_KEYWORDS)
    assert [q for q, n in fresh.items() if n > 1] == []
    old = {_normal(e["q"]) for e in QUESTIONS + KEYWORDS + OUTSIDE}
    assert [e["q"] for e in FRESH_QUESTIONS + FRESH_KEYWORDS if _normal(e["q"]) in old] == []


# ---- against the statutes


@pytest.fixture(scope="module")
def laws() -> Path:
    if not LAWS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the law pack is missing: {LAWS} (the statute tests must run in CI)")
        pytest.skip("the law pack ../shared/laws is not here")
    return LAWS


def _labels(path: Path) -> set[str]:
    """Article labels at line start (第X条 followed by a space) and section labels of "## 一、..." headings."""
    labels = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(rf"^(第[{_NUM}]+条)[ \u3000]", line):
            labels.add(m[1])
        elif m := re.match(rf"^## ([{_NUM}]+、)", line):
            labels.add(m[1])
    return labels


@pytest.mark.parametrize("file", sorted(SCORED))
def test_every_gold_article_exists(laws: Path, file: str) -> None:
    cache: dict[str, set[str]] = {}
    missing = []
    for entry in SCORED[file]:
        for g in entry["gold"]:
            name, label = g.split(":")
            if name not in cache:
                cache[name] = _labels(laws / name) if (laws / name).is_file() else set()
            if label not in cache[name]:
                missing.append((entry["q"], g))
    assert missing == []


@pytest.mark.parametrize("file", sorted(SCORED))
def test_questions_do_not_copy_statute_text(laws: Path, file: str) -> None:
    """No query repeats a run of COPY_LIMIT characters of any statute (the names of the laws aside)."""
    files = [p for p in sorted(laws.glob("*.md")) if p.name not in NOT_STATUTES]
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in files)
    names = {p.stem for p in files} | {"中华人民共和国" + p.stem for p in files}
    entries = SCORED[file] + (OUTSIDE if file == "law_questions.toml" else [])
    windows: dict[str, str] = {}
    for entry in entries:
        q = entry["q"]
        for name in sorted(names, key=len, reverse=True):
            q = q.replace(name, "\0")
        for i in range(len(q) - COPY_LIMIT + 1):
            window = q[i : i + COPY_LIMIT]
            if "\0" not in window:
                windows.setdefault(window, entry["q"])
    copied = {windows[corpus[i : i + COPY_LIMIT]] for i in range(len(corpus)) if corpus[i : i + COPY_LIMIT] in windows}
    assert copied == set()
