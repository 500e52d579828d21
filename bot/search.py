"""Keyword search over the content passages: normalise, segment, BM25, fallback and suggestions.

Index side and query side use the same compact segmenter: jieba's DAG / max-probability
segmentation over a small dictionary (every jieba word that occurs in the corpus, the HMM new
words jieba finds in it, and our own dictionaries in content/), plus search-mode sub-words. The
dictionary and the BM25 postings are pickled under the cache dir keyed by content.version and the
dictionary hashes, so a cold process answers without loading jieba (which takes 1-2 s).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import re
import sys
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from bot import texts

if TYPE_CHECKING:
    from bot.content import Content, Passage

log = logging.getLogger(__name__)

ENGINE_VERSION = "4"
DICT_FILES = ("userdict.txt", "synonyms.txt", "stopwords.txt")
#: Longer queries are cut to this many characters before anything else happens.
MAX_QUERY_CHARS = 100
K1 = 1.5
B = 0.75
#: Weight of a "≈" related term relative to the term the user typed.
RELATED_WEIGHT = 0.5
#: Weight of a search-mode sub-word (代表大会 inside 职工代表大会) relative to the whole word.
SUB_WEIGHT = 0.3
#: A query key (for "更多" buttons) is kept for this many recent long queries.
QUERY_KEYS = 2048
#: Phrase and proximity re-ranking of the best BM25 candidates: a passage holding the query's words as one
#: phrase gets its score raised by PHRASE_BONUS, one holding them close together by up to PROXIMITY_BONUS.
RERANK_TOP = 50
PHRASE_BONUS = 1.0
PROXIMITY_BONUS = 0.7
#: ... and one holding every word of the query (wherever) by COVER_BONUS on top.
COVER_BONUS = 0.3
#: An article query (第五条, 工会法第三条, 第5条) puts that article first.
_ARTICLE_Q_RE = re.compile(r"第([零〇一二三四五六七八九十百千两\d]{1,6})条")
_ARTICLE_P_RE = re.compile(r"^第([零〇一二三四五六七八九十百千两\d]{1,6})条")
_DOC_TITLE_RE = re.compile(r"^《(.+?)》")

_RUN_RE = re.compile(r"[^\W_]+")
_ENG_RE = re.compile(r"[a-z0-9]")
_CJK_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_SPLIT_RE = re.compile(r"[\s,，、/;；|]+")
_RELATED = ("≈", "~")


# --- result types -------------------------------------------------------------------------------


@dataclass
class Hit:
    """One ranked passage with its score and the matched terms as they appear in its text."""

    passage: Passage
    score: float
    terms: tuple[str, ...]


@dataclass
class SearchResult:
    """Hits for one page of a query, the total number of matching passages and suggestions."""

    query: str
    hits: list[Hit]
    total: int
    suggestions: list[str]
    fallback: bool


def cn_number(n: int) -> str:
    """12 -> 十二, 105 -> 一百零五 (how articles are numbered in Chinese legal texts)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + digits[rest] if rest < 10 else (
            "一" + cn_number(rest) if rest < 20 else cn_number(rest)))
        return digits[n // 100] + "百" + tail
    return str(n)


def article_label(number: str) -> str:
    """'5' / '５' / '五' -> '第五条'."""
    number = unicodedata.normalize("NFKC", number)
    return f"第{cn_number(int(number)) if number.isdigit() else number}条"


def passage_title(p: Passage) -> str:
    """The passage's display title, falling back to its section."""
    return str(getattr(p, "title", "") or p.section or "")


# --- normalisation --------------------------------------------------------------------------------


def _opencc_dict(name: str) -> Path:
    import opencc

    return Path(opencc.__file__).parent / "dictionary" / name


def build_char_table() -> tuple[dict[int, int], frozenset[str]]:
    """A length-preserving str.translate table (NFKC, traditional->simplified, lower) and the traditional chars."""
    table: dict[int, int] = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch).lower()
        if len(n) == 1 and n != ch:
            table[cp] = ord(n)
    trad: set[str] = set()
    for line in _opencc_dict("TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or len(parts[0]) != 1:
            continue
        src, cands = parts[0], parts[1].split()
        if not cands or src in cands or len(cands[0]) != 1:
            continue  # ambiguous (乾 -> 干/乾): leave it to phrase-level conversion
        trad.add(src)
        table[ord(src)] = ord(cands[0])
    return table, frozenset(trad)


_OPENCC: Any = None


def _t2s(text: str) -> str:
    """Phrase-level traditional -> simplified (opencc), loaded on first need."""
    global _OPENCC
    if _OPENCC is None:
        from opencc import OpenCC

        _OPENCC = OpenCC("t2s")
    return str(_OPENCC.convert(text))


class Normaliser:
    """NFKC, traditional -> simplified, lower case; punctuation is left to the segmenter (a separator)."""

    def __init__(self, table: dict[int, int], trad: frozenset[str]) -> None:
        self.table = table
        self.trad = trad

    def __call__(self, text: str) -> str:
        """The normalised text (may differ in length from `text`)."""
        text = unicodedata.normalize("NFKC", text)
        if not self.trad.isdisjoint(text):
            text = _t2s(text)
        return text.translate(self.table)

    def same_length(self, text: str) -> str:
        """A character-for-character normalisation: position i of the result is character i of `text`."""
        return text.translate(self.table)


# --- segmentation ---------------------------------------------------------------------------------


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
        for m in _RUN_RE.finditer(text):
            base = m.start()
            for term, off in self.search_terms(m.group()):
                yield term, base + off


# --- dictionaries in content/ ----------------------------------------------------------------------


def _lines(path: Path) -> Iterator[str]:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def read_userdict(path: Path) -> list[tuple[str, int | None]]:
    """(word, freq or None) per line of a jieba-format user dictionary."""
    out: list[tuple[str, int | None]] = []
    for line in _lines(path):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        out.append((parts[0], freq))
    return out


def read_synonyms(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """(equivalence groups from `A = B, C` lines, related groups from `A ≈ B, C` lines)."""
    equal: list[list[str]] = []
    related: list[list[str]] = []
    for line in _lines(path):
        sep = next((s for s in ("=", *_RELATED) if s in line), None)
        if sep is None:
            continue
        left, right = line.split(sep, 1)
        words = [w for w in _SPLIT_RE.split(f"{left} {right}") if w]
        if len(words) >= 2:
            (equal if sep == "=" else related).append(words)
    return equal, related


def dictionary_hash(content_dir: Path | None) -> str:
    """Hash of our dictionary files (part of the cache key)."""
    h = hashlib.sha256(ENGINE_VERSION.encode())
    for name in DICT_FILES:
        if content_dir is not None and (content_dir / name).is_file():
            h.update(name.encode() + b"\0" + (content_dir / name).read_bytes())
    return h.hexdigest()[:16]


# --- building -----------------------------------------------------------------------------------

_JIEBA: Any = None


def _jieba(tmp_dir: Path) -> Any:
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
        for m in _RUN_RE.finditer(text):
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
            if 2 <= len(w) <= 4 and w not in known and _CJK_RE.match(w):
                found[w] += 1
    return found


@dataclass
class _Vocab:
    """Everything the query path needs besides the postings."""

    freq: dict[str, int]
    total: int
    table: dict[int, int]
    trad: frozenset[str]
    stop: frozenset[str]
    canon: dict[str, str]  # surface term -> canonical term (synonyms "=")
    related: dict[str, tuple[str, ...]]  # canonical term -> related canonical terms ("≈")
    surfaces: dict[str, tuple[str, ...]]  # canonical term -> surface forms that map to it


def _make_vocab(texts: list[str], content_dir: Path | None, tmp_dir: Path) -> _Vocab:
    """The compact dictionary and term maps, derived from jieba's dictionary, the corpus and content/."""
    table, trad = build_char_table()
    norm = Normaliser(table, trad)
    tok = _jieba(tmp_dir)
    d = content_dir or Path("/nonexistent")
    userdict = read_userdict(d / "userdict.txt")
    equal, related = read_synonyms(d / "synonyms.txt")
    stop = frozenset(norm(w) for w in _lines(d / "stopwords.txt"))
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
    return _Vocab(
        freq=seg.freq,
        total=tok.total,
        table=table,
        trad=trad,
        stop=stop,
        canon=canon,
        related={k: tuple(sorted(v)) for k, v in rel.items()},
        surfaces={k: tuple(sorted(v, key=lambda x: (-len(x), x))) for k, v in surfaces.items()},
    )


@dataclass
class _Index:
    """BM25 postings in CSR form plus the vocabulary for suggestions."""

    ids: list[str]  # passage ids, in content order
    terms: dict[str, int]  # canonical term -> term id
    indptr: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int32 doc numbers per posting
    weights: np.ndarray  # float32 BM25 weight per posting (idf * saturated tf)
    df: np.ndarray  # int32 document frequency per term
    term_list: list[str]
    char_terms: dict[str, tuple[int, ...]]  # character -> suggestible term ids containing it


class _Progress:
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


def _build_index(
    passages: list[Passage], vocab: _Vocab, progress: TextIO | None, label: str = texts.SEARCH_INDEX_PROGRESS
) -> _Index:
    """Segment every passage (memoising repeated clauses) and build the BM25 postings."""
    norm = Normaliser(vocab.table, vocab.trad)
    seg = Segmenter(vocab.freq, vocab.total)
    terms: dict[str, int] = {}
    memo: dict[str, list[int]] = {}
    t_ids: list[np.ndarray] = []
    d_ids: list[np.ndarray] = []
    tfs: list[np.ndarray] = []
    lengths = np.zeros(len(passages), dtype=np.float32)
    bar = _Progress(progress, len(passages), label)
    for n, p in enumerate(passages):
        ids: list[int] = []
        for m in _RUN_RE.finditer(norm(p.text)):
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
        lengths[n] = len(ids)
        if ids:
            counts = Counter(ids)
            t_ids.append(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)))
            tfs.append(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
            d_ids.append(np.full(len(counts), n, dtype=np.int32))
        if n % 256 == 0:
            bar.update(n)
    bar.update(len(passages))
    return _finish_index(passages, terms, t_ids, d_ids, tfs, lengths, vocab)


def _finish_index(
    passages: list[Passage],
    terms: dict[str, int],
    t_ids: list[np.ndarray],
    d_ids: list[np.ndarray],
    tfs: list[np.ndarray],
    lengths: np.ndarray,
    vocab: _Vocab,
) -> _Index:
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
    avgdl = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm_len = K1 * (1 - B + B * lengths[d] / avgdl) if len(d) else np.zeros(0, np.float32)
    weights = (idf[t] * tf * (K1 + 1) / (tf + norm_len)).astype(np.float32)
    term_list = [""] * nterms
    for w, i in terms.items():
        term_list[i] = w
    char_terms: dict[str, list[int]] = {}
    for i, w in enumerate(term_list):
        if len(w) >= 2 and _CJK_RE.match(w) and w not in vocab.stop:
            for ch in set(w):
                char_terms.setdefault(ch, []).append(i)
    return _Index(
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


def query_key(query: str) -> str:
    """A short stable key for a query (for callback data)."""
    return hashlib.sha1(query.encode("utf-8")).hexdigest()[:10]


def passage_key(pid: str) -> str:
    """A short stable key for a passage id (for callback data)."""
    return hashlib.sha1(pid.encode("utf-8")).hexdigest()[:10]


class SearchEngine:
    """BM25 over segmented passages with synonym folding, a bigram fallback and suggestions."""

    def __init__(self, passages: list[Passage], vocab: _Vocab, index: _Index) -> None:
        self.passages = passages
        self.vocab = vocab
        self.index = index
        self.norm = Normaliser(vocab.table, vocab.trad)
        self.seg = Segmenter(vocab.freq, vocab.total)
        self.by_key = {passage_key(p.id): p for p in passages}
        self.by_id = {p.id: p for p in passages}
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._fallback_texts: list[str] | None = None
        self._norm_cache: dict[str, str] = {}
        #: Phrase/proximity re-ranking on (tests and the benchmark compare it off).
        self.proximity = True
        self.articles: dict[str, list[int]] = {}
        self.doc_titles: list[str] = []
        for n, p in enumerate(passages):
            m = _ARTICLE_P_RE.match(p.text)
            if m:
                self.articles.setdefault(article_label(m.group(1)), []).append(n)
            t = _DOC_TITLE_RE.match(p.source)
            self.doc_titles.append(self.norm(t.group(1)) if t else "")

    # construction

    @classmethod
    def build(
        cls, content: Content, content_dir: Path | None = None, cache_dir: Path | None = None,
        progress: TextIO | None = None,
    ) -> SearchEngine:
        """Build from scratch (needs jieba's dictionary)."""
        passages = list(content.passages)
        tmp = (cache_dir or Path.home() / ".cache" / "union-bot") / "jieba"
        vocab = _make_vocab([p.text for p in passages], content_dir, tmp)
        return cls(passages, vocab, _build_index(passages, vocab, progress))

    @classmethod
    def load(
        cls, content: Content, cache_dir: Path | None, content_dir: Path | None = None,
        progress: TextIO | None = None,
    ) -> SearchEngine:
        """The engine for `content`, from the on-disk cache when it matches, else built (and cached)."""
        content_dir = Path(content_dir) if content_dir is not None else _guess_content_dir(content)
        if cache_dir is None:
            return cls.build(content, content_dir, None, progress)
        cache_dir = Path(cache_dir)
        key = hashlib.sha256(f"{content.version}|{dictionary_hash(content_dir)}".encode()).hexdigest()[:20]
        path = cache_dir / f"search-{key}.pkl"
        passages = list(content.passages)
        try:
            with path.open("rb") as f:
                vocab, index = pickle.load(f)
            if index.ids == [p.id for p in passages]:
                return cls(passages, vocab, index)
        except FileNotFoundError:
            pass
        except Exception:  # noqa: BLE001 - a bad cache is rebuilt
            log.warning("search cache %s unreadable, rebuilding", path, exc_info=True)
        t0 = time.perf_counter()
        engine = cls.build(content, content_dir, cache_dir, progress)
        log.info("search index built in %.2f s (%d passages)", time.perf_counter() - t0, len(passages))
        engine._save(path)
        return engine

    def _save(self, path: Path) -> None:
        """Write the cache atomically and drop older search caches."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump((self.vocab, self.index), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            for old in path.parent.glob("search-*.pkl"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            log.warning("could not write search cache %s", path, exc_info=True)

    # query analysis

    def analyse(self, query: str) -> dict[str, float]:
        """Canonical query terms (known to the index) with their weights; related terms at half weight."""
        out: dict[str, float] = {}
        whole: list[str] = []
        freq = self.seg.freq
        for m in _RUN_RE.finditer(self.norm(query[:MAX_QUERY_CHARS])):
            for word, _ in self.seg.cut(m.group()):
                n = len(word)
                subs = [word[i : i + k] for k in range(2, n) for i in range(n - k + 1)] if n > 2 else []
                for term, weight in [(t, SUB_WEIGHT) for t in subs if freq.get(t)] + [(word, 1.0)]:
                    if term in self.vocab.stop:
                        continue
                    term = self.vocab.canon.get(term, term)
                    if term in self.index.terms and out.get(term, 0.0) < weight:
                        out[term] = weight
                        if weight == 1.0:
                            whole.append(term)
        for term in whole:
            for rel in self.vocab.related.get(term, ()):
                if rel in self.index.terms and rel not in out:
                    out[rel] = RELATED_WEIGHT
        return out

    def _scores(self, qterms: dict[str, float]) -> np.ndarray:
        idx = self.index
        docs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for term, w in qterms.items():
            t = idx.terms[term]
            lo, hi = idx.indptr[t], idx.indptr[t + 1]
            docs.append(idx.docs[lo:hi])
            weights.append(idx.weights[lo:hi] if w == 1.0 else idx.weights[lo:hi] * np.float32(w))
        if len(docs) == 1:
            scores = np.zeros(len(self.passages), dtype=np.float32)
            scores[docs[0]] = weights[0]
            return scores
        return np.bincount(np.concatenate(docs), np.concatenate(weights), minlength=len(self.passages))

    @staticmethod
    def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, int]:
        """Doc numbers of the k best scores (ties by content order) and how many scored > 0."""
        nz = np.flatnonzero(scores)
        total = len(nz)
        if total > 4 * k:
            part = np.argpartition(scores[nz], total - k)[total - k :]
            kth = scores[nz[part]].min()
            nz = nz[scores[nz] >= kth]
        order = np.argsort(-scores[nz], kind="stable")
        return nz[order][:k], total

    def search(self, query: str, limit: int = 3, offset: int = 0) -> SearchResult:
        """Rank passages for `query`; page `offset`..`offset+limit`; fallback and suggestions when nothing matches."""
        query = (query or "")[:MAX_QUERY_CHARS]
        limit = max(0, limit)
        offset = max(0, offset)
        qterms = self.analyse(query)
        article = self._article(query)
        if qterms or article:
            scores = self._scores(qterms) if qterms else np.zeros(len(self.passages), dtype=np.float32)
            if self.proximity and len(qterms) > 1:
                self._rerank(query, qterms, scores)
            if article:
                scores = scores.astype(np.float64)
                top_score = float(scores.max(initial=0.0))
                for n, bonus in article.items():
                    scores[n] += top_score + bonus
            top, total = self._top(scores, offset + limit)
            if total:
                hits = [self._hit(int(i), float(scores[i]), qterms) for i in top[offset:]]
                return SearchResult(query, hits, total, [], False)
        ranked = self._fallback(query)
        if ranked:
            hits = [Hit(self.passages[i], s, terms) for i, s, terms in ranked[offset : offset + limit]]
            return SearchResult(query, hits, len(ranked), [], True)
        return SearchResult(query, [], 0, self.suggest(query), False)

    def _normtext(self, text: str) -> str:
        norm = self._norm_cache.get(text)
        if norm is None:
            norm = self.norm.same_length(text)
            if len(self._norm_cache) >= 4096:
                self._norm_cache.clear()
            self._norm_cache[text] = norm
        return norm

    def _query_words(self, query: str) -> list[str]:
        """The query's whole words (not sub-words, not stop words), canonical, in the order typed."""
        words: list[str] = []
        for m in _RUN_RE.finditer(self.norm(query)):
            for word, _ in self.seg.cut(m.group()):
                if word in self.vocab.stop:
                    continue
                word = self.vocab.canon.get(word, word)
                if word not in words:
                    words.append(word)
        return words

    def _rerank(self, query: str, qterms: dict[str, float], scores: np.ndarray) -> None:
        """Raise, in place, the scores of the best candidates that hold the query's words together:
        the whole phrase (PHRASE_BONUS) or a window barely longer than the words (up to PROXIMITY_BONUS)."""
        # Words the index does not know (a name seen once) still count when the passage holds them literally.
        words = [w for w in self._query_words(query) if w in qterms or len(w) >= 2]
        if len(words) < 2:
            return
        top, _ = self._top(scores, RERANK_TOP)
        phrases = {"".join(words)}
        for w in words:  # the phrase as written with a synonym's surface form too
            for s in self.vocab.surfaces.get(w, ()):
                phrases.add("".join(s if x == w else x for x in words))
        need = sum(len(w) for w in words)
        for n in top:
            text = self._normtext(self.passages[int(n)].text)
            if any(ph in text for ph in phrases):
                scores[n] *= 1 + COVER_BONUS + PHRASE_BONUS
                continue
            span = self._span(text, words)
            if span:
                scores[n] *= 1 + COVER_BONUS + PROXIMITY_BONUS * min(1.0, need / span)

    def _span(self, text: str, words: list[str]) -> int:
        """Length of the shortest stretch of `text` holding every word (any surface form); 0 if some is absent."""
        events: list[tuple[int, int, int]] = []  # (start, end, word index)
        for i, w in enumerate(words):
            found = False
            for s in self.vocab.surfaces.get(w, (w,)):
                start = text.find(s)
                while start >= 0 and len(events) < 2000:
                    events.append((start, start + len(s), i))
                    found = True
                    start = text.find(s, start + 1)
            if not found:
                return 0
        events.sort()
        best = 0
        last: dict[int, tuple[int, int]] = {}
        for start, end, i in events:
            last[i] = (start, end)
            if len(last) == len(words):
                lo = min(v[0] for v in last.values())
                hi = max(v[1] for v in last.values())
                if not best or hi - lo < best:
                    best = hi - lo
        return best

    def _article(self, query: str) -> dict[int, float]:
        """Passages that are the article a query names (第五条, 工会法第三条), with a small bonus for the
        ones whose document title holds the words before the article number."""
        m = _ARTICLE_Q_RE.search(unicodedata.normalize("NFKC", query))
        if not m:
            return {}
        found = self.articles.get(article_label(m.group(1)))
        if not found:
            return {}
        hint = self.norm(query[: m.start()]).strip(" 《》<>的")
        hint = re.sub(r"^中华人民共和国", "", hint)
        out: dict[int, float] = {}
        for n in found:
            out[n] = 1.0 if hint and hint in self.doc_titles[n] else (0.5 if not hint else 0.0)
        if hint and any(out.values()):
            out = {n: b for n, b in out.items() if b}
        return out

    def _hit(self, n: int, score: float, qterms: dict[str, float]) -> Hit:
        """A Hit with the surface forms of the matched terms found in the passage text."""
        p = self.passages[n]
        return Hit(p, score, self.matched_terms(p.text, qterms))

    def matched_terms(self, text: str, qterms: dict[str, float]) -> tuple[str, ...]:
        """The query terms (and their synonyms) as they are written in `text`, longest first."""
        norm = self._normtext(text)
        found: set[str] = set()
        for term in qterms:
            for surface in self.vocab.surfaces.get(term, (term,)):
                start = norm.find(surface)
                while start >= 0 and len(found) < 32:
                    found.add(text[start : start + len(surface)])
                    start = norm.find(surface, start + 1)
        return tuple(sorted(found, key=lambda s: (-len(s), s)))

    # fallback and suggestions

    def _bigrams(self, query: str) -> list[str]:
        grams: list[str] = []
        for m in _RUN_RE.finditer(self.norm(query)):
            run = m.group()
            if len(run) == 1 and run not in self.vocab.stop:
                grams.append(run)
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        return list(dict.fromkeys(g for g in grams if g not in self.vocab.stop))

    def _fallback(self, query: str) -> list[tuple[int, float, tuple[str, ...]]]:
        """Passages sharing character bigrams with the query, best coverage first."""
        grams = self._bigrams(query)
        if not grams:
            return []
        if self._fallback_texts is None:
            self._fallback_texts = [self.norm.same_length(p.text) for p in self.passages]
        need = 1 if len(grams) <= 2 else max(1, math.ceil(len(grams) / 3))
        ranked: list[tuple[int, float, tuple[str, ...]]] = []
        for n, text in enumerate(self._fallback_texts):
            got = [g for g in grams if g in text]
            if len(got) >= need:
                score = len(got) / len(grams) + 0.01 * sum(text.count(g) for g in got) / (1 + len(text) / 200)
                ranked.append((n, score, self.matched_terms(self.passages[n].text, dict.fromkeys(got, 1.0))))
        ranked.sort(key=lambda r: -r[1])
        return ranked

    def suggest(self, query: str, limit: int = 5) -> list[str]:
        """Up to `limit` corpus terms sharing characters with the query; common domain terms if none."""
        idx = self.index
        chars = [c for c in dict.fromkeys(self.norm(query)) if c in idx.char_terms]
        scores: Counter[int] = Counter()
        for c in chars:
            for t in idx.char_terms[c]:
                scores[t] += 1
        if scores:
            ranked = sorted(scores, key=lambda t: (-scores[t], -int(idx.df[t]), idx.term_list[t]))
            return [idx.term_list[t] for t in ranked[:limit]]
        popular = [t for t in self.vocab.surfaces if t in idx.terms] + [
            t for t in texts.SEARCH_FALLBACK_TERMS if t in idx.terms
        ]
        return list(dict.fromkeys(popular))[:limit]

    # helpers for handlers

    def remember(self, query: str) -> str:
        """Store a query under a short key (bounded LRU) and return the key."""
        key = query_key(query)
        self._queries[key] = query
        self._queries.move_to_end(key)
        while len(self._queries) > QUERY_KEYS:
            self._queries.popitem(last=False)
        return key

    def recall(self, key: str) -> str | None:
        """The query stored under `key`, or None (forgotten, or from before a restart)."""
        return self._queries.get(key)

    def passage_by_key(self, key: str) -> Passage | None:
        """The passage whose passage_key is `key`, or None."""
        return self.by_key.get(key)


def _guess_content_dir(content: Content) -> Path | None:
    """Where the dictionaries live: content/ next to the working directory (the bot runs from the repo)."""
    for cand in (Path("content"), Path(__file__).resolve().parent.parent / "content"):
        if (cand / "userdict.txt").is_file():
            return cand
    return None


# --- command line -------------------------------------------------------------------------------


def _hit_dict(h: Hit) -> dict[str, Any]:
    return {
        "id": h.passage.id,
        "title": passage_title(h.passage),
        "text": h.passage.text,
        "source": h.passage.source,
        "score": round(h.score, 4),
        "terms": list(h.terms),
    }


def _print_readable(result: SearchResult, stdout: TextIO) -> None:
    if not result.hits:
        stdout.write(texts.search_cli_no_hits(result.query, result.suggestions))
        return
    stdout.write(texts.search_cli_head(result.query, result.total, result.fallback))
    for i, h in enumerate(result.hits, 1):
        text = h.passage.text if len(h.passage.text) <= 120 else h.passage.text[:119] + "…"
        stdout.write(f"{i}. [{h.score:.2f}] {passage_title(h.passage)}  ({h.passage.id})\n   {text}\n")
        stdout.write(texts.search_cli_source(h.passage.source))


def run_cli(
    content_dir: Path, cache_dir: Path, query: str | None, as_json: bool, limit: int,
    stdin: TextIO, stdout: TextIO,
) -> int:
    """`run.py search [query] [--json] [--limit N]`: one query, or one query per stdin line."""
    from bot.content import ContentError, load_content

    try:
        content = load_content(Path(content_dir))
    except ContentError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    engine = SearchEngine.load(content, Path(cache_dir), content_dir=Path(content_dir), progress=sys.stderr)
    queries = [query] if query is not None else (line.rstrip("\n") for line in stdin)
    for q in queries:
        result = engine.search(q, limit=max(1, limit))
        if as_json:
            stdout.write(json.dumps([_hit_dict(h) for h in result.hits], ensure_ascii=False) + "\n")
        else:
            _print_readable(result, stdout)
        stdout.flush()
    return 0
