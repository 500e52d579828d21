"""Normalisation: NFKC, traditional -> simplified (opencc), lower case; one length-preserving table for texts."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any


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


