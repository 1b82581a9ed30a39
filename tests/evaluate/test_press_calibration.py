"""The temperature fitted on press examples out of fold by outlet, and what train takes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import InputDataError
from pipeline.evaluate.loso import OutOfFold
from pipeline.evaluate.press_calibration import outlet_folds, press_out_of_fold
from pipeline.evaluate.stage import _calibrate
from pipeline.models.calibration import apply_temperature, fit_temperature
from pipeline.train.stage import out_of_fold_temperature
from tests.evaluate.test_loso import LABELS_TABLE, PARAMS, SpyClassifier, row, spy

OUTLETS = [f"Outlet {n}" for n in range(7)]
PRESS_TABLE = pd.concat(
    [
        LABELS_TABLE,
        pd.DataFrame(
            [
                row(f"p{n}{k}", outlet, ("favor", "against", "none")[(n + k) % 3], "press")
                for n, outlet in enumerate(OUTLETS)
                for k in range(2)
            ]
        ),
    ],
    ignore_index=True,
)


def with_evaluate(**update: object):
    """PARAMS with some `evaluate` settings changed."""
    return PARAMS.model_copy(update={"evaluate": PARAMS.evaluate.model_copy(update=update)})


def test_outlets_are_dealt_by_hash_into_balanced_folds() -> None:
    folds = outlet_folds(OUTLETS, 3)
    assert folds == outlet_folds(list(reversed(OUTLETS)), 3)  # order does not matter
    assert sorted(np.bincount(list(folds.values()))) == [2, 2, 3]


def test_every_press_example_is_predicted_once_by_a_model_blind_to_its_outlet() -> None:
    SpyClassifier.fits = []
    press = press_out_of_fold(PRESS_TABLE, with_evaluate(calibration_folds=3), spy)
    assert press is not None
    expected = sorted(PRESS_TABLE.loc[PRESS_TABLE.provenance == "press", "paragraph_id"])
    assert sorted(press.frame.paragraph_id) == expected  # gold and synthetic never test here
    assert press.raw.shape == (len(expected), 3)
    folds = outlet_folds(OUTLETS, 3)
    for fold, seen in enumerate(SpyClassifier.fits):
        trained = {text.removeprefix("text of ") for text in seen}
        held = set(press.frame.loc[press.frame.fold == fold, "paragraph_id"])
        assert held and not held & trained
        held_outlets = set(press.frame.loc[press.frame.fold == fold, "source"])
        assert held_outlets == {o for o, f in folds.items() if f == fold}
        assert {"a1", "s1"} <= trained  # gold and written examples train in every fold


def test_too_few_press_outlets_means_no_press_calibration() -> None:
    assert press_out_of_fold(PRESS_TABLE, with_evaluate(calibration_folds=8), spy) is None
    assert press_out_of_fold(LABELS_TABLE, with_evaluate(calibration_folds=2), spy) is None


def _confident_out_of_fold(n: int, sources: list[str], rng: np.random.Generator) -> OutOfFold:
    """Over-confident predictions (right 60% of the time at 0.9)."""
    gold = rng.integers(0, 3, n)
    guess = np.where(rng.random(n) < 0.6, gold, (gold + 1) % 3)
    raw = np.full((n, 3), 0.05)
    raw[np.arange(n), guess] = 0.9
    frame = pd.DataFrame(
        {
            "paragraph_id": [f"x{i}" for i in range(n)],
            "source": [sources[i % len(sources)] for i in range(n)],
            "gold": [PARAMS.labels[g] for g in gold],
            "fold": [i % 3 for i in range(n)],
        }
    )
    return OutOfFold(frame, raw, [])


def test_the_press_temperature_is_fitted_on_press_alone_and_applied_to_the_seeds() -> None:
    rng = np.random.default_rng(3)
    press, seeds = _confident_out_of_fold(300, OUTLETS, rng), _confident_out_of_fold(20, ["A"], rng)
    calibrated, record = _calibrate(seeds, press, with_evaluate(calibration="auto"))
    targets = [PARAMS.labels.index(g) for g in press.frame.gold]
    assert record.applied and record.fitted_on == "press" and record.rows == 300
    assert record.temperature == fit_temperature(press.raw, targets) > 1  # softened
    np.testing.assert_allclose(calibrated, apply_temperature(seeds.raw, record.temperature))
    _, off = _calibrate(seeds, press, with_evaluate(calibration="none"))
    assert not off.applied and off.temperature == 1.0


def test_without_press_the_temperature_comes_from_the_gold_paragraphs() -> None:
    seeds = _confident_out_of_fold(60, ["A", "B", "C"], np.random.default_rng(4))
    _, record = _calibrate(seeds, None, with_evaluate(calibration="temperature"))
    targets = [PARAMS.labels.index(g) for g in seeds.frame.gold]
    assert record.fitted_on == "gold" and record.rows == 60
    assert record.temperature == fit_temperature(seeds.raw, targets)


@pytest.mark.parametrize("bad", [None, "1.2", True, 0.0, 99.0])
def test_train_refuses_a_missing_or_impossible_temperature(bad: object) -> None:
    evaluation = {"calibration": {"temperature": bad}}
    with pytest.raises(InputDataError, match=r"eval\.json: calibration\.temperature should be"):
        out_of_fold_temperature(PARAMS, "m-1", evaluation)
    assert out_of_fold_temperature(PARAMS, "m-1", {"calibration": {"temperature": 0.7}}) == 0.7


def test_the_press_calibration_record_is_json() -> None:
    rng = np.random.default_rng(5)
    press, seeds = _confident_out_of_fold(90, OUTLETS, rng), _confident_out_of_fold(9, ["A"], rng)
    _, record = _calibrate(seeds, press, PARAMS)
    loaded = json.loads(json.dumps(record.as_dict()))
    assert sorted(loaded["temperatures"]) == ["fold 1", "fold 2", "fold 3"]
