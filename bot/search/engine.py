"""The search engine: understand the question, rank with BM25, re-rank the best candidates, page the hits.

Statutes and essays share one index. `search(query, scope="law")` ranks statutes only (/law); with the default
scope a question that reads as a legal one puts the statutes' articles before the essays. The dictionary, the
postings and the question vocabulary are pickled under the cache dir keyed by content.version and the
dictionary hashes, so a cold process answers without loading jieba (which takes 1-2 s).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from bot import texts
from bot.content import EXTRA_VERSION_FILES
from bot.search import rank
from bot.search.grams import Bigrams, bigrams
from bot.search.normalise import Normaliser
from bot.search.segment import RUN_RE, Segmenter, Vocab, jieba_tokenizer, make_vocab
from bot.search.topics import TOPICS_FILE, WEIGHT_RANGE, WEIGHTS_FILE, read_topics, read_weights, topic_texts
from bot.search.understand import (
    MAX_QUERY_CHARS,
    QueryVocab,
    Question,
    Understander,
    article_label,
    law_names,
)

if TYPE_CHECKING:
    from bot.content import Content, Passage

log = logging.getLogger(__name__)

ENGINE_VERSION = "8"
#: The dictionaries, question vocabulary and article topics in content/ (part of the cache key).
DICT_FILES = EXTRA_VERSION_FILES
#: Where a search looks: everything, or statutes only (/law).
ALL, LAW = "all", "law"
#: A query key (for "更多" buttons) is kept for this many recent long queries.
QUERY_KEYS = 2048
#: Re-ranking of the best BM25 candidates: a candidate's score is multiplied by how much of the question it
#: covers, COVER_FLOOR + (1 - COVER_FLOOR) * coverage ** COVER_POWER (coverage: the share of the question's
#: concepts it holds, each weighted by its idf), and raised by PHRASE_BONUS when it holds the typed words as
#: one phrase, or by up to PROXIMITY_BONUS when it holds the concepts close together.
RERANK_TOP = 50
COVER_FLOOR = 0.35
COVER_POWER = 1.0
PHRASE_BONUS = 1.0
PROXIMITY_BONUS = 0.7
#: Articles of a statute named in the question (劳动合同法里…) have their scores multiplied by this.
NAMED_LAW_BOOST = 3.0
#: A court's interpretation (最高人民法院关于…) answers a worker's question less often than the statute it
#: interprets: its articles' scores are multiplied by this (unless the question names it).
INTERPRETATION_WEIGHT = 0.8
_ARTICLE_P_RE = re.compile(r"^第([零〇一二三四五六七八九十百千两\d]{1,6})条")
_DOC_TITLE_RE = re.compile(r"^《(.+?)》")
#: Statutes hold together: among the best LAW_COHERENCE_TOP candidates, each statute's share of their score raises
#: its articles' scores by up to LAW_COHERENCE (a stray article of another statute gives way to the statute the
#: question is about).
LAW_COHERENCE = 0.3
LAW_COHERENCE_TOP = 10
#: The best BIGRAM_TOP candidates are re-ranked once more by the question's character bigrams as typed, matched
#: against their text and topics (grams.py): each gains BIGRAM_WEIGHT times the best score, scaled by its bigram
#: score's share of the best bigram score. The gain does not scale with a statute's weight (scaling it lost two
#: STARD questions of a tune fold); a statute named in the question is boosted after it.
BIGRAM_TOP = 30
BIGRAM_WEIGHT = 0.7
#: How a court's interpretation's title begins.
_COURT = "最高人民法院"


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
    #: Whether the question reads as a legal one (then statutes come first in a search of everything).
    legal: bool = False


def passage_title(p: Passage) -> str:
    """The passage's display title (a statute's citation), falling back to its section."""
    return str(getattr(p, "title", "") or p.section or "")


def query_key(query: str) -> str:
    """A short stable key for a query (for callback data)."""
    return hashlib.sha1(query.encode("utf-8")).hexdigest()[:10]


def passage_key(pid: str) -> str:
    """A short stable key for a passage id (for callback data)."""
    return hashlib.sha1(pid.encode("utf-8")).hexdigest()[:10]


def dictionary_hash(content_dir: Path | None) -> str:
    """Hash of our dictionary files (part of the cache key)."""
    h = hashlib.sha256(ENGINE_VERSION.encode())
    for name in DICT_FILES:
        if content_dir is not None and (content_dir / name).is_file():
            h.update(name.encode() + b"\0" + (content_dir / name).read_bytes())
    return h.hexdigest()[:16]


class SearchEngine:
    """BM25 over segmented passages with question understanding, re-ranking, a bigram fallback and suggestions."""

    def __init__(self, passages: list[Passage], vocab: Vocab, index: rank.Index, qvocab: QueryVocab,
                 topics: list[str] | None = None, grams: Bigrams | None = None,
                 weights: dict[str, float] | None = None) -> None:
        self.passages = passages
        #: Each passage's article topics (content/law_topics.txt), indexed with it and counted as its text.
        self.topics = topics if topics is not None else [""] * len(passages)
        self.vocab = vocab
        self.index = index
        self.qvocab = qvocab
        self.norm = Normaliser(vocab.table, vocab.trad)
        self.seg = Segmenter(vocab.freq, vocab.total)
        self.by_key = {passage_key(p.id): p for p in passages}
        self.by_id = {p.id: p for p in passages}
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._fallback_texts: list[str] | None = None
        #: Passage number -> its text and topics normalised (the re-ranking's reading of the best candidates).
        self._norm_cache: dict[int, str] = {}
        #: Statutes' weights (content/law_weights.txt): a general statute gives way to the specific one.
        lo, hi = WEIGHT_RANGE
        self.weights = {name: min(max(w, lo), hi) for name, w in (weights or {}).items()}
        #: The corpus's character bigrams (for the bigram re-ranking).
        self.grams = grams if grams is not None else Bigrams.build(
            self.norm.same_length(self._fulltext(n)) for n in range(len(passages)))
        #: Re-ranking on (tests and the benchmark compare it off).
        self.proximity = True
        self.articles: dict[str, list[int]] = {}
        self.doc_titles: list[tuple[str, ...]] = []
        laws: dict[str, str] = {}
        law_of: list[int] = []
        for n, p in enumerate(passages):
            is_law = getattr(p, "kind", "") == "law"
            label = p.article if is_law else ""
            if not is_law:
                m = _ARTICLE_P_RE.match(p.text)
                label = article_label(m.group(1)) if m else ""
            if label:
                self.articles.setdefault(label, []).append(n)
            if is_law:
                laws.setdefault(p.law, p.law_title)
                law_of.append(list(laws).index(p.law))
                full = self.norm(p.law_title)
                self.doc_titles.append((self.norm(p.law), full, re.sub(r"^中华人民共和国", "", full)))
            else:
                law_of.append(-1)
                t = _DOC_TITLE_RE.match(p.source)
                self.doc_titles.append((self.norm(t.group(1)),) if t else ())
        self.laws = list(laws)
        self.prior = np.ones(len(passages), dtype=np.float32)
        for n, p in enumerate(passages):
            if law_of[n] >= 0 and p.law_title.startswith(_COURT):
                self.prior[n] = INTERPRETATION_WEIGHT
            if law_of[n] >= 0:
                self.prior[n] *= self.weights.get(p.law, 1.0)
        self.is_law = np.array([n >= 0 for n in law_of], dtype=bool)
        self.law_of = np.array(law_of, dtype=np.int32)
        self.has_laws = bool(self.laws)
        self.understand = Understander(self.norm, self.seg, vocab, qvocab, index.terms,
                                       law_names(laws.items(), self.norm))

    # construction

    @classmethod
    def build(
        cls, content: Content, content_dir: Path | None = None, cache_dir: Path | None = None,
        progress: TextIO | None = None,
    ) -> SearchEngine:
        """Build from scratch (needs jieba's dictionary)."""
        passages = list(content.passages)
        tmp = (cache_dir or Path.home() / ".cache" / "union-bot") / "jieba"
        topics = topic_texts(passages, read_topics(content_dir / TOPICS_FILE) if content_dir else {})
        weights = read_weights(content_dir / WEIGHTS_FILE) if content_dir else {}
        held = {p.law for p in passages if getattr(p, "kind", "") == "law"}
        unknown = sorted(set(weights) - held)
        if held and unknown:  # a misspelt name, or a statute this corpus does not hold
            log.warning("%s: no statute in the content is called %s; those weights are unused", WEIGHTS_FILE,
                        ", ".join(unknown))
        vocab = make_vocab([p.text for p in passages] + [t for t in topics if t], content_dir, tmp)
        index = rank.build_index(passages, vocab, progress, topics=topics)
        norm = Normaliser(vocab.table, vocab.trad)
        qvocab = QueryVocab.build(content_dir, norm, Segmenter(vocab.freq, vocab.total), vocab,
                                  jieba_tokenizer(tmp).FREQ)
        return cls(passages, vocab, index, qvocab, topics, weights=weights)

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
                vocab, index, qvocab, topics, grams, weights = pickle.load(f)
            if index.ids == [p.id for p in passages]:
                return cls(passages, vocab, index, qvocab, topics, grams, weights)
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
                state = (self.vocab, self.index, self.qvocab, self.topics, self.grams, self.weights)
                pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            for old in path.parent.glob("search-*.pkl"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            log.warning("could not write search cache %s", path, exc_info=True)

    # searching

    def analyse(self, query: str) -> dict[str, float]:
        """The question's index terms with their weights (typed words, sub-words, synonyms, legal words)."""
        return self.understand(query).terms

    def search(self, query: str, limit: int = 3, offset: int = 0, scope: str = ALL) -> SearchResult:
        """Rank passages for `query`; page `offset`..`offset+limit`; fallback and suggestions when nothing matches.

        scope LAW ranks statutes only; with ALL, a question that reads as a legal one puts statutes first."""
        query = (query or "")[:MAX_QUERY_CHARS]
        limit = max(0, limit)
        offset = max(0, offset)
        q = self.understand(query)
        legal = q.legal and self.has_laws
        if q.terms or q.article:
            scores, nz = self._ranked(q, scope)
            top, total = rank.top(scores, offset + limit, nz)
            if total:
                hits = [self._hit(int(i), float(scores[i]), q.terms) for i in top[offset:]]
                return SearchResult(query, hits, total, [], False, legal)
        ranked = self._fallback(query, scope)
        if ranked:
            hits = [Hit(self.passages[i], s, terms) for i, s, terms in ranked[offset : offset + limit]]
            return SearchResult(query, hits, len(ranked), [], True, legal)
        return SearchResult(query, [], 0, self.suggest(query), False, legal)

    def scores(self, q: Question, scope: str = ALL) -> np.ndarray:
        """Every passage's score for an understood question (0: not a match)."""
        return self._ranked(q, scope)[0]

    def _ranked(self, q: Question, scope: str = ALL) -> tuple[np.ndarray, np.ndarray]:
        """Every passage's score and the passages that match (computed once: a large corpus is long to scan)."""
        n_docs = len(self.passages)
        scores = rank.bm25(self.index, q.terms, n_docs) if q.terms else np.zeros(n_docs, dtype=np.float32)
        if scope == LAW:
            scores = scores * self.is_law
        if self.has_laws:
            scores = scores * self.prior
        nz = np.flatnonzero(scores)
        if self.proximity and len(q.concepts) >= 2:
            self._rerank(q, scores, nz)
        if self.has_laws and LAW_COHERENCE:
            scores = self._coherence(scores, nz)
        if self.proximity and BIGRAM_WEIGHT:
            scores = self._bigram_rerank(q, scores, nz)
        if q.laws and self.has_laws:
            named = np.isin(self.law_of, [self.laws.index(name) for name in q.laws if name in self.laws])
            scores = scores * np.where(named, np.float32(NAMED_LAW_BOOST) / self.prior, np.float32(1.0))
        article = self._article(q, scope)
        if article:
            scores = scores.astype(np.float64)
            top_score = float(scores.max(initial=0.0))
            for n, bonus in article.items():
                scores[n] += top_score + bonus
            nz = np.union1d(nz, np.fromiter(article, dtype=nz.dtype, count=len(article)))
        elif scope == ALL and q.legal and self.has_laws:
            lawful = self.is_law & (scores > 0)
            if lawful.any():
                scores = scores.astype(np.float64)
                scores[lawful] += float(scores.max(initial=0.0))
        return scores, nz

    def _fulltext(self, n: int) -> str:
        """A passage's text and its topics, as the re-ranking reads them (not normalised)."""
        text = self.passages[n].text
        return f"{text}\n{self.topics[n]}" if self.topics[n] else text

    def _normtext(self, n: int) -> str:
        norm = self._norm_cache.get(n)
        if norm is None:
            norm = self.norm.same_length(self._fulltext(n))
            if len(self._norm_cache) >= 8192:
                self._norm_cache.clear()
            self._norm_cache[n] = norm
        return norm

    def _rerank(self, q: Question, scores: np.ndarray, nz: np.ndarray) -> None:
        """Scale, in place, the best candidates' scores by how much of the question they cover, and raise the
        ones holding the typed words as a phrase or the concepts close together."""
        top, total = rank.top(scores, RERANK_TOP, nz)
        if not total:
            return
        n_docs = len(self.passages)
        weights = [max((rank.idf(self.index, t, n_docs) for t in c.terms), default=0.0) for c in q.concepts]
        whole = sum(weights)
        typed = [c for c in q.concepts if c.typed]
        phrases: set[str] = set()
        if len(typed) >= 2:
            parts = [c.forms for c in typed]
            phrases = {"".join(p[0] for p in parts)}
            for i, forms in enumerate(parts):  # the phrase as written with a synonym's surface form too
                for s in forms[1:]:
                    phrases.add("".join(s if j == i else p[0] for j, p in enumerate(parts)))
        for n in top:
            text = self._normtext(int(n))
            held = [i for i, c in enumerate(q.concepts) if any(f in text for f in c.forms)]
            cover = sum(weights[i] for i in held) / whole if whole else 1.0
            factor = COVER_FLOOR + (1 - COVER_FLOOR) * cover**COVER_POWER
            if phrases and any(ph in text for ph in phrases):
                factor *= 1 + PHRASE_BONUS
            elif len(held) >= 2:
                forms = [q.concepts[i].forms for i in held]
                width = rank.span(text, forms)
                need = sum(len(f[-1]) for f in forms)
                if width:
                    factor *= 1 + PROXIMITY_BONUS * min(1.0, need / width)
            scores[n] *= factor

    def _bigram_rerank(self, q: Question, scores: np.ndarray, nz: np.ndarray) -> np.ndarray:
        """Raise the best candidates by their character-bigram score for the question as typed (grams.py)."""
        # as typed (without the statute or article it names: articles of other statutes that cite it would win on
        # its name), and a typed word's other forms (劳模 and 劳动模范 rank alike)
        typed = [g for c in q.concepts if c.typed for f in c.forms for g in bigrams(f)]
        grams = list(dict.fromkeys(bigrams(q.plain) + typed))
        if not grams:
            return scores
        top, total = rank.top(scores, BIGRAM_TOP, nz)
        if not total:
            return scores
        best = float(scores[top[0]])
        got = self.grams.scores(grams, [self._normtext(int(n)) for n in top], top)
        most = float(got.max(initial=0.0))
        if best <= 0 or most <= 0:
            return scores
        scores = scores.astype(np.float64)
        scores[top] += BIGRAM_WEIGHT * best * got / most
        return scores

    def _coherence(self, scores: np.ndarray, nz: np.ndarray) -> np.ndarray:
        """Raise the articles of the statutes that hold most of the best candidates' score."""
        top, total = rank.top(scores, LAW_COHERENCE_TOP, nz)
        top = [int(n) for n in top if self.law_of[n] >= 0]
        mass = float(sum(scores[n] for n in top))
        if not top or mass <= 0:
            return scores
        share: dict[int, float] = {}
        for n in top:
            share[int(self.law_of[n])] = share.get(int(self.law_of[n]), 0.0) + float(scores[n]) / mass
        cands, _ = rank.top(scores, RERANK_TOP, nz)
        scores = scores.astype(np.float64)
        for n in cands:
            law = int(self.law_of[n])
            if law >= 0:
                scores[n] *= 1 + LAW_COHERENCE * share.get(law, 0.0)
        return scores

    def _article(self, q: Question, scope: str) -> dict[int, float]:
        """Passages that are the article a question names (第五条, 工会法第三条), with a small bonus for the ones
        whose document's name is the words before the article number (or holds them)."""
        if not q.article:
            return {}
        found = [n for n in self.articles.get(q.article, ()) if scope != LAW or self.is_law[n]]
        if not found:
            return {}
        hint = q.article_hint
        out: dict[int, float] = {}
        for n in found:
            names = self.doc_titles[n]
            if not hint:
                out[n] = 0.5
            elif hint in names:
                out[n] = 1.0
            elif any(hint in name for name in names):
                out[n] = 0.8
            else:
                out[n] = 0.0
        if hint and any(out.values()):
            out = {n: b for n, b in out.items() if b}
        return out

    def _hit(self, n: int, score: float, qterms: dict[str, float]) -> Hit:
        """A Hit with the surface forms of the matched terms found in the passage text."""
        p = self.passages[n]
        return Hit(p, score, self.matched_terms(p.text, qterms))

    def matched_terms(self, text: str, qterms: dict[str, float]) -> tuple[str, ...]:
        """The query terms (and their synonyms) as they are written in `text`, longest first."""
        norm = self.norm.same_length(text)
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
        for m in RUN_RE.finditer(self.norm(query)):
            run = m.group()
            if len(run) == 1 and run not in self.vocab.stop:
                grams.append(run)
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        return list(dict.fromkeys(g for g in grams if g not in self.vocab.stop))

    def _fallback(self, query: str, scope: str = ALL) -> list[tuple[int, float, tuple[str, ...]]]:
        """Passages sharing character bigrams with the query, best coverage first."""
        grams = self._bigrams(query)
        if not grams:
            return []
        if self._fallback_texts is None:
            self._fallback_texts = [self.norm.same_length(p.text) for p in self.passages]
        need = 1 if len(grams) <= 2 else max(1, math.ceil(len(grams) / 3))
        ranked: list[tuple[int, float, tuple[str, ...]]] = []
        for n, text in enumerate(self._fallback_texts):
            if scope == LAW and not self.is_law[n]:
                continue
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
    for cand in (Path("content"), Path(__file__).resolve().parent.parent.parent / "content"):
        if (cand / "userdict.txt").is_file():
            return cand
    return None
