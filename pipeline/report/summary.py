"""Per-source and per-article summaries of scored paragraphs, with evidence.

Input is one row per paragraph with its probabilities (`prob_<label>`), the
predicted `label`, the `gold` label where one exists (else None) and where the
probabilities came from (`origin`: out-of-fold or the final model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import ReportParams
from pipeline.errors import InputDataError
from pipeline.report.index import (
    bootstrap_interval,
    cluster_bootstrap_interval,
    group_seed,
    paragraph_stance,
    shrink_indices,
    stance_index,
)

QUOTE_CHARS = 600


@dataclass(frozen=True)
class IndexSettings:
    """How intervals and evidence are computed (the `report` section of params)."""

    labels: tuple[str, str, str]  # favor, against, none
    bootstrap_samples: int = 2000
    confidence: float = 0.95
    seed: int = 13
    evidence_per_side: int = 3
    min_evidence_stance: float = 0.2


def index_settings(labels: Sequence[str], report: ReportParams) -> IndexSettings:
    """The `report` section of params as the summaries need it, for the labels in
    (favor, against, none) order; the report and `stance score` both build it here."""
    if len(labels) != 3:
        raise InputDataError(f"the model has {len(labels)} labels; scoring needs three")
    favor, against, none = labels
    return IndexSettings(
        labels=(favor, against, none),
        bootstrap_samples=report.bootstrap_samples,
        confidence=report.confidence,
        seed=report.seed,
        evidence_per_side=report.evidence_per_side,
        min_evidence_stance=report.min_evidence_stance,
    )


def add_stance(scored: pd.DataFrame, settings: IndexSettings) -> pd.DataFrame:
    """Copy of `scored` with `stance` (P(favor) − P(against)) and `gold_stance` (±1, 0 or NaN)."""
    favor, against, _ = settings.labels
    probs = scored[[f"prob_{label}" for label in settings.labels]].to_numpy(dtype=float)
    frame = scored.copy()
    frame["stance"] = paragraph_stance(probs, 0, 1)
    values = {favor: 1.0, against: -1.0}
    frame["gold_stance"] = [
        np.nan if gold is None or pd.isna(gold) else values.get(gold, 0.0) for gold in frame.gold
    ]
    return frame


def summarize(
    frame: pd.DataFrame, key: str, settings: IndexSettings, *, by_article: bool = False
) -> dict[str, dict]:
    """One summary per value of `key` (`source` or `doc_id`), in sorted order.

    `by_article`: the interval resamples articles, then paragraphs within them (a
    source's); otherwise paragraphs (an article's).
    """
    return {
        str(name): _summary(str(name), group, settings, by_article=by_article)
        for name, group in frame.groupby(key, sort=True)
    }


def interval(
    group: pd.DataFrame, column: str, settings: IndexSettings, name: str, *, by_article: bool
) -> tuple[float, float]:
    """Bootstrap interval of the mean of `column` (NaN rows left out), seeded by `name`."""
    kept = group[group[column].notna()]
    options = {
        "samples": settings.bootstrap_samples,
        "confidence": settings.confidence,
        "seed": group_seed(settings.seed, name),
    }
    if not by_article:
        return bootstrap_interval(kept[column].to_numpy(dtype=float), **options)
    articles = [g[column].to_numpy(dtype=float) for _, g in kept.groupby("doc_id", sort=True)]
    return cluster_bootstrap_interval(articles, **options)


def _summary(name: str, group: pd.DataFrame, settings: IndexSettings, *, by_article: bool) -> dict:
    favor, against, _ = settings.labels
    scores = group.stance.to_numpy()
    low, high = interval(group, "stance", settings, name, by_article=by_article)
    gold_scores = group.gold_stance.dropna().to_numpy()
    gold_low, gold_high = interval(
        group, "gold_stance", settings, "gold:" + name, by_article=by_article
    )
    counts = group.label.value_counts()
    n_articles = int(group.doc_id.nunique())
    return {
        "n_articles": n_articles,
        "interval_resamples": resampled(by_article, n_articles),
        "n_paragraphs": len(group),
        "n_stance": int(counts.get(favor, 0) + counts.get(against, 0)),
        "counts": {label: int(counts.get(label, 0)) for label in settings.labels},
        "share": {
            label: round(float(group[f"prob_{label}"].mean()), 4) for label in settings.labels
        },
        "stance_index": round(stance_index(scores), 4),
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
        "n_out_of_fold": int((group.origin == "out-of-fold").sum()),
        "gold": {
            "n": len(gold_scores),
            "stance_index": _round(stance_index(gold_scores)),
            "ci_low": _round(gold_low),
            "ci_high": _round(gold_high),
        },
    }


def resampled(by_article: bool, n_articles: int) -> str:
    """What an interval resamples, in words (sources.csv's `interval_resamples`)."""
    if not by_article:
        return "paragraphs"
    if n_articles == 1:
        return "paragraphs of its one article"
    return "articles, then paragraphs within them"


def add_shrinkage(summaries: dict[str, dict], frame: pd.DataFrame, key: str) -> dict:
    """Add `shrunk_index` and `shrinkage_weight` to each summary; return the model's fit."""
    groups = {name: frame.loc[frame[key] == name, "stance"].to_numpy() for name in summaries}
    shrinkage = shrink_indices(groups)
    for name, summary in summaries.items():
        summary["shrunk_index"] = round(shrinkage.estimates[name], 4)
        summary["shrinkage_weight"] = round(shrinkage.weights[name], 4)
    return {
        "method": "normal-normal empirical Bayes (DerSimonian-Laird between-source variance)",
        "prior_mean": _round(shrinkage.prior_mean),
        "between_source_variance": _round(shrinkage.between_variance),
        "within_source_variance": _round(shrinkage.within_variance),
    }


def evidence(group: pd.DataFrame, settings: IndexSettings) -> dict[str, list[dict]]:
    """The paragraphs that pull the index most toward favor and toward against.

    A paragraph qualifies when its stance is at least `min_evidence_stance` in
    that direction, so a source with no stance-taking paragraph quotes none.
    """
    favor, against, _ = settings.labels
    k = settings.evidence_per_side
    floor = settings.min_evidence_stance
    pulls_favor = group[group.stance >= floor].sort_values(
        ["stance", "paragraph_id"], ascending=[False, True]
    )
    pulls_against = group[group.stance <= -floor].sort_values(
        ["stance", "paragraph_id"], ascending=[True, True]
    )
    return {
        favor: [_quote(row, settings) for row in pulls_favor.head(k).itertuples()],
        against: [_quote(row, settings) for row in pulls_against.head(k).itertuples()],
    }


def _quote(row, settings: IndexSettings) -> dict:
    text = row.text if len(row.text) <= QUOTE_CHARS else row.text[:QUOTE_CHARS].rstrip() + "…"
    gold = None if row.gold is None or pd.isna(row.gold) else row.gold
    return {
        "paragraph_id": row.paragraph_id,
        "doc_id": row.doc_id,
        "position": int(row.position),
        "quote": text,
        "label": row.label,
        "gold": gold,
        "stance": round(float(row.stance), 4),
        "probs": {
            label: round(float(getattr(row, f"prob_{label}")), 4) for label in settings.labels
        },
        "origin": row.origin,
    }


def _round(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)
