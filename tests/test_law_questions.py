"""The workers' law question sets (tests/law_questions.toml) keep their shape, and every gold article exists.

The shape checks run everywhere. The checks against the statutes read the law pack in ../shared/laws (beside the
repository): they skip when it is absent locally and fail when it is absent under CI=true. Nothing of the statutes
is stored in the project; these tests only look articles up by their label.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = tomllib.loads((ROOT / "tests" / "law_questions.toml").read_text(encoding="utf-8"))
LAWS = ROOT.parent / "shared" / "laws"
NOT_STATUTES = {"README.md", "SOURCES.md"}

QUESTIONS: list[dict] = SETS["question"]
KEYWORDS: list[dict] = SETS["keyword"]
OUTSIDE: list[dict] = SETS.get("outside", [])

_NUM = "一二三四五六七八九十百零"
#: "<file>.md:第X条", or "<file>.md:二、" for a section of the one statute without articles.
GOLD_RE = re.compile(rf"^(?P<file>[^:/\\]+\.md):(?P<label>第[{_NUM}]+条|[{_NUM}]+、)$")
#: A question may not share this many consecutive characters with the statutes (law names aside).
COPY_LIMIT = 10


def test_sizes() -> None:
    assert len(QUESTIONS) >= 120
    assert len(KEYWORDS) >= 30


@pytest.mark.parametrize("name", ["question", "keyword"])
def test_fields(name: str) -> None:
    for entry in SETS[name]:
        assert set(entry) == {"q", "gold", "topic", "half"}, entry
        assert isinstance(entry["q"], str) and entry["q"].strip() == entry["q"] and entry["q"], entry
        assert isinstance(entry["topic"], str) and entry["topic"], entry
        assert entry["half"] in ("tune", "held"), entry
        gold = entry["gold"]
        assert isinstance(gold, list) and gold, entry
        assert len(set(gold)) == len(gold), entry
        for g in gold:
            m = GOLD_RE.match(g)
            assert m and m["file"] not in NOT_STATUTES, g


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


def test_every_gold_article_exists(laws: Path) -> None:
    cache: dict[str, set[str]] = {}
    missing = []
    for entry in QUESTIONS + KEYWORDS:
        for g in entry["gold"]:
            file, label = g.split(":")
            if file not in cache:
                cache[file] = _labels(laws / file) if (laws / file).is_file() else set()
            if label not in cache[file]:
                missing.append((entry["q"], g))
    assert missing == []


def test_questions_do_not_copy_statute_text(laws: Path) -> None:
    """No query repeats a run of COPY_LIMIT characters of any statute (the names of the laws aside)."""
    files = [p for p in sorted(laws.glob("*.md")) if p.name not in NOT_STATUTES]
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in files)
    names = {p.stem for p in files} | {"中华人民共和国" + p.stem for p in files}
    windows: dict[str, str] = {}
    for entry in QUESTIONS + KEYWORDS + OUTSIDE:
        q = entry["q"]
        for name in sorted(names, key=len, reverse=True):
            q = q.replace(name, "\0")
        for i in range(len(q) - COPY_LIMIT + 1):
            window = q[i : i + COPY_LIMIT]
            if "\0" not in window:
                windows.setdefault(window, entry["q"])
    copied = {windows[corpus[i : i + COPY_LIMIT]] for i in range(len(corpus)) if corpus[i : i + COPY_LIMIT] in windows}
    assert copied == set()
