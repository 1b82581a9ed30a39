"""The I/O shell of the `train` stage.

Fits `train.model` on every training row of `paths.labels`, takes the temperature
`evaluate` fitted out of fold (`paths.eval_metrics`), and saves
`models/<name>/` with its card (grouped-CV metrics from `paths.eval_metrics`).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from pipeline import __version__
from pipeline.artifacts import model_folder
from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.evaluate.loso import model_id
from pipeline.evaluate.stage import read_labels
from pipeline.io import display_path
from pipeline.label.dataset import load_dataset
from pipeline.models.calibration import BOUNDS
from pipeline.models.factory import build_model
from pipeline.models.persist import save_model
from pipeline.train.card import git_provenance, library_versions, render_card
from pipeline.train.data import data_fingerprint, fit_rows, training_rows_from_dataset

log = logging.getLogger(__name__)


def _read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise InputDataError(f"{display_path(path)}: not found; run `stance evaluate` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputDataError(f"{display_path(path)}: damaged {what} ({error})") from None


def out_of_fold_temperature(params: Params, identifier: str, evaluation: dict) -> float:
    """The temperature `evaluate` fitted out of fold for this very model configuration
    (1 when it applied no calibration; see `evaluate.calibration` and `calibration_data`)."""
    calibration = evaluation.get("calibration")
    temperature = calibration.get("temperature") if isinstance(calibration, dict) else None
    low, high = BOUNDS
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not low <= temperature <= high
    ):
        raise InputDataError(
            f"{display_path(params.paths.eval_metrics)}: calibration.temperature should be a "
            f"number in [{low}, {high}], not {temperature!r}; run `stance evaluate` ({identifier})"
        )
    return float(temperature)


def out_of_fold_with_text(params: Params, labels: pd.DataFrame) -> pd.DataFrame:
    """The out-of-fold predictions with each gold paragraph's text, as the model folder
    keeps them: enough for `stance compare` to pair two versions without the corpus."""
    if not params.paths.oof.is_file():
        raise InputDataError(
            f"{display_path(params.paths.oof)}: not found; run `stance evaluate` first"
        )
    oof = pd.read_parquet(params.paths.oof)
    text = labels.drop_duplicates("paragraph_id").set_index("paragraph_id")["text"]
    missing = set(oof["paragraph_id"]) - set(text.index)
    if missing:
        raise InputDataError(
            f"{display_path(params.paths.oof)}: {len(missing)} paragraphs are not in "
            f"{display_path(params.paths.labels)}; run `dvc repro` to bring them up to date"
        )
    frame = oof.copy()
    frame.insert(frame.columns.get_loc("gold"), "text", text.loc[frame["paragraph_id"]].to_numpy())
    return frame.reset_index(drop=True)


def run_train(params: Params) -> Path:
    """Run the stage end to end; the CLI and `dvc.yaml` call this."""
    labels = read_labels(params.paths.labels)
    identifier = model_id(params)
    evaluation = _read_json(params.paths.eval_metrics, "evaluation metrics")
    if evaluation.get("model_id") != identifier:
        raise InputDataError(
            f"{display_path(params.paths.eval_metrics)}: metrics are for "
            f"{evaluation.get('model_id')}, not {identifier}; run `stance evaluate` first"
        )
    temperature = out_of_fold_temperature(params, identifier, evaluation)
    # The deployed model learns from the label stage's dataset (`paths.dataset`); the
    # same rows in the same order as `training_rows(labels, ...)` (tests/label/test_dataset.py).
    dataset = load_dataset(params.paths.dataset, params.labels)
    rows = training_rows_from_dataset(dataset, params.train)
    log.info("train: fitting %s on %d rows", identifier, len(rows))
    started = time.perf_counter()
    classifier = fit_rows(build_model(params), rows)
    seconds = round(time.perf_counter() - started, 1)
    card = {
        "model": params.train.model,
        "model_id": identifier,
        "stance_version": __version__,
        "proposition": params.proposition.model_dump(include={"id", "text"}),
        "labels": list(params.labels),
        "settings": classifier.saved_settings(),
        "seed": params.train.seed,
        "training": {
            "rows": len(rows),
            "by_provenance": rows["provenance"].value_counts().sort_index().to_dict(),
            "by_label": {label: int((rows["label"] == label).sum()) for label in params.labels},
            "data_sha256": data_fingerprint(rows),
            "options": params.train.model_dump(
                include={"use_synthetic", "use_press", "use_weak", "min_weak_confidence"}
            ),
        },
        "temperature": temperature,
        "grouped_cv": evaluation,
        "libraries": library_versions(),
        "git": git_provenance(Path(__file__).resolve().parents[2]),
    }
    folder = model_folder(params)
    save_model(
        classifier,
        folder,
        temperature=temperature,
        card=card,
        readme=render_card(card),
        out_of_fold=out_of_fold_with_text(params, labels),
    )
    log.info("train: %s saved to %s (%.1f s)", identifier, display_path(folder), seconds)
    return folder
