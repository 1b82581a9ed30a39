"""Metrics of probabilistic predictions, checked on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluate.scores import expected_calibration_error, reliability_bins, stance_scores

LABELS = ["favor", "against", "none"]


def test_perfect_confident_predictions() -> None:
    targets = np.array([0, 1, 2, 2])
    scores = stance_scores(
        np.eye(3)[targets], targets, LABELS, bins=10, stance_labels=["favor", "against"]
    )
    assert scores["macro_f1"] == scores["f_avg"] == scores["accuracy"] == 1.0
    assert scores["brier"] == 0.0 and scores["ece"] == 0.0
    assert scores["per_class"]["none"]["support"] == 2


def test_f_avg_ignores_the_no_stance_class() -> None:
    targets = np.array([0, 1, 2, 2])
    predicted = np.eye(3)[[0, 1, 0, 0]]  # both `none` wrong
    scores = stance_scores(predicted, targets, LABELS, bins=10, stance_labels=["favor", "against"])
    # favor F1 = 2*(1/3*1)/(1/3+1) = 0.5, against F1 = 1, none F1 = 0.
    assert scores["f_avg"] == pytest.approx(0.75)
    assert scores["macro_f1"] == pytest.approx(0.5)
    assert scores["brier"] == pytest.approx(1.0)  # two rows with squared error 2, two with 0


def test_ece_by_hand() -> None:
    probabilities = np.array(
        [[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.6, 0.2, 0.2], [0.6, 0.3, 0.1]]
    )
    targets = np.array([0, 1, 0, 0])
    # bin (0.8, 0.9]: confidence 0.9, accuracy 0.5; bin (0.5, 0.6]: confidence 0.6, accuracy 1.0
    assert expected_calibration_error(probabilities, targets, 10) == pytest.approx(
        0.5 * 0.4 + 0.5 * 0.4
    )
    bins = reliability_bins(probabilities, targets, 10)
    assert [(row["confidence"], row["accuracy"], row["count"]) for row in bins] == [
        (0.6, 1.0, 2),
        (0.9, 0.5, 2),
    ]
