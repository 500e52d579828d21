"""House rule: every Chinese user-facing string lives in bot/texts.py.

Parses every module under bot/ (subpackages included) except bot/texts.py and collects the string constants
(f-string pieces too) that contain Chinese characters, docstrings excepted. A constant inside a module-level
or class-level assignment is reported under that name (`_RADICALS_SUPPLEMENT`, `SuggestionsConfig.departments`);
one inside a function is reported under the function with its exact text. The result must be exactly the
allow-list below: vocabularies that are matched against input, parsed out of documents or stored in records,
not messages. A new Chinese message anywhere else fails here: put it in bot/texts.py.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
#: Han ideographs (unified, extension A, compatibility), 〇/々, and the radical blocks. Full-width punctuation
#: alone (`"、".join`, `"；"` as a separator) is not text to translate and is not counted.
HAN = re.compile(r"[\u2e80-\u2fdf\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: The whole named constant (a table or pattern) may hold Chinese.
TABLE = None

#: (module, constant or function) -> TABLE, or for a function the exact Chinese literals it may hold.
ALLOWED: dict[tuple[str, str], tuple[str, ...] | None] = {
    # Console meta-commands the operator types (`:群`, `:私聊`...): input words matched with `in`.
    ("bot/adapters/console.py", "ConsoleChat.meta"): ("退出", "群", "群聊", "私聊", "管理员", "成员", "用户", "时钟"),
    # WeCom: "帮助" typed by a member is recognised as /help (input word).
    ("bot/adapters/wecom.py", "_is_help"): ("帮助",),
    # Push modes are stored values (subscriptions, config.toml), checked by equality.
    ("bot/config.py", "PUSH_MODES"): TABLE,
    # Default departments / reward tiers: config data an operator overrides in config.toml, stored in records.
    ("bot/config.py", "SuggestionsConfig.departments"): TABLE,
    ("bot/config.py", "SuggestionsConfig.reward_tiers"): TABLE,
    # Patterns that recognise numbering, 第X条 articles, 【篇…】 and 【关键词】 lines in seed documents.
    ("bot/content.py", "_ARTICLE_GAP_RE"): TABLE,
    ("bot/content.py", "_CN_NUM"): TABLE,
    ("bot/content.py", "_ENUM_RES"): TABLE,
    ("bot/content.py", "_ITEM_LEAD_RE"): TABLE,
    ("bot/content.py", "_META_RE"): TABLE,
    ("bot/content.py", "_PIAN_RE"): TABLE,
    # Patterns for articles, chapters, page numbers and enumerators in imported .docx / PDF text.
    ("bot/docs_import.py", "ARTICLE_RE"): TABLE,
    ("bot/docs_import.py", "_CHAPTER_RE"): TABLE,
    ("bot/docs_import.py", "_CN_DIGITS"): TABLE,
    ("bot/docs_import.py", "_PAGE_NO_RE"): TABLE,
    ("bot/docs_import.py", "_STRUCT_RE"): TABLE,
    # Folds PDF radical look-alikes (⺁ -> 厂) to ordinary characters.
    ("bot/docs_import.py", "_RADICALS_SUPPLEMENT"): TABLE,
    # Word style names ("标题 1") a .docx uses for headings and its title.
    ("bot/docs_import.py", "_heading_level"): (r"^(?:heading|标题)\s*(\d)$",),
    ("bot/docs_import.py", "read_docx"): ("标题",),
    # Bounds of the CJK ranges (written as \u escapes in the source).
    ("bot/docs_import.py", "_is_cjk"): ("\u3400", "\u9fff", "\uf900", "\ufaff"),
    # PDF /Title placeholders and print headers that are ignored, and what a margin line is made of.
    ("bot/docs_import.py", "_GENERIC_TITLES"): TABLE,
    ("bot/docs_import.py", "_FURNITURE_FORMS"): TABLE,
    # 第X编/章/节 -> heading level.
    ("bot/docs_import.py", "structural_kind"): ("编", "章", "节"),
    # Command tables: the Chinese aliases are what members type (help and usage texts are in texts.py).
    ("bot/handlers/basic.py", "COMMANDS"): TABLE,
    ("bot/handlers/push.py", "COMMANDS"): TABLE,
    ("bot/handlers/reload.py", "COMMANDS"): TABLE,
    ("bot/handlers/search.py", "COMMANDS"): TABLE,
    ("bot/handlers/suggest.py", "COMMANDS"): TABLE,
    # The word a member types to submit anonymously (`建议 匿名 内容`).
    ("bot/handlers/suggest.py", "_ANON_PREFIX"): TABLE,
    # Push modes (stored values) and the words a member may type for them.
    ("bot/practice.py", "DAILY"): TABLE,
    ("bot/practice.py", "WORKDAYS"): TABLE,
    ("bot/practice.py", "_MODE_WORDS"): TABLE,
    # Article queries (工会法第三条): patterns, the label index key 第X条, and number conversion; the question's
    # numbers with their units and the particles read through inside a colloquial form.
    ("bot/search/engine.py", "_ARTICLE_P_RE"): TABLE,
    ("bot/search/engine.py", "_COURT"): TABLE,
    ("bot/search/engine.py", "SearchEngine.__init__"): ("^中华人民共和国",),
    ("bot/search/understand.py", "ARTICLE_Q_RE"): TABLE,
    ("bot/search/understand.py", "_HINT_STRIP"): TABLE,
    ("bot/search/understand.py", "_COUNTRY_RE"): TABLE,
    ("bot/search/understand.py", "article_label"): ("第", "条"),
    ("bot/search/understand.py", "cn_number"): ("零一二三四五六七八九", "十", "百", "零", "一"),
    ("bot/search/understand.py", "NUMBER_RE"): TABLE,
    ("bot/search/understand.py", "PARTICLES"): TABLE,
    ("bot/search/understand.py", "_CN_DIGIT"): TABLE,
    ("bot/search/understand.py", "other_numeral"): ("十", "百"),
    # Statutes (bot/statute.py): patterns for articles, chapters, appendices, titles, version lines and document
    # numbers, and the words of a short name (中华人民共和国, 司法解释, 案件).
    ("bot/statute.py", "_CN_DIGITS"): TABLE,
    ("bot/statute.py", "ARTICLE_START_RE"): TABLE,
    ("bot/statute.py", "CHAPTER_RE"): TABLE,
    ("bot/statute.py", "_CHAPTER_LEVEL"): TABLE,
    ("bot/statute.py", "APPENDIX_RE"): TABLE,
    ("bot/statute.py", "LAW_TITLE_RE"): TABLE,
    ("bot/statute.py", "_TITLE_TAIL_RE"): TABLE,
    ("bot/statute.py", "_COUNTRY"): TABLE,
    ("bot/statute.py", "_TRIAL_RE"): TABLE,
    ("bot/statute.py", "_SPC_RE"): TABLE,
    ("bot/statute.py", "_SPC_QUOTED_RE"): TABLE,
    ("bot/statute.py", "_SPC_CASES_RE"): TABLE,
    ("bot/statute.py", "_SPC_KEEP_CASES"): TABLE,
    ("bot/statute.py", "SPC_SUFFIX"): TABLE,
    ("bot/statute.py", "_DATE_RE"): TABLE,
    ("bot/statute.py", "_ACT_RE"): TABLE,
    ("bot/statute.py", "DOC_NUMBER_RE"): TABLE,
    ("bot/statute.py", "_TOC_RE"): TABLE,
    ("bot/statute.py", "ITEM_RE"): TABLE,
    ("bot/statute.py", "_SECTION_RE"): TABLE,
    ("bot/statute.py", "_SALUTATION_RE"): TABLE,
    ("bot/statute.py", "_CN_VALUES"): TABLE,
    ("bot/statute.py", "_CN_UNITS"): TABLE,
    ("bot/statute.py", "short_name"): ("案件",),
    ("bot/statute.py", "version_of"): ("年", "月", "日"),
    # Suggestion vocabulary stored in records and their history (renaming one is a data migration).
    ("bot/suggestions.py", "CATEGORIES"): TABLE,
    ("bot/suggestions.py", "DEFAULT_CATEGORY"): TABLE,
    ("bot/suggestions.py", "PENDING"): TABLE,
    ("bot/suggestions.py", "RECEIVED"): TABLE,
    ("bot/suggestions.py", "ADOPTED"): TABLE,
    ("bot/suggestions.py", "REJECTED"): TABLE,
    ("bot/suggestions.py", "DONE"): TABLE,
    ("bot/suggestions.py", "MERGED"): TABLE,
    ("bot/suggestions.py", "ACTION_LABELS"): TABLE,
    ("bot/suggestions.py", "NOTE_ACTION"): TABLE,
    ("bot/suggestions.py", "SATISFACTION"): TABLE,
    # Units stripped from amounts a member types (12,000元, 1.2万).
    ("bot/suggestions.py", "parse_money"): ("元", "万"),
    # 每日一题: the Excel bank template's header names, 题型 words and 对/错 words (matched against bank cells and
    # members' answers), the words members type before an answer (答 B), a month typed as 2026年2月.
    ("bot/quizbank.py", "_HEADERS"): TABLE,
    ("bot/quizbank.py", "_KIND_WORDS"): TABLE,
    ("bot/quizbank.py", "TRUE_WORDS"): TABLE,
    ("bot/quizbank.py", "FALSE_WORDS"): TABLE,
    ("bot/quizbank.py", "TYPED_TRUE"): TABLE,
    ("bot/quizbank.py", "TYPED_FALSE"): TABLE,
    ("bot/quiz.py", "ANSWER_WORDS"): TABLE,
    ("bot/handlers/quiz.py", "_MONTH_RE"): TABLE,
    ("bot/handlers/quiz.py", "COMMANDS"): TABLE,
}


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _body(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    return node.body[1:] if node.body and _is_docstring(node.body[0]) else node.body


def chinese_literals(path: Path) -> dict[str, set[str] | None]:
    """{scope: literals} for a function scope, {name: None} for a module- or class-level named constant."""
    found: dict[str, set[str] | None] = {}

    def literals(node: ast.AST) -> list[str]:
        return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                and HAN.search(n.value)]

    def visit(node: ast.AST, scope: str, in_function: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{scope}.{node.name}" if scope else node.name
            for deco in node.decorator_list:
                visit(deco, scope, in_function)
            heads = node.bases + node.keywords if isinstance(node, ast.ClassDef) else [node.args]
            for head in heads:  # default values belong to the function
                visit(head, name, True)
            for stmt in _body(node):
                visit(stmt, name, in_function or not isinstance(node, ast.ClassDef))
            return
        if not in_function and isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                if literals(node):
                    found[f"{scope}.{target.id}" if scope else target.id] = None
                return
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and HAN.search(node.value):
            entry = found.setdefault(scope or "<module>", set())
            assert entry is not None
            entry.add(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child, scope, in_function)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for stmt in _body(tree):
        visit(stmt, "", False)
    return found


def _scan() -> dict[tuple[str, str], set[str] | None]:
    out: dict[tuple[str, str], set[str] | None] = {}
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "bot/texts.py":
            continue
        for scope, lits in chinese_literals(path).items():
            out[(rel, scope)] = lits
    return out


def test_chinese_strings_live_in_texts() -> None:
    found = _scan()
    problems = []
    for key, lits in sorted(found.items()):
        if key not in ALLOWED:
            problems.append(f"{key[0]} {key[1]}: {sorted(lits) if lits else 'Chinese in this constant'}")
        elif lits is not None and lits - set(ALLOWED[key] or ()):
            problems.append(f"{key[0]} {key[1]}: {sorted(lits - set(ALLOWED[key] or ()))}")
    assert not problems, (
        "Chinese string literals outside bot/texts.py (move user-facing text to texts.py; a pattern or table "
        "that matches input may go on the allow-list in tests/test_texts_home.py with a reason):\n"
        + "\n".join(problems)
    )


def test_allow_list_is_not_stale() -> None:
    found = _scan()
    stale = []
    for key, allowed in sorted(ALLOWED.items()):
        if key not in found:
            stale.append(f"{key[0]} {key[1]}: no Chinese literal there any more")
        elif allowed is not None and (found[key] is None or set(allowed) - (found[key] or set())):
            stale.append(f"{key[0]} {key[1]}: allowed {sorted(set(allowed) - (found[key] or set()))} not found")
    assert not stale, "Remove stale entries from ALLOWED in tests/test_texts_home.py:\n" + "\n".join(stale)


def test_scanner_catches_a_message(tmp_path: Path) -> None:
    """The check itself: an f-string message, a message in a default argument and one in a table are found;
    docstrings and punctuation-only separators are not."""
    mod = tmp_path / "m.py"
    mod.write_text(
        '"""模块说明。"""\n'
        'SEP = "、"\n'
        'HINTS = {"a": "请先运行"}\n'
        "class C:\n"
        '    """类说明。"""\n'
        '    label: str = "标签"\n'
        '    def f(self, x: str = "默认") -> str:\n'
        '        """函数说明。"""\n'
        '        return f"没有找到：{x}" + SEP\n',
        encoding="utf-8",
    )
    assert chinese_literals(mod) == {"HINTS": None, "C.label": None, "C.f": {"默认", "没有找到："}}
