"""The I/O shell of the `evaluate` stage.

Reads `paths.labels` (and `paths.dev` for the rules and genres of its paragraphs);
writes `paths.oof` (out-of-fold predictions for every gold paragraph),
`paths.calibration_oof` (the press examples' out-of-fold predictions the temperature
is fitted on), `paths.dev_predictions` (the development set's predictions by the
model fitted on every training row), `paths.eval_metrics` (the seeds'
leave-one-source-out and a `dev` section), `paths.dev_errors` (the development errors
by rule, genre, region and position) and the plot data under `paths.plots`
(`confusion.csv`, `reliability.csv`, `dev_confusion.csv`) for `dvc plots`.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.config import Params
from pipeline.csvfile import write_csv
from pipeline.evaluate.dev import DevPredictions, dev_metrics, predict_dev
from pipeline.evaluate.errors import error_breakdown
from pipeline.evaluate.loso import (
    Calibration,
    OutOfFold,
    calibrate_out_of_fold,
    leave_one_source_out,
    model_id,
)
from pipeline.evaluate.press_calibration import press_out_of_fold
from pipeline.evaluate.scores import reliability_bins, stance_scores
from pipeline.headline import evaluation_headlines, write_headlines
from pipeline.io import atomic_output, display_path, read_stage_table, write_parquet
from pipeline.label.written import read_written
from pipeline.models.calibration import apply_temperature, fit_temperature
from pipeline.models.factory import build_model

log = logging.getLogger(__name__)

_LABEL_COLUMNS = ("paragraph_id", "source", "text", "label", "confidence", "provenance")


def read_labels(path: Path) -> pd.DataFrame:
    """The label stage's output, checked for the columns training needs."""
    return read_stage_table(path, _LABEL_COLUMNS, made_by="stance label")


def out_of_fold_frame(
    oof: OutOfFold, calibrated: np.ndarray, params: Params, identifier: str
) -> pd.DataFrame:
    """One row per gold paragraph: ids, gold and predicted label, both probability sets."""
    frame = oof.frame.copy()
    frame.insert(2, "model_id", identifier)
    frame["label"] = [params.labels[i] for i in calibrated.argmax(axis=1)]
    for index, label in enumerate(params.labels):
        frame[f"prob_{label}"] = calibrated[:, index]
    for index, label in enumerate(params.labels):
        frame[f"raw_prob_{label}"] = oof.raw[:, index]
    return frame


def evaluation_metrics(
    oof: OutOfFold, calibrated: np.ndarray, calibration: Calibration, params: Params
) -> dict:
    """Everything `metrics/eval.json` holds (no timings: it must be reproducible)."""
    labels = list(params.labels)
    targets = np.asarray([labels.index(g) for g in oof.frame["gold"]])
    sources = oof.frame["source"].to_numpy()
    settings = dict(
        bins=params.evaluate.calibration_bins,
        stance_labels=[params.favor_label, params.against_label],
    )
    overall = stance_scores(calibrated, targets, labels, **settings)
    raw = stance_scores(oof.raw, targets, labels, **settings)
    per_source = {}
    for source in sorted(set(sources)):
        rows = sources == source
        scores = stance_scores(calibrated[rows], targets[rows], labels, **settings)
        per_source[source] = {k: scores[k] for k in ("n", "macro_f1", "accuracy")}
    return {
        "model": params.train.model,
        "model_id": model_id(params),
        "evaluation": "leave-one-source-out over gold paragraphs",
        "folds": len(oof.folds),
        "train_rows_per_fold": {fold.source: fold.n_train for fold in oof.folds},
        **overall,
        "uncalibrated": {k: raw[k] for k in ("brier", "ece")},
        "calibration": calibration.as_dict(),
        "per_source": per_source,
    }


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    buffer = io.StringIO()
    write_csv(buffer, rows, columns)
    with atomic_output(path, "w") as stream:
        stream.write(buffer.getvalue())


def _write_dev_predictions(dev: DevPredictions | None, params: Params, identifier: str) -> None:
    """`paths.dev_predictions`: each development paragraph's calibrated probabilities."""
    if dev is None:
        frame = pd.DataFrame(columns=["paragraph_id", "doc_id", "source", "model_id", "gold"])
    else:
        frame = dev.frame.copy()
        frame.insert(3, "model_id", identifier)
        frame["label"] = [params.labels[i] for i in dev.probabilities.argmax(axis=1)]
        for index, label in enumerate(params.labels):
            frame[f"prob_{label}"] = dev.probabilities[:, index]
    write_parquet(pa.Table.from_pandas(frame, preserve_index=False), params.paths.dev_predictions)


def _targets(frame: pd.DataFrame, params: Params) -> np.ndarray:
    """Each row's gold label as its column index."""
    labels = list(params.labels)
    return np.asarray([labels.index(gold) for gold in frame["gold"]])


def _calibrate(
    oof: OutOfFold, press: OutOfFold | None, params: Params
) -> tuple[np.ndarray, Calibration]:
    """The seeds' calibrated out-of-fold probabilities and the deployed temperature.

    With press out-of-fold predictions the temperature is fitted on them alone and
    applied to the seeds as it is (it never saw a seed); without, it is cross-fitted
    on the seeds by source (see `calibrate_out_of_fold`)."""
    method = params.evaluate.calibration
    if press is not None:
        targets = _targets(press.frame, params)
        folds = np.asarray([f"fold {number + 1}" for number in press.frame["fold"]])
        _, record = calibrate_out_of_fold(press.raw, targets, folds, method)
        temperature = fit_temperature(press.raw, targets) if record.applied else 1.0
        record = replace(record, fitted_on="press", rows=len(targets), temperature=temperature)
        return apply_temperature(oof.raw, temperature), record
    targets = _targets(oof.frame, params)
    calibrated, record = calibrate_out_of_fold(
        oof.raw, targets, oof.frame["source"].to_numpy(), method
    )
    temperature = fit_temperature(oof.raw, targets) if record.applied else 1.0
    return calibrated, replace(record, fitted_on="gold", rows=len(targets), temperature=temperature)


def _write_press_predictions(press: OutOfFold | None, params: Params, identifier: str) -> None:
    """`paths.calibration_oof`: the press examples' uncalibrated out-of-fold probabilities."""
    columns = ["paragraph_id", "source", "fold", "model_id", "gold"]
    if press is None:
        frame = pd.DataFrame(columns=columns)
    else:
        frame = press.frame.copy()
        frame.insert(3, "model_id", identifier)
        frame = frame[columns]
        for index, label in enumerate(params.labels):
            frame[f"raw_prob_{label}"] = press.raw[:, index]
    write_parquet(pa.Table.from_pandas(frame, preserve_index=False), params.paths.calibration_oof)


def _write_dev_errors(dev: DevPredictions | None, params: Params) -> None:
    """`paths.dev_errors`: where the development set's errors fall (see `errors.py`)."""
    breakdown = {}
    if dev is not None:
        frame = dev.frame.assign(
            label=[params.labels[index] for index in dev.probabilities.argmax(axis=1)]
        )
        breakdown = error_breakdown(frame, read_written(params.paths.dev, params.labels))
    with atomic_output(params.paths.dev_errors, "w") as stream:
        json.dump(breakdown, stream, indent=2)
        stream.write("\n")


def run_evaluate(params: Params) -> dict:
    """Run the stage end to end; the CLI and `dvc.yaml` call this."""
    labels = read_labels(params.paths.labels)
    oof = leave_one_source_out(labels, params, lambda: build_model(params))
    targets = _targets(oof.frame, params)
    press = None
    if params.evaluate.calibration_data == "press":
        press = press_out_of_fold(labels, params, lambda: build_model(params))
        if press is None:
            log.warning(
                "evaluate: press examples from fewer than %d outlets (evaluate.calibration_folds)"
                "; the temperature is fitted on the gold paragraphs instead",
                params.evaluate.calibration_folds,
            )
    calibrated, calibration = _calibrate(oof, press, params)
    identifier = model_id(params)
    frame = out_of_fold_frame(oof, calibrated, params, identifier)
    write_parquet(pa.Table.from_pandas(frame, preserve_index=False), params.paths.oof)
    _write_press_predictions(press, params, identifier)
    metrics = evaluation_metrics(oof, calibrated, calibration, params)
    dev = predict_dev(labels, params, lambda: build_model(params), calibration.temperature)
    metrics["dev"] = dev_metrics(dev, params) if dev is not None else None
    _write_dev_predictions(dev, params, identifier)
    _write_dev_errors(dev, params)
    with atomic_output(params.paths.eval_metrics, "w") as stream:
        json.dump(metrics, stream, indent=2)
        stream.write("\n")
    write_headlines(params.paths.headline_metrics, evaluation_headlines(metrics, params.labels))
    plots = params.paths.plots
    _write_csv(
        plots / "confusion.csv",
        [{"actual": g, "predicted": p} for g, p in zip(frame["gold"], frame["label"], strict=True)],
        ["actual", "predicted"],
    )
    _write_csv(
        plots / "reliability.csv",
        reliability_bins(calibrated, targets, params.evaluate.calibration_bins),
        ["bin", "confidence", "accuracy", "count"],
    )
    if dev is not None:
        _write_csv(
            plots / "dev_confusion.csv",
            [
                {"actual": gold, "predicted": params.labels[index]}
                for gold, index in zip(
                    dev.frame["gold"], dev.probabilities.argmax(axis=1), strict=True
                )
            ],
            ["actual", "predicted"],
        )
        scores = metrics["dev"]
        log.info(
            "evaluate: %s on the development set (%d paragraphs, %d outlets): macro-F1 %.3f, "
            "F_avg %.3f, ECE %.3f, article sign right %s of %s",
            identifier,
            scores["n"],
            scores["outlets"],
            scores["macro_f1"],
            scores["f_avg"],
            scores["ece"],
            scores["articles"]["sign_right"],
            scores["articles"]["leaning"],
        )
    log.info(
        "evaluate: %s leave-one-source-out over %d gold paragraphs: macro-F1 %.3f, "
        "F_avg %.3f, ECE %.3f -> %s",
        identifier,
        len(frame),
        metrics["macro_f1"],
        metrics["f_avg"],
        metrics["ece"],
        display_path(params.paths.eval_metrics),
    )
    return metrics
