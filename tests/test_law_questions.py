"""The workers' law question sets keep their shape, and every gold article exists.

Nine files: tests/law_questions.toml (split into a "tune" and a "held" half) and eight blind sets that nobody
tunes on, tests/law_questions_fresh.toml and _blind2.toml … _blind8.toml (half = "fresh", "blind2" … "blind8"),
and a tenth, tests/law_keywords_tune.toml, keyword queries to tune on (half = "tune2").
The shape checks run everywhere. The checks against the statutes read the law pack in ../shared/laws (beside the
repository): they skip when it is absent locally and fail when it is absent under CI=true. Nothing of the statutes
is stored in the project; these tests only look articles up by label.
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
#: The blind sets: file -> (its parsed entries, its half).
BLIND = {
    name: ({"question": [], "keyword": []} | tomllib.loads((ROOT / "tests" / name).read_text(encoding="utf-8")), half)
    for name, half in (("law_questions_fresh.toml", "fresh"), ("law_questions_blind2.toml", "blind2"),
                        ("law_questions_blind3.toml", "blind3"), ("law_questions_blind4.toml", "blind4"),
                        ("law_questions_blind5.toml", "blind5"), ("law_questions_blind6.toml", "blind6"),
                        ("law_questions_blind7.toml", "blind7"), ("law_questions_blind8.toml", "blind8"))
}
LAWS = ROOT.parent / "shared" / "laws"
NOT_STATUTES = {"README.md", "SOURCES.md"}

QUESTIONS: list[dict] = SETS["question"]
KEYWORDS: list[dict] = SETS["keyword"]
OUTSIDE: list[dict] = SETS.get("outside", [])

#: Every scored entry of every file (question and keyword), for the checks against the statutes.
#: Keyword queries to tune on: the order of neighbouring articles.
TUNE2 = tomllib.loads((ROOT / "tests" / "law_keywords_tune.toml").read_text(encoding="utf-8"))
SCORED = {"law_questions.toml": QUESTIONS + KEYWORDS, "law_keywords_tune.toml": TUNE2["keyword"]} | {
    name: data["question"] + data["keyword"] for name, (data, _) in BLIND.items()
}

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


# ---- the blind sets


def test_keyword_tune_set_shape() -> None:
    assert set(TUNE2) == {"keyword"} and len(TUNE2["keyword"]) >= 100
    for entry in TUNE2["keyword"]:
        _check_fields(entry, ("tune2",))
        assert 2 <= len(entry["q"].split()) <= 4, entry
    topics = {e["topic"] for e in QUESTIONS}
    assert {e["topic"] for e in TUNE2["keyword"]} == topics


@pytest.mark.parametrize("file", sorted(BLIND))
def test_blind_sizes_and_fields(file: str) -> None:
    data, half = BLIND[file]
    assert set(data) == {"question", "keyword"}
    if data["question"]:
        assert len(data["question"]) >= 75 and len(data["keyword"]) >= 30
    else:  # a keyword-only set (blind8)
        assert len(data["keyword"]) >= 100
    for entry in data["question"] + data["keyword"]:
        _check_fields(entry, (half,))


@pytest.mark.parametrize("file", sorted(BLIND))
def test_blind_covers_the_same_topics(file: str) -> None:
    """Every topic of law_questions.toml has blind questions, and no other topic appears but 就业促进 (blind5 covers
    the employment promotion law too). A keyword query that repeated one of another set was taken out, so a topic may
    lack blind keywords."""
    data, _ = BLIND[file]
    topics = {e["topic"] for e in QUESTIONS}
    assert topics <= {e["topic"] for e in data["question"] or data["keyword"]} <= topics | {"就业促进"}
    assert {e["topic"] for e in data["keyword"]} <= topics | {"就业促进"}


@pytest.mark.parametrize("file", sorted(BLIND))
def test_blind_keywords_are_short(file: str) -> None:
    for entry in BLIND[file][0]["keyword"]:
        assert 2 <= len(entry["q"].split()) <= 4, entry["q"]


def test_blind_queries_are_new() -> None:
    """No blind query repeats another query of any set (spaces, punctuation, emoji and full-width forms aside)."""
    seen = Counter(_normal(e["q"]) for e in QUESTIONS + KEYWORDS + OUTSIDE + TUNE2["keyword"])
    for data, _ in BLIND.values():
        seen.update(_normal(e["q"]) for e in data["question"] + data["keyword"])
    assert [q for q, n in seen.items() if n > 1] == []


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
