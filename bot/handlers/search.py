"""Search: /search, /s, 搜索/查/查询 and plain text in private chats (everything; a legal question puts statutes
first), /law, 法规, 查法条 (statutes only), 更多/全文 buttons and inline mode. Every result is labelled 法规 or
经验; an article of a statute is cited (《劳动合同法》第十九条, its chapter, the statute's full title and version)
and shown whole.

Callback data (<= 64 bytes): `srch:m:<offset>:<query>` when the query fits, else `srch:k:<offset>:<key>` with
the query kept in the engine's bounded LRU (a key from before a restart answers "expired"); `l` / `j` instead of
`m` / `k` for /law's pages; `srch:f:<key>` opens one passage in full (the key is a hash of the passage id,
stable across restarts).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot import texts
from bot.core import MAX_CALLBACK_BYTES, MAX_MESSAGE_CHARS, Button, InlineResult, Reply, Request
from bot.search import ALL, LAW, MAX_QUERY_CHARS, Hit, SearchResult, passage_key, passage_title
from bot.table import Callback, Command

if TYPE_CHECKING:
    from bot.content import Passage
    from bot.search import SearchEngine
    from bot.services import Services

PREFIX = "srch"
PAGE = 3
INLINE_LIMIT = 10


def _clean(query: str) -> tuple[str, bool]:
    """The query with whitespace collapsed, cut to MAX_QUERY_CHARS; and whether it was cut."""
    query = " ".join((query or "").split())
    return query[:MAX_QUERY_CHARS], len(query) > MAX_QUERY_CHARS


#: Callback kinds of a results page: (query in the data, query under a key) for each scope.
_PAGE_KINDS = {ALL: ("m", "k"), LAW: ("l", "j")}
_SCOPE_OF = {kind: scope for scope, kinds in _PAGE_KINDS.items() for kind in kinds}


def _more_data(engine: SearchEngine, query: str, offset: int, scope: str = ALL) -> str:
    """Callback data for the next page: the query itself when it fits, else a remembered key."""
    inline, keyed = _PAGE_KINDS[scope]
    data = f"{PREFIX}:{inline}:{offset}:{query}"
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return data
    return f"{PREFIX}:{keyed}:{offset}:{engine.remember(query)}"


def _is_law(p: Passage) -> bool:
    return getattr(p, "kind", "") == "law"


def _row(h: Hit) -> dict:
    """What texts.search_page needs of one hit."""
    p = h.passage
    row = {"title": passage_title(p), "text": p.text, "source": p.source, "terms": h.terms, "law": _is_law(p)}
    if row["law"]:
        row.update(chapter=p.chapter, law_title=p.law_title, version=p.version)
    return row


def _full_source(p: Passage) -> str:
    return texts.law_source(p.law_title, p.version) if _is_law(p) else p.source


def _page(engine: SearchEngine, query: str, offset: int, truncated: bool = False, scope: str = ALL) -> list[Reply]:
    """One page of results with 全文 and 更多 buttons, or the suggestions when nothing matched. A page longer than
    one message (a long article shown whole) is split between paragraphs and items; the buttons go with the last."""
    result: SearchResult = engine.search(query, limit=PAGE, offset=offset, scope=scope)
    if not result.hits:
        if result.total and offset:
            return [Reply(texts.search_no_more(query))]
        kind = _PAGE_KINDS[scope][0]
        buttons = [[Button(texts.search_btn_suggestion(s), data=d)] for s in result.suggestions
                   if len((d := f"{PREFIX}:{kind}:0:{s}").encode("utf-8")) <= MAX_CALLBACK_BYTES]
        return [Reply(texts.search_nothing(query, result.suggestions, laws_only=scope == LAW), buttons=buttons[:5])]
    text = texts.search_page(query, [_row(h) for h in result.hits], offset, result.total, result.fallback, truncated,
                             laws_only=scope == LAW, legal=result.legal)
    full = [Button(texts.search_btn_full(offset + i), data=f"{PREFIX}:f:{passage_key(h.passage.id)}")
            for i, h in enumerate(result.hits, 1)]
    buttons = [full]
    if offset + len(result.hits) < result.total:
        buttons.append([Button(texts.SEARCH_BTN_MORE, data=_more_data(engine, query, offset + PAGE, scope))])
    parts = texts.split_message(text, MAX_MESSAGE_CHARS, numbered=True)
    return [Reply(part) for part in parts[:-1]] + [Reply(parts[-1], buttons=buttons)]


async def _engine(svc: Services) -> SearchEngine:
    """The shared engine; a first build (no cache yet) runs off the event loop."""
    if svc._search is None:
        return await asyncio.to_thread(lambda: svc.search)
    return svc.search


async def run_search(req: Request, svc: Services, args: str) -> list[Reply]:
    """Search for `args`; a usage hint if it is empty."""
    query, truncated = _clean(args)
    if not query:
        return [Reply(texts.SEARCH_USAGE)]
    engine = await _engine(svc)
    if not engine.analyse(query) and not any(ch.isalnum() for ch in query):
        return [Reply(texts.SEARCH_NO_WORDS)]
    return _page(engine, query, 0, truncated)


async def run_law(req: Request, svc: Services, args: str) -> list[Reply]:
    """/law 问题 (法规, 查法条): statutes only, each article cited and shown whole."""
    query, truncated = _clean(args)
    if not query:
        return [Reply(texts.LAW_USAGE)]
    engine = await _engine(svc)
    if not engine.has_laws:
        return [Reply(texts.LAW_NONE_LOADED)]
    if not engine.analyse(query) and not any(ch.isalnum() for ch in query):
        return [Reply(texts.SEARCH_NO_WORDS)]
    return _page(engine, query, 0, truncated, scope=LAW)


async def plain_text(req: Request, svc: Services, text: str) -> list[Reply]:
    """Plain text in a private chat (or addressed to the bot in a group) is a search."""
    return await run_search(req, svc, text)


async def on_callback(req: Request, svc: Services, rest: str) -> list[Reply]:
    """`m:<offset>:<query>`, `k:<offset>:<key>` (更多) and `f:<key>` (全文)."""
    kind, _, tail = rest.partition(":")
    engine = await _engine(svc)
    if kind == "f":
        passage = engine.passage_by_key(tail)
        if passage is None:
            return [Reply(toast=texts.SEARCH_PASSAGE_GONE)]
        parts = texts.search_full(passage_title(passage), passage.text, _full_source(passage),
                                  law=_is_law(passage), chapter=passage.chapter, label=True)
        return [Reply(part) for part in parts]
    if kind in _SCOPE_OF:
        off, _, value = tail.partition(":")
        query = value if kind in ("m", "l") else engine.recall(value)
        if not off.isdigit() or not query:
            return [Reply(toast=texts.SEARCH_EXPIRED)]
        return _page(engine, query, int(off), scope=_SCOPE_OF[kind])
    return [Reply(toast=texts.SEARCH_EXPIRED)]


async def inline(query: str, svc: Services) -> list[InlineResult]:
    """Inline mode (`@bot 关键词`): the best passages; with an empty query, a few practices."""
    query, _ = _clean(query)
    if not query:
        return [
            InlineResult(
                id=f"pr-{p.id}"[:64],
                title=f"{texts.SEARCH_INLINE_PRACTICE}：{p.title}",
                description=texts.search_plain_snippet(p.body),
                text=texts.search_inline_text(p.title, p.body, p.source),
            )
            for p in list(svc.content.practices)[:5]
        ]
    engine = await _engine(svc)
    result = engine.search(query, limit=INLINE_LIMIT)
    return [
        InlineResult(
            id=passage_key(h.passage.id),
            title=texts.search_label(_is_law(h.passage)) + (passage_title(h.passage) or h.passage.text[:20]),
            description=texts.search_plain_snippet(h.passage.text),
            text=texts.search_inline_text(passage_title(h.passage), h.passage.text, _full_source(h.passage),
                                          law=_is_law(h.passage), chapter=h.passage.chapter),
        )
        for h in result.hits
    ]


COMMANDS = [
    Command("search", ("搜索", "查询", "查"), texts.SEARCH_HELP, run_search, usage=texts.SEARCH_CMD_USAGE),
    Command("s", (), texts.SEARCH_SHORT_HELP, run_search, usage=texts.SEARCH_SHORT_CMD_USAGE, menu=False),
    Command("law", ("法规", "查法条"), texts.LAW_HELP, run_law, usage=texts.LAW_CMD_USAGE),
]
CALLBACKS = [Callback(PREFIX, on_callback)]
