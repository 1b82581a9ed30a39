"""The statistics of `stance compare` on cases small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest
from scipy.stats import chi2 as chi2_distribution
from sklearn.metrics import f1_score

from pipeline.compare.stats import (
    CompareSettings,
    compare_predictions,
    exact_mcnemar_p,
    flip_effect,
    macro_f1,
    mcnemar,
    paired_bootstrap,
    source_changes,
)
from tests.compare.conftest import LABELS, probabilities_frame

SETTINGS = CompareSettings(labels=LABELS, bootstrap_samples=500, seed=5)
FAVOR, AGAINST, NONE = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]

# Eight paragraphs: A is right on 0, 6, 7; B on 1-7. So b (A right, B wrong) = 1 (paragraph 0)
# and c (A wrong, B right) = 5 (paragraphs 1-5).
GOLD = ["favor", "against", "none", "favor", "against", "none", "favor", "against"]
A_SAYS = [FAVOR, NONE, FAVOR, AGAINST, NONE, FAVOR, FAVOR, AGAINST]
B_SAYS = [AGAINST, AGAINST, NONE, FAVOR, AGAINST, NONE, FAVOR, AGAINST]
SOURCES = ["X"] * 4 + ["Y"] * 4


def test_exact_mcnemar_p_by_hand() -> None:
    # b=1, c=5: n=6, P(X <= 1) = (C(6,0) + C(6,1)) / 2^6 = 7/64, p = 2 * 7/64 = 14/64.
    assert exact_mcnemar_p(1, 5) == 14 / 64 == 0.21875
    assert exact_mcnemar_p(5, 1) == 0.21875
    # b=0, c=4: P(X <= 0) = 1/16, p = 2/16.
    assert exact_mcnemar_p(0, 4) == 0.125
    # b=c=3: 2 * (1 + 6 + 15 + 20)/64 = 84/64, capped at 1.
    assert exact_mcnemar_p(3, 3) == 1.0
    assert exact_mcnemar_p(0, 0) == 1.0
    assert exact_mcnemar_p(7, 19) == pytest.approx(binomtest(7, 26, 0.5).pvalue)


def test_mcnemar_counts_discordant_pairs_and_gives_chi2_for_reference() -> None:
    right_a = np.array([True, False, False, False, False, False, True, True])
    right_b = np.array([False, True, True, True, True, True, True, True])
    test = mcnemar(right_a, right_b)
    assert (test.a_right_b_wrong, test.a_wrong_b_right) == (1, 5)
    assert test.p_exact == 0.21875
    # (|1 - 5| - 1)^2 / 6 = 9/6
    assert test.chi2 == pytest.approx(1.5)
    assert test.p_chi2 == pytest.approx(chi2_distribution.sf(1.5, df=1))
    same = mcnemar(right_a, right_a)
    assert (same.p_exact, same.chi2, same.p_chi2) == (1.0, None, None)


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_is_scikit_learns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 3, size=25)
    predicted = rng.integers(0, 2, size=25)  # label 2 never predicted: its F1 is 0
    expected = f1_score(targets, predicted, labels=[0, 1, 2], average="macro", zero_division=0)
    assert macro_f1(targets, predicted, 3) == pytest.approx(expected)


def _bootstrap(predicted_a: np.ndarray, predicted_b: np.ndarray, seed: int = 5):
    targets = np.asarray([LABELS.index(gold) for gold in GOLD])
    return paired_bootstrap(
        targets, predicted_a, predicted_b, n_labels=3, samples=500, confidence=0.95, seed=seed
    )


def test_identical_versions_differ_by_exactly_zero() -> None:
    predicted = np.asarray(A_SAYS).argmax(axis=1)
    difference = _bootstrap(predicted, predicted)
    assert (difference.estimate, difference.low, difference.high) == (0.0, 0.0, 0.0)
    assert difference.share_b_better == 0.0


def test_bootstrap_interval_holds_the_difference_and_is_fixed_by_the_seed() -> None:
    predicted_a, predicted_b = np.asarray(A_SAYS).argmax(1), np.asarray(B_SAYS).argmax(1)
    difference = _bootstrap(predicted_a, predicted_b)
    targets = np.asarray([LABELS.index(gold) for gold in GOLD])
    expected = macro_f1(targets, predicted_b, 3) - macro_f1(targets, predicted_a, 3)
    assert difference.estimate == pytest.approx(expected)
    assert difference.low <= difference.estimate <= difference.high
    assert difference.share_b_better > 0.5
    assert _bootstrap(predicted_a, predicted_b) == difference
    assert _bootstrap(predicted_a, predicted_b, seed=6) != difference


def test_source_index_change_by_hand() -> None:
    probs_a = np.array([[0.7, 0.1, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]])
    probs_b = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2]])
    changes = source_changes(np.array(["X", "X", "Y"]), probs_a, probs_b)
    x, y = changes
    # X: A = (0.6 - 0.4)/2 = 0.1, B = (0.2 - 0.7)/2 = -0.25; Y: A = 0, B = 0.4.
    assert (x.source, x.n, y.source, y.n) == ("X", 2, "Y", 1)
    assert (x.index_a, x.index_b, x.change) == pytest.approx((0.1, -0.25, -0.35))
    assert (y.index_a, y.index_b, y.change) == pytest.approx((0.0, 0.4, 0.4))


def test_flip_effect() -> None:
    assert flip_effect(gold=0, label_a=1, label_b=0) == "fixed"
    assert flip_effect(gold=0, label_a=0, label_b=2) == "broke"
    assert flip_effect(gold=0, label_a=1, label_b=2) == "changed"


def test_compare_predictions_on_a_hand_made_pair() -> None:
    a = probabilities_frame(A_SAYS, GOLD, SOURCES)
    b = probabilities_frame(B_SAYS, GOLD, SOURCES)
    result = compare_predictions(a, b, SETTINGS)
    assert result.n == 8
    assert (result.scores_a["accuracy"], result.scores_b["accuracy"]) == (0.375, 0.875)
    assert result.mcnemar.p_exact == 0.21875
    assert [flip.paragraph_id for flip in result.flips] == [f"p{i}" for i in range(6)]
    assert [flip.effect for flip in result.flips] == ["broke"] + ["fixed"] * 5
    first = result.flips[0]
    assert (first.gold, first.label_a, first.label_b) == ("favor", "favor", "against")
    assert first.probs_b == {"favor": 0.0, "against": 1.0, "none": 0.0}
    assert first.text == "Paragraph number 0."
    # Source X under A: +1, 0, +1, -1 -> 0.25; under B: -1, -1, 0, +1 -> -0.25.
    x = result.sources[0]
    assert (x.index_a, x.index_b) == pytest.approx((0.25, -0.25))
    assert math.isclose(x.change, -0.5)
