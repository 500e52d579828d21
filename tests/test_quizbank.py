"""每日一题 question banks: operators' Excel banks in seeds/local/ (and sub-folders) and the starter bank, built by
`content build` into content/quiz.json. Bad rows are named with the file and the row number Excel shows, and
skipped; the rest builds; ids stay the same across rebuilds; the starter bank quotes only the seed essays."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.content import ContentError, build, load_content
from bot.quizbank import JUDGE, MULTI, SINGLE, BadRow, load_bank, make_question, parse_letters

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def seeds_with_local(tmp: Path) -> Path:
    """The real seed essays, and an empty seeds/local/."""
    seeds = tmp / "seeds"
    (seeds / "local").mkdir(parents=True)
    for path in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    return seeds


def content_dir(tmp: Path, starter: bool = True) -> Path:
    out = tmp / "content"
    out.mkdir()
    for name in ("practices.toml", "titles.toml", *(["quiz.toml"] if starter else [])):
        shutil.copy(CONTENT / name, out / name)
    return out


def write_xlsx(path: Path, rows: list[list[object]], title_row: str | None = None) -> Path:
    """A workbook whose first sheet holds `rows` (the first is the header), under an optional title row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    if title_row:
        ws.append([title_row])
    for row in rows:
        ws.append(row)
    wb.create_sheet("说明").append(["这张表不读"])
    wb.save(path)
    return path


HEADER = ["题型", "题目", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "分类", "难度"]
GOOD_ROWS = [
    ["单选", "工会会员大会的主要职责是什么？", "审议工作报告", "发工资", "招聘", "采购", "A",
     "会员大会审议工会工作报告。", "组织", "易"],
    ["多选", "下列哪些属于职工之家建设的内容？", "组织健全", "制度完善", "活动经常", "盈利增长", "A、B、C", "", "", ""],
    ["判断", "工会应当依法维护职工的合法权益。", "", "", "", "", "√", "这是工会的基本职责。", "", ""],
    ["判断", "合理化建议只能由工会干部提出。", "", "", "", "", "错误", "", "", ""],
]


def test_a_bank_with_bad_rows_builds_the_rest_and_names_each_bad_row(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    rows = [HEADER, *GOOD_ROWS,
            ["单选", "职代会闭会期间由谁处理临时问题？", "团长联席会议", "厂长", "", "", "", "", "", ""],  # no answer
            ["单选", "集体合同由谁签订？", "企业与工会", "企业与政府", "", "", "C", "", "", ""],  # C has no option
            ["单选", "", "甲", "乙", "", "", "A", "", "", ""],  # empty question
            ["单选", "工会会员大会的主要职责是什么？", "审议工作报告", "发工资", "招聘", "采购", "A", "", "", ""],
            ["填空", "工会的英文是？", "", "", "", "", "union", "", "", ""],  # unknown type (row 10: a duplicate)
            [None] * 10,  # an empty row is not a question and not an error
            ["单选", "班组民主管理的形式有？", "班组民主会", "", "班务公开", "", "C", "", "", ""]]  # gap closed up
    write_xlsx(seeds / "local" / "安全月" / "题库.xlsx", rows, title_row="2026年安全生产月知识竞赛题库")
    lines: list[str] = []
    build(seeds, content_dir(tmp_path, starter=False), progress=lines.append)
    out = "\n".join(lines)
    name = "local/安全月/题库.xlsx"
    # the title row is row 1 and the header row 2, so the first question is on Excel's row 3
    assert f"已跳过 {name} 第 7 行：没有答案" in out
    assert f"已跳过 {name} 第 8 行：答案 C 没有对应的选项" in out
    assert f"已跳过 {name} 第 9 行：题目为空" in out
    assert f"已跳过 {name} 第 10 行：与{name} 第 3 行的题目重复" in out
    assert f"已跳过 {name} 第 11 行：题型“填空”无法识别" in out
    assert "第 12 行" not in out
    assert "题库：1 个文件，5 道题，跳过 5 处" in out
    bank = load_bank(tmp_path / "content")
    assert [q.kind for q in bank.questions] == [SINGLE, MULTI, JUDGE, JUDGE, SINGLE]
    single, multi, yes, no, gap = bank.questions
    assert single.options[0] == "审议工作报告" and single.answer == (0,) and single.category == "组织"
    assert single.origin == f"{name}:3" and single.explanation == "会员大会审议工会工作报告。"
    assert multi.answer == (0, 1, 2) and multi.answer_letters() == "ABC"
    assert yes.answer == (0,) and no.answer == (1,) and yes.choices == ("对", "错")
    assert gap.options == ("班组民主会", "班务公开") and gap.answer_letters() == "B"
    manifest = json.loads((tmp_path / "content" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quiz"]["questions"] == 5 and len(manifest["quiz"]["skipped"]) == 5


def test_header_variants_and_answer_spellings(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    rows = [["序号", "试题类型", "题干", "A", "B", "C", "D", "正确答案", "答案解析"],
            [1, "单项选择题", "厂务公开的主要载体是？", "职代会", "黑板报", "广播", "微信", "a", "职代会是基本载体。"],
            [2, "多项选择题", "工会经费来源包括？", "会费", "拨缴经费", "补助", "罚款", "a c b", ""],
            [3, "判断题", "工会主席可以由行政领导兼任。", "正确", "错误", "", "", "B", ""],
            [4, "判断题", "职工有权参加工会。", None, None, None, None, "T", ""]]
    write_xlsx(seeds / "local" / "竞赛.xlsx", rows)
    build(seeds, content_dir(tmp_path, starter=False), progress=lambda _: None)
    qs = load_bank(tmp_path / "content").questions
    assert [(q.kind, q.answer) for q in qs] == [(SINGLE, (0,)), (MULTI, (0, 1, 2)), (JUDGE, (1,)), (JUDGE, (0,))]
    assert qs[0].explanation == "职代会是基本载体。" and qs[2].options == ()


def test_without_a_type_column_the_answer_decides(tmp_path: Path) -> None:
    for cells, kind in ((["对"], JUDGE), (["ACD"], MULTI), (["b"], SINGLE)):
        row = {"question": "问题", "answer": cells[0], "optionA": "甲", "optionB": "乙", "optionC": "丙",
               "optionD": "丁"}
        assert make_question(row, "x").kind == kind
    with pytest.raises(BadRow, match="单选题却有多个答案"):
        make_question({"kind": "单选", "question": "问", "answer": "AB", "optionA": "甲", "optionB": "乙"}, "x")
    assert parse_letters("A，C、d") == "ACD" and parse_letters("对") is None


def test_ids_stay_the_same_across_rebuilds_and_reordering(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    bank_file = write_xlsx(seeds / "local" / "题库.xlsx", [HEADER, *GOOD_ROWS])
    content = content_dir(tmp_path, starter=False)
    build(seeds, content, progress=lambda _: None)
    first = (content / "quiz.json").read_bytes()
    ids = {q.text: q.id for q in load_bank(content).questions}
    build(seeds, content, progress=lambda _: None)
    assert (content / "quiz.json").read_bytes() == first  # deterministic
    extra = ["单选", "新加的题？", "甲", "乙", "", "", "B", "", "", ""]
    write_xlsx(bank_file, [HEADER, extra, *reversed(GOOD_ROWS)])
    build(seeds, content, progress=lambda _: None)
    again = {q.text: q.id for q in load_bank(content).questions}
    assert {t: again[t] for t in ids} == ids and len(again) == 5


def test_old_and_broken_files_are_named_and_temporary_files_ignored(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    write_xlsx(seeds / "local" / "好的.xlsx", [HEADER, GOOD_ROWS[0]])
    (seeds / "local" / "旧版.xls").write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    (seeds / "local" / "坏的.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    write_xlsx(seeds / "local" / "无表头.xlsx", [["甲", "乙"], ["丙", "丁"]])
    (seeds / "local" / "~$好的.xlsx").write_bytes(b"lock file of an open workbook")
    lines: list[str] = []
    build(seeds, content_dir(tmp_path, starter=False), progress=lines.append)
    out = "\n".join(lines)
    assert "已跳过 local/旧版.xls：旧版 Excel 文件（.xls/.et）不能直接读取，请用 Excel 或 WPS“另存为” .xlsx" in out
    assert "已跳过 local/坏的.xlsx：无法打开" in out
    assert "已跳过 local/无表头.xlsx：第一个工作表的前 5 行里没有表头" in out
    assert "~$" not in out and "local/好的.xlsx: 1 道题" in out


def test_a_workbook_whose_sheet_is_damaged_is_named_and_the_rest_builds(tmp_path: Path) -> None:
    """The zip opens but the sheet's XML is cut short (a copy interrupted): found only when its rows are read."""
    import zipfile

    seeds = seeds_with_local(tmp_path)
    write_xlsx(seeds / "local" / "好的.xlsx", [HEADER, GOOD_ROWS[0]])
    whole = write_xlsx(tmp_path / "whole.xlsx", [HEADER, *GOOD_ROWS[1:], *[["单选", f"题{i}？", "甲", "乙", "", "",
                                                                          "A"] for i in range(200)]])
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(seeds / "local" / "截断.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    lines: list[str] = []
    content = content_dir(tmp_path, starter=False)
    build(seeds, content, progress=lines.append)
    out = "\n".join(lines)
    assert "已跳过 local/截断.xlsx：无法打开，可能已损坏" in out and "local/好的.xlsx: 1 道题" in out
    assert [q.text for q in load_bank(content).questions] == [GOOD_ROWS[0][1]]  # nothing of the damaged file


def test_content_build_command_names_the_bad_row(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    write_xlsx(seeds / "local" / "题库.xlsx", [HEADER, GOOD_ROWS[0], ["单选", "无答案的题", "甲", "乙"]])
    content = content_dir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'[content]\ndir = "{content}"\n[storage]\ndir = "{tmp_path / "data"}"\n', encoding="utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "--config", str(config), "content", "build",
                        "--seeds", str(seeds)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "已跳过 local/题库.xlsx 第 3 行：没有答案" in r.stderr + r.stdout
    assert len(load_bank(content).questions) == 1 + len(tomllib.loads((CONTENT / "quiz.toml").read_text())["question"])


# --- the starter bank -------------------------------------------------------------------------------------


def test_starter_bank_is_grounded_in_the_seed_essays() -> None:
    """At least 30 questions; each names a passage that exists, its 解析 ends with that passage's source, and
    every quoted part (after 原文：, split at ……) is the passage's own words."""
    content = load_content(CONTENT)
    specs = tomllib.loads((CONTENT / "quiz.toml").read_text(encoding="utf-8"))["question"]
    bank = load_bank(CONTENT)
    assert len(specs) >= 30 and len(bank.questions) == len(specs)
    for spec, q in zip(specs, bank.questions, strict=True):
        passage = content.passage(spec["passage"])
        assert passage is not None, spec["question"]
        assert q.explanation.endswith(f"（出处：{passage.source}）") and q.explanation.count("《") >= 1
        m = re.search(r"原文(?:“[^”]*”|（[^）]*）)?(?:小节题为“([^”]*)”)?[：:](.*)$", spec["explanation"])
        assert m, spec["explanation"]
        quoted = [m.group(1)] if m.group(1) else []
        quoted += [part for f in m.group(2).split("……") for part in re.split("[；。]", f)]
        for part in (p.strip("。；，“” ") for p in quoted):
            if len(part) > 3:
                assert part in passage.text or part in passage.section, (spec["question"], part)


def test_committed_quiz_json_matches_the_starter_bank(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    content = content_dir(tmp_path)
    build(seeds, content, progress=lambda _: None)
    assert (content / "quiz.json").read_bytes() == (CONTENT / "quiz.json").read_bytes(), "rebuild content/"


def test_a_starter_question_naming_a_missing_passage_fails_the_build_in_one_line(tmp_path: Path) -> None:
    seeds = seeds_with_local(tmp_path)
    content = content_dir(tmp_path)
    text = (content / "quiz.toml").read_text(encoding="utf-8")
    (content / "quiz.toml").write_text(text.replace('passage = "p4d70d5b65e"', 'passage = "p0000000000"', 1),
                                       encoding="utf-8")
    with pytest.raises(ContentError, match=r"quiz.toml 第 1 题：出处段落“p0000000000”不存在") as exc:
        build(seeds, content, progress=lambda _: None)
    assert "\n" not in str(exc.value)
