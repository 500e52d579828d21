"""Ranking: BM25 postings over the segmented passages, scoring, top-k, idf and the proximity measure the engine
uses to re-rank the best candidates (how much of the question they cover, how close together)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import numpy as np

from bot import texts
from bot.search.normalise import Normaliser
from bot.search.segment import CJK_RE, RUN_RE, Segmenter, Vocab

if TYPE_CHECKING:
    from bot.content import Passage

K1 = 1.5
B = 0.75
#: The length normalisation of a statute's article (a long list of cases is often the answer).
B_LAW = 0.5
#: A word of an article's topics (content/law_topics.txt) counts this much of a word of its text.
TOPIC_WEIGHT = 1.0


@dataclass
class Index:
    """BM25 postings in CSR form plus the vocabulary for suggestions."""

    ids: list[str]  # passage ids, in content order
    terms: dict[str, int]  # canonical term -> term id
    indptr: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int32 doc numbers per posting
    weights: np.ndarray  # float32 BM25 weight per posting (idf * saturated tf)
    df: np.ndarray  # int32 document frequency per term
    term_list: list[str]
    char_terms: dict[str, tuple[int, ...]]  # character -> suggestible term ids containing it


class Progress:
    """A one-line progress indicator on a text stream (stderr)."""

    def __init__(self, stream: TextIO | None, total: int, label: str) -> None:
        self.stream, self.total, self.label = stream, total, label
        self.last = 0.0

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if done == self.total or now - self.last > 0.2:
            self.last = now
            end = "\n" if done == self.total else ""
            self.stream.write(f"\r{self.label} {done}/{self.total}{end}")
            self.stream.flush()


def build_index(
    passages: list[Passage], vocab: Vocab, progress: TextIO | None, label: str = texts.SEARCH_INDEX_PROGRESS,
    topics: list[str] | None = None,
) -> Index:
    """Segment every passage (memoising repeated clauses) and build the BM25 postings. `topics`, when given, are
    the passages' article topics: a second field whose words count TOPIC_WEIGHT of a word of the text (BM25F)."""
    norm = Normaliser(vocab.table, vocab.trad)
    seg = Segmenter(vocab.freq, vocab.total)
    terms: dict[str, int] = {}
    memo: dict[str, list[int]] = {}
    t_ids: list[np.ndarray] = []
    d_ids: list[np.ndarray] = []
    tfs: list[np.ndarray] = []
    lengths = np.zeros(len(passages), dtype=np.float32)
    bar = Progress(progress, len(passages), label)

    def tokens(text: str) -> list[int]:
        ids: list[int] = []
        for m in RUN_RE.finditer(norm(text)):
            run = m.group()
            got = memo.get(run)
            if got is None:
                got = []
                for term, _ in seg.search_terms(run):
                    if term in vocab.stop:
                        continue
                    term = vocab.canon.get(term, term)
                    tid = terms.get(term)
                    if tid is None:
                        tid = terms[term] = len(terms)
                    got.append(tid)
                if len(memo) > 500_000:
                    memo.clear()
                memo[run] = got
            ids.extend(got)
        return ids

    for n, p in enumerate(passages):
        ids = tokens(p.text)
        lengths[n] = len(ids)
        counts: dict[int, float] = dict(Counter(ids))
        for tid in tokens(topics[n]) if topics is not None and topics[n] else ():  # the topics field (BM25F)
            counts[tid] = counts.get(tid, 0.0) + TOPIC_WEIGHT
            lengths[n] += TOPIC_WEIGHT
        if counts:
            t_ids.append(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)))
            tfs.append(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
            d_ids.append(np.full(len(counts), n, dtype=np.int32))
        if n % 256 == 0:
            bar.update(n)
    bar.update(len(passages))
    return finish_index(passages, terms, t_ids, d_ids, tfs, lengths, vocab)


def finish_index(
    passages: list[Passage],
    terms: dict[str, int],
    t_ids: list[np.ndarray],
    d_ids: list[np.ndarray],
    tfs: list[np.ndarray],
    lengths: np.ndarray,
    vocab: Vocab,
) -> Index:
    """CSR postings with precomputed BM25 weights (Lucene idf, k1=1.5, b=0.75)."""
    nterms = len(terms)
    t = np.concatenate(t_ids) if t_ids else np.zeros(0, np.int32)
    d = np.concatenate(d_ids) if d_ids else np.zeros(0, np.int32)
    tf = np.concatenate(tfs) if tfs else np.zeros(0, np.float32)
    order = np.argsort(t, kind="stable")
    t, d, tf = t[order], d[order], tf[order]
    df = np.bincount(t, minlength=nterms).astype(np.int32)
    indptr = np.zeros(nterms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    n_docs = max(len(passages), 1)
    # Statutes' articles and essays' paragraphs are normalised each against their own kind's average length,
    # an article with a looser length penalty (the answer is often a long list of cases).
    law = np.array([getattr(p, "kind", "") == "law" for p in passages], dtype=bool)
    avg = np.ones(len(passages), dtype=np.float32)
    b = np.where(law, np.float32(B_LAW), np.float32(B))
    for mask in (law, ~law):
        if mask.any() and lengths[mask].mean() > 0:
            avg[mask] = lengths[mask].mean()
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm_len = K1 * (1 - b[d] + b[d] * lengths[d] / avg[d]) if len(d) else np.zeros(0, np.float32)
    weights = (idf[t] * tf * (K1 + 1) / (tf + norm_len)).astype(np.float32)
    term_list = [""] * nterms
    for w, i in terms.items():
        term_list[i] = w
    char_terms: dict[str, list[int]] = {}
    for i, w in enumerate(term_list):
        if len(w) >= 2 and CJK_RE.match(w) and w not in vocab.stop:
            for ch in set(w):
                char_terms.setdefault(ch, []).append(i)
    return Index(
        ids=[p.id for p in passages],
        terms=terms,
        indptr=indptr,
        docs=d.astype(np.int32),
        weights=weights,
        df=df,
        term_list=term_list,
        char_terms={k: tuple(v) for k, v in char_terms.items()},
    )


# --- the engine ---------------------------------------------------------------------------------


# --- scoring ------------------------------------------------------------------------------------


def bm25(index: Index, qterms: dict[str, float], n_docs: int) -> np.ndarray:
    """BM25 score of every passage for weighted query terms (known to the index)."""
    docs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for term, w in qterms.items():
        t = index.terms[term]
        lo, hi = index.indptr[t], index.indptr[t + 1]
        docs.append(index.docs[lo:hi])
        weights.append(index.weights[lo:hi] if w == 1.0 else index.weights[lo:hi] * np.float32(w))
    if not docs:
        return np.zeros(n_docs, dtype=np.float32)
    if len(docs) == 1:
        scores = np.zeros(n_docs, dtype=np.float32)
        scores[docs[0]] = weights[0]
        return scores
    return np.bincount(np.concatenate(docs), np.concatenate(weights), minlength=n_docs)


def top(scores: np.ndarray, k: int, nz: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Doc numbers of the k best scores (ties by content order) and how many scored > 0 (`nz`: those, if known)."""
    nz = np.flatnonzero(scores) if nz is None else nz
    total = len(nz)
    if total > 4 * k:
        part = np.argpartition(scores[nz], total - k)[total - k :]
        kth = scores[nz[part]].min()
        nz = nz[scores[nz] >= kth]
    order = np.argsort(-scores[nz], kind="stable")
    return nz[order][:k], total


def idf(index: Index, term: str, n_docs: int) -> float:
    """Lucene's idf of a term (0 if the index does not know it)."""
    t = index.terms.get(term)
    if t is None:
        return 0.0
    df = float(index.df[t])
    return float(np.log1p((n_docs - df + 0.5) / (df + 0.5)))


def span(text: str, forms: list[tuple[str, ...]]) -> int:
    """Length of the shortest stretch of `text` holding one form of every group (about: measured from the first
    form's start to the last form's end); 0 if a group is absent."""
    events: list[tuple[int, int, int]] = []  # (start, end, group)
    for i, group in enumerate(forms):
        found = False
        for s in group:
            start = text.find(s)
            while start >= 0 and len(events) < 2000:
                events.append((start, start + len(s), i))
                found = True
                start = text.find(s, start + 1)
        if not found:
            return 0
    events.sort()
    need = len(forms)
    counts = [0] * need
    covered = 0
    best = 0
    lo = 0
    for _start, end, g in events:  # two pointers over the occurrences in text order
        if counts[g] == 0:
            covered += 1
        counts[g] += 1
        while covered == need:
            width = end - events[lo][0]
            if not best or width < best:
                best = width
            g0 = events[lo][2]
            counts[g0] -= 1
            if counts[g0] == 0:
                covered -= 1
            lo += 1
    return best
