"""The statistics of a comparison, pure: two versions' predictions of the same paragraphs in,
numbers out.

Both versions predicted every gold paragraph out of fold, so the comparison is
paired: the bootstrap resamples paragraphs and scores both versions on the
same resample, and McNemar's test looks only at paragraphs where exactly one
of them is right. Metrics are the evaluate stage's (`stance_scores`) and the
per-source index is the report's (`pipeline.report.index`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.evaluate.scores import stance_scores
from pipeline.report.index import paragraph_stance, stance_index

# Metrics shown side by side; for the last two lower is better.
METRICS = ("macro_f1", "f_avg", "accuracy", "brier", "ece")
LOWER_IS_BETTER = frozenset({"brier", "ece"})
# Resampled paragraph indices held in memory at once by the bootstrap.
_BOOTSTRAP_CELLS = 2_000_000


@dataclass(frozen=True)
class CompareSettings:
    """What the comparison needs besides the predictions (labels: favor, against, none)."""

    labels: tuple[str, ...]
    bootstrap_samples: int = 2000
    confidence: float = 0.95
    seed: int = 13
    calibration_bins: int = 10


@dataclass(frozen=True)
class BootstrapDifference:
    """Macro-F1(B) − macro-F1(A), its paired percentile interval and how often B won."""

    estimate: float
    low: float
    high: float
    share_b_better: float
    samples: int
    confidence: float


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on paired correctness: exact binomial p, and χ² for reference."""

    a_right_b_wrong: int
    a_wrong_b_right: int
    p_exact: float
    chi2: float | None  # with continuity correction; None when no paragraph is discordant
    p_chi2: float | None


@dataclass(frozen=True)
class SourceChange:
    """One source's stance index under each version and the change B − A."""

    source: str
    n: int
    index_a: float
    index_b: float

    @property
    def change(self) -> float:
        return self.index_b - self.index_a


@dataclass(frozen=True)
class Flip:
    """A paragraph the two versions label differently; `effect` is fixed, broke or changed
    (both wrong, differently)."""

    paragraph_id: str
    source: str
    gold: str
    text: str
    label_a: str
    probs_a: dict[str, float]
    label_b: str
    probs_b: dict[str, float]
    effect: str


@dataclass(frozen=True)
class PairComparison:
    """Everything the predictions say about B against A."""

    n: int
    scores_a: dict[str, Any]  # `stance_scores` of each version
    scores_b: dict[str, Any]
    macro_f1_difference: BootstrapDifference
    mcnemar: McNemar
    sources: list[SourceChange]
    flips: list[Flip]


def compare_predictions(
    a: pd.DataFrame, b: pd.DataFrame, settings: CompareSettings
) -> PairComparison:
    """Compare two versions' predictions of the same paragraphs, in the same row order.

    Each frame has paragraph_id, source, gold, text and prob_<label> columns.
    """
    labels = list(settings.labels)
    probs_a, probs_b = _probabilities(a, labels), _probabilities(b, labels)
    targets = np.asarray([labels.index(gold) for gold in a["gold"]])
    predicted_a, predicted_b = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    return PairComparison(
        n=len(a),
        scores_a=version_scores(probs_a, targets, settings),
        scores_b=version_scores(probs_b, targets, settings),
        macro_f1_difference=paired_bootstrap(
            targets,
            predicted_a,
            predicted_b,
            n_labels=len(labels),
            samples=settings.bootstrap_samples,
            confidence=settings.confidence,
            seed=settings.seed,
        ),
        mcnemar=mcnemar(predicted_a == targets, predicted_b == targets),
        sources=source_changes(a["source"].to_numpy(), probs_a, probs_b),
        flips=flipped_paragraphs(a, probs_a, probs_b, labels),
    )


def _probabilities(frame: pd.DataFrame, labels: list[str]) -> np.ndarray:
    return frame[[f"prob_{label}" for label in labels]].to_numpy(dtype=float)


def version_scores(
    probabilities: np.ndarray, targets: np.ndarray, settings: CompareSettings
) -> dict[str, Any]:
    """The evaluate stage's metrics; F_avg averages the first two labels (favor, against)."""
    labels = list(settings.labels)
    return stance_scores(
        probabilities,
        targets,
        labels,
        bins=settings.calibration_bins,
        stance_labels=labels[:2],
    )


def macro_f1(targets: np.ndarray, predicted: np.ndarray, n_labels: int) -> float:
    """Mean F1 over all labels, 0 for a label never true nor predicted (as scikit-learn's
    `f1_score(average="macro", zero_division=0)` with every label listed)."""
    every = np.arange(len(targets))[None, :]
    return float(_resampled_macro_f1(targets, predicted, every, n_labels)[0])


def _resampled_macro_f1(
    targets: np.ndarray, predicted: np.ndarray, picks: np.ndarray, n_labels: int
) -> np.ndarray:
    """Macro-F1 of each row of `picks` (paragraph indices): F1 = 2·TP / (#true + #predicted)."""
    chosen_targets, chosen_predicted = targets[picks], predicted[picks]
    f1 = np.zeros((len(picks), n_labels))
    for label in range(n_labels):
        true, said = chosen_targets == label, chosen_predicted == label
        hits = 2.0 * (true & said).sum(axis=1)
        total = true.sum(axis=1) + said.sum(axis=1)
        f1[:, label] = np.divide(hits, total, out=np.zeros(len(picks)), where=total > 0)
    return f1.mean(axis=1)


def paired_bootstrap(
    targets: np.ndarray,
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
    *,
    n_labels: int,
    samples: int,
    confidence: float,
    seed: int,
) -> BootstrapDifference:
    """Percentile interval of macro-F1(B) − macro-F1(A) over paragraph resamples drawn
    with replacement, the same resample for both versions (numpy Generator, `seed`)."""
    estimate = macro_f1(targets, predicted_b, n_labels) - macro_f1(targets, predicted_a, n_labels)
    rng = np.random.default_rng(seed)
    n = len(targets)
    differences = np.empty(samples)
    chunk = max(1, _BOOTSTRAP_CELLS // max(n, 1))
    for start in range(0, samples, chunk):
        picks = rng.integers(0, n, size=(min(chunk, samples - start), n))
        differences[start : start + len(picks)] = _resampled_macro_f1(
            targets, predicted_b, picks, n_labels
        ) - _resampled_macro_f1(targets, predicted_a, picks, n_labels)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(differences, [tail, 1.0 - tail])
    return BootstrapDifference(
        estimate=float(estimate),
        low=float(low),
        high=float(high),
        share_b_better=float(np.mean(differences > 0)),
        samples=samples,
        confidence=confidence,
    )


def exact_mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact p: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), at most 1."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)  # exact integer counts, rounded once by the division


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemar:
    """McNemar's test of whether A and B are right equally often on the same paragraphs.

    The χ² statistic uses the continuity correction max(0, |b − c| − 1)² / (b + c),
    with its p from the χ² distribution with one degree of freedom.
    """
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    chi2 = p_chi2 = None
    if b + c:
        chi2 = max(0, abs(b - c) - 1) ** 2 / (b + c)
        p_chi2 = math.erfc(math.sqrt(chi2 / 2))
    return McNemar(b, c, exact_mcnemar_p(b, c), chi2, p_chi2)


def source_changes(
    sources: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray
) -> list[SourceChange]:
    """Each source's stance index (the report's: mean P(favor) − P(against)) under A and B,
    sources in sorted order; columns 0 and 1 are favor and against."""
    stance_a, stance_b = paragraph_stance(probs_a, 0, 1), paragraph_stance(probs_b, 0, 1)
    return [
        SourceChange(
            source=str(source),
            n=int(np.sum(sources == source)),
            index_a=stance_index(stance_a[sources == source]),
            index_b=stance_index(stance_b[sources == source]),
        )
        for source in sorted(set(sources))
    ]


def flip_effect(gold: int, label_a: int, label_b: int) -> str:
    """What a change of label did: fixed (B right), broke (A right) or changed (both wrong)."""
    if label_b == gold:
        return "fixed"
    return "broke" if label_a == gold else "changed"


def flipped_paragraphs(
    frame: pd.DataFrame, probs_a: np.ndarray, probs_b: np.ndarray, labels: list[str]
) -> list[Flip]:
    """The paragraphs whose predicted label differs, in the frame's order."""
    predicted_a, predicted_b = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    flips = []
    for row in np.flatnonzero(predicted_a != predicted_b):
        gold = labels.index(frame["gold"].iloc[row])
        flips.append(
            Flip(
                paragraph_id=str(frame["paragraph_id"].iloc[row]),
                source=str(frame["source"].iloc[row]),
                gold=labels[gold],
                text=str(frame["text"].iloc[row]),
                label_a=labels[predicted_a[row]],
                probs_a=dict(zip(labels, map(float, probs_a[row]), strict=True)),
                label_b=labels[predicted_b[row]],
                probs_b=dict(zip(labels, map(float, probs_b[row]), strict=True)),
                effect=flip_effect(gold, int(predicted_a[row]), int(predicted_b[row])),
            )
        )
    return flips
