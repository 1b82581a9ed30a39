"""Stance over time: the index per source and period (`reports/timeline.csv`).

An article's period comes from its `date` (the manifest's, or the page's own for
HTML): `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. A date too coarse for the period (a
bare year when periods are months) counts as undated, like a missing one. The
interval of a period resamples its articles, then paragraphs within them, since
paragraphs of one article are not independent. Thin periods are marked, not
dropped, so a reader sees how little lies behind a point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipeline.report.summary import IndexSettings, interval

CORPUS_ROW = "(all)"  # the `source` of the corpus-wide rows
_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?")

TIMELINE_COLUMNS = [
    "source",
    "period",
    "start",
    "end",
    "n_articles",
    "n_paragraphs",
    "stance_index",
    "ci_low",
    "ci_high",
    "thin",
]


@dataclass(frozen=True)
class Timeline:
    """The rows of timeline.csv and what was left out of them."""

    period: str  # month | quarter | year
    rows: list[dict]
    n_articles: int
    undated_articles: int
    min_period_paragraphs: int
    articles_per_source: dict[str, int]  # dated or not


def period_of(value: object, period: str) -> tuple[str, date, date] | None:
    """(label, first day, first day of the next period) of a date; None when it cannot say."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month = int(match.group(1)), match.group(2)
    if period == "year":
        return str(year), date(year, 1, 1), date(year + 1, 1, 1)
    if month is None or not 1 <= int(month) <= 12:
        return None
    first = int(month) if period == "month" else (int(month) - 1) // 3 * 3 + 1
    step = 1 if period == "month" else 3
    following = date(year + (first + step > 12), (first + step - 1) % 12 + 1, 1)
    label = f"{year}-{first:02d}" if period == "month" else f"{year}-Q{(first - 1) // 3 + 1}"
    return label, date(year, first, 1), following


def build_timeline(
    frame: pd.DataFrame, settings: IndexSettings, *, period: str, min_period_paragraphs: int
) -> Timeline:
    """Corpus-wide rows first (source `(all)`), then each source's, each by period."""
    dates = frame["date"] if "date" in frame.columns else pd.Series(None, index=frame.index)
    periods = {
        doc_id: period_of(value, period) for doc_id, value in zip(frame.doc_id, dates, strict=True)
    }
    dated = frame[[periods[doc_id] is not None for doc_id in frame.doc_id]].copy()
    dated["period"] = [periods[doc_id][0] for doc_id in dated.doc_id]
    bounds = {p[0]: p[1:] for p in periods.values() if p is not None}
    rows = _rows(dated, CORPUS_ROW, bounds, settings, min_period_paragraphs)
    for source, group in dated.groupby("source", sort=True):
        rows += _rows(group, str(source), bounds, settings, min_period_paragraphs)
    undated = sum(p is None for p in periods.values())
    per_source = frame.groupby("source", sort=True).doc_id.nunique()
    return Timeline(
        period,
        rows,
        len(periods),
        undated,
        min_period_paragraphs,
        {str(source): int(n) for source, n in per_source.items()},
    )


def _rows(
    frame: pd.DataFrame,
    source: str,
    bounds: dict[str, tuple[date, date]],
    settings: IndexSettings,
    min_period_paragraphs: int,
) -> list[dict]:
    rows = []
    for label, group in frame.groupby("period", sort=True):
        low, high = interval(
            group, "stance", settings, f"timeline:{source}:{label}", by_article=True
        )
        rows.append(
            {
                "source": source,
                "period": label,
                "start": bounds[label][0].isoformat(),
                "end": bounds[label][1].isoformat(),
                "n_articles": int(group.doc_id.nunique()),
                "n_paragraphs": len(group),
                "stance_index": round(float(group.stance.mean()), 4),
                "ci_low": round(low, 4),
                "ci_high": round(high, 4),
                "thin": len(group) < min_period_paragraphs,
            }
        )
    return rows
