"""A trained model on disk: a folder with safe weights, `model.json` and a model card.

    models/<name>/
      model.json   what `load_model` needs: model name, settings, labels, seed, temperature
      card.json    the model card (proposition, data hash, grouped-CV metrics, versions, commit)
      README.md    the card rendered for people
      oof.parquet  its out-of-fold predictions of the gold paragraphs, with their text
                   (what `stance compare` compares; absent for hand-made models)
      ...          the classifier's own files (skops, safetensors)

The folder is written beside its destination and renamed into place, so a
failed save never leaves half a model behind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputDataError
from pipeline.io import atomic_folder, display_path
from pipeline.models.base import StanceClassifier
from pipeline.models.calibration import apply_temperature
from pipeline.models.registry import MODELS, model_class

FORMAT_VERSION = 1
MODEL_FILE = "model.json"
CARD_FILE = "card.json"
OOF_FILE = "oof.parquet"


@dataclass
class TrainedModel:
    """A fitted classifier with its calibration and card: what scoring uses."""

    classifier: StanceClassifier
    temperature: float
    card: dict[str, Any]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, columns in `labels` order."""
        return apply_temperature(self.classifier.predict_proba(texts), self.temperature)


def save_model(
    classifier: StanceClassifier,
    folder: Path,
    *,
    temperature: float,
    card: dict[str, Any],
    readme: str,
    out_of_fold: pd.DataFrame | None = None,
) -> None:
    """Write the model folder atomically (a temporary sibling renamed into place).

    `out_of_fold`, when given, is saved as `oof.parquet`: the grouped evaluation's
    predictions that `stance compare` pairs between two versions of a model.
    """
    with atomic_folder(folder) as staging:
        classifier.save(staging)
        spec = {
            "format_version": FORMAT_VERSION,
            "model": classifier.name,
            "labels": list(classifier.labels),
            "seed": classifier.seed,
            "settings": classifier.saved_settings(),
            "temperature": temperature,
        }
        (staging / MODEL_FILE).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        (staging / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(readme, encoding="utf-8")
        if out_of_fold is not None:
            table = pa.Table.from_pandas(out_of_fold, preserve_index=False)
            pq.write_table(table, staging / OOF_FILE, compression="zstd")


def load_model(folder: Path) -> TrainedModel:
    """Read a model folder written by `save_model`; problems are one line naming it."""
    name = display_path(folder)
    spec_path = folder / MODEL_FILE
    if not spec_path.is_file():
        raise InputDataError(f"{name}: not a stance model folder (no {MODEL_FILE})")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        card_path = folder / CARD_FILE
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputDataError(f"{name}: damaged model description ({error})") from None
    if spec.get("format_version") != FORMAT_VERSION or spec.get("model") not in MODELS:
        raise InputDataError(
            f"{name}: unsupported model format {spec.get('format_version')!r} "
            f"or model {spec.get('model')!r}"
        )
    try:
        classifier = model_class(spec["model"]).load(
            folder, labels=spec["labels"], seed=spec["seed"], **spec["settings"]
        )
        temperature = float(spec["temperature"])
    except InputDataError:
        raise
    except Exception as error:  # a damaged folder fails in many libraries' ways
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InputDataError(
            f"{name}: damaged model folder ({type(error).__name__}: {first_line[:200]})"
        ) from None
    return TrainedModel(classifier, temperature, card)
