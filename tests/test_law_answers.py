"""Workers' law questions answered with the right article, cited (issue 15), over the statutes of ../shared/laws
built into a temporary copy: /law (法规, 查法条) through the core, citations in every surface (results, 全文,
inline, the CLI's JSON), statutes first for a legal question in plain search, 法规 / 经验 labels, a long article
paged between items, and the relevance floor on the held-out questions (figures only; no question is printed).
"""

from __future__ import annotations

import io
import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakebotapi import parse_html

sys.path.insert(0, str(Path(__file__).parent))

import lawgen  # noqa: E402

from bot.commands import dispatch  # noqa: E402
from bot.config import Config, ContentConfig, StorageConfig  # noqa: E402
from bot.content import build  # noqa: E402
from bot.core import MAX_MESSAGE_CHARS, Reply, Request  # noqa: E402
from bot.handlers import search as handler  # noqa: E402
from bot.search import LAW, run_cli  # noqa: E402
from bot.services import Services, create_services  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PREGNANCY = {"《劳动合同法》第四十二条", "《女职工劳动保护特别规定》第五条", "《妇女权益保障法》第四十八条"}


@pytest.fixture(scope="module")
def law_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, content_dir = lawgen.build_with_laws(tmp_path_factory.mktemp("laws"), lawgen.laws_dir())
    return content_dir


def _services(content_dir: Path, data: Path) -> Services:
    return create_services(Config(storage=StorageConfig(dir=str(data)), content=ContentConfig(dir=str(content_dir))))


@pytest.fixture(scope="module")
def svc(law_content: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = _services(law_content, tmp_path_factory.mktemp("data"))
    yield services
    services.close()


def private(text: str = "", data: str | None = None) -> Request:
    return Request(chat_id="tg:1001", chat_type="private", user_id="tg:1001", user_name="张三", text=text,
                   callback_data=data)


def shown(replies: list[Reply]) -> str:
    """What the member reads: every reply's text as Telegram shows it (the HTML must parse), joined."""
    out = []
    for reply in replies:
        assert len(reply.text) <= MAX_MESSAGE_CHARS
        out.append(parse_html(reply.text)[0])
    return "\n".join(out)


def first_result(text: str) -> str:
    """The title line of result 1 on a results page."""
    return next(line for line in text.splitlines() if line.startswith("1. "))


def button(replies: list[Reply], label: str) -> str:
    return next(b.data for r in replies for row in r.buttons for b in row if b.text.startswith(label))


async def test_probation_question_answers_with_article_19_whole(svc: Services) -> None:
    replies = await dispatch(private("/law 试用期最长多久"), svc)
    text = shown(replies)
    assert first_result(text) == "1. 【法规】《劳动合同法》第十九条"
    article = next(p for p in svc.content.passages if p.citation == "《劳动合同法》第十九条")
    lines = text.splitlines()
    at = lines.index("1. 【法规】《劳动合同法》第十九条")
    assert lines[at + 1] == "第二章 劳动合同的订立"
    assert lines[at + 2 : at + 2 + len(article.text.split("\n"))] == article.text.split("\n")  # the whole article
    assert "来源：《中华人民共和国劳动合同法》（2012年12月28日修正）" in lines[at:]
    assert all(line[3:7] == "【法规】" for line in lines if line[:3] in ("2. ", "3. "))  # statutes only


async def test_pregnancy_dismissal_question_answers_with_a_protecting_article(svc: Services) -> None:
    text = shown(await dispatch(private("/law 怀孕了公司能辞退我吗"), svc))
    assert first_result(text).removeprefix("1. 【法规】") in PREGNANCY


@pytest.mark.parametrize(("text", "cite"), [
    ("法规 试用期最长多久", "《劳动合同法》第十九条"),
    ("查法条 劳动合同法第十九条", "《劳动合同法》第十九条"),
    ("/law 劳动合同法第82条", "《劳动合同法》第八十二条"),
    ("/law 劳动合同法实施条例第十九条", "《劳动合同法实施条例》第十九条"),
])
async def test_aliases_and_article_queries(svc: Services, text: str, cite: str) -> None:
    assert first_result(shown(await dispatch(private(text), svc))) == f"1. 【法规】{cite}"


async def test_a_named_statute_comes_first(svc: Services) -> None:
    named = (("/law 工会法规定工会经费怎么交", "《工会法》"), ("/law 社会保险法里工伤怎么认定", "《社会保险法》"))
    for text, law in named:
        assert first_result(shown(await dispatch(private(text), svc))).startswith(f"1. 【法规】{law}"), text


async def test_plain_search_puts_statutes_first_for_a_legal_question_and_labels_every_result(svc: Services) -> None:
    text = shown(await dispatch(private("怀孕了公司能辞退我吗"), svc))
    assert first_result(text).removeprefix("1. 【法规】") in PREGNANCY and "法规条文排在前面" in text
    text = shown(await dispatch(private("职工之家"), svc))  # a union-work keyword no statute holds: the essays
    assert first_result(text).startswith("1. 【经验】") and "法规条文排在前面" not in text
    results = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(results) == 3 and all(line[3:7] in ("【法规】", "【经验】") for line in results)


async def test_a_one_line_article_does_not_win_on_a_common_word(svc: Services) -> None:
    """工会法第四十条 (about 公司's board) once came first for any question naming 公司."""
    for q in ("公司不给交社保怎么办", "公司拖欠工资三个月了", "公司不跟我签劳动合同", "公司让我周末加班不给加班费"):
        hits = svc.search.search(q, limit=3, scope=LAW).hits
        assert "《工会法》第四十条" not in [h.passage.citation for h in hits], q
        assert all(h.passage.is_law for h in hits)


async def test_citations_in_full_text_inline_and_the_cli(svc: Services, law_content: Path, tmp_path: Path) -> None:
    replies = await dispatch(private("/law 试用期最长多久"), svc)
    full = shown(await dispatch(private(data=button(replies, "全文 1")), svc))
    article = next(p for p in svc.content.passages if p.citation == "《劳动合同法》第十九条")
    assert full.startswith("【法规】《劳动合同法》第十九条\n第二章 劳动合同的订立") and article.text in full
    assert full.rstrip().endswith("来源：《中华人民共和国劳动合同法》（2012年12月28日修正）")
    inline = await handler.inline("试用期最长多久", svc)
    law_results = [r for r in inline if r.title.startswith("【法规】")]
    assert law_results and law_results[0].title == "【法规】《劳动合同法》第十九条"
    assert "《劳动合同法》第十九条" in law_results[0].text and "2012年12月28日修正" in law_results[0].text
    out = io.StringIO()
    assert run_cli(law_content, tmp_path, "试用期最长多久", True, 3, io.StringIO(), out, scope=LAW) == 0
    rows = json.loads(out.getvalue())
    assert rows[0]["citation"] == "《劳动合同法》第十九条" and rows[0]["kind"] == "law"
    assert (rows[0]["law"], rows[0]["article"], rows[0]["chapter"], rows[0]["version"]) == (
        "劳动合同法", "第十九条", "第二章 劳动合同的订立", "2012年12月28日修正")
    out = io.StringIO()
    run_cli(law_content, tmp_path, "试用期最长多久", False, 3, io.StringIO(), out, scope=LAW)
    assert "《劳动合同法》第十九条（第二章 劳动合同的订立）" in out.getvalue()
    out = io.StringIO()
    run_cli(ROOT / "content", tmp_path / "essays", "集体合同", True, 1, io.StringIO(), out)
    assert json.loads(out.getvalue())[0]["citation"] == ""  # an essay has no citation


async def test_law_without_statutes_says_how_to_add_them(tmp_path: Path) -> None:
    svc = _services(ROOT / "content", tmp_path / "data")
    try:
        assert "seeds/local/法规/" in shown(await dispatch(private("/law 试用期最长多久"), svc))
        assert "/law 试用期最长多久" in shown(await dispatch(private("/law"), svc))  # usage
        assert "/law" in shown(await dispatch(private("/help"), svc))
    finally:
        svc.close()


async def test_a_long_article_is_paged_between_items(tmp_path: Path) -> None:
    seeds, content_dir = tmp_path / "seeds", tmp_path / "content"
    (seeds / "local" / "法规").mkdir(parents=True)
    content_dir.mkdir()
    (seeds / "a.txt").write_text("工会工作要贴近职工，倾听职工的呼声，把实事办好。\n", encoding="utf-8")
    (content_dir / "practices.toml").write_text("", encoding="utf-8")
    items = [f"（{lawgen_cn(i)}）第{i}类岗位的职工，每年参加职业健康检查一次，检查费用由用人单位承担，"
             f"检查结果书面告知本人并存入职工健康档案，发现异常的及时复查并调整岗位；" for i in range(1, 61)]
    text = "\n".join(["# 职工健康检查办法", "", "2024年1月5日通过", "", "第一条　本办法适用于本市用人单位。", "",
                      "第二条　下列职工应当参加职业健康检查：", "", *[x for item in items for x in (item, "")],
                      "第三条　本办法从发布那天开始执行。", ""])
    (seeds / "local" / "法规" / "健康检查.md").write_text(text, encoding="utf-8")
    build(seeds, content_dir, progress=lambda _: None)
    svc = _services(content_dir, tmp_path / "data")
    try:
        replies = await dispatch(private("/law 职业健康检查 下列职工"), svc)
        assert len(replies) >= 2 and not any(r.buttons for r in replies[:-1]) and replies[-1].buttons
        parts = [shown([r]) for r in replies]
        assert "1. 【法规】《职工健康检查办法》第二条" in parts[0]
        for item in items:  # every item whole, in exactly one message
            assert sum(item in part for part in parts) == 1, item
        full = await dispatch(private(data=button(replies, "全文 1")), svc)
        assert len(full) >= 2 and all(sum(item in shown([r]) for r in full) == 1 for item in items)
    finally:
        svc.close()


def test_a_repeated_law_question_in_a_busy_group_is_one_read(svc: Services) -> None:
    """/law is an idempotent read like /search: in a flooded group the same question is answered once."""
    from bot.flood import request_key

    def grp(text: str) -> Request:
        return Request(chat_id="tg:-5001", chat_type="supergroup", user_id="tg:7", user_name="李四", text=text)

    key = request_key(grp("/law 试用期最长多久？"), svc)
    assert key == request_key(grp("法规 试用期最长多久"), svc) == ("law", "试用期最长多久")
    assert request_key(grp("查法条 试用期"), svc) != request_key(grp("/search 试用期"), svc)


def lawgen_cn(n: int) -> str:
    from bot.search import cn_number

    return cn_number(n)


# --- the relevance floor on questions not used for tuning (aggregate figures only) -----------------------------

QUESTIONS = Path(__file__).parent / "law_questions.toml"
FRESH = Path(__file__).parent / "law_questions_fresh.toml"
BLIND2 = Path(__file__).parent / "law_questions_blind2.toml"
BLIND3 = Path(__file__).parent / "law_questions_blind3.toml"
BLIND4 = Path(__file__).parent / "law_questions_blind4.toml"
BLIND5 = Path(__file__).parent / "law_questions_blind5.toml"
BLIND6 = Path(__file__).parent / "law_questions_blind6.toml"
BLIND7 = Path(__file__).parent / "law_questions_blind7.toml"
BLIND8 = Path(__file__).parent / "law_questions_blind8.toml"
#: Floors a little under what bench/law.py --fresh measures (hit@1 / hit@3) on the held-out halves (STARD 0.63 /
#: 0.80; chat 0.69 / 0.83; keyword 0.76 / 0.95) and on the blind sets (fresh: chat 0.59 / 0.75, keyword 0.86 / 0.98;
#: blind2: chat 0.74 / 0.91, keyword 0.97 / 1.00; blind3: chat 0.67 / 0.86, keyword 0.81 / 0.97; blind4: chat
#: 0.80 / 0.93, keyword 0.92 / 1.00; blind5: questions 0.88 / 0.95, keyword 0.93 / 0.99; blind6: questions 0.82 /
#: 0.95, keyword 0.89 / 1.00; blind7: questions 0.70 / 0.87, keyword 0.89 / 1.00; blind8: keyword 0.93 / 1.00).
FLOORS = {"STARD": {"hit@1": 0.58, "hit@3": 0.75}, "question": {"hit@1": 0.64, "hit@3": 0.78},
          "keyword": {"hit@1": 0.71, "hit@3": 0.90}, "fresh question": {"hit@1": 0.54, "hit@3": 0.71},
          "fresh keyword": {"hit@1": 0.80, "hit@3": 0.94}, "blind2 question": {"hit@1": 0.70, "hit@3": 0.86},
          "blind2 keyword": {"hit@1": 0.92, "hit@3": 0.95}, "blind3 question": {"hit@1": 0.62, "hit@3": 0.81},
          "blind3 keyword": {"hit@1": 0.74, "hit@3": 0.90}, "blind4 question": {"hit@1": 0.75, "hit@3": 0.88},
          "blind4 keyword": {"hit@1": 0.86, "hit@3": 0.95}, "blind5 question": {"hit@1": 0.84, "hit@3": 0.90},
          "blind5 keyword": {"hit@1": 0.88, "hit@3": 0.94}, "blind6 question": {"hit@1": 0.78, "hit@3": 0.90},
          "blind6 keyword": {"hit@1": 0.84, "hit@3": 0.95}, "blind7 question": {"hit@1": 0.65, "hit@3": 0.82},
          "blind7 keyword": {"hit@1": 0.84, "hit@3": 0.95}, "blind8 keyword": {"hit@1": 0.87, "hit@3": 0.95}}


def _held_out() -> dict[str, list[tuple[str, set[tuple[str, str]]]]]:
    stard = json.loads((lawgen.laws_dir() / "eval" / "stard_labour.json").read_text(encoding="utf-8"))
    sets = {"STARD": [(e["q"], {(g["doc"], g["article"]) for g in e["gold"]}) for i, e in enumerate(stard) if i % 2]}
    blind = ((FRESH, "fresh", "fresh "), (BLIND2, "blind2", "blind2 "), (BLIND3, "blind3", "blind3 "),
             (BLIND4, "blind4", "blind4 "), (BLIND5, "blind5", "blind5 "), (BLIND6, "blind6", "blind6 "),
             (BLIND7, "blind7", "blind7 "), (BLIND8, "blind8", "blind8 "))
    for path, half, prefix in ((QUESTIONS, "held", ""), *blind):
        if path.is_file():
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            for table in ("question", "keyword"):
                sets[prefix + table] = [(e["q"], {tuple(g.split(":", 1)) for g in e["gold"]})  # type: ignore[misc]
                                        for e in data.get(table, []) if e.get("half") == half and e.get("gold")]
    return sets


def _key(p: object) -> tuple[str, str]:
    return Path(p.files[0]).name, p.article  # type: ignore[attr-defined]


def _match(key: tuple[str, str], gold: set[tuple[str, str]]) -> bool:
    return key in gold or any(key[0] == f and g.endswith("、") and key[1].startswith(g) for f, g in gold)


def test_held_out_relevance_floor(svc: Services) -> None:
    """hit@k of /law on the held-out halves and the blind set stays above the floors (only the figures are
    reported)."""
    engine = svc.search
    figures = {}
    for name, rows in _held_out().items():
        if not rows:
            continue
        ranks = []
        for query, gold in rows:
            keys = [_key(h.passage) for h in engine.search(query, limit=10, scope=LAW).hits]
            ranks.append(next((i for i, k in enumerate(keys, 1) if _match(k, gold)), 0))
        figures[name] = {f"hit@{k}": sum(1 for r in ranks if 0 < r <= k) / len(ranks) for k in (1, 3, 10)}
    print(f"held-out /law relevance: {figures}")
    for name, floors in FLOORS.items():
        if name in figures:
            for metric, floor in floors.items():
                assert figures[name][metric] >= floor, (name, metric, figures[name][metric])
