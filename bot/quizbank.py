"""Question banks for 每日一题: the starter bank (content/quiz.toml) and operators' Excel banks -> content/quiz.json.

Operators keep their banks in Excel, in the template every exam system imports: the first sheet, a header row
(题型, 题目, 选项A … 选项F, 答案, 解析, optionally 分类 and 难度; the usual variants such as 题干, 正确答案,
答案解析 and bare A / B / C / D are understood), one question per row. `build_bank` reads every .xlsx under
seeds/local/ (sub-folders too) and the starter bank; a bad row (no answer, an answer letter with no option, an
empty question, a duplicate question, an unknown type) is named with its file and its row number as Excel
shows it, and skipped; the rest builds. Each question's id is a hash of its text and options, so it stays the
same across rebuilds. The starter bank's questions each name a passage of the seed essays; its 解析 ends with
that passage's source (《标题》 · 章节), and a passage that no longer exists fails the build.

`load_bank` reads content/quiz.json at start and on reload. Nothing here sends messages or reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot import texts

QUIZ_FILE = "quiz.json"
STARTER_FILE = "quiz.toml"
#: Formats recognised but not read, and what the operator should do.
OLD_EXCEL = (".xls", ".et")
LETTERS = "ABCDEF"
SINGLE, MULTI, JUDGE = "single", "multi", "judge"
KINDS = (SINGLE, MULTI, JUDGE)

# Vocabularies of the Excel template every exam system imports (matched against the header row and the cells).
#: Header cell (normalised: NFKC, no spaces or punctuation, upper case) -> our column.
_HEADERS: dict[str, str] = {
    **dict.fromkeys(("题型", "题目类型", "试题类型", "类型", "题类"), "kind"),
    **dict.fromkeys(("题目", "题干", "试题", "问题", "题目内容", "试题内容", "题目名称"), "question"),
    **dict.fromkeys(("答案", "正确答案", "标准答案", "参考答案", "答案选项"), "answer"),
    **dict.fromkeys(("解析", "答案解析", "试题解析", "题目解析", "解释", "说明", "答案说明"), "explanation"),
    **dict.fromkeys(("分类", "类别", "知识点", "章节", "题目分类", "试题分类"), "category"),
    **dict.fromkeys(("难度", "难易度", "难易程度", "难度等级"), "difficulty"),
    **{f"{p}{c}": f"option{c}" for c in LETTERS for p in ("选项", "")},
    **{f"{c}选项": f"option{c}" for c in LETTERS},
}
#: 题型 cell -> kind.
_KIND_WORDS: dict[str, str] = {
    **dict.fromkeys(("单选", "单选题", "单项选择", "单项选择题", "单择题", "选择题", "选择"), SINGLE),
    **dict.fromkeys(("多选", "多选题", "多项选择", "多项选择题", "不定项", "不定项选择", "不定项选择题"), MULTI),
    **dict.fromkeys(("判断", "判断题", "是非", "是非题", "对错题"), JUDGE),
}
#: Words for 对 and 错 (the answer of a 判断 question, in a bank or typed by a member).
TRUE_WORDS = ("对", "正确", "√", "✓", "✔", "是", "T", "TRUE", "Y", "YES", "V")
FALSE_WORDS = ("错", "错误", "×", "✗", "✘", "X", "否", "F", "FALSE", "N", "NO")
#: The 对/错 words a member's message may be on its own, without 答 in front (bot.quiz.takes_as_answer): not 是 / 否 /
#: yes / no / T / F, which are everyday chat (答 是 still counts).
TYPED_TRUE = ("对", "正确", "√", "✓", "✔")
TYPED_FALSE = ("错", "错误", "×", "✗", "✘")
_SEPARATORS = re.compile(r"[\s,，、;；/|+]+")
_PUNCT_EDGES = " \t\r\n\u3000.。:："


class ContentLike(Protocol):
    """What the starter bank needs of a passage (bot.content.Passage)."""

    id: str
    source: str


class BankError(Exception):
    """The starter bank cannot be read (bad TOML, a question naming no or a missing passage); one line."""


@dataclass(frozen=True)
class Question:
    """One question: its options (none for 判断, whose options are 对 / 错) and the indexes of its answer."""

    id: str
    kind: str
    text: str
    options: tuple[str, ...]
    answer: tuple[int, ...]
    explanation: str = ""
    category: str = ""
    difficulty: str = ""
    #: Where it comes from, for officers: "quiz.toml" or "local/题库.xlsx:12" (file and Excel row).
    origin: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        """The option texts a member chooses from (对 / 错 for 判断)."""
        return texts.QUIZ_JUDGE_OPTIONS if self.kind == JUDGE else self.options

    def answer_letters(self) -> str:
        """The answer as letters ("B", "ACD"); 判断: 对 / 错."""
        if self.kind == JUDGE:
            return texts.QUIZ_JUDGE_OPTIONS[self.answer[0]]
        return "".join(LETTERS[i] for i in self.answer)


@dataclass
class BankSummary:
    """What a bank build produced: questions, files read, and every skipped row or file with the reason."""

    questions: list[Question] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: (file, Excel row or 0 for the whole file, reason)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """What content/manifest.json records of the bank."""
        out: dict[str, Any] = {"questions": len(self.questions), "files": list(self.files)}
        if self.skipped:
            out["skipped"] = [texts.quiz_skipped(name, row, why).strip() for name, row, why in self.skipped]
        return out

    def lines(self) -> list[str]:
        out = [texts.quiz_build_summary(len(self.questions), len(self.files), len(self.skipped))]
        out += [texts.quiz_skipped(name, row, why) for name, row, why in self.skipped]
        return out


# --- cell normalisation -------------------------------------------------------------------------


def clean(value: Any) -> str:
    """A cell as text: numbers without a trailing .0, NFC, whitespace collapsed (line breaks kept as one space)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _header_key(value: Any) -> str:
    text = unicodedata.normalize("NFKC", clean(value)).upper()
    return re.sub(r"[\s:：()（）\[\]【】*＊]", "", text)


def _word(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip(_PUNCT_EDGES).upper()


def judge_value(text: str) -> bool | None:
    """对/正确/√/T… -> True, 错/错误/×/F… -> False, anything else None."""
    word = _word(text)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def is_typed_judge_word(text: str) -> bool:
    """对 / 错 / √ / × … (TYPED_TRUE, TYPED_FALSE): a 判断 answer a member may send on its own."""
    return _word(text) in TYPED_TRUE + TYPED_FALSE


def parse_letters(text: str) -> str | None:
    """"B" / "a,c,d" / "A、C、D" / "ACD" -> "ACD" (sorted, unique); None if anything else is in it."""
    word = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).strip(_PUNCT_EDGES).upper()
    if not word or any(ch not in LETTERS for ch in word):
        return None
    return "".join(sorted(set(word)))


def question_id(text: str, options: tuple[str, ...]) -> str:
    """Stable id: 'q' + 10 hex of sha1 over the normalised question and options."""
    key = "\x1f".join(unicodedata.normalize("NFKC", s).strip() for s in (text, *options))
    return "q" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def _dup_key(text: str, options: tuple[str, ...]) -> str:
    """Two rows are the same question when their text and options match, ignoring spaces and punctuation."""
    def skeleton(s: str) -> str:
        return "".join(ch for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN")

    return "\x1f".join(skeleton(s) for s in (text, *options))


# --- one row -> one question ---------------------------------------------------------------------


class BadRow(Exception):
    """Why a row is not a question (the message is the reason, in Chinese)."""


def make_question(row: Mapping[str, str], origin: str) -> Question:
    """A question from one row's cells (column -> text); BadRow with the reason if it is not a valid one."""
    text = row.get("question", "")
    if not text:
        raise BadRow(texts.QUIZ_BAD_NO_QUESTION)
    answer_cell = row.get("answer", "")
    if not answer_cell:
        raise BadRow(texts.QUIZ_BAD_NO_ANSWER)
    # Blank option cells are allowed (a question with three options leaves D-F blank); a blank between two
    # options is closed up, and the answer letters follow their options.
    given = [(c, row.get(f"option{c}", "")) for c in LETTERS]
    options = [text for _c, text in given if text]
    position = {c: i for i, c in enumerate(c for c, text in given if text)}
    kind_cell = _word(row.get("kind", ""))
    kind = _KIND_WORDS.get(kind_cell) if kind_cell else None
    if kind_cell and kind is None:
        raise BadRow(texts.quiz_bad_kind(row.get("kind", "")))
    letters = parse_letters(answer_cell)
    verdict = judge_value(answer_cell)
    if kind is None:  # no 题型 column: what the answer says
        kind = JUDGE if verdict is not None and letters is None else (MULTI if letters and len(letters) > 1 else SINGLE)
    if kind == JUDGE:
        answer = _judge_answer(verdict, letters, given, answer_cell)
        return Question(question_id(text, ()), JUDGE, text, (), (answer,), row.get("explanation", ""),
                        row.get("category", ""), row.get("difficulty", ""), origin)
    if letters is None:
        raise BadRow(texts.quiz_bad_answer(answer_cell))
    missing = [c for c in letters if c not in position]
    if missing:
        raise BadRow(texts.quiz_bad_answer_option("".join(missing)))
    if len(options) < 2:
        raise BadRow(texts.QUIZ_BAD_FEW_OPTIONS)
    if kind == SINGLE and len(letters) > 1:
        raise BadRow(texts.quiz_bad_single(letters))
    opts = tuple(options)
    return Question(question_id(text, opts), kind, text, opts, tuple(sorted(position[c] for c in letters)),
                    row.get("explanation", ""), row.get("category", ""), row.get("difficulty", ""), origin)


def _judge_answer(verdict: bool | None, letters: str | None, given: list[tuple[str, str]], cell: str) -> int:
    """0 (对) or 1 (错). Some banks give 判断 options 正确 / 错误 and the answer as a letter."""
    if verdict is None and letters is not None and len(letters) == 1:
        text = dict(given).get(letters, "")
        if text:
            verdict = judge_value(text)
        elif not any(t for _c, t in given) and letters in "AB":
            verdict = letters == "A"  # A = 对, B = 错, as members see them
    if verdict is None:
        raise BadRow(texts.quiz_bad_judge(cell))
    return 0 if verdict else 1


# --- Excel banks -----------------------------------------------------------------------------------

#: The header row is searched for among the first rows (a title row above it is common).
HEADER_SEARCH_ROWS = 5


def bank_files(seeds_dir: Path) -> list[Path]:
    """Every .xlsx (and old .xls/.et, to name them) under seeds/local/, sub-folders included, sorted by path."""
    local = seeds_dir / "local"
    if not local.is_dir():
        return []
    return sorted(
        p for p in local.rglob("*")
        if p.is_file() and p.suffix.lower() in (".xlsx", *OLD_EXCEL)
        and not any(part.startswith((".", "~$")) for part in p.relative_to(local).parts)
    )


def _columns(header: tuple[Any, ...]) -> dict[int, str]:
    found: dict[int, str] = {}
    for i, cell in enumerate(header):
        col = _HEADERS.get(_header_key(cell))
        if col is not None and col not in found.values():
            found[i] = col
    return found


def read_xlsx(path: Path, name: str) -> Iterator[tuple[int, Question | BadRow]]:
    """(Excel row number, question or the reason it is bad) for each non-empty row under the header.

    Raises BadRow (for the whole file) when it cannot be opened or has no header row with a question column.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile/XML errors of a damaged file: named, the rest builds
        raise BadRow(texts.quiz_bad_file(type(exc).__name__)) from None
    try:
        if not wb.worksheets:
            raise BadRow(texts.QUIZ_NO_HEADER)
        rows = wb.worksheets[0].iter_rows(min_row=1, values_only=True)
        columns: dict[int, str] = {}
        number = 0
        try:
            for number, values in enumerate(rows, 1):
                if not columns:
                    columns = _columns(values)
                    if "question" in columns.values():
                        continue
                    columns = {}
                    if number >= HEADER_SEARCH_ROWS:
                        raise BadRow(texts.QUIZ_NO_HEADER)
                    continue
                cells = {col: clean(values[i]) for i, col in columns.items() if i < len(values)}
                if not any(cells.values()):
                    continue
                try:
                    yield number, make_question(cells, f"{name}:{number}")
                except BadRow as bad:
                    yield number, bad
        except BadRow:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged sheet (XML, zip) shows only when its rows are read
            raise BadRow(texts.quiz_bad_file(type(exc).__name__)) from None
        if not columns:
            raise BadRow(texts.QUIZ_NO_HEADER)
    finally:
        wb.close()


# --- the starter bank ----------------------------------------------------------------------------------


def read_starter(content_dir: Path, passages: Mapping[str, ContentLike]) -> list[Question]:
    """content/quiz.toml's [[question]] tables; each must name an existing `passage`; its source ends the 解析."""
    path = content_dir / STARTER_FILE
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BankError(texts.content_bad_toml(path, str(exc).splitlines()[0])) from exc
    specs = data.get("question", [])
    if not isinstance(specs, list):
        raise BankError(texts.quiz_starter_not_array(path))
    out: list[Question] = []
    for n, spec in enumerate(specs, 1):
        if not isinstance(spec, dict):
            raise BankError(texts.quiz_starter_bad(n, texts.QUIZ_BAD_NO_QUESTION))
        pid = str(spec.get("passage", ""))
        passage = passages.get(pid)
        if passage is None:
            raise BankError(texts.quiz_starter_no_passage(n, pid))
        options = spec.get("options", [])
        if not isinstance(options, list):
            raise BankError(texts.quiz_starter_bad(n, texts.QUIZ_BAD_FEW_OPTIONS))
        row = {
            "kind": clean(spec.get("type")), "question": clean(spec.get("question")),
            "answer": clean(spec.get("answer")), "category": clean(spec.get("category")),
            "difficulty": clean(spec.get("difficulty")),
            "explanation": texts.quiz_with_source(clean(spec.get("explanation")), passage.source),
            **{f"option{c}": clean(o) for c, o in zip(LETTERS, options, strict=False)},
        }
        if len(options) > len(LETTERS):
            raise BankError(texts.quiz_starter_bad(n, texts.quiz_bad_too_many(len(LETTERS))))
        try:
            out.append(make_question(row, f"{STARTER_FILE}:{n}"))
        except BadRow as bad:
            raise BankError(texts.quiz_starter_bad(n, str(bad))) from None
    return out


# --- build and load ----------------------------------------------------------------------------------


def build_bank(
    seeds_dir: Path, content_dir: Path, passages: Mapping[str, ContentLike], progress: Callable[[str], None] = print,
) -> tuple[str, BankSummary]:
    """(the text of content/quiz.json, what was built): the starter bank, then each Excel bank in path order.

    The caller writes the file (with the rest of the content, atomically). Bad rows are skipped and listed."""
    summary = BankSummary()
    seen: dict[str, str] = {}

    def add(q: Question, where: str, file: str, row: int) -> None:
        key = _dup_key(q.text, q.options)
        if key in seen:
            summary.skipped.append((file, row, texts.quiz_bad_duplicate(seen[key])))
            return
        seen[key] = where
        summary.questions.append(q)

    starter = read_starter(content_dir, passages)
    if starter:
        summary.files.append(STARTER_FILE)
    for n, q in enumerate(starter, 1):
        add(q, texts.quiz_where(STARTER_FILE, n), STARTER_FILE, n)
    for path in bank_files(seeds_dir):
        name = path.relative_to(seeds_dir).as_posix()
        if path.suffix.lower() in OLD_EXCEL:
            summary.skipped.append((name, 0, texts.QUIZ_OLD_EXCEL))
            progress(texts.quiz_skipped(name, 0, texts.QUIZ_OLD_EXCEL))
            continue
        before = len(summary.questions)
        try:
            read = list(read_xlsx(path, name))  # whole, so a file found damaged half-way adds nothing
        except BadRow as bad:
            summary.skipped.append((name, 0, str(bad)))
            progress(texts.quiz_skipped(name, 0, str(bad)))
            continue
        for row, got in read:
            if isinstance(got, BadRow):
                summary.skipped.append((name, row, str(got)))
            else:
                add(got, texts.quiz_where(name, row), name, row)
        summary.files.append(name)
        progress(texts.quiz_file_read(name, len(summary.questions) - before))
    body = [_question_dict(q) for q in summary.questions]
    return json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1) + "\n", summary


def _question_dict(q: Question) -> dict[str, Any]:
    return {"id": q.id, "kind": q.kind, "text": q.text, "options": list(q.options), "answer": list(q.answer),
            "explanation": q.explanation, "category": q.category, "difficulty": q.difficulty, "origin": q.origin}


@dataclass(frozen=True)
class Bank:
    """The questions in use, by id, in bank order."""

    questions: tuple[Question, ...] = ()
    _index: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update((q.id, q) for q in self.questions)

    def get(self, qid: str) -> Question | None:
        return self._index.get(qid)

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.questions]


def load_bank(content_dir: Path) -> Bank:
    """content/quiz.json (an empty bank when there is none yet); ValueError when it is damaged."""
    path = Path(content_dir) / QUIZ_FILE
    if not path.is_file():
        return Bank()
    raw = json.loads(path.read_text(encoding="utf-8"))
    questions = tuple(
        Question(str(d["id"]), str(d["kind"]), str(d["text"]), tuple(d["options"]), tuple(int(i) for i in d["answer"]),
                 str(d.get("explanation", "")), str(d.get("category", "")), str(d.get("difficulty", "")),
                 str(d.get("origin", "")))
        for d in raw
    )
    return Bank(questions)
