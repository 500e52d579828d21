"""Segmentation: jieba's DAG over a compact dictionary, the dictionaries in content/ and the vocabulary build.

Index side and query side use the same compact segmenter: jieba's DAG / max-probability segmentation over a
small dictionary (every jieba word that occurs in the corpus, the HMM new words jieba finds in it, and our own
dictionaries in content/), plus search-mode sub-words. Building the dictionary needs jieba (1-2 s to load);
the result is pickled with the index, so a cold process never imports jieba.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.search.normalise import Normaliser, build_char_table

RUN_RE = re.compile(r"[^\W_]+")
_ENG_RE = re.compile(r"[a-z0-9]")
CJK_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_SPLIT_RE = re.compile(r"[\s,，、/;；|]+")
_RELATED = ("≈", "~")


class Segmenter:
    """jieba's DAG + max-probability segmentation (no HMM) over a compact dictionary, with search-mode sub-words."""

    def __init__(self, freq: dict[str, int], total: int) -> None:
        self.freq = freq  # words (freq > 0) and their prefixes (freq 0), as jieba's prefix dict
        self.total = total
        self.logtotal = math.log(total)

    @staticmethod
    def prefix_dict(words: dict[str, int]) -> dict[str, int]:
        """Words plus all their prefixes (freq 0), the structure jieba's DAG walks."""
        out = dict(words)
        for w in words:
            for i in range(1, len(w)):
                out.setdefault(w[:i], 0)
        return out

    def _route(self, s: str) -> list[int]:
        """For each position, the end of the best word starting there (jieba's calc over get_DAG)."""
        n = len(s)
        freq = self.freq
        logtotal = self.logtotal
        best = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            top = -1e300
            top_x = k
            i = k
            frag = s[k]
            while i < n and frag in freq:
                f = freq[frag]
                if f:
                    v = math.log(f) - logtotal + best[i + 1]
                    if v > top or (v == top and i > top_x):
                        top, top_x = v, i
                i += 1
                frag = s[k : i + 1]
            if top_x == k and not freq.get(s[k]):
                top = math.log(1) - logtotal + best[k + 1]
            best[k] = top
            end[k] = top_x + 1
        return end

    def cut(self, run: str) -> Iterator[tuple[str, int]]:
        """Words of one run of letters/digits (jieba `cut(HMM=False)`), with their start offsets."""
        end = self._route(run)
        x = 0
        n = len(run)
        buf_start = -1
        while x < n:
            y = end[x]
            word = run[x:y]
            if y - x == 1 and _ENG_RE.match(word):
                if buf_start < 0:
                    buf_start = x
            else:
                if buf_start >= 0:
                    yield run[buf_start:x], buf_start
                    buf_start = -1
                yield word, x
            x = y
        if buf_start >= 0:
            yield run[buf_start:x], buf_start

    def search_terms(self, run: str) -> Iterator[tuple[str, int]]:
        """Search mode: every word plus each dictionary sub-word of length >= 2 inside it (not only 2-3 chars)."""
        freq = self.freq
        for word, start in self.cut(run):
            n = len(word)
            if n > 2:
                for size in range(2, n):
                    for i in range(n - size + 1):
                        sub = word[i : i + size]
                        if freq.get(sub):
                            yield sub, start + i
            yield word, start

    def terms(self, text: str) -> Iterator[tuple[str, int]]:
        """Search-mode terms of normalised text with their offsets; punctuation, symbols and spaces separate."""
        for m in RUN_RE.finditer(text):
            base = m.start()
            for term, off in self.search_terms(m.group()):
                yield term, base + off


# --- dictionaries in content/ ----------------------------------------------------------------------


def lines(path: Path) -> Iterator[str]:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def read_userdict(path: Path) -> list[tuple[str, int | None]]:
    """(word, freq or None) per line of a jieba-format user dictionary."""
    out: list[tuple[str, int | None]] = []
    for line in lines(path):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        out.append((parts[0], freq))
    return out


def read_synonyms(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """(equivalence groups from `A = B, C` lines, related groups from `A ≈ B, C` lines)."""
    equal: list[list[str]] = []
    related: list[list[str]] = []
    for line in lines(path):
        sep = next((s for s in ("=", *_RELATED) if s in line), None)
        if sep is None:
            continue
        left, right = line.split(sep, 1)
        words = [w for w in _SPLIT_RE.split(f"{left} {right}") if w]
        if len(words) >= 2:
            (equal if sep == "=" else related).append(words)
    return equal, related




# --- building -----------------------------------------------------------------------------------

_JIEBA: Any = None


def jieba_tokenizer(tmp_dir: Path) -> Any:
    """A private, initialised jieba.Tokenizer whose cache lives in `tmp_dir` (one per process)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tok.tmp_dir = str(tmp_dir)
        tok.initialize()
        _JIEBA = tok
    return _JIEBA


def _suggest_freq(word: str, seg: Segmenter) -> int:
    """The smallest frequency that makes the segmenter keep `word` whole (jieba's suggest_freq)."""
    f = 1.0
    for piece, _ in seg.cut(word):
        f *= seg.freq.get(piece) or 1
        f /= seg.total
    return max(int(f * seg.total) + 1, seg.freq.get(word, 1))


def _add_word(seg: Segmenter, word: str, freq: int) -> None:
    """Add `word` (and its prefixes) to the segmenter's prefix dictionary."""
    seg.freq[word] = freq
    for i in range(1, len(word)):
        seg.freq.setdefault(word[:i], 0)


def _distinct_runs(texts: Iterable[str]) -> Iterator[str]:
    """Each distinct run of word characters across the texts, once."""
    seen: set[str] = set()
    for text in texts:
        for m in RUN_RE.finditer(text):
            run = m.group()
            if run not in seen:
                seen.add(run)
                yield run


def _corpus_words(texts: Iterable[str], jfreq: dict[str, int]) -> dict[str, int]:
    """Every jieba dictionary word (freq > 0) that occurs in the texts: all a DAG over them can use."""
    out: dict[str, int] = {}
    for run in _distinct_runs(texts):
        n = len(run)
        for k in range(n):
            i = k
            frag = run[k]
            while i < n and frag in jfreq:
                if jfreq[frag]:
                    out[frag] = jfreq[frag]
                i += 1
                frag = run[k : i + 1]
    return out


def _hmm_words(texts: Iterable[str], tok: Any, known: dict[str, int]) -> Counter[str]:
    """New words jieba's HMM finds in the texts (names, places), Chinese only, 2-4 chars."""
    found: Counter[str] = Counter()
    for run in _distinct_runs(texts):
        for w in tok.cut(run, HMM=True):
            if 2 <= len(w) <= 4 and w not in known and CJK_RE.match(w):
                found[w] += 1
    return found


@dataclass
class Vocab:
    """The segmenter's dictionary, the normaliser's table and the term maps: what the query path needs besides
    the postings and the question vocabulary."""

    freq: dict[str, int]
    total: int
    table: dict[int, int]
    trad: frozenset[str]
    stop: frozenset[str]
    canon: dict[str, str]  # surface term -> canonical term (synonyms "=")
    related: dict[str, tuple[str, ...]]  # canonical term -> related canonical terms ("≈")
    surfaces: dict[str, tuple[str, ...]]  # canonical term -> surface forms that map to it


def make_vocab(texts: list[str], content_dir: Path | None, tmp_dir: Path) -> Vocab:
    """The compact dictionary and term maps, derived from jieba's dictionary, the corpus and content/."""
    table, trad = build_char_table()
    norm = Normaliser(table, trad)
    tok = jieba_tokenizer(tmp_dir)
    d = content_dir or Path("/nonexistent")
    userdict = read_userdict(d / "userdict.txt")
    equal, related = read_synonyms(d / "synonyms.txt")
    stop = frozenset(norm(w) for w in lines(d / "stopwords.txt"))
    ntexts = [norm(t) for t in texts]
    seg = Segmenter(Segmenter.prefix_dict(_corpus_words(ntexts, tok.FREQ)), tok.total)
    extra = [(norm(w), f) for w, f in userdict]
    extra += [(norm(w), None) for group in equal + related for w in group]
    for w, f in extra:
        if w and (f is not None or not seg.freq.get(w)):
            _add_word(seg, w, f if f is not None else max(_suggest_freq(w, seg), tok.FREQ.get(w, 0)))
    for w, count in _hmm_words(ntexts, tok, seg.freq).items():
        if count >= 2:
            _add_word(seg, w, _suggest_freq(w, seg))
    canon: dict[str, str] = {}
    for group in equal:
        head = norm(group[0])
        for w in group[1:]:
            canon[norm(w)] = head
    rel: dict[str, set[str]] = {}
    for group in related:
        head, *rest = [canon.get(norm(w), norm(w)) for w in group]
        rel.setdefault(head, set()).update(w for w in rest if w != head)
        for w in rest:
            if w != head:
                rel.setdefault(w, set()).add(head)
    surfaces: dict[str, set[str]] = {}
    for s, c in canon.items():
        surfaces.setdefault(c, {c}).add(s)
    return Vocab(
        freq=seg.freq,
        total=tok.total,
        table=table,
        trad=trad,
        stop=stop,
        canon=canon,
        related={k: tuple(sorted(v)) for k, v in rel.items()},
        surfaces={k: tuple(sorted(v, key=lambda x: (-len(x), x))) for k, v in surfaces.items()},
    )
