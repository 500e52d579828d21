"""Search benchmark: our engine vs jieba + rank_bm25 (BM25Okapi), on the seeds corpus and 100,000 synthetic passages.

    .venv/bin/python bench/search.py            # everything (a few minutes)
    .venv/bin/python bench/search.py --quick    # seeds corpus and a 10,000-passage synthetic corpus

The synthetic corpus recombines the corpus's own sentences (random.Random(42)) into ~200-char passages.
Because its passages are recombined sentences, BOTH engines segment each distinct sentence/clause once
and reuse the token lists (ours memoises clauses inside the index build; the baseline is given
jieba.lcut_for_search of each distinct sentence, concatenated per passage). Without that, segmenting
100k passages with lcut_for_search alone takes 3+ minutes. Memory is the RSS delta (VmRSS from
/proc/self/status) around each build, ours first.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Content, Passage, load_content  # noqa: E402
from bot.search import SearchEngine, rank  # noqa: E402

QUERIES = [
    "集体合同", "职代会", "職代會", "厂务公开", "廠務公開", "如何开展劳动竞赛", "怎么签订集体合同", "劳模", "送温暖",
    "合理化建议", "职工之家", "娘家人", "群监员", "工人先锋号", "职工书屋", "劳动争议调解", "ＯＡ办公", "技能大赛",
    "困难职工帮扶", "工会工作社会化", "民主管理 民主监督", "小改小革", "学习型工会", "三方协商机制", "工匠精神",
    "职工入会率", "维权机制", "法律援助", "劳动纪律", "诸葛亮",
]


def rss_mb() -> float:
    """Resident set size of this process in MB (from /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p))


def time_queries(fn, queries: list[str], repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Per-call latencies in ms (one warm-up pass first)."""
    for q in queries:
        fn(q)
    out = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def synthetic(content: Content, n: int, seed: int = 42) -> tuple[Content, list[list[str]]]:
    """`n` passages of ~200 chars recombined from the corpus sentences; also each passage's sentence list."""
    found = (s for p in content.passages for s in re.findall(r"[^。！？；]+[。！？；]?", p.text))
    sentences = sorted({s for s in found if len(s) >= 4})
    rng = random.Random(seed)
    passages, parts = [], []
    for i in range(n):
        chosen: list[str] = []
        size = 0
        while size < 200:
            s = rng.choice(sentences)
            chosen.append(s)
            size += len(s)
        passages.append(Passage(f"s{i}", "合成", "".join(chosen), "synthetic", ("synthetic",)))
        parts.append(chosen)
    return Content(tuple(passages), (), f"synthetic-{n}-{seed}"), parts


def load_jieba() -> None:
    """Load jieba's dictionary once, outside the measured builds (both engines need it to build)."""
    from bot.search import jieba_tokenizer

    t = time.perf_counter()
    before = rss_mb()
    jieba_tokenizer(Path(tempfile.gettempdir()) / "union-bot-bench" / "jieba")
    print(f"  (jieba dictionary load, paid once by either engine's build: {time.perf_counter() - t:.2f} s, "
          f"RSS +{rss_mb() - before:.0f} MB; not counted below)")


def bench_ours(content: Content, label: str, repeat: int) -> dict[str, float]:
    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    engine = SearchEngine.build(content, ROOT / "content", Path(tempfile.gettempdir()) / "union-bot-bench")
    build = time.perf_counter() - t
    mem = rss_mb() - before
    lat = time_queries(lambda q: engine.search(q, limit=3), QUERIES, repeat)
    score_only = time_queries(lambda q: rank.top(rank.bm25(engine.index, engine.analyse(q), len(engine.passages)), 3),
                            QUERIES, repeat)
    print(f"  ours      [{label}] build {build:7.2f} s   search() p50 {pct(lat, 50):7.3f} ms"
          f"  p99 {pct(lat, 99):7.3f} ms   (scoring+top-k only p50 {pct(score_only, 50):.3f} ms)   RSS +{mem:6.1f} MB")
    return {"build": build, "p50": pct(lat, 50), "p99": pct(lat, 99), "mem": mem, "engine": engine}  # type: ignore[dict-item]


def bench_baseline(content: Content, label: str, repeat: int, parts: list[list[str]] | None) -> dict[str, float]:
    import jieba
    from rank_bm25 import BM25Okapi

    jieba.setLogLevel(60)
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(Path(tempfile.gettempdir()) / "union-bot-bench" / "jieba")
    tok.initialize()
    gc.collect()
    before = rss_mb()
    t = time.perf_counter()
    if parts is None:
        corpus = [tok.lcut_for_search(p.text) for p in content.passages]
    else:
        memo: dict[str, list[str]] = {}
        corpus = []
        for sents in parts:
            toks: list[str] = []
            for s in sents:
                if s not in memo:
                    memo[s] = tok.lcut_for_search(s)
                toks.extend(memo[s])
            corpus.append(toks)
    bm25 = BM25Okapi(corpus)
    build = time.perf_counter() - t
    mem = rss_mb() - before

    def query(q: str) -> list[int]:
        scores = bm25.get_scores(tok.lcut_for_search(q))
        return list(np.argsort(-scores)[:3])

    lat = time_queries(query, QUERIES, repeat)
    print(f"  baseline  [{label}] build {build:7.2f} s   search() p50 {pct(lat, 50):7.3f} ms"
          f"  p99 {pct(lat, 99):7.3f} ms   RSS +{mem:6.1f} MB   (jieba.lcut_for_search + BM25Okapi)")
    return {"build": build, "p50": pct(lat, 50), "p99": pct(lat, 99), "mem": mem}


def cold_cli(runs: int = 5) -> None:
    """Wall time of `python run.py search 集体合同` in a fresh process, with a warm cache (and once without)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.toml"
        cfg.write_text(f'[storage]\ndir = "{tmp}/data"\n[content]\ndir = "{ROOT / "content"}"\n', "utf-8")
        cmd = [sys.executable, str(ROOT / "run.py"), "--config", str(cfg), "search", "集体合同"]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        first = time.perf_counter() - t
        walls = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            walls.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = time.perf_counter() - t
    print(f"  cold `python run.py search 集体合同`: median {statistics.median(walls):.3f} s, max {max(walls):.3f} s "
          f"over {runs} runs with a warm index cache (first run, building the cache: {first:.2f} s; "
          f"bare `python -c pass`: {bare:.3f} s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 synthetic passages instead of 100,000")
    ap.add_argument("--size", type=int, default=0, help="synthetic corpus size (default 100000, 10000 with --quick)")
    args = ap.parse_args()
    size = args.size or (10_000 if args.quick else 100_000)
    t0 = time.perf_counter()
    content = load_content(ROOT / "content")
    print(f"seeds corpus: {len(content.passages)} passages, {sum(len(p.text) for p in content.passages)} chars; "
          f"{len(QUERIES)} queries")
    load_jieba()
    ours = bench_ours(content, "seeds", repeat=200)
    base = bench_baseline(content, "seeds", repeat=20, parts=None)
    print(f"  -> p50 speed-up {base['p50'] / ours['p50']:.0f}x")
    del ours
    syn, parts = synthetic(content, size)
    print(f"synthetic corpus: {size} passages, {sum(len(p.text) for p in syn.passages) / size:.0f} chars on average "
          f"(sentences recombined, seed 42)")
    ours = bench_ours(syn, f"{size // 1000}k", repeat=10)
    base = bench_baseline(syn, f"{size // 1000}k", repeat=1, parts=parts)
    print(f"  -> p50 speed-up {base['p50'] / ours['p50']:.0f}x")
    cold_cli()
    print(f"bench wall time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
