"""Temperature scaling: recovers a known temperature and never changes the predicted label."""

from __future__ import annotations

import numpy as np

from pipeline.models.calibration import apply_temperature, fit_temperature


def test_recovers_the_temperature_that_generated_the_labels() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 3))
    true = np.exp(logits / 2.5)
    true /= true.sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(3, p=p) for p in true])
    overconfident = np.exp(logits)
    overconfident /= overconfident.sum(axis=1, keepdims=True)
    assert abs(fit_temperature(overconfident, targets) - 2.5) < 0.25


def test_scaling_keeps_the_argmax_and_sums_to_one() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.34, 0.33, 0.33]])
    for temperature in (0.3, 1.0, 4.0):
        scaled = apply_temperature(probabilities, temperature)
        assert (scaled.argmax(axis=1) == probabilities.argmax(axis=1)).all()
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0)
    np.testing.assert_allclose(apply_temperature(probabilities, 1.0), probabilities, atol=1e-9)


def test_no_rows_means_no_change() -> None:
    assert fit_temperature(np.zeros((0, 3)), []) == 1.0
