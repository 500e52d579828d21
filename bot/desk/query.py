"""The desk list's filters, sorting and paging, and the statistics page's figures (pure functions)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bot import suggestions as sg
from bot import texts

if TYPE_CHECKING:
    from bot.config import Config
    from bot.store import Store

PAGE_SIZE = 20
SORTS = ("new", "old", "deadline", "number")
#: The `source` / `dept` filter value meaning "a private chat" / "no department".
NONE = "-"


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


@dataclass
class Filter:
    """The list's filter as given in the query string; `errors` holds the Chinese messages of bad values."""

    status: str = ""
    category: str = ""
    source: str = ""
    dept: str = ""
    date_from: str = ""
    date_to: str = ""
    overdue: bool = False
    q: str = ""
    sort: str = "new"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filter:
        """From query parameters; unknown values are ignored, bad dates reported in `errors`."""
        f = cls()
        get = lambda k: (params.get(k) or "").strip()[:200]  # noqa: E731
        f.status = get("status") if get("status") in sg.STATUSES else ""
        f.category = get("category") if get("category") in sg.CATEGORIES else ""
        f.source, f.dept, f.q = get("source"), get("dept"), get("q")
        for name in ("from", "to"):
            value = get(name)
            if value and _day(value) is None:
                f.errors.append(texts.DESK["bad_date"])
                value = ""
            setattr(f, "date_" + name, value)
        f.overdue = get("overdue") in ("1", "on", "true")
        f.sort = get("sort") if get("sort") in SORTS else "new"
        page = get("page")
        f.page = int(page) if page.isdigit() and 0 < len(page) < 7 else 1
        return f

    def params(self, **override: Any) -> dict[str, str]:
        """The non-default values as query parameters (with `override`), for links and the export."""
        values = {
            "status": self.status, "category": self.category, "source": self.source, "dept": self.dept,
            "from": self.date_from, "to": self.date_to, "overdue": "1" if self.overdue else "", "q": self.q,
            "sort": "" if self.sort == "new" else self.sort, "page": "" if self.page == 1 else str(self.page),
        }  # fmt: skip
        values.update({k: str(v) for k, v in override.items()})
        return {k: v for k, v in values.items() if v}

    def query(self, **override: Any) -> str:
        """`params` as a query string."""
        return urlencode(self.params(**override))

    def matches(self, rec: dict[str, Any], config: Config, now: datetime) -> bool:
        """Whether `rec` passes every filter."""
        if self.status and rec["status"] != self.status:
            return False
        if self.category and rec["category"] != self.category:
            return False
        if self.source:
            title = rec.get("chat_title") or "" if rec.get("chat_id") is not None else NONE
            if title != self.source:
                return False
        if self.dept:
            dept = sg.field_of(rec, "department") or NONE
            if dept != self.dept:
                return False
        if self.date_from or self.date_to:
            day = datetime.fromisoformat(rec["created"]).astimezone(config.tz).date().isoformat()
            if (self.date_from and day < self.date_from) or (self.date_to and day > self.date_to):
                return False
        if self.overdue and not sg.is_overdue(rec, config, now):
            return False
        if self.q:
            q = self.q.casefold()
            name = "" if rec.get("anonymous") else rec.get("proposer_name") or ""
            if q not in rec["text"].casefold() and q not in rec["number"].casefold() and q not in name.casefold():
                return False
        return True

    def order(self, config: Config) -> tuple[Callable[[Mapping[str, Any]], Any], bool]:
        """(sort key, reverse) of the chosen order."""
        if self.sort == "deadline":
            return (lambda r: sg.deadline(r, config)), False  # type: ignore[arg-type]
        if self.sort == "number":
            return (lambda r: (r.get("year", 0), r.get("seq", 0))), False
        return (lambda r: (r["created"], r.get("seq", 0))), self.sort == "new"

    def apply(self, records: list[dict[str, Any]], config: Config, now: datetime) -> list[dict[str, Any]]:
        """The matching records in the chosen order."""
        key, reverse = self.order(config)
        return sorted((r for r in records if self.matches(r, config, now)), key=key, reverse=reverse)

    def page_of(self, store: Store, config: Config, now: datetime, size: int = PAGE_SIZE) -> Page:
        """The chosen page of the matching suggestions, read from the store without copying the others."""
        key, reverse = self.order(config)
        select = lambda r: self.matches(r, config, now)  # type: ignore[arg-type]  # noqa: E731
        page = max(self.page, 1)
        total, items = store.suggestions_page(select, key, reverse, (page - 1) * size, size)
        pages = max(1, math.ceil(total / size))
        if page > pages:  # past the end (e.g. an old link): the last page
            page = pages
            total, items = store.suggestions_page(select, key, reverse, (page - 1) * size, size)
        return Page(items, page, pages, total)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def paginate(records: list[dict[str, Any]], page: int, size: int = PAGE_SIZE) -> Page:
    pages = max(1, math.ceil(len(records) / size))
    page = min(max(page, 1), pages)
    return Page(records[(page - 1) * size : page * size], page, pages, len(records))


@dataclass(frozen=True)
class DeskStats:
    """The statistics page: the /stats figures plus 实施率, answer time, overdue, 满意率, 效益, per department."""

    total: int
    adoption_rate: float | None
    implementation_rate: float | None
    avg_answer_days: float | None
    overdue: int
    satisfaction_rate: float | None
    rated: int
    benefit: float
    #: department -> (count, adopted incl. implemented, implemented, benefit)
    by_department: dict[str, tuple[int, int, int, float]]
    #: YYYY-MM -> (count, adopted incl. implemented, implemented)
    by_month: dict[str, tuple[int, int, int]]


def desk_stats(records: list[dict[str, Any]], config: Config, now: datetime) -> DeskStats:
    """Figures over `records`."""
    status = Counter(r["status"] for r in records)
    adopted = status[sg.ADOPTED] + status[sg.DONE]
    decided = adopted + status[sg.REJECTED]
    days = []
    for r in records:
        at = sg.answered_at(r)
        if at is not None and r["status"] != sg.MERGED:
            days.append((at - datetime.fromisoformat(r["created"])).total_seconds() / 86400)
    rated = Counter(sg.field_of(r, "satisfaction") for r in records if sg.field_of(r, "satisfaction"))
    n_rated = sum(rated.values())
    satisfied = sum(rated[s] for s in sg.SATISFACTION[:2])  # 满意 + 基本满意
    dept: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    month: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in records:
        is_adopted, is_done = r["status"] in (sg.ADOPTED, sg.DONE), r["status"] == sg.DONE
        d = dept[sg.field_of(r, "department") or texts.DESK["no_department"]]
        m = month[datetime.fromisoformat(r["created"]).astimezone(config.tz).strftime("%Y-%m")]
        for row in (d, m):
            row[0] += 1
            row[1] += is_adopted
            row[2] += is_done
        d[3] += sg.field_of(r, "benefit") or 0
    return DeskStats(
        total=len(records),
        adoption_rate=adopted / decided if decided else None,
        implementation_rate=status[sg.DONE] / adopted if adopted else None,
        avg_answer_days=sum(days) / len(days) if days else None,
        overdue=sum(1 for r in records if sg.is_overdue(r, config, now)),
        satisfaction_rate=satisfied / n_rated if n_rated else None,
        rated=n_rated,
        benefit=sum(sg.field_of(r, "benefit") or 0 for r in records),
        by_department={k: (int(v[0]), int(v[1]), int(v[2]), v[3]) for k, v in sorted(dept.items())},
        by_month={k: (v[0], v[1], v[2]) for k, v in sorted(month.items())},
    )
