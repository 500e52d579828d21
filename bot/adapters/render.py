"""Core markup (a Telegram-style HTML subset) rendered for other platforms: WeCom / DingTalk markdown, plain text.

The core's replies use <b> <i> <u> <s> <code> <pre> <a href> <blockquote> and the entities &lt; &gt; &amp;
&quot;; everything else in a reply is text. Text nodes (which carry member-supplied words: queries, suggestions,
names) are escaped for the target, so `**`, `[x](y)`, `<b>`, backticks or a `#` at a line start typed by a
member show literally in WeCom. `split_markdown` cuts a rendered message into parts of at most WeCom's
20,480 UTF-8 bytes, at paragraph boundaries when it can, then lines, then characters, never inside an escape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

#: WeCom's limit for a markdown message's content, in bytes of UTF-8.
WECOM_MARKDOWN_BYTES = 20480

#: Always markdown syntax in a line: emphasis, code spans and the escape character itself.
_ALWAYS = set("\\`*")
#: A line start that markdown would read as a heading, list, quote, rule or table.
_LINE_START = re.compile(r"^([ \t]*)(#|>|-|\+|=|(\d{1,9})([.)]))", re.M)


def _quiet(text: str, i: int) -> bool:
    """Whether the character at `i` sits inside a word (no whitespace or punctuation on either side), where
    `_` cannot open or close emphasis."""
    def wordish(j: int) -> bool:
        return 0 <= j < len(text) and not text[j].isspace() and (text[j].isalnum() or ord(text[j]) > 0x2E7F)

    return wordish(i - 1) and wordish(i + 1)


def escape_markdown(text: str, at_line_start: bool = True) -> str:
    """Plain text -> markdown that displays exactly `text`, with as few backslashes as possible (members see
    any that a client does not process): `*` and backticks always; `_` unless inside a word; `[` `]` only where
    a link could form; `<` before a tag or autolink; `&` before an entity; `~~`; `|` where a
    table could form; line starts neutralised."""
    link = "](" in text
    table = re.search(r"(?m)^[ \t|:-]*-[ \t|:-]*$", text) is not None  # a possible table delimiter row
    out: list[str] = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        prev = text[i - 1] if i else ""
        special = (
            ch in _ALWAYS
            or (ch == "_" and not _quiet(text, i))
            or (ch in "[]" and link)
            or (ch == "<" and (nxt.isalpha() or nxt in "/!?"))
            or (ch == "&" and re.match(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", text[i:]) is not None)
            or (ch == "~" and "~" in (prev, nxt))
            or (ch == "|" and table)
        )
        out.append("\\" + ch if special else ch)

    def line_start(m: re.Match[str]) -> str:
        if m.group(3):  # "1." / "1)": an ordered list -> "1\."
            return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"
        return f"{m.group(1)}\\{m.group(2)}"

    escaped = "".join(out)
    if at_line_start:
        return _LINE_START.sub(line_start, escaped)
    first, nl, rest = escaped.partition("\n")  # the first line continues markup already on its line
    return first + nl + _LINE_START.sub(line_start, rest) if nl else first


class _Renderer(HTMLParser):
    """Walks core markup once, producing markdown (or plain text when `plain`)."""

    def __init__(self, plain: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.plain = plain
        self.out: list[str] = []
        self.stack: list[tuple[str, int, str]] = []  # (tag, start index in out, href)
        self.in_pre = 0
        self.in_code = 0

    # Text nodes: escaped (markdown) or as they are (plain / inside code, where escapes do not apply).
    def handle_data(self, data: str) -> None:
        if self.plain:
            self.out.append(data)
        elif self.in_pre or self.in_code:
            self.out.append(data)  # wrapped and fenced safely at the closing tag
        else:
            at_line_start = not self.out or self.out[-1].endswith("\n")
            if self.stack and self.stack[-1][0] == "b" and self.stack[-1][1] == len(self.out) and data[:1].strip():
                at_line_start = False  # the first thing in bold: its line starts with "**", not with this text
            self.out.append(escape_markdown(data, at_line_start))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = next((v or "" for k, v in attrs if k == "href"), "")
        if tag == "pre":
            self.in_pre += 1
        elif tag == "code":
            self.in_code += 1
        elif tag == "br":
            self.out.append("\n")
            return
        self.stack.append((tag, len(self.out), href))

    def handle_endtag(self, tag: str) -> None:
        # Close the innermost matching open tag (core markup is well nested; stray closers are ignored).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                break
        else:
            return
        while len(self.stack) > i:
            self._close(*self.stack.pop())

    def _close(self, tag: str, start: int, href: str) -> None:
        inner = "".join(self.out[start:])
        del self.out[start:]
        if tag == "pre":
            self.in_pre -= 1
        elif tag == "code":
            self.in_code -= 1
        self.out.append(self._wrap(tag, inner, href))

    def _wrap(self, tag: str, inner: str, href: str) -> str:
        if self.plain:
            if tag == "a" and href and href != inner:
                return f"{inner} ({href})"
            return inner
        if not inner.strip():
            return inner
        if tag == "b":  # whitespace just inside ** would stop it being bold: keep it outside
            core = inner.strip()
            lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
            return f"{lead}**{core}**{trail}"
        if tag == "a" and href:
            url = href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
            return f"[{inner}]({url})"
        if tag == "pre":
            fence = "`" * max(3, _longest_backtick_run(inner) + 1)
            return f"\n{fence}\n{inner.strip(chr(10))}\n{fence}\n"
        if tag == "code":
            if self.in_pre:
                return inner
            if "`" in inner or "\n" in inner:  # no safe code span: show it escaped instead
                return escape_markdown(inner)
            return f"`{inner}`"
        if tag == "blockquote":
            return "\n".join("> " + line for line in inner.strip("\n").split("\n"))
        # <i> <u> <s> and unknown tags: WeCom markdown has no reliable form; the text stays, unstyled.
        return inner

    def result(self) -> str:
        while self.stack:
            self._close(*self.stack.pop())
        return "".join(self.out)


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def to_markdown(markup: str) -> str:
    """Core markup -> WeCom markdown, member text escaped."""
    markup = markup.replace("</b><b>", "")  # touching bold runs ("**哺乳****时间**") would show the asterisks
    r = _Renderer(plain=False)
    r.feed(markup)
    r.close()
    return re.sub(r"\n{3,}", "\n\n", r.result()).strip("\n")


def to_plain(markup: str) -> str:
    """Core markup -> plain text (console, card titles): tags dropped, links as `text (url)`, entities decoded."""
    r = _Renderer(plain=True)
    r.feed(markup)
    r.close()
    return r.result()


def to_dingtalk_markdown(markup: str) -> str:
    """Core markup -> DingTalk markdown: the same escaped markdown, with every line break inside a paragraph made
    a hard break ("  " before the newline, as DingTalk's clients need; a single newline would join the lines).
    Code blocks are left alone."""
    lines = to_markdown(markup).split("\n")
    fence = ""
    out: list[str] = []
    for i, line in enumerate(lines):
        m = re.match(r"^(`{3,})\s*$", line)
        if m and (not fence or m.group(1) == fence):
            fence = "" if fence else m.group(1)
        elif (not fence and line.strip() and i + 1 < len(lines) and lines[i + 1].strip()
              and not line.endswith("  ")):
            line += "  "
        out.append(line)
    return "\n".join(out)


# --- splitting ------------------------------------------------------------------------------------

_ATOM = re.compile(r"\\.|.", re.S)  # an escape is one unit: never cut between "\" and its character


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_markdown(text: str, limit: int = WECOM_MARKDOWN_BYTES, size: Callable[[str], int] | None = None,
                   ) -> list[str]:
    """Cut `text` into parts of at most `limit` units of `size` (default: UTF-8 bytes): at paragraphs, else lines,
    else characters. `size` must be additive over concatenation (DingTalk counts JSON-escaped bytes).

    Joining the parts with the separators they were cut at gives `text` back (a code fence cut in two is
    closed and reopened); no part is empty and no part ends inside an escape or a multi-byte character.
    """
    size = size or _size
    if limit < 16:
        raise ValueError("limit too small")
    if size(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    for chunk in _pack(text, "\n\n", limit, size):
        for piece in _pack(chunk, "\n", limit, size) if size(chunk) > limit else [chunk]:
            parts.extend(_hard(piece, limit, size) if size(piece) > limit else [piece])
    return _refence(parts, limit, size)


def _pack(text: str, sep: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """Greedily join `sep`-separated pieces into chunks of at most `limit` (longer pieces left whole)."""
    out: list[str] = []
    cur = ""
    for piece in text.split(sep):
        cand = piece if not cur else cur + sep + piece
        if cur and size(cand) > limit:
            out.append(cur)
            cur = piece
        else:
            cur = cand
    if cur:
        out.append(cur)
    return [p for p in out if p]


def _hard(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """Cut at character (escape) boundaries."""
    out: list[str] = []
    cur: list[str] = []
    used = 0
    for atom in _ATOM.findall(text):
        n = size(atom)
        if used + n > limit and cur:
            out.append("".join(cur))
            cur, used = [], 0
        cur.append(atom)
        used += n
    if cur:
        out.append("".join(cur))
    return out


_FENCE = re.compile(r"^(`{3,})\s*$", re.M)


def _refence(parts: list[str], limit: int, size: Callable[[str], int]) -> list[str]:
    """A part that ends inside a ``` block gets it closed, and the next part reopens it (sizes kept)."""
    out: list[str] = []
    carry = ""
    for part in parts:
        if carry:
            part = carry + "\n" + part
        open_fence = ""
        for m in _FENCE.finditer(part):
            fence = m.group(1)
            if not open_fence:
                open_fence = fence
            elif fence == open_fence:
                open_fence = ""
        if open_fence:
            part = part + "\n" + open_fence
        carry = open_fence
        if size(part) > limit:  # the added fences pushed it over: cut again without refencing
            out.extend(_hard(part, limit, size))
        else:
            out.append(part)
    return out
