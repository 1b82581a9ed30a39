"""The stance index, its bootstrap interval and the empirical-Bayes shrinkage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.report.index import (
    bootstrap_interval,
    group_seed,
    paragraph_stance,
    shrink_indices,
    stance_index,
)


def test_paragraph_stance_is_favor_minus_against() -> None:
    probs = np.array([[0.7, 0.1, 0.2], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    assert paragraph_stance(probs, 0, 1) == pytest.approx([0.6, -0.7, 0.0])


def test_index_is_the_mean_and_counts_none_as_zero() -> None:
    assert stance_index(np.array([1.0, -1.0, 0.0, 1.0])) == pytest.approx(0.25)
    assert np.isnan(stance_index(np.array([])))


def _interval(scores: np.ndarray, seed: int = 7) -> tuple[float, float]:
    return bootstrap_interval(scores, samples=2000, confidence=0.95, seed=seed)


def test_bootstrap_is_reproducible_with_a_fixed_seed_and_varies_without() -> None:
    scores = np.random.default_rng(0).uniform(-1, 1, size=25)
    assert _interval(scores, 3) == _interval(scores, 3)
    assert _interval(scores, 3) != _interval(scores, 4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=40), st.integers(0, 2**16))
def test_interval_contains_the_point_estimate(values: list[float], seed: int) -> None:
    scores = np.asarray(values)
    low, high = _interval(scores, seed)
    assert low - 1e-12 <= stance_index(scores) <= high + 1e-12
    assert -1 <= low <= high <= 1


def test_interval_narrows_with_more_paragraphs() -> None:
    rng = np.random.default_rng(1)
    population = rng.choice([1.0, 0.0, -1.0], p=[0.5, 0.3, 0.2], size=4000)
    widths = []
    for n in (10, 40, 160, 640):
        low, high = _interval(population[:n])
        widths.append(high - low)
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < widths[0] / 4  # about 1/sqrt(n): 8x more data, ~2.8x per step


def test_higher_confidence_gives_a_wider_interval() -> None:
    scores = np.random.default_rng(2).uniform(-1, 1, size=30)
    narrow = bootstrap_interval(scores, samples=2000, confidence=0.8, seed=5)
    wide = bootstrap_interval(scores, samples=2000, confidence=0.99, seed=5)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_one_paragraph_gives_a_zero_width_interval_and_none_gives_nan() -> None:
    assert _interval(np.array([0.4])) == (pytest.approx(0.4), pytest.approx(0.4))
    assert all(np.isnan(_interval(np.array([]))))


def test_group_streams_depend_on_the_name_not_the_order() -> None:
    scores = np.random.default_rng(3).uniform(-1, 1, size=20)
    a = bootstrap_interval(scores, samples=500, confidence=0.9, seed=group_seed(13, "AFP"))
    b = bootstrap_interval(scores, samples=500, confidence=0.9, seed=group_seed(13, "AFP"))
    c = bootstrap_interval(scores, samples=500, confidence=0.9, seed=group_seed(13, "TASS"))
    assert a == b and a != c


def _groups(rng: np.random.Generator, sizes: dict[str, int], means: dict[str, float]) -> dict:
    return {name: np.clip(rng.normal(means[name], 0.5, size=n), -1, 1) for name, n in sizes.items()}


def test_shrinkage_pulls_small_sources_harder_toward_the_corpus_mean() -> None:
    rng = np.random.default_rng(4)
    groups = _groups(
        rng,
        {"big": 200, "mid": 30, "tiny": 2, "other": 60},
        {"big": -0.2, "mid": 0.1, "tiny": 0.9, "other": 0.3},
    )
    fit = shrink_indices(groups)
    assert fit.between_variance > 0
    for name, scores in groups.items():
        raw = scores.mean()
        shrunk = fit.estimates[name]
        # every estimate lies between the group's own mean and the corpus mean
        assert min(raw, fit.prior_mean) - 1e-12 <= shrunk <= max(raw, fit.prior_mean) + 1e-12
        assert 0 <= fit.weights[name] <= 1
    assert fit.weights["tiny"] < fit.weights["mid"] < fit.weights["big"]
    assert abs(fit.estimates["big"] - groups["big"].mean()) < 0.01


def test_sources_that_do_not_differ_are_shrunk_to_one_value() -> None:
    rng = np.random.default_rng(5)
    noise = {name: rng.choice([1.0, -1.0], size=40) for name in "abcd"}
    fit = shrink_indices(noise)
    # the spread of these means is all sampling noise: the moment estimate of τ² is 0
    assert fit.between_variance == 0
    assert set(fit.weights.values()) == {0.0}
    assert fit.estimates == dict.fromkeys("abcd", pytest.approx(fit.prior_mean))
    assert fit.prior_mean == pytest.approx(np.concatenate(list(noise.values())).mean())


def test_one_source_or_no_within_spread_is_left_alone() -> None:
    single = shrink_indices({"only": np.array([0.5, -0.1, 0.3])})
    assert single.estimates == {"only": pytest.approx(0.7 / 3)} and single.weights["only"] == 1
    flat = shrink_indices({"a": np.array([0.5, 0.5]), "b": np.array([-0.2])})
    assert flat.estimates == {"a": pytest.approx(0.5), "b": pytest.approx(-0.2)}
