"""Temperature scaling: one scalar T, fitted on held-out predictions, that softens
(T > 1) or sharpens (T < 1) a model's probabilities so that they match observed
frequencies (Guo et al., 2017). It never changes which label is most probable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

_EPS = 1e-12
BOUNDS = (0.05, 20.0)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), row by row."""
    logits = np.log(np.clip(probabilities, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, targets: Sequence[int]) -> float:
    """The T in `BOUNDS` that minimises the negative log-likelihood of `targets`."""
    targets = np.asarray(targets)
    if len(targets) == 0:
        return 1.0
    rows = np.arange(len(targets))

    def nll(temperature: float) -> float:
        scaled = apply_temperature(probabilities, temperature)
        return float(-np.log(np.clip(scaled[rows, targets], _EPS, 1.0)).mean())

    result = minimize_scalar(nll, bounds=BOUNDS, method="bounded", options={"xatol": 1e-4})
    return round(float(result.x), 4)
