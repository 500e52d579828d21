"""Article topics: the words members use when an article is the answer (content/law_topics.txt).

One line an article, `<statute's short name> <label>: term term term` (劳动合同法 第十九条: 试用期 最长 多久 …). The
terms are indexed with the article, as if they were part of its text, so that a question in a worker's words
(试用期最长多久, 怀孕被辞退) meets the article that answers it although the article says it in legal words. They are
never shown. A line whose statute or article the corpus lacks is ignored (the file may cover statutes an operator
has not installed); a label may also be the section label of a statute without articles (一、).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content import TOPICS_FILE, WEIGHTS_FILE

if TYPE_CHECKING:
    from bot.content import Passage

__all__ = ["TOPICS_FILE", "WEIGHTS_FILE", "read_topics", "read_weights", "topic_texts"]

log = logging.getLogger(__name__)
_SPLIT_RE = re.compile(r"[:：]")
#: A section label's enumeration comma (一、 -> 一).
_ENUM_TAIL = "、"


def _label_key(label: str) -> str:
    """The part of an article's or section's label that names it (一、制度工作时间的计算 -> 一)."""
    head = label.split(_ENUM_TAIL, 1)[0] if _ENUM_TAIL in label else label
    return head.strip()


def _lines(path: Path, what: str) -> list[tuple[int, str]]:
    """The numbered lines of a content file, comments and blank lines left out ([] when it is absent or
    unreadable: then the engine goes without `what`)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        return []
    except (OSError, UnicodeDecodeError) as e:
        log.warning("%s unreadable (%s); no %s", path, e.__class__.__name__, what)
        return []
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append((n, line))
    return out


def read_topics(path: Path) -> dict[tuple[str, str], str]:
    """(short name, label key) -> the terms, space-separated, of a law_topics.txt ({} when there is none)."""
    out: dict[tuple[str, str], str] = {}
    for n, line in _lines(path, "article topics"):
        parts = _SPLIT_RE.split(line, maxsplit=1)
        head = parts[0].split()
        if len(parts) != 2 or len(head) < 2:
            log.warning("%s line %d ignored: not '<short name> <label>: terms'", path.name, n)
            continue
        key = (" ".join(head[:-1]), _label_key(head[-1]))
        terms = " ".join(parts[1].split())
        if terms:
            out[key] = f"{out[key]} {terms}" if key in out else terms
    return out


#: The weights a statute may be given (a weight of 0 would hide it; more than 1 would let it outrank a named one).
WEIGHT_RANGE = (0.1, 1.0)


def read_weights(path: Path) -> dict[str, float]:
    """Statute short name -> its weight, from a law_weights.txt (`劳动法 0.75` a line; {} when there is none).

    A statute with a weight below 1 gives way to another statute that answers about as well: the operator's way to
    say that a general or older statute (劳动法) is cited after the specific one (劳动合同法) on the same matter."""
    out: dict[str, float] = {}
    lo, hi = WEIGHT_RANGE
    for n, line in _lines(path, "statute weights"):
        words = line.split()
        try:
            weight = float(words[-1]) if len(words) >= 2 else float("nan")
        except ValueError:
            weight = float("nan")
        if not lo <= weight <= hi:  # NaN fails too
            log.warning("%s line %d ignored: not '<short name> <weight %s-%s>'", path.name, n, lo, hi)
            continue
        out[" ".join(words[:-1])] = weight
    return out


def topic_texts(passages: Sequence[Passage], topics: dict[tuple[str, str], str]) -> list[str]:
    """Each passage's topic terms ('' for essays and articles without a line)."""
    if not topics:
        return [""] * len(passages)
    out: list[str] = []
    for p in passages:
        if getattr(p, "kind", "") != "law" or not p.article:
            out.append("")
            continue
        out.append(topics.get((p.law, _label_key(p.article)), ""))
    return out
