"""合理化建议 export (xlsx / csv, Chinese headers) and statistics (counts, 采纳率, a PNG chart).

Works on a read-only store too (`Store(data_dir, read_only=True)`), so it can run while the bot does.
The chart uses Noto Sans SC from the `pylopdf-fonts-zh-cn` package (a project dependency); if no CJK
font can be found, `render_chart` returns None and callers show the text table only.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from bot import texts
from bot.config import Config
from bot.store import Store
from bot.suggestions import ADOPTED, CATEGORIES, DONE, FIELDS, REJECTED, STATUSES, deadline

log = logging.getLogger(__name__)

HEADERS = texts.SG_EXPORT_HEADERS
_WIDTHS = (14, 10, 60, 8, 18, 12, 14, 20, 16, 18, 60, 6, 12, 12, 40, 12, 10, 10, 6, 8, 14)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: Export files in the data dir's exports/ (sent already) older than this are removed at the next export.
EXPORT_KEEP_SECONDS = 3600


def clean_exports(folder: Path, keep_seconds: float = EXPORT_KEEP_SECONDS) -> None:
    """Remove the .xlsx exports in `folder` older than `keep_seconds` (they were sent already)."""
    cutoff = time.time() - keep_seconds
    for f in folder.glob("*.xlsx"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass


def _when(iso: str, tz: tzinfo) -> str:
    """ISO time -> 'YYYY-MM-DD HH:MM' in `tz`."""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _history(rec: dict[str, Any], tz: tzinfo) -> str:
    return "\n".join(
        texts.sg_export_history_line(_when(h["at"], tz), h["action"], h.get("by_name") or "", h.get("note") or "")
        for h in rec.get("history", [])
    )


def row(rec: dict[str, Any], tz: tzinfo, config: Config | None = None) -> list[Any]:
    """One export row; anonymous proposers appear as texts.SG_ANONYMOUS (匿名) with no id.

    The reply deadline uses `config`'s days (the defaults when None).
    """
    anon = bool(rec.get("anonymous"))
    f = {**FIELDS, **rec}
    due = deadline(rec, config or Config()).astimezone(tz).strftime("%Y-%m-%d")
    history = rec.get("history", [])
    return [
        rec["number"],
        rec["category"],
        rec["text"],
        rec["status"],
        _when(rec["created"], tz),
        texts.SG_ANONYMOUS if anon else rec.get("proposer_name") or "",
        "" if anon or rec.get("proposer_id") is None else str(rec["proposer_id"]),
        rec.get("chat_title") or ("" if rec.get("chat_id") else texts.SG_PRIVATE_CHAT),
        "" if rec.get("chat_id") is None else str(rec["chat_id"]),
        _when(history[-1]["at"], tz) if history else "",
        _history(rec, tz),
        texts.SG_EXPORT_YES if f["major"] else "",
        due,
        f["department"],
        f["result"],
        f["benefit"],
        f["reward_tier"],
        f["reward_amount"],
        texts.SG_EXPORT_YES if f["public"] else "",
        f["satisfaction"] or "",
        f["merged_into"] or "",
    ]


def _csv_safe(value: Any) -> Any:
    """Keep spreadsheet programs from running text as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(rows: Iterable[list[Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        for r in rows:
            w.writerow([_csv_safe(v) for v in r])
        f.flush()
        os.fsync(f.fileno())


def _write_xlsx(rows: Iterable[list[Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = texts.SG_EXPORT_SHEET
    ws.append(list(HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r_index, r in enumerate(rows, start=2):
        for c_index, value in enumerate(r, start=1):
            cell = ws.cell(row=r_index, column=c_index)
            cell.value = _ILLEGAL.sub("", value) if isinstance(value, str) else value
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    wb.save(path)


def export_suggestions(
    store: Store,
    fmt: str,
    path: Path,
    tz: tzinfo,
    *,
    select: Callable[[dict[str, Any]], bool] | None = None,
    config: Config | None = None,
) -> int:
    """Write every suggestion (or those `select` keeps) to `path` as xlsx or csv; returns the row count.

    The file is written next to `path` and renamed into place, so a reader never sees half a file.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"unknown export format {fmt!r} (xlsx or csv)")
    records = [r for r in store.suggestions_all() if select is None or select(r)]
    records.sort(key=lambda r: (r.get("year", 0), r.get("seq", 0)))
    rows = [row(r, tz, config) for r in records]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "csv":
        _write_csv(rows, tmp)
    else:
        _write_xlsx(rows, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return len(rows)


# --- statistics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Counts by status, category and month (YYYY-MM), and the adoption rate."""

    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_month: dict[str, int]
    #: (已采纳 + 已实施) / (已采纳 + 已实施 + 不采纳); None when nothing is decided yet.
    adoption_rate: float | None


def compute_stats(records: list[dict[str, Any]], tz: tzinfo) -> Stats:
    """Statistics over `records`."""
    status = Counter(r["status"] for r in records)
    category = Counter(r["category"] for r in records)
    month = Counter(datetime.fromisoformat(r["created"]).astimezone(tz).strftime("%Y-%m") for r in records)
    adopted = status[ADOPTED] + status[DONE]
    decided = adopted + status[REJECTED]
    return Stats(
        total=len(records),
        by_status={s: status[s] for s in STATUSES},
        by_category={c: category[c] for c in CATEGORIES},
        by_month=dict(sorted(month.items())),
        adoption_rate=adopted / decided if decided else None,
    )


def find_cjk_font() -> Path | None:
    """A font file with Chinese glyphs: Noto Sans SC from pylopdf-fonts-zh-cn, else a system CJK font."""
    try:
        import pylopdf_fonts_zh_cn

        path = Path(pylopdf_fonts_zh_cn.sans_path())
        if path.is_file():
            return path
    except ImportError:
        pass
    for candidate in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def render_chart(stats: Stats, font: Path | None = None) -> bytes | None:
    """A PNG with bars by status and category and submissions per month; None without a CJK font."""
    font = font or find_cjk_font()
    if font is None:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties
    except ImportError:
        log.warning("matplotlib is not installed; /stats sends the text table only")
        return None
    fp = FontProperties(fname=str(font))
    fig = Figure(figsize=(9, 9), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 1)
    fig.suptitle(texts.sg_chart_title(stats.total, stats.adoption_rate), fontproperties=fp, fontsize=15)
    _bars(axes[0], texts.SG_CHART_BY_STATUS, stats.by_status, "#4C72B0", fp)
    _bars(axes[1], texts.SG_CHART_BY_CATEGORY, stats.by_category, "#DD8452", fp)
    months = dict(list(stats.by_month.items())[-12:]) or {"—": 0}
    _bars(axes[2], texts.sg_chart_by_month(12 if len(stats.by_month) > 12 else None), months, "#55A868", fp)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _bars(ax: Any, title: str, data: dict[str, int], color: str, fp: Any) -> None:
    labels, values = list(data), list(data.values())
    bars = ax.bar(range(len(labels)), values, color=color)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontproperties=fp)
    ax.set_title(title, fontproperties=fp)
    ax.bar_label(bars, labels=[str(v) for v in values])
    ax.set_ylim(0, max(values, default=0) * 1.25 + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
