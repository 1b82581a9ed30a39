"""Temperature fitted on outlets the model has not seen: the press examples, out of fold.

The seeds hold 60 paragraphs from five outlets, too few to fit a temperature that
carries to new outlets. The examples written from real coverage (`provenance ==
press`) come from hundreds of outlets. Their outlets are dealt into
`evaluate.calibration_folds` groups by a hash of the name (machine-independent); for
each group the model is fitted on every training row except that group's press
rows and predicts them. The deployed temperature is the one that fits these
out-of-fold predictions best; whether it is applied (`evaluate.calibration: auto`)
is judged by cross-fitting over the groups, as the seeds' calibration is judged by
source. The development set, which never trains or calibrates, checks the result.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.evaluate.loso import Fold, OutOfFold
from pipeline.models.base import StanceClassifier
from pipeline.train.data import fit_rows, predict_rows, training_rows

log = logging.getLogger(__name__)

PRESS = "press"


def outlet_folds(outlets: list[str], folds: int) -> dict[str, int]:
    """Each outlet's fold: outlets ordered by the SHA-256 of their name, dealt in turn."""
    ordered = sorted(outlets, key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    return {outlet: number % folds for number, outlet in enumerate(ordered)}


def press_out_of_fold(
    labels: pd.DataFrame, params: Params, build: Callable[[], StanceClassifier]
) -> OutOfFold | None:
    """Out-of-fold predictions of every press example by a model blind to its outlet's
    fold, or None when the training rows hold press examples from fewer outlets than
    `evaluate.calibration_folds` (the caller then calibrates on the gold paragraphs)."""
    train = training_rows(labels, params.train)
    is_press = (train["provenance"] == PRESS).to_numpy()
    outlets = sorted(train.loc[is_press, "source"].unique())
    folds = params.evaluate.calibration_folds
    if len(outlets) < folds:
        return None
    fold_of = train["source"].map(outlet_folds(outlets, folds)).to_numpy()
    frames, raws, records = [], [], []
    for fold in range(folds):
        held = is_press & (fold_of == fold)
        fitted_on, test = train[~held], train[held]
        log.info(
            "evaluate: calibration fold %d/%d, holding out the press examples of %d outlets "
            "(%d train, %d test)",
            fold + 1,
            folds,
            test["source"].nunique(),
            len(fitted_on),
            len(test),
        )
        started = time.perf_counter()
        model = fit_rows(build(), fitted_on)
        seconds = time.perf_counter() - started
        raws.append(predict_rows(model, test))
        frame = test[["paragraph_id", "source", "label"]].rename(columns={"label": "gold"})
        frames.append(frame.assign(fold=fold))
        records.append(Fold(f"fold {fold + 1}", len(fitted_on), len(test), round(seconds, 2)))
    return OutOfFold(pd.concat(frames, ignore_index=True), np.vstack(raws), records)
