"""Leave-one-source-out cross-validation and cross-fitted calibration (the pure core)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.encoders.static_encoder import WEIGHTS_FILE as STATIC_WEIGHTS
from pipeline.errors import InputDataError
from pipeline.models.base import StanceClassifier
from pipeline.models.calibration import apply_temperature, fit_temperature
from pipeline.models.factory import model_settings
from pipeline.text import sha256_hex
from pipeline.train.data import fit_rows, gold_rows, predict_rows, training_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fold:
    """One held-out source: how many rows trained and tested, and how long fitting took."""

    source: str
    n_train: int
    n_test: int
    seconds: float


@dataclass
class OutOfFold:
    """Predictions for every gold paragraph from a model that never saw its source."""

    frame: pd.DataFrame  # paragraph_id, source, gold
    raw: np.ndarray  # uncalibrated probabilities, columns in label order
    folds: list[Fold]


def _portable(settings: dict) -> dict:
    """Settings with file paths replaced by what matters about them: content or name."""
    portable = dict(settings)
    if portable.get("rules_path"):
        portable["rules_path"] = sha256_hex(
            Path(portable["rules_path"]).read_text(encoding="utf-8")
        )
    if portable.get("encoder_path"):
        portable["encoder_path"] = Path(portable["encoder_path"]).name
    if portable.get("static_path"):  # the distilled table: its weights decide
        folder = Path(portable["static_path"])
        weights = folder / STATIC_WEIGHTS
        portable["static_path"] = (
            hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else folder.name
        )
    for key, value in list(portable.items()):  # a cascade's parts, an ensemble's members
        if isinstance(value, dict):
            portable[key] = _portable(value)
    return portable


def model_id(params: Params) -> str:
    """A short id of the model and everything that shapes its training (machine-independent)."""
    spec = {
        "model": params.train.model,
        "settings": _portable(model_settings(params)),
        "seed": params.train.seed,
        "data": params.train.model_dump(
            include={"use_synthetic", "use_press", "use_weak", "min_weak_confidence"}
        ),
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    return f"{params.train.model}-{digest}"


def leave_one_source_out(
    labels: pd.DataFrame,
    params: Params,
    build: Callable[[], StanceClassifier],
    *,
    train_gold_ids: Collection[str] | None = None,
) -> OutOfFold:
    """Train without each gold source in turn and predict that source's gold paragraphs.

    `train_gold_ids`, when given, limits which gold paragraphs may train (the
    learning curve's subsets); every fold still tests all gold of its held-out
    source, so results for different subsets stay comparable.
    """
    gold = gold_rows(labels)
    sources = sorted(gold["source"].unique())
    if len(sources) < 2:
        raise InputDataError(
            "grouped evaluation needs gold paragraphs from at least two sources; "
            f"found {len(sources)}"
        )
    frames, raws, folds = [], [], []
    for number, source in enumerate(sources, start=1):
        train = training_rows(labels, params.train, held_out_source=source)
        if train_gold_ids is not None:
            allowed = train["paragraph_id"].isin(list(train_gold_ids))
            train = train[(train["provenance"] != "gold") | allowed]
        test = gold[gold["source"] == source]
        log.info(
            "evaluate: fold %d/%d, holding out %s (%d train, %d test)",
            number,
            len(sources),
            source,
            len(train),
            len(test),
        )
        started = time.perf_counter()
        model = fit_rows(build(), train)
        seconds = time.perf_counter() - started
        raws.append(predict_rows(model, test))
        frames.append(test[["paragraph_id", "source", "label"]].rename(columns={"label": "gold"}))
        folds.append(Fold(source, len(train), len(test), round(seconds, 2)))
    return OutOfFold(pd.concat(frames, ignore_index=True), np.vstack(raws), folds)


def cross_fitted_temperatures(
    raw: np.ndarray, targets: np.ndarray, sources: np.ndarray
) -> dict[str, float]:
    """For each source, the temperature fitted on the other sources' out-of-fold rows,
    so no paragraph's calibration has seen its own label."""
    return {
        source: fit_temperature(raw[sources != source], targets[sources != source])
        for source in sorted(set(sources))
    }


@dataclass(frozen=True)
class Calibration:
    """What calibration did to the out-of-fold predictions, and why."""

    method: str
    applied: bool
    temperatures: dict[str, float]
    nll_uncalibrated: float
    nll_temperature: float
    fitted_on: str = "gold"  # which out-of-fold predictions: "gold" or "press"
    rows: int = 0  # how many of them
    temperature: float = 1.0  # the deployed model's (1 when not applied)

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "applied": self.applied,
            "fitted_on": self.fitted_on,
            "rows": self.rows,
            "temperature": self.temperature,
            "nll_uncalibrated": self.nll_uncalibrated,
            "nll_temperature": self.nll_temperature,
            "temperatures": self.temperatures,
        }


def mean_log_loss(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Negative log-likelihood of the true labels, averaged (a proper scoring rule)."""
    picked = probabilities[np.arange(len(targets)), targets]
    return round(float(-np.log(np.clip(picked, 1e-12, 1.0)).mean()), 4)


def calibrate_out_of_fold(
    raw: np.ndarray, targets: np.ndarray, sources: np.ndarray, method: str
) -> tuple[np.ndarray, Calibration]:
    """Calibrated out-of-fold probabilities and a record of the calibration.

    `temperature` always applies cross-fitted temperatures; `none` never does;
    `auto` applies them only if they lower the out-of-fold log loss, because a
    temperature learnt on some outlets can make another outlet's probabilities
    worse, and the grouped evaluation is the judge of that.
    """
    temperatures = cross_fitted_temperatures(raw, targets, sources)
    scaled = raw.copy()
    for source, temperature in temperatures.items():
        rows = sources == source
        scaled[rows] = apply_temperature(raw[rows], temperature)
    before, after = mean_log_loss(raw, targets), mean_log_loss(scaled, targets)
    applied = method == "temperature" or (method == "auto" and after < before)
    record = Calibration(method, applied, temperatures, before, after)
    return (scaled if applied else raw.copy()), record
