"""Classification and calibration metrics of probabilistic stance predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def _r(value: float) -> float:
    return round(float(value), 4)


def reliability_bins(
    probabilities: np.ndarray, targets: np.ndarray, bins: int
) -> list[dict[str, float | int]]:
    """Top-label confidence vs accuracy in `bins` equal-width bins (empty bins omitted)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == targets
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        if members.any():
            rows.append(
                {
                    "bin": b,
                    "confidence": _r(confidence[members].mean()),
                    "accuracy": _r(correct[members].mean()),
                    "count": int(members.sum()),
                }
            )
    return rows


def expected_calibration_error(probabilities: np.ndarray, targets: np.ndarray, bins: int) -> float:
    """Sum over bins of |accuracy - confidence| weighted by the bin's share of rows."""
    rows = reliability_bins(probabilities, targets, bins)
    total = sum(row["count"] for row in rows)
    return _r(sum(abs(row["accuracy"] - row["confidence"]) * row["count"] for row in rows) / total)


def stance_scores(
    probabilities: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    *,
    bins: int,
    stance_labels: Sequence[str],
) -> dict:
    """Macro-F1, F_avg (mean F1 of the stance labels, as in SemEval-2016 task 6),
    accuracy, per-class precision/recall/F1, Brier score and ECE."""
    predicted = probabilities.argmax(axis=1)
    indices = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, predicted, labels=indices, zero_division=0
    )
    one_hot = np.eye(len(labels))[targets]
    per_class = {
        label: {
            "precision": _r(precision[i]),
            "recall": _r(recall[i]),
            "f1": _r(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "n": len(targets),
        "macro_f1": _r(
            f1_score(targets, predicted, labels=indices, average="macro", zero_division=0)
        ),
        "f_avg": _r(np.mean([f1[labels.index(label)] for label in stance_labels])),
        "accuracy": _r(accuracy_score(targets, predicted)),
        "brier": _r(((probabilities - one_hot) ** 2).sum(axis=1).mean()),
        "ece": expected_calibration_error(probabilities, targets, bins),
        "per_class": per_class,
    }
