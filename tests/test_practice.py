"""Pure logic of the daily push: schedule parsing, 工作日 calendar, next push, rotation, delivery records."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from bot import practice as P
from bot.texts import practice_message, split_message

SH = ZoneInfo("Asia/Shanghai")
IDS = [f"p{i:02d}" for i in range(12)]


def sub_doc(chat_id: str = "tg:-100", hhmm: str = "08:00", mode: str = P.DAILY, since: datetime | None = None) -> dict:
    doc = P.new_doc(chat_id)
    doc["sub"] = {"time": hhmm, "mode": mode, "since": (since or datetime(2026, 1, 1, tzinfo=SH)).isoformat()}
    return doc


# --- schedule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [("", (None, None)), ("07:30", (time(7, 30), None)), ("工作日", (None, "工作日")),
     ("07:30 工作日", (time(7, 30), "工作日")), ("每天 7:05", (time(7, 5), "每天")), ("18：00", (time(18), None))],
)
def test_parse_schedule_accepts(args: str, expected: tuple) -> None:
    assert P.parse_schedule(args) == expected


@pytest.mark.parametrize("args", ["25:00", "8点", "abc", "07:30 08:00", "12:60", "<b>", "07:30 工作日 x", "😀"])
def test_parse_schedule_rejects(args: str) -> None:
    assert P.parse_schedule(args) is None


def test_workdays_skip_holiday_and_include_make_up_saturday() -> None:
    national_day = date(2026, 10, 1)  # Thursday, public holiday
    make_up = date(2026, 10, 10)  # Saturday, 调休 working day
    assert national_day.weekday() == 3 and make_up.weekday() == 5
    assert chinese_calendar.is_holiday(national_day) and chinese_calendar.is_workday(make_up)
    assert not P.is_push_day(national_day, P.WORKDAYS)
    assert P.is_push_day(make_up, P.WORKDAYS)
    assert P.is_push_day(national_day, P.DAILY) and P.is_push_day(date(2026, 10, 11), P.DAILY)
    assert not P.is_push_day(date(2026, 10, 11), P.WORKDAYS)  # an ordinary Sunday


def test_workday_fallback_is_monday_to_friday_for_uncovered_years() -> None:
    year = next(y for y in range(2026, 2100) if not P.calendar_covers(y))
    monday = date(year, 1, 1) + timedelta(days=(7 - date(year, 1, 1).weekday()) % 7)
    week = [monday + timedelta(days=i) for i in range(7)]
    assert [P.is_workday(d) for d in week] == [True] * 5 + [False] * 2
    assert P.calendar_covers(2026)


def test_next_push_crosses_the_date_boundary_in_shanghai() -> None:
    doc = sub_doc(hhmm="08:00")
    # 00:30 UTC on 2026-03-02 is 08:30 in Shanghai: today's push has passed (sent), so next is tomorrow 08:00.
    now = datetime(2026, 3, 2, 0, 30, tzinfo=ZoneInfo("UTC")).astimezone(SH)
    P.mark_doc(doc, date(2026, 3, 2), "sent", now)
    nxt = P.next_push(doc, now, grace_minutes=120)
    assert nxt == datetime(2026, 3, 3, 8, 0, tzinfo=SH)
    assert nxt.astimezone(ZoneInfo("UTC")) == datetime(2026, 3, 3, 0, 0, tzinfo=ZoneInfo("UTC"))
    # 23:50 Shanghai on the eve of National Day: 工作日 skips the holiday week (10-01..10-07) to Thursday 10-08
    doc = sub_doc(hhmm="07:00", mode=P.WORKDAYS)
    now = datetime(2026, 9, 30, 23, 50, tzinfo=SH)
    assert P.next_push(doc, now, 120) == datetime(2026, 10, 8, 7, 0, tzinfo=SH)


def test_next_push_respects_since_and_is_none_unsubscribed() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    doc = sub_doc(hhmm="08:30", since=now)  # subscribed after today's time: first push tomorrow
    assert P.next_push(doc, now, 120) == datetime(2026, 3, 3, 8, 30, tzinfo=SH)
    assert P.due_days(doc, now, 120) == ([], [])
    assert P.next_push(P.new_doc("tg:1"), now, 120) is None


def test_due_within_grace_missed_after() -> None:
    doc = sub_doc(hhmm="08:00", since=datetime(2026, 3, 2, 0, 0, tzinfo=SH))
    assert P.due_days(doc, datetime(2026, 3, 2, 7, 59, tzinfo=SH), 120) == ([], [])
    assert P.due_days(doc, datetime(2026, 3, 2, 9, 59, tzinfo=SH), 120) == ([date(2026, 3, 2)], [])
    assert P.due_days(doc, datetime(2026, 3, 2, 10, 1, tzinfo=SH), 120) == ([], [date(2026, 3, 2)])
    # yesterday's late-evening push is still due shortly after midnight
    late = sub_doc(hhmm="23:30", since=datetime(2026, 3, 2, 0, 0, tzinfo=SH))
    assert P.due_days(late, datetime(2026, 3, 3, 0, 20, tzinfo=SH), 120) == ([date(2026, 3, 2)], [])


# --- rotation ------------------------------------------------------------------------------------


def test_rotation_covers_every_practice_before_any_repeat() -> None:
    doc = P.new_doc("tg:-1001234")
    picks = [P.advance_doc(doc, IDS) for _ in range(len(IDS) * 3)]
    for r in range(3):
        assert sorted(picks[r * len(IDS):(r + 1) * len(IDS)]) == IDS
    assert all(a != b for a, b in zip(picks, picks[1:], strict=False))  # no back-to-back across rounds
    # deterministic per chat, different between chats
    again = P.new_doc("tg:-1001234")
    assert [P.advance_doc(again, IDS) for _ in range(len(IDS))] == picks[: len(IDS)]
    other = P.new_doc("tg:42")
    assert [P.advance_doc(other, IDS) for _ in range(len(IDS))] != picks[: len(IDS)]
    assert picks[: len(IDS)] != picks[len(IDS): 2 * len(IDS)]  # each round reshuffled


def test_content_change_mid_round() -> None:
    doc = P.new_doc("tg:7")
    first = [P.advance_doc(doc, IDS) for _ in range(5)]
    removed = next(pid for pid in IDS if pid not in first)
    ids = [pid for pid in IDS if pid != removed] + ["new1", "new2"]
    rest = [P.advance_doc(doc, ids) for _ in range(len(ids) - 5)]
    assert sorted(first + rest) == sorted(ids)  # the new ones joined this round, the removed one skipped
    assert removed not in rest
    assert P.left_in_round(doc, ids) == len(ids)  # round complete: the next starts full
    nxt = P.advance_doc(doc, ids)
    assert doc["round"] == 1 and nxt in ids


def test_day_pick_is_stable_and_replaced_if_removed() -> None:
    doc = P.new_doc("tg:7")
    day = date(2026, 3, 2)
    pid = P.pick_doc(doc, day, IDS)
    assert P.pick_doc(doc, day, IDS) == pid
    assert P.left_in_round(doc, IDS) == len(IDS) - 1
    smaller = [i for i in IDS if i != pid]
    assert P.pick_doc(doc, day, smaller) in smaller
    assert P.pick_doc(doc, day, []) is None


def test_claim_is_at_most_once_and_failed_is_retried_a_few_times() -> None:
    doc = sub_doc()
    day, now = date(2026, 3, 2), datetime(2026, 3, 2, 8, 0, tzinfo=SH)
    pid = P.claim_doc(doc, day, now, IDS)
    assert pid is not None and P.claim_doc(doc, day, now, IDS) is None  # claimed: never again
    for _ in range(P.MAX_ATTEMPTS - 1):
        P.mark_doc(doc, day, "failed", now)
        assert P.claim_doc(doc, day, now, IDS) == pid  # same practice on the retry
    P.mark_doc(doc, day, "failed", now)
    assert P.claim_doc(doc, day, now, IDS) is None
    for status in ("sent", "partial", "unknown", "gone", "missed"):
        d = sub_doc()
        P.mark_doc(d, day, status, now)
        assert P.claim_doc(d, day, now, IDS) is None


def test_old_records_are_pruned() -> None:
    doc = sub_doc()
    start = date(2026, 1, 1)
    for i in range(60):
        P.claim_doc(doc, start + timedelta(days=i), datetime(2026, 3, 2, tzinfo=SH), IDS)
    assert len(doc["picks"]) <= P.KEEP_DAYS + 1


# --- message -------------------------------------------------------------------------------------


def test_message_is_escaped_and_split_on_paragraphs() -> None:
    body = "\n".join(f"第{i}段<script>&" + "职工代表大会。" * 60 for i in range(20))
    text = practice_message("标题<b>", body, "《来源》&", date(2026, 10, 10))
    assert "<script>" not in text and "&lt;script&gt;" in text and "标题&lt;b&gt;" in text
    assert "2026年10月10日（周六）" in text and "回复“搜索 关键词”查更多" in text
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert all(p.count("<b>") == p.count("</b>") and p.count("<i>") == p.count("</i>") for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
