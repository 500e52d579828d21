"""Tuning bench for statute search (issue 15): the tune halves ONLY, split into two folds for cross-validation.

    .venv/bin/python bench/law_tune.py                  # per set and fold: hit@1/3/10, MRR@10 (ours)
    .venv/bin/python bench/law_tune.py --misses A       # also list fold A's misses at 3 (fold B stays unseen)

The sets: STARD's tune half, the tune halves of tests/law_questions.toml (chat, keyword) and the keyword queries of
tests/law_keywords_tune.toml (keyword2: written to tune the order of neighbouring articles, all tune).
This script never reports a held-out row: `tune_rows()` drops them as the question file is read. The folds split each
set's tune rows by position (even = A, odd = B), so every topic is in both. Work on the vocabulary or the ranking
looks at one fold's misses and checks the change on the other fold's figures only, to tell a real gain from
fitting.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from law import TUNE2, build_corpus, gold_match, laws_dir, load_sets  # noqa: E402

from bot.search import SearchEngine  # noqa: E402

Row = tuple[str, set[tuple[str, str]], str]


def tune_rows(questions: Path | None = None) -> dict[str, list[Row]]:
    """{set: [(query, gold, fold)]} for the tune halves only; fold is 'A' or 'B'."""
    sets = load_sets(questions or TUNE2.parent / "law_questions.toml", (TUNE2,))
    out: dict[str, list[Row]] = {}
    for name, rows in sets.items():
        for half, label in (("tune", name), ("tune2", f"{name}2")):
            tune = [(q, g) for q, g, h in rows if h == half]
            if tune:
                out[label] = [(q, g, "AB"[i % 2]) for i, (q, g) in enumerate(tune)]
    return out


def build_engine(tmp: Path) -> SearchEngine:
    laws = laws_dir()
    if laws is None:
        raise SystemExit("../shared/laws is absent")
    content, content_dir = build_corpus(tmp, laws)
    return SearchEngine.build(content, content_dir, tmp / "cache")


def ranks(engine: SearchEngine, rows: list[Row]) -> list[int]:
    """The first gold rank of each question in /law's top 10 (0 = none)."""
    out = []
    for query, gold, _ in rows:
        hits = engine.search(query, limit=10, scope="law").hits
        keys = [(Path(h.passage.files[0]).name, h.passage.article) for h in hits]
        out.append(next((i for i, k in enumerate(keys, 1) if gold_match(k, gold)), 0))
    return out


def figures(rk: list[int]) -> dict[str, float]:
    n = max(len(rk), 1)
    out = {f"hit@{k}": sum(1 for r in rk if 0 < r <= k) / n for k in (1, 3, 10)}
    out["MRR@10"] = sum(1 / r for r in rk if r) / n
    return out


def table(engine: SearchEngine, sets: dict[str, list[Row]]) -> dict[tuple[str, str], dict[str, float]]:
    out = {}
    for name, rows in sets.items():
        for fold in ("A", "B"):
            part = [r for r in rows if r[2] == fold]
            out[(name, fold)] = figures(ranks(engine, part))
    return out


def print_table(tab: dict[tuple[str, str], dict[str, float]]) -> None:
    print("| set | fold | hit@1 | hit@3 | hit@10 | MRR@10 |\n|---|---|---|---|---|---|")
    for (name, fold), m in tab.items():
        print(f"| {name} | {fold} | {m['hit@1']:.3f} | {m['hit@3']:.3f} | {m['hit@10']:.3f} | {m['MRR@10']:.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", choices=["A", "B"], help="list this fold's misses at 3")
    args = ap.parse_args()
    sets = tune_rows()
    with tempfile.TemporaryDirectory() as tmp:
        engine = build_engine(Path(tmp))
        print_table(table(engine, sets))
        if args.misses:
            for name, rows in sets.items():
                part = [r for r in rows if r[2] == args.misses]
                for (q, gold, _), r in zip(part, ranks(engine, part), strict=True):
                    if not 0 < r <= 3:
                        top = engine.search(q, limit=3, scope="law").hits
                        shown = " | ".join(f"{h.passage.law}{h.passage.article}" for h in top)
                        want = " ".join(f"{Path(f).stem}{a}" for f, a in sorted(gold))
                        print(f"[{r or '-'}] {name}: {q}\n     gold: {want}\n     top3: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
