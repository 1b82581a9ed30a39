"""The stance index, its bootstrap intervals and its empirical-Bayes shrinkage.

The index of a group of paragraphs (an article, a source) is the mean over its
paragraphs of P(favor) − P(against). It lies in [-1, 1], equals the expected
share of favor paragraphs minus the expected share of against paragraphs, and
counts a paragraph with no stance as 0, so an outlet that mentions the question
once in twenty paragraphs scores near 0 rather than ±1. The gold index is the
same mean over gold labels (favor = +1, against = −1, none = 0).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def paragraph_stance(probabilities: np.ndarray, favor: int, against: int) -> np.ndarray:
    """Each paragraph's contribution to the index: P(favor) − P(against), in [-1, 1]."""
    return probabilities[:, favor] - probabilities[:, against]


def stance_index(scores: np.ndarray) -> float:
    """The mean paragraph stance of a group; NaN for an empty group."""
    return float(np.mean(scores)) if len(scores) else float("nan")


def group_seed(seed: int, name: str) -> np.random.SeedSequence:
    """A random stream per group, so adding a source leaves the others' intervals unchanged."""
    return np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))])


def bootstrap_interval(
    scores: np.ndarray,
    *,
    samples: int,
    confidence: float,
    seed: np.random.SeedSequence | int,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, resampling paragraphs with replacement.

    One paragraph gives a zero-width interval at its own value: the data say
    nothing about the spread, which the report shows by the paragraph count.
    """
    if len(scores) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(scores), size=(samples, len(scores)))
    return percentile_interval(scores[picks].mean(axis=1), confidence)


def cluster_bootstrap_interval(
    clusters: Sequence[np.ndarray],
    *,
    samples: int,
    confidence: float,
    seed: np.random.SeedSequence | int,
    pooled: bool = True,
) -> tuple[float, float]:
    """Percentile interval from a two-level bootstrap: clusters, then items within each.

    A source's clusters are its articles (paragraphs of one article are not
    independent); a group's are its outlets. `pooled` takes the mean over all
    resampled items (the index of a source); otherwise the mean of the clusters'
    means (each outlet of a group counts once). With one cluster this is the
    paragraph bootstrap of that cluster alone, which says nothing about others.
    """
    statistics = cluster_bootstrap_samples(
        clusters, samples=samples, rng=np.random.default_rng(seed), pooled=pooled
    )
    return percentile_interval(statistics, confidence)


def cluster_bootstrap_samples(
    clusters: Sequence[np.ndarray], *, samples: int, rng: np.random.Generator, pooled: bool
) -> np.ndarray:
    """`samples` bootstrap statistics of the two-level resampling (empty: NaN each)."""
    clusters = [np.asarray(c, dtype=float) for c in clusters if len(c)]
    if not clusters:
        return np.full(samples, np.nan)
    sizes = np.array([len(c) for c in clusters])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate(clusters)
    picks = rng.integers(0, len(clusters), size=(samples, len(clusters))).ravel()
    draws = np.repeat(picks, sizes[picks])  # the cluster of each resampled item
    within = (rng.random(len(draws)) * sizes[draws]).astype(int)
    values = flat[starts[draws] + within]
    if pooled:
        items = sizes[picks].reshape(samples, -1).sum(axis=1)  # resampled items per sample
        totals = np.bincount(np.repeat(np.arange(samples), items), weights=values)
        return totals / items
    pick_of_item = np.repeat(np.arange(len(picks)), sizes[picks])
    means = np.bincount(pick_of_item, weights=values, minlength=len(picks)) / sizes[picks]
    return means.reshape(samples, -1).mean(axis=1)


def percentile_interval(statistics: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central `confidence` share of bootstrap statistics (NaN when there are none)."""
    if len(statistics) == 0 or np.isnan(statistics).any():
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(statistics, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Shrinkage:
    """Empirical-Bayes estimates of each group's index and how they were obtained."""

    estimates: dict[str, float]
    weights: dict[str, float]  # share of each group's own mean kept (1 = no shrinkage)
    prior_mean: float
    between_variance: float
    within_variance: float


def shrink_indices(groups: Mapping[str, np.ndarray]) -> Shrinkage:
    """Shrink each group's mean toward the corpus mean by a normal-normal model.

    Group means y_i have sampling variance v_i = σ²/n_i, with σ² the pooled
    within-group variance of paragraph scores (stable when a group is small).
    The between-group variance τ² is the DerSimonian–Laird moment estimate and
    the corpus mean μ the precision-weighted mean under it. Each estimate is
    μ + λ_i (y_i − μ) with λ_i = τ² / (τ² + v_i): few paragraphs or groups that
    differ little from each other mean strong shrinkage. With one group, or no
    spread within groups, nothing is shrunk.
    """
    names = [name for name, scores in groups.items() if len(scores)]
    means = np.asarray([np.mean(groups[name]) for name in names])
    counts = np.asarray([len(groups[name]) for name in names], dtype=float)
    within = _pooled_within_variance([groups[name] for name in names])
    if len(names) < 2 or within == 0.0:
        center = float(np.average(means, weights=counts)) if len(names) else float("nan")
        return Shrinkage(
            {n: float(m) for n, m in zip(names, means, strict=True)},
            dict.fromkeys(names, 1.0),
            center,
            float("nan"),
            within,
        )
    variances = within / counts
    weights = 1.0 / variances
    fixed_mean = np.sum(weights * means) / np.sum(weights)
    q = np.sum(weights * (means - fixed_mean) ** 2)
    scale = np.sum(weights) - np.sum(weights**2) / np.sum(weights)
    between = max(0.0, (q - (len(names) - 1)) / scale)
    prior_mean = float(np.sum(means / (variances + between)) / np.sum(1.0 / (variances + between)))
    keep = between / (between + variances)
    estimates = prior_mean + keep * (means - prior_mean)
    return Shrinkage(
        {n: float(e) for n, e in zip(names, estimates, strict=True)},
        {n: float(k) for n, k in zip(names, keep, strict=True)},
        prior_mean,
        float(between),
        within,
    )


def _pooled_within_variance(groups: Sequence[np.ndarray]) -> float:
    """Σ_i Σ_j (x_ij − ȳ_i)² / (N − k); the overall variance when every group has one value."""
    total = sum(len(g) for g in groups)
    if total == 0:
        return 0.0
    if total <= len(groups):
        return float(np.var(np.concatenate(groups), ddof=1)) if total > 1 else 0.0
    squares = sum(float(np.sum((g - np.mean(g)) ** 2)) for g in groups)
    return squares / (total - len(groups))
