"""Understanding a question before ranking: what to drop, what the law calls it, which law and article it names.

The vocabulary is data in content/, reviewable and extendable by operators (one line each, `#` comments):
- `fillers.txt`: chat filler and question words dropped from a question (我, 吗, 怎么办, 能不能 …). Only questions
  lose them; the index keeps every word.
- `colloquial.txt`: workers' words and what the law calls them, `口语词、口语词 => 法律用语 法律用语`
  (加班费 => 延长工作时间 工资报酬). `->` instead of `=>` adds the legal words at a lower weight (公司 -> 用人单位,
  words so common in the law that they must not decide alone). An empty right side (合法吗、违法吗 =>) drops the
  words but marks the question as a legal one.

`Understander(question)` gives a `Question`: the weighted index terms to rank with (typed words, their sub-words
and synonyms, the legal words of every colloquial word found), the concepts a good answer should cover (each a
typed word or a colloquial word, with the forms that count for it), the statutes named in it (劳动合同法里…,
工会法规定…), an article it names (劳动合同法第十九条) and whether it reads as a legal question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.search.normalise import Normaliser
from bot.search.segment import RUN_RE, Segmenter, Vocab, lines

COLLOQUIAL_FILE = "colloquial.txt"
FILLERS_FILE = "fillers.txt"
STRONG, WEAK = "=>", "->"
#: Weight of the legal words of a `=>` line and of a `->` line, relative to a word the member typed.
STRONG_WEIGHT = 1.0
WEAK_WEIGHT = 0.4
#: Weight of the colloquial word itself when the index knows it (essays may use it; the law does not).
KEY_WEIGHT = 0.5
#: Weight of a lone Chinese character typed (上 and 班 of 上班 when the dictionary lacks the word); it is no
#: concept an answer must cover.
CHAR_WEIGHT = 0.5
#: Weight of a search-mode sub-word (代表大会 inside 职工代表大会) and of a "≈" related term.
SUB_WEIGHT = 0.3
RELATED_WEIGHT = 0.5
#: Longer questions are cut to this many characters before anything else happens.
MAX_QUERY_CHARS = 100
_KEY_SPLIT_RE = re.compile(r"[、,，/;；|\s]+")
#: A number with its unit (十年, 10年, 三个月, 98天): statutes write some numbers in Chinese, some in digits.
NUMBER_RE = re.compile(r"([零〇一二两三四五六七八九十百]{1,5}|\d{1,4})(个月|年|月|天|日|小时|周|倍|人|岁|级|次)")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
#: Weight of a number written the other way (10 for 十) relative to the number as typed.
NUMBER_WEIGHT = 0.5
#: Particles a colloquial form may have inside it as typed (成立个工会, 交了社保, 签过合同).
PARTICLES = frozenset("了个过着")
#: An article named in a question: 第十九条, 第19条.
ARTICLE_Q_RE = re.compile(r"第([零〇一二三四五六七八九十百千两\d]{1,6})条")
#: Left of a named article, what is not part of the document's name: 《劳动合同法》的第十九条.
_HINT_STRIP = " 《》<>的里中"
_COUNTRY_RE = re.compile(r"^中华人民共和国")


@dataclass(frozen=True)
class Rule:
    """One line of colloquial.txt: the colloquial forms and the legal words they stand for."""

    keys: tuple[str, ...]
    words: tuple[str, ...]
    weight: float


def read_colloquial(path: Path) -> list[Rule]:
    """The rules of a colloquial.txt (lines without `=>` / `->` are ignored)."""
    out: list[Rule] = []
    for line in lines(path):
        sep = STRONG if STRONG in line else WEAK if WEAK in line else None
        if sep is None:
            continue
        left, right = line.split(sep, 1)
        keys = tuple(k for k in _KEY_SPLIT_RE.split(left) if k)
        words = tuple(w for w in _KEY_SPLIT_RE.split(right) if w)
        if keys:
            out.append(Rule(keys, words, STRONG_WEIGHT if sep == STRONG else WEAK_WEIGHT))
    return out


def read_fillers(path: Path) -> tuple[list[str], list[str]]:
    """The words of a fillers.txt (several on a line may be separated by 、 , or spaces), and the question words
    among them (lines starting with ?)."""
    words: list[str] = []
    asking: list[str] = []
    for line in lines(path):
        ask = line.startswith(("?", "？"))
        found = [w for w in _KEY_SPLIT_RE.split(line.lstrip("?？")) if w]
        words += found
        if ask:
            asking += found
    return words, asking


@dataclass
class QueryVocab:
    """The question vocabulary, normalised and analysed once (pickled with the index)."""

    #: colloquial form -> rule number; forms longest first for matching.
    keys: dict[str, int]
    order: list[str]
    #: per rule: its legal words analysed into canonical index terms, and their weight.
    rules: list[tuple[tuple[tuple[str, ...], ...], float]]
    #: legal words as written (normalised): a colloquial form inside one of them is not that form (单位 in 用人单位).
    shields: list[str]
    #: multi-character fillers (longest first) and one-character ones.
    fillers: list[str]
    filler_chars: frozenset[str]
    #: question words: a question holding one (or a question mark) and a colloquial word reads as a legal one.
    asking: frozenset[str]

    def __post_init__(self) -> None:
        self.key_lengths = _lengths(self.keys)
        self.shield_set = frozenset(self.shields)
        self.shield_lengths = _lengths(self.shield_set)
        self.filler_set = frozenset(self.fillers)
        self.filler_lengths = _lengths(self.filler_set)
        self.rank = {k: i for i, k in enumerate(self.order)}

    @classmethod
    def build(cls, content_dir: Path | None, norm: Normaliser, seg: Segmenter, vocab: Vocab,
              dictionary: dict[str, int] | None = None) -> QueryVocab:
        """The vocabulary from content/; `dictionary` (jieba's dictionary, word -> frequency) gives the common words
        that hold a colloquial form without meaning it (计算 in 计算机, 公司 in 分公司)."""
        d = content_dir or Path("/nonexistent")
        rules = read_colloquial(d / COLLOQUIAL_FILE)
        keys: dict[str, int] = {}
        analysed: list[tuple[tuple[tuple[str, ...], ...], float]] = []
        shields: set[str] = set()
        for i, rule in enumerate(rules):
            for k in rule.keys:
                keys.setdefault(norm(k), i)
            groups = []
            for word in rule.words:
                w = norm(word)
                shields.add(w)
                terms = tuple(dict.fromkeys(vocab.canon.get(t, t) for t, _ in seg.cut(w) if t not in vocab.stop
                                            and RUN_RE.fullmatch(t)))
                if terms:
                    groups.append(terms)
            analysed.append((tuple(groups), rule.weight))
        words, asking = read_fillers(d / FILLERS_FILE)
        fillers = [norm(w) for w in words]
        shields.update(_holders(keys, shields, dictionary or {}))
        return cls(
            keys=keys,
            order=sorted(keys, key=lambda k: (-len(k), k)),
            rules=analysed,
            shields=sorted((s for s in shields if len(s) >= 2), key=lambda s: (-len(s), s)),
            fillers=sorted({w for w in fillers if len(w) >= 2}, key=lambda w: (-len(w), w)),
            filler_chars=frozenset(w for w in fillers if len(w) == 1),
            asking=frozenset(norm(w) for w in asking),
        )


#: A common word that holds a colloquial form (计算机 holds 计算) shields it when jieba counts it this often.
HOLDER_MIN_FREQ = 20


def _holders(keys: dict[str, int], legal: set[str], words: dict[str, int]) -> set[str]:
    """Common words (2-4 characters) that hold a colloquial form without being one or a legal word."""
    out: set[str] = set()
    for word, freq in words.items():
        n = len(word)
        if not 3 <= n <= 4 or freq < HOLDER_MIN_FREQ or word in keys or word in legal:
            continue
        if any(word[i : i + k] in keys for k in range(2, n) for i in range(n - k + 1)):
            out.add(word)
    return out


@dataclass
class Concept:
    """Something a good answer should hold: a typed word or a colloquial word, with every form that counts."""

    forms: tuple[str, ...]  # normalised surface forms, longest first
    terms: tuple[str, ...]  # the index terms among them (for its weight)
    typed: bool  # typed as is (a phrase candidate), not a colloquial word's legal words


@dataclass
class Question:
    """What ranking needs to know about a question."""

    text: str
    #: canonical index terms and their weights
    terms: dict[str, float] = field(default_factory=dict)
    concepts: list[Concept] = field(default_factory=list)
    #: the typed words in order (canonical), for the phrase bonus
    words: list[str] = field(default_factory=list)
    #: statutes named in the question (their short names)
    laws: tuple[str, ...] = ()
    #: an article named in the question (第十九条) and the words before it (a document's name, or '')
    article: str = ""
    article_hint: str = ""
    #: the text with the named statutes and article taken out (what the bigram re-ranking reads)
    plain: str = ""
    legal: bool = False
    #: a colloquial word with a `=>` line was found (with a question word, the question reads as a legal one)
    colloquial: bool = False


def article_label(number: str) -> str:
    """'5' / '５' / '五' -> '第五条'."""
    number = unicodedata.normalize("NFKC", number)
    return f"第{cn_number(int(number)) if number.isdigit() else number}条"


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


def law_names(laws: Iterable[tuple[str, str]], norm: Normaliser) -> list[tuple[str, str]]:
    """(normalised name, short name) for every way a statute is named (short name, full title, title without
    中华人民共和国), longest first."""
    names: dict[str, str] = {}
    for short, full in laws:
        for name in (short, full, _COUNTRY_RE.sub("", full)):
            n = norm(name)
            if len(n) >= 3:
                names.setdefault(n, short)
    return sorted(names.items(), key=lambda kv: (-len(kv[0]), kv[0]))


def other_numeral(number: str) -> str:
    """十二 -> 12, 12 -> 十二, '' when the number cannot be read."""
    if number.isdigit():
        n = int(number)
        return cn_number(n) if 0 < n < 1000 else ""
    total, digit = 0, 0
    for ch in number:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch == "十":
            total += (digit or 1) * 10
            digit = 0
        elif ch == "百":
            total += (digit or 1) * 100
            digit = 0
    total += digit
    return str(total) if total else ""


def _lengths(words: Iterable[str]) -> tuple[int, ...]:
    """The lengths of `words`, longest first."""
    return tuple(sorted({len(w) for w in words}, reverse=True))


def occurrences(text: str, words: frozenset[str] | dict[str, int], lengths: tuple[int, ...]) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of any of `words` in `text` (one dictionary lookup per position and length:
    a question is short, the vocabulary long)."""
    out: list[tuple[int, int]] = []
    n = len(text)
    for i in range(n):
        if text[i] == " ":
            continue
        for size in lengths:
            if i + size <= n and text[i : i + size] in words:
                out.append((i, i + size))
    return out


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


class Understander:
    """Turns a question into a `Question` (see the module docstring)."""

    def __init__(self, norm: Normaliser, seg: Segmenter, vocab: Vocab, qvocab: QueryVocab,
                 index_terms: dict[str, int], names: list[tuple[str, str]]) -> None:
        self.norm, self.seg, self.vocab, self.q = norm, seg, vocab, qvocab
        self.index_terms = index_terms
        self.names = names

    def __call__(self, query: str) -> Question:
        text = self.norm((query or "")[:MAX_QUERY_CHARS])
        out = Question(text)
        text = self._article(text, out)
        text = self._laws(text, out)
        out.plain = text
        shielded = self._shields(text)
        text = self._colloquial(text, shielded, out)
        found = occurrences(text, self.q.filler_set, self.q.filler_lengths)
        found.sort(key=lambda m: (m[0] - m[1], m[0]))
        for start, end in found:
            if " " not in text[start:end] and max(shielded[start:end]) <= end - start:
                text = _blank(text, start, end)
        self._typed(text, out)
        self._numbers(text, out)
        out.legal = out.legal or bool(out.laws or out.article)
        return out

    def _numbers(self, text: str, out: Question) -> None:
        """A number with a unit also counts written the other way (满十年 meets 满10年, 98天 meets 九十八天)."""
        for m in NUMBER_RE.finditer(text):
            other = other_numeral(m.group(1))
            if not other:
                continue
            typed, variant = m.group(0), other + m.group(2)
            for term, _ in self.seg.cut(variant):
                if term in self.index_terms and term not in out.terms:
                    out.terms[term] = NUMBER_WEIGHT
            for c in out.concepts:
                extra = tuple(f.replace(typed, variant) for f in c.forms if typed in f)
                extra += tuple(variant for f in c.forms if f in typed and len(f) > 1)
                if extra:
                    c.forms = tuple(dict.fromkeys(c.forms + extra))

    def _article(self, text: str, out: Question) -> str:
        m = ARTICLE_Q_RE.search(text)
        if not m:
            return text
        out.article = article_label(m.group(1))
        hint = text[: m.start()].strip(_HINT_STRIP)
        out.article_hint = _COUNTRY_RE.sub("", hint)
        return _blank(text, m.start(), m.end())

    def _laws(self, text: str, out: Question) -> str:
        found: list[str] = []
        for name, short in self.names:
            start = text.find(name)
            while start >= 0:
                text = _blank(text, start, start + len(name))
                if short not in found:
                    found.append(short)
                start = text.find(name, start + 1)
        out.laws = tuple(found)
        return text

    def _shields(self, text: str) -> list[int]:
        """For each position, the length of the longest legal word as written that covers it (a colloquial form
        inside a longer legal word is part of that word: 单位 in 用人单位)."""
        shielded = [0] * len(text)
        for start, end in occurrences(text, self.q.shield_set, self.q.shield_lengths):
            for i in range(start, end):
                shielded[i] = max(shielded[i], end - start)
        return shielded

    def _colloquial(self, text: str, shielded: list[int], out: Question) -> str:
        """Take every colloquial form out of the text (longest first), adding its legal words; a second pass
        reads the text without particles, so 成立个工会 and 交了社保 meet 成立工会 and 交社保."""
        asking = any(ch in text for ch in "?？") or any(w in text for w in self.q.asking)
        text = self._take(text, text, list(range(len(text))), shielded, out)
        kept = [i for i, ch in enumerate(text) if ch not in PARTICLES]
        if len(kept) < len(text):
            text = self._take(text, "".join(text[i] for i in kept), kept, shielded, out)
        out.legal = out.legal or (out.colloquial and asking)
        return text

    def _take(self, text: str, view: str, where: list[int], shielded: list[int], out: Question) -> str:
        """Blank in `text` the colloquial forms found in `view` (`where[i]` is the position in `text` of view's
        i-th character), longest first, and apply each; a form spread over more of `text` than its own length
        (a particle inside) must not cross a blank."""
        q = self.q
        found = occurrences(view, q.keys, q.key_lengths)
        found.sort(key=lambda m: (m[0] - m[1], q.rank[view[m[0] : m[1]]], m[0]))
        taken = [False] * len(view)
        for start, end in found:
            if any(taken[start:end]):
                continue
            key = view[start:end]
            a, b = where[start], where[end - 1] + 1
            if " " in text[a:b] or min(shielded[a:b]) > len(key):
                continue
            for i in range(start, end):
                taken[i] = True
            text = _blank(text, a, b)
            self._apply(key, out)
        return text

    def _apply(self, key: str, out: Question) -> None:
        """The legal words of the colloquial form `key` found in the question."""
        terms = self.index_terms
        groups, weight = self.q.rules[self.q.keys[key]]
        if not groups:
            out.legal = True  # 合法吗, 违法吗
        elif weight >= STRONG_WEIGHT:
            out.colloquial = True
        forms: list[str] = []
        known: list[str] = []
        canon_key = self.vocab.canon.get(key, key)
        if canon_key in terms:
            self._add(out, canon_key, KEY_WEIGHT)
            forms.append(key)
            known.append(canon_key)
        for group in groups:
            for t in group:
                if t in terms:
                    self._add(out, t, weight)
                    known.append(t)
            forms.append("".join(group))
        if known:
            self._concept(out, Concept(self._forms(forms), tuple(dict.fromkeys(known)), False))

    def _typed(self, text: str, out: Question) -> None:
        """The words left, as typed: whole words, their sub-words and related terms."""
        freq, stop, canon = self.seg.freq, self.vocab.stop, self.vocab.canon
        fillers = self.q.filler_chars
        terms = self.index_terms
        whole: list[str] = []
        for m in RUN_RE.finditer(text):
            for word, _ in self.seg.cut(m.group()):
                if word in stop or word in fillers:
                    continue
                n = len(word)
                single = n == 1 and not word.isascii()  # a lone character: a fragment of a word we do not know
                subs = [word[i : i + k] for k in range(2, n) for i in range(n - k + 1)] if n > 2 else []
                own = CHAR_WEIGHT if single else 1.0
                for term, weight in [(t, SUB_WEIGHT) for t in subs if freq.get(t)] + [(word, own)]:
                    if term in stop:
                        continue
                    term = canon.get(term, term)
                    if term in terms:
                        self._add(out, term, weight)
                cw = canon.get(word, word)
                if cw not in out.words:
                    out.words.append(cw)
                if cw in terms and not single:
                    whole.append(cw)
                    forms = self.vocab.surfaces.get(cw, (cw,))
                    self._concept(out, Concept(self._forms(forms), (cw,), True))
        for term in whole:
            for rel in self.vocab.related.get(term, ()):
                if rel in terms and rel not in out.terms:
                    out.terms[rel] = RELATED_WEIGHT

    @staticmethod
    def _concept(out: Question, concept: Concept) -> None:
        if all(c.forms != concept.forms for c in out.concepts):
            out.concepts.append(concept)

    @staticmethod
    def _add(out: Question, term: str, weight: float) -> None:
        if out.terms.get(term, 0.0) < weight:
            out.terms[term] = weight

    def _forms(self, forms: Iterable[str]) -> tuple[str, ...]:
        out: set[str] = set()
        for f in forms:
            out.add(f)
            out.update(self.vocab.surfaces.get(f, ()))
        return tuple(sorted((f for f in out if f), key=lambda f: (-len(f), f)))
