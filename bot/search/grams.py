"""Character bigrams: a second view of a question that needs no word segmentation.

The word index (rank.py) matches the words jieba cuts. A question can share a passage's wording in pieces the cuts
do not line up with: 试用期最长多久 typed meets 试用期最长 in an article and 最长多久 in its topic line, however each
is cut; and a passage holding the question's words run together, in its order, shares more pairs. The engine
re-ranks its best candidates by also scoring the question's character bigrams, as typed, against each candidate's
text and topics with BM25 (`Bigrams.scores`), and adds that, scaled, to the word score (engine.BIGRAM_WEIGHT).

Only the bigrams' document frequencies are kept (sorted codes and counts, built once with the index); a candidate's
term frequencies are counted in its text at query time, for the few dozen candidates re-ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

K1 = 1.2
B = 0.75
#: Separates the passages' texts when they are scanned together (no passage holds it).
_SEP = "\x00"
#: Texts scanned together when counting (bounds the build's working memory).
_BLOCK = 4096
_CODE_MASK = (1 << 42) - 1


def _cjk(a: np.ndarray) -> np.ndarray:
    """Which code points are CJK ideographs (the ranges segment.CJK_RE accepts)."""
    return ((a >= 0x4E00) & (a <= 0x9FFF)) | ((a >= 0x3400) & (a <= 0x4DBF)) | ((a >= 0xF900) & (a <= 0xFAFF))


def _points(text: str) -> np.ndarray:
    """The code points of `text` (a lone surrogate, which a broken document may hold, passes as itself)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def _pairs(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The codes of the CJK bigrams in code points `a`, and where each starts."""
    if len(a) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ok = _cjk(a[:-1]) & _cjk(a[1:])
    at = np.flatnonzero(ok)
    return (a[at] << 21) | a[at + 1], at


def _distinct(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values of `a` and how often each occurs (by sorting: faster here than np.unique)."""
    if not len(a):
        return a, np.zeros(0, np.int64)
    a = np.sort(a)
    starts = np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1])))
    return a[starts], np.diff(np.append(starts, len(a)))


def bigrams(text: str) -> list[str]:
    """The distinct CJK bigrams of `text`, in order of first appearance."""
    codes, _ = _pairs(_points(text))
    return list(dict.fromkeys(chr(int(c) >> 21) + chr(int(c) & 0x1FFFFF) for c in codes))


@dataclass
class Bigrams:
    """Document frequencies of the corpus's CJK bigrams, for idf, and the average number of bigrams a text has."""

    codes: np.ndarray  # int64, sorted distinct bigram codes
    df: np.ndarray  # int32, documents holding each
    lengths: np.ndarray  # float32, each text's number of bigrams
    avg: float

    @property
    def n_docs(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, texts: Iterable[str]) -> Bigrams:
        """Count the texts holding each bigram (texts already normalised), vectorised a block of texts at a time;
        `texts` is read once, a block at a time (a generator keeps a large corpus's copies out of memory)."""
        lengths: list[np.ndarray] = []
        found: list[np.ndarray] = []  # each block's distinct bigrams (one per text holding it)
        it = iter(texts)
        while block := list(islice(it, _BLOCK)):
            a = _points(_SEP.join(t.replace(_SEP, " ") for t in block))
            owner_of = np.cumsum(a == 0)  # the text of the block each code point belongs to
            codes, at = _pairs(a)
            owner = owner_of[at]
            lengths.append(np.bincount(owner, minlength=len(block)).astype(np.float32))
            found.append(_distinct((owner << 42) | codes)[0] & _CODE_MASK)  # each (text, bigram) once
        uniq, df = _distinct(np.concatenate(found) if found else np.zeros(0, np.int64))
        every = np.concatenate(lengths) if lengths else np.zeros(0, np.float32)
        return cls(uniq, df.astype(np.int32), every, float(max(every.mean(), 1.0)) if len(every) else 1.0)

    def idf(self, grams: Iterable[str]) -> dict[str, float]:
        """Lucene's idf of each bigram the corpus holds (the others are left out)."""
        grams = list(grams)
        if not grams or not len(self.codes):
            return {}
        codes = np.array([(ord(g[0]) << 21) | ord(g[1]) for g in grams], dtype=np.int64)
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        held = self.codes[at] == codes
        df = self.df[at].astype(np.float64)
        idf = np.log1p((self.n_docs - df + 0.5) / (df + 0.5))
        return {g: float(w) for g, w, ok in zip(grams, idf, held, strict=True) if ok}

    def scores(self, grams: Iterable[str], texts: Sequence[str], docs: Sequence[int]) -> np.ndarray:
        """The BM25 score of each text (passage `docs[i]`, normalised like the corpus) for the question's bigrams."""
        weights = self.idf(grams)
        out = np.zeros(len(texts), dtype=np.float64)
        if not weights:
            return out
        for i, text in enumerate(texts):
            norm = K1 * (1 - B + B * float(self.lengths[docs[i]]) / self.avg)
            s = 0.0
            for g, w in weights.items():
                tf = text.count(g)
                if tf:
                    s += w * tf * (K1 + 1) / (tf + norm)
            out[i] = s
        return out
