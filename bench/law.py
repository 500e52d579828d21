"""Statute search benchmark (issue 15): the right article for workers' questions, ours vs jieba + BM25Okapi.

    .venv/bin/python bench/law.py                 # the table: every set, tune and held-out halves apart
    .venv/bin/python bench/law.py --misses tune   # also list the tune-half questions ours misses at 3
    .venv/bin/python bench/law.py --fresh         # also the blind sets (once, at the end of a piece of work)

In one process, on the same article passages (the 28 statutes of ../shared/laws copied into seeds/local/法规/ of a
temporary copy and built by the real content build, beside the seed essays):
- the anchor: jieba.lcut_for_search over each article's text, rank_bm25.BM25Okapi, the question's
  lcut_for_search tokens as the query (over the articles only);
- ours: bot.search.SearchEngine over the whole built content, `/law` scope (statutes only).

Question sets (a hit is any gold article among the first k; MRR@10 over the first gold article):
- STARD: ../shared/laws/eval/stard_labour.json (82 real questions from laypeople). Split by position:
  even index = tune, odd index = held (fixed here, never changed).
- tests/law_questions.toml: [[question]] (workers' chat questions) and [[keyword]] (keyword queries), each with
  `half = "tune"` or `"held"`.
- with --fresh, the blind sets in the same format, each written apart from the tuning by an author who saw neither
  the code nor the vocabulary, and reported as rows of their own: tests/law_questions_fresh.toml (`half = "fresh"`,
  used once at the end of the first round), tests/law_questions_blind2.toml (`half = "blind2"`, written while the
  article topics were, by someone who saw neither them nor the other sets) and tests/law_questions_blind3.toml
  (`half = "blind3"`, read once before the fourth pass on the topics), tests/law_questions_blind4.toml
  (`half = "blind4"`, read at the end of the topics' work) and tests/law_questions_blind5.toml (`half = "blind5"`,
  questions in the style of STARD's, written after blind4 was read, for the bigram re-ranking's figures) and
  tests/law_questions_blind6.toml (`half = "blind6"`, harder STARD-style questions, read once after the last change)
  , tests/law_questions_blind7.toml (`half = "blind7"`, mostly keyword queries, read once for a second measure) and
  tests/law_questions_blind8.toml (`half = "blind8"`, keyword queries only, a third measure).
The held-out halves are reported only as aggregate figures: nothing here prints a held-out question or its
result. Tuning looks at tune halves only (`--misses tune`).

Latency: ours (search() of /law, top 10) and the anchor, p50/p99 over every question, statutes only.
The 100k-passage figures are bench/search.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from lawgen import NOT_STATUTES, build_with_laws  # noqa: E402

from bot.content import Content, Passage, load_content  # noqa: E402
from bot.search import SearchEngine  # noqa: E402
from bot.statute import is_article  # noqa: E402

LAWS = ROOT.parent / "shared" / "laws"
STARD = LAWS / "eval" / "stard_labour.json"
QUESTIONS = ROOT / "tests" / "law_questions.toml"
#: The blind sets (half = "fresh", "blind2"), written apart from the tuning and never tuned on: rows of their own.
#: More keyword queries to tune on (half = "tune2"): the order of neighbouring articles.
TUNE2 = ROOT / "tests" / "law_keywords_tune.toml"
HALVES = ("tune", "tune2", "held", "fresh", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8")
BLIND = tuple(ROOT / "tests" / f"law_questions_{name}.toml" for name in HALVES[3:])
K = (1, 3, 10)


def laws_dir() -> Path | None:
    """../shared/laws, or None when absent (an error under CI=true)."""
    if (LAWS / "劳动合同法.md").is_file():
        return LAWS
    if os.environ.get("CI") == "true":
        raise SystemExit(f"{LAWS} is missing (CI=true): the statute benchmark needs ../shared/laws")
    return None


def build_corpus(tmp: Path, laws: Path) -> tuple[Content, Path]:
    """The seed essays and every statute (as seeds/local/法规/*.md) built with the real build into tmp (the tests'
    own recipe, tests/lawgen.py)."""
    _, content_dir = build_with_laws(tmp, laws)
    return load_content(content_dir), content_dir


def article_key(p: Passage) -> tuple[str, str]:
    """(statute file name, article label) of a passage, as the gold labels name it."""
    return Path(p.files[0]).name if p.files else "", p.article


def gold_match(key: tuple[str, str], gold: set[tuple[str, str]]) -> bool:
    """Whether an article is one of the gold ones (a notice's section 二、… is named by its number 二、)."""
    if key in gold:
        return True
    file, label = key
    return any(file == g_file and g_label.endswith("、") and label.startswith(g_label.rstrip("、"))
               and label[len(g_label.rstrip("、")) : len(g_label)] in ("、", "")
               for g_file, g_label in gold)


Rows = list[tuple[str, set[tuple[str, str]], str]]


def load_sets(questions: Path = QUESTIONS, blind: tuple[Path, ...] = ()) -> dict[str, Rows]:
    """{set name: [(query, gold keys, half)]}; the rows of the `blind` sets join the chat and keyword sets."""
    sets: dict[str, Rows] = {}
    stard = json.loads(STARD.read_text(encoding="utf-8"))
    sets["STARD"] = [(e["q"], {(g["doc"], g["article"]) for g in e["gold"]}, "tune" if i % 2 == 0 else "held")
                     for i, e in enumerate(stard)]
    for path in (questions, *blind):
        if not path.is_file():
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for table, name in (("question", "chat"), ("keyword", "keyword")):
            for e in data.get(table, []):
                gold = {tuple(g.split(":", 1)) for g in e.get("gold", [])}
                if gold:
                    sets.setdefault(name, []).append((e["q"], gold, e["half"]))  # type: ignore[arg-type]
    return sets


Ranker = Callable[[str], list[tuple[str, str]]]


def metrics(rank: Ranker, rows: list[tuple[str, set[tuple[str, str]], str]]) -> tuple[dict[str, float], list[int]]:
    """hit@1/3/10 and MRR@10, and the first gold rank of each question (0 = none in the first 10)."""
    ranks: list[int] = []
    for query, gold, _ in rows:
        found = rank(query)[:10]
        ranks.append(next((i for i, key in enumerate(found, 1) if gold_match(key, gold)), 0))
    n = max(len(ranks), 1)
    out = {f"hit@{k}": sum(1 for r in ranks if 0 < r <= k) / n for k in K}
    out["MRR@10"] = sum(1 / r for r in ranks if r) / n
    return out, ranks


def anchor(passages: list[Passage]) -> Ranker:
    """jieba.lcut_for_search + rank_bm25.BM25Okapi over the articles."""
    import jieba
    from rank_bm25 import BM25Okapi

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(Path(tempfile.gettempdir()) / "union-bot-bench" / "jieba")
    tok.initialize()
    bm25 = BM25Okapi([tok.lcut_for_search(p.text) for p in passages])
    keys = [article_key(p) for p in passages]

    def rank(query: str) -> list[tuple[str, str]]:
        scores = bm25.get_scores(tok.lcut_for_search(query))
        return [keys[i] for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]

    return rank


def ours(engine: SearchEngine) -> Ranker:
    def rank(query: str) -> list[tuple[str, str]]:
        return [article_key(h.passage) for h in engine.search(query, limit=10, scope="law").hits]

    return rank


def latency(rank: Ranker, queries: list[str], repeat: int) -> tuple[float, float]:
    for q in queries:
        rank(q)
    times = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            rank(q)
            times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", choices=["tune"], help="list the tune-half questions ours misses at 3")
    ap.add_argument("--repeat", type=int, default=5, help="latency passes over every question")
    ap.add_argument("--tune-only", action="store_true", help="while tuning: do not even show held-out aggregates")
    ap.add_argument("--questions", type=Path, default=QUESTIONS, help="the question file (default tests/…)")
    ap.add_argument("--fresh", action="store_true", help="also the blind sets tests/law_questions_fresh.toml, "
                    "_blind2/3/4.toml (rows of their own; run once, at the end: nothing may be tuned "
                    "after seeing them)")
    args = ap.parse_args()
    laws = laws_dir()
    if laws is None:
        print(f"skipped: {LAWS} is absent")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        content, content_dir = build_corpus(Path(tmp), laws)
        build_s = time.perf_counter() - t
        articles = [p for p in content.passages if p.is_law]
        t = time.perf_counter()
        engine = SearchEngine.build(content, content_dir, Path(tmp) / "cache")
        index_s = time.perf_counter() - t
        files = {Path(p.files[0]).name for p in articles}
        unsplit = sorted(f.name for f in laws.glob("*.md") if f.name not in NOT_STATUTES
                         and not any(Path(p.files[0]).name == f.name and is_article(p.article) for p in articles))
        print(f"corpus: {len(content.passages)} passages ({len(articles)} statute passages from {len(files)} files); "
              f"content build {build_s:.1f} s, index {index_s:.1f} s")
        print(f"statutes not split into 第X条 articles: {', '.join(unsplit) or 'none'}")
        sets = load_sets(args.questions, (TUNE2, *BLIND) if args.fresh and not args.tune_only else (TUNE2,))
        rankers = {"anchor": anchor(articles), "ours": ours(engine)}
        print("\n| set | half | n | engine | hit@1 | hit@3 | hit@10 | MRR@10 |\n|---|---|---|---|---|---|---|---|")
        misses: list[tuple[str, int, list[tuple[str, str]]]] = []
        for name, rows in sets.items():
            for half in ("tune", "tune2") if args.tune_only else HALVES:
                part = [r for r in rows if r[2] == half]
                if not part:
                    continue
                for label, rank in rankers.items():
                    m, ranks = metrics(rank, part)
                    print(f"| {name} | {half} | {len(part)} | {label} | {m['hit@1']:.3f} | {m['hit@3']:.3f} | "
                          f"{m['hit@10']:.3f} | {m['MRR@10']:.3f} |")
                    if args.misses == "tune" and half.startswith("tune") and label == "ours":
                        misses += [(f"{name}: {q}", r, rank(q)[:3]) for (q, _, _), r in zip(part, ranks, strict=True)
                                   if not 0 < r <= 3]
        queries = [q for rows in sets.values() for q, _, _ in rows]
        print(f"\nlatency over the statutes ({len(queries)} questions x {args.repeat}, top 10):")
        for label, rank in rankers.items():
            p50, p99 = latency(rank, queries, args.repeat if label == "ours" else 1)
            print(f"  {label:7s} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")
        if misses:
            print(f"\ntune-half misses at 3 ({len(misses)}):")
            for q, r, top in misses:
                print(f"  [{r or '-'}] {q}\n      top3: {' | '.join(f'{Path(f).stem}{a}' for f, a in top)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
