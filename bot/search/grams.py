"""Character bigrams: a second view of a question that needs no word segmentation.

The word index (rank.py) matches the words jieba cuts. A question can share a passage's meaning in pieces the cut
does not line up with (诉权 and 起诉的权利, 最长多久 in a topic line and 最长能多久 typed). The engine re-ranks its
best candidates by also scoring the question's character bigrams, as typed, against each candidate's text and
topics with BM25 (`Bigrams.scores`), and adds that, scaled, to the word score (engine.BIGRAM_WEIGHT).

Only the bigrams' document frequencies are kept (sorted codes and counts, built once with the index); a candidate's
term frequencies are counted in its text at query time, for the few dozen candidates re-ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.2
B = 0.75
#: Separates the passages' texts when they are scanned together (no passage holds it).
_SEP = "\x00"


def _cjk(a: np.ndarray) -> np.ndarray:
    """Which code points are CJK ideographs (the ranges segment.CJK_RE accepts)."""
    return ((a >= 0x4E00) & (a <= 0x9FFF)) | ((a >= 0x3400) & (a <= 0x4DBF)) | ((a >= 0xF900) & (a <= 0xFAFF))


def _points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def _pairs(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The codes of the CJK bigrams in code points `a`, and where each starts."""
    if len(a) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ok = _cjk(a[:-1]) & _cjk(a[1:])
    at = np.flatnonzero(ok)
    return (a[at] << 21) | a[at + 1], at


def bigrams(text: str) -> list[str]:
    """The distinct CJK bigrams of `text`, in order of first appearance."""
    codes, _ = _pairs(_points(text))
    return list(dict.fromkeys(chr(int(c) >> 21) + chr(int(c) & 0x1FFFFF) for c in codes))


@dataclass
class Bigrams:
    """Document frequencies of the corpus's CJK bigrams, for idf, and the average number of bigrams a text has."""

    codes: np.ndarray  # int64, sorted distinct bigram codes
    df: np.ndarray  # int32, documents holding each
    n_docs: int
    avg: float

    @classmethod
    def build(cls, texts: Sequence[str]) -> Bigrams:
        """Count, in one vectorised pass, the texts holding each bigram (texts already normalised)."""
        n = len(texts)
        if not n:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int32), 0, 1.0)
        a = _points(_SEP.join(t.replace(_SEP, " ") for t in texts))
        doc = np.cumsum(a == 0)  # the text each code point belongs to
        codes, at = _pairs(a)
        owner = doc[at]
        lengths = np.bincount(owner, minlength=n)
        pairs = np.unique((owner << 42) | codes)  # each (text, bigram) once
        uniq, df = np.unique(pairs & ((1 << 42) - 1), return_counts=True)
        return cls(uniq, df.astype(np.int32), n, float(max(lengths.mean(), 1.0)))

    def idf(self, grams: Iterable[str]) -> dict[str, float]:
        """Lucene's idf of each bigram the corpus holds (the others are left out)."""
        out: dict[str, float] = {}
        for g in grams:
            code = (ord(g[0]) << 21) | ord(g[1])
            i = int(np.searchsorted(self.codes, code))
            if i < len(self.codes) and self.codes[i] == code:
                df = float(self.df[i])
                out[g] = float(np.log1p((self.n_docs - df + 0.5) / (df + 0.5)))
        return out

    def scores(self, grams: Iterable[str], texts: Sequence[str]) -> np.ndarray:
        """The BM25 score of each text (normalised like the corpus) for the question's bigrams."""
        weights = self.idf(grams)
        out = np.zeros(len(texts), dtype=np.float64)
        if not weights:
            return out
        for i, text in enumerate(texts):
            length = len(_pairs(_points(text))[0])
            norm = K1 * (1 - B + B * length / self.avg)
            s = 0.0
            for g, w in weights.items():
                tf = text.count(g)
                if tf:
                    s += w * tf * (K1 + 1) / (tf + norm)
            out[i] = s
        return out
