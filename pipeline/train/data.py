"""Which labelled rows a classifier may learn from (shared by `evaluate` and `train`).

Gold paragraphs always train (except those of a held-out source). Written
examples (`provenance == synthetic`) train when `train.use_synthetic`, those written
from real coverage (`press`) when `train.use_press`; weak labels train when
`train.use_weak` and their confidence reaches `train.min_weak_confidence`, never from
a held-out source. The development set (`dev`) never trains; only gold paragraphs
and the development set are ever used to test.

The same choice reads `labels.parquet` (`training_rows`) or the dataset the label
stage saves (`training_rows_from_dataset`, its `gold` and `train` splits): both give
the same rows in the same order (tests/label/test_dataset.py). `fit_rows` and
`predict_rows` hand a model such rows with each one's context (title, section).
"""

from __future__ import annotations

import hashlib

import datasets
import numpy as np
import pandas as pd

from pipeline.config import TrainParams
from pipeline.label.dataset import rows_frame
from pipeline.models.base import StanceClassifier, frame_contexts


def fit_rows(model: StanceClassifier, rows: pd.DataFrame) -> StanceClassifier:
    """Fit `model` on rows of `labels.parquet` (or the dataset): their texts, labels and
    contexts (the `title` and `section` columns, for a model that reads them)."""
    return model.fit_in_context(list(rows["text"]), list(rows["label"]), frame_contexts(rows))


def predict_rows(model: StanceClassifier, rows: pd.DataFrame) -> np.ndarray:
    """`model`'s probabilities of rows of `labels.parquet`, each with its context."""
    return model.predict_proba_in_context(list(rows["text"]), frame_contexts(rows))


def training_rows(
    labels: pd.DataFrame, settings: TrainParams, *, held_out_source: str | None = None
) -> pd.DataFrame:
    """The rows of `labels.parquet` to train on, optionally without one source."""
    return labels[_trains(labels, settings, held_out_source)]


def training_rows_from_dataset(
    dataset: datasets.DatasetDict, settings: TrainParams, *, held_out_source: str | None = None
) -> pd.DataFrame:
    """`training_rows` read from the label stage's dataset (`pipeline/label/dataset.py`)."""
    rows = rows_frame(dataset, ("gold", "train"))
    return rows[_trains(rows, settings, held_out_source)]


def _trains(labels: pd.DataFrame, settings: TrainParams, held_out_source: str | None) -> pd.Series:
    """Which rows train, as a boolean mask over `labels`."""
    keep = labels["provenance"] == "gold"
    if settings.use_synthetic:
        keep |= labels["provenance"] == "synthetic"
    if settings.use_press:
        keep |= labels["provenance"] == "press"
    if settings.use_weak:
        keep |= (labels["provenance"] == "weak") & (
            labels["confidence"] >= settings.min_weak_confidence
        )
    keep &= labels["label"].notna()
    if held_out_source is not None:
        keep &= labels["source"] != held_out_source
    return keep


def dev_rows(labels: pd.DataFrame) -> pd.DataFrame:
    """The development set: written from real article openings, never trained on."""
    return labels[labels["provenance"] == "dev"]


def gold_rows(labels: pd.DataFrame) -> pd.DataFrame:
    """The rows evaluation may test on."""
    return labels[labels["provenance"] == "gold"]


def data_fingerprint(rows: pd.DataFrame) -> str:
    """SHA-256 over (paragraph_id, label, text) of the rows, in id order."""
    digest = hashlib.sha256()
    for row in rows.sort_values("paragraph_id").itertuples(index=False):
        digest.update(f"{row.paragraph_id}\t{row.label}\t{row.text}\n".encode())
    return digest.hexdigest()
