"""`run.py search`: one query, or one query per stdin line, readable or as JSON (with each statute's citation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot import texts
from bot.search.engine import ALL, Hit, SearchEngine, SearchResult, passage_title


def hit_dict(h: Hit) -> dict[str, Any]:
    """One hit as JSON: for a statute's article also `citation` (《劳动合同法》第十九条), law, article, chapter and
    version; `citation` is "" for other passages."""
    p = h.passage
    out: dict[str, Any] = {
        "id": p.id,
        "kind": getattr(p, "kind", "essay"),
        "citation": getattr(p, "citation", ""),
        "title": passage_title(p),
        "text": p.text,
        "source": p.source,
        "score": round(h.score, 4),
        "terms": list(h.terms),
    }
    if out["kind"] == "law":
        out.update(law=p.law, law_title=p.law_title, article=p.article, chapter=p.chapter, version=p.version)
    return out


def _print_readable(result: SearchResult, stdout: TextIO) -> None:
    if not result.hits:
        stdout.write(texts.search_cli_no_hits(result.query, result.suggestions))
        return
    stdout.write(texts.search_cli_head(result.query, result.total, result.fallback))
    for i, h in enumerate(result.hits, 1):
        p = h.passage
        text = p.text if len(p.text) <= 120 else p.text[:119] + "…"
        head = texts.search_cli_citation(p.citation, p.chapter) if getattr(p, "citation", "") else passage_title(p)
        stdout.write(f"{i}. [{h.score:.2f}] {head}  ({p.id})\n   {text}\n")
        stdout.write(texts.search_cli_source(p.source))


def run_cli(
    content_dir: Path, cache_dir: Path, query: str | None, as_json: bool, limit: int,
    stdin: TextIO, stdout: TextIO, scope: str = ALL,
) -> int:
    """`run.py search [query] [--json] [--limit N] [--law]`: one query, or one query per stdin line."""
    from bot.content import ContentError, load_content

    try:
        content = load_content(Path(content_dir))
    except ContentError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    engine = SearchEngine.load(content, Path(cache_dir), content_dir=Path(content_dir), progress=sys.stderr)
    queries = [query] if query is not None else (line.rstrip("\n") for line in stdin)
    for q in queries:
        result = engine.search(q, limit=max(1, limit), scope=scope)
        if as_json:
            stdout.write(json.dumps([hit_dict(h) for h in result.hits], ensure_ascii=False) + "\n")
        else:
            _print_readable(result, stdout)
        stdout.flush()
    return 0
