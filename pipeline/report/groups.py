"""Outlets by group: the index per value of each outlet metadata column (`reports/groups.csv`).

The grouping columns are the manifest's `country`, `outlet_type` and `group_*`,
carried per paragraph by segment. An outlet's value is the one its articles
give; an outlet whose articles give none is left out of that grouping (unknown
is never guessed), and one whose articles give two is an error.

A group's index is the mean of its outlets' indices, so every outlet counts once
however much it publishes. Its interval resamples outlets within the group, then
paragraphs within each outlet. Each group is compared with the rest (the outlets
of the same column with another value): the difference of the two indices, with
an interval from resampling both sides independently the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.errors import InputDataError
from pipeline.report.index import cluster_bootstrap_samples, group_seed, percentile_interval
from pipeline.report.summary import IndexSettings
from pipeline.segment.manifest import is_outlet_column

GROUP_COLUMNS = [
    "grouping",
    "group",
    "n_outlets",
    "n_articles",
    "n_paragraphs",
    "stance_index",
    "ci_low",
    "ci_high",
    "rest_n_outlets",
    "rest_index",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
]


@dataclass(frozen=True)
class Groups:
    """The rows of groups.csv, and per grouping column the outlets it could not place."""

    rows: list[dict]
    unplaced: dict[str, int]  # grouping column -> outlets without a value


def grouping_columns(frame: pd.DataFrame) -> list[str]:
    """The outlet metadata columns that at least one paragraph fills, in table order."""
    return [c for c in frame.columns if is_outlet_column(c) and frame[c].notna().any()]


def outlet_values(frame: pd.DataFrame, column: str, *, where: str) -> dict[str, str | None]:
    """Each source's value of `column` (None: unknown); two values for one source fail."""
    values: dict[str, str | None] = {}
    for source, cells in frame.groupby("source", sort=True)[column]:
        given = sorted({str(v) for v in cells if isinstance(v, str) and v})
        if len(given) > 1:
            raise InputDataError(
                f"{where}: source {source!r} has {len(given)} values of {column} "
                f"({given[0]!r}, {given[1]!r}); give one per outlet in the manifest"
            )
        values[str(source)] = given[0] if given else None
    return values


def build_groups(frame: pd.DataFrame, settings: IndexSettings, *, where: str) -> Groups:
    """Every grouping column's groups, each against the rest of its column."""
    rows: list[dict] = []
    unplaced: dict[str, int] = {}
    for column in grouping_columns(frame):
        values = outlet_values(frame, column, where=where)
        unplaced[column] = sum(value is None for value in values.values())
        for group in sorted({v for v in values.values() if v is not None}):
            rows.append(_group_row(frame, column, group, values, settings))
    return Groups(rows, unplaced)


def _group_row(
    frame: pd.DataFrame,
    column: str,
    group: str,
    values: dict[str, str | None],
    settings: IndexSettings,
) -> dict:
    members = sorted(s for s, v in values.items() if v == group)
    rest = sorted(s for s, v in values.items() if v is not None and v != group)
    inside = _outlet_draws(frame, members, settings, f"group:{column}:{group}")
    index = _mean_of_outlets(frame, members)
    low, high = percentile_interval(inside, settings.confidence)
    row = {
        "grouping": column,
        "group": group,
        "n_outlets": len(members),
        "n_articles": int(frame[frame.source.isin(members)].doc_id.nunique()),
        "n_paragraphs": int(frame.source.isin(members).sum()),
        "stance_index": round(index, 4),
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
        "rest_n_outlets": len(rest),
    }
    if not rest:  # one group only: nothing to compare with
        return row | dict.fromkeys(GROUP_COLUMNS[-4:])
    outside = _outlet_draws(frame, rest, settings, f"rest:{column}:{group}")
    rest_index = _mean_of_outlets(frame, rest)
    diff_low, diff_high = percentile_interval(inside - outside, settings.confidence)
    return row | {
        "rest_index": round(rest_index, 4),
        "difference": round(index - rest_index, 4),
        "difference_ci_low": round(diff_low, 4),
        "difference_ci_high": round(diff_high, 4),
    }


def _mean_of_outlets(frame: pd.DataFrame, sources: list[str]) -> float:
    return float(np.mean([frame.loc[frame.source == s, "stance"].mean() for s in sources]))


def _outlet_draws(
    frame: pd.DataFrame, sources: list[str], settings: IndexSettings, name: str
) -> np.ndarray:
    """Bootstrap statistics: outlets resampled, then paragraphs within each outlet."""
    outlets = [frame.loc[frame.source == s, "stance"].to_numpy(dtype=float) for s in sources]
    rng = np.random.default_rng(group_seed(settings.seed, name))
    return cluster_bootstrap_samples(
        outlets, samples=settings.bootstrap_samples, rng=rng, pooled=False
    )
