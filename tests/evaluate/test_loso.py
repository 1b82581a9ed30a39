"""Leave-one-source-out: what trains and what tests in every fold, and the calibration."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_params
from pipeline.errors import InputDataError
from pipeline.evaluate.loso import calibrate_out_of_fold, leave_one_source_out
from pipeline.models.base import StanceClassifier
from tests.conftest import REPO

PARAMS = load_params(REPO / "params.yaml")


class SpyClassifier(StanceClassifier):
    """Remembers what each fit saw; predicts the training label frequencies."""

    name = "spy"
    fits: ClassVar[list[list[str]]] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        SpyClassifier.fits.append(list(texts))
        self.prior_ = np.bincount(targets, minlength=len(self.labels)) / len(targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.prior_, (len(texts), 1))

    def save(self, folder: Path) -> None:  # pragma: no cover - not used here
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        raise NotImplementedError  # pragma: no cover


def row(pid: str, source: str, label: str | None, provenance: str, confidence: float = 1.0):
    return {
        "paragraph_id": pid,
        "doc_id": None if source == "synthetic" else source.lower(),
        "source": source,
        "text": f"text of {pid}",
        "label": label,
        "confidence": confidence,
        "provenance": provenance,
    }


LABELS_TABLE = pd.DataFrame(
    [
        row("a1", "A", "favor", "gold"),
        row("a2", "A", "none", "gold"),
        row("a3", "A", "against", "weak", 0.9),
        row("b1", "B", "against", "gold"),
        row("b2", "B", "favor", "weak", 0.9),
        row("b3", "B", "none", "weak", 0.3),  # too unsure to train
        row("b4", "B", None, "unlabeled", 0.0),
        row("c1", "C", "none", "gold"),
        row("s1", "synthetic", "favor", "synthetic"),
        row("s2", "synthetic", "against", "synthetic"),
    ]
)


@pytest.fixture(autouse=True)
def _fresh_spy() -> None:
    SpyClassifier.fits = []


def spy() -> SpyClassifier:
    return SpyClassifier(labels=PARAMS.labels)


def test_every_gold_paragraph_is_predicted_once_by_a_model_blind_to_its_source() -> None:
    oof = leave_one_source_out(LABELS_TABLE, PARAMS, spy)
    assert sorted(oof.frame.paragraph_id) == ["a1", "a2", "b1", "c1"]
    assert oof.raw.shape == (4, 3)
    held_out = [fold.source for fold in oof.folds]
    assert held_out == ["A", "B", "C"]
    for source, seen in zip(held_out, SpyClassifier.fits, strict=True):
        trained_ids = {text.removeprefix("text of ") for text in seen}
        assert not any(pid.startswith(source.lower()) for pid in trained_ids), source
        assert {"s1", "s2"} <= trained_ids  # written examples train in every fold
        assert "b3" not in trained_ids and "b4" not in trained_ids  # unsure or unlabelled
    # Synthetic rows never test; weak rows never test.
    assert not set(oof.frame.paragraph_id) & {"s1", "s2", "a3", "b2"}


def test_weak_and_synthetic_switches() -> None:
    params = PARAMS.model_copy(
        update={
            "train": PARAMS.train.model_copy(update={"use_synthetic": False, "use_weak": False})
        }
    )
    leave_one_source_out(LABELS_TABLE, params, lambda: SpyClassifier(labels=PARAMS.labels))
    for seen in SpyClassifier.fits:
        assert all(text.removeprefix("text of ") in {"a1", "a2", "b1", "c1"} for text in seen)


def test_one_source_cannot_be_evaluated_by_source() -> None:
    single = LABELS_TABLE[LABELS_TABLE.source.isin(["A", "synthetic"])]
    with pytest.raises(InputDataError, match="at least two sources; found 1"):
        leave_one_source_out(single, PARAMS, spy)


def test_calibration_of_a_source_never_uses_its_own_labels() -> None:
    raw = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.2, 0.7, 0.1]])
    targets = np.array([0, 1, 1, 1])
    sources = np.array(["A", "A", "B", "B"])
    _, record = calibrate_out_of_fold(raw, targets, sources, "temperature")
    # Changing A's labels must leave A's temperature alone (it is fitted on B only).
    _, changed = calibrate_out_of_fold(raw, np.array([2, 2, 1, 1]), sources, "temperature")
    assert changed.temperatures["A"] == record.temperatures["A"]
    assert changed.temperatures["B"] != record.temperatures["B"]


def test_auto_applies_temperature_only_when_it_lowers_the_log_loss() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, size=(600, 3))
    soft = np.exp(logits / 3)
    soft /= soft.sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(3, p=p) for p in soft])
    sources = np.repeat(["A", "B", "C"], 200)
    sharp = np.exp(logits)
    sharp /= sharp.sum(axis=1, keepdims=True)
    # Overconfident everywhere alike: scaling learnt on other sources helps, so it applies.
    scaled, record = calibrate_out_of_fold(sharp, targets, sources, "auto")
    assert record.applied and record.nll_temperature < record.nll_uncalibrated
    assert not np.allclose(scaled, sharp)
    # Otherwise auto returns the probabilities untouched; the decision is the log loss.
    worse = np.roll(sharp, 1, axis=1)  # confidently wrong: sharpening cannot help
    same, record = calibrate_out_of_fold(worse, targets, sources, "auto")
    assert record.applied == (record.nll_temperature < record.nll_uncalibrated)
    if not record.applied:
        np.testing.assert_array_equal(same, worse)
    untouched, off = calibrate_out_of_fold(sharp, targets, sources, "none")
    np.testing.assert_array_equal(untouched, sharp)
    assert not off.applied
