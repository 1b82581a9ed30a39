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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.artifacts import CARD_FILE, MODEL_FILE, OOF_FILE
from pipeline.encoders.base import EncodingOptions, bundled_encoder_path
from pipeline.errors import InputDataError, first_problem
from pipeline.io import atomic_folder, display_path
from pipeline.models.base import Context, StanceClassifier
from pipeline.models.calibration import apply_temperature
from pipeline.models.registry import MODELS, model_class

FORMAT_VERSION = 1


@dataclass
class TrainedModel:
    """A fitted classifier with its calibration and card: what scoring uses."""

    classifier: StanceClassifier
    temperature: float
    card: dict[str, Any]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    def predict_proba(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities, columns in `labels` order (`contexts`: where each
        paragraph sits, for a classifier that reads it)."""
        raw = self.classifier.predict_proba_in_context(texts, contexts)
        return apply_temperature(raw, self.temperature)


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


class ModelSpec(BaseModel):
    """The schema of `model.json`: anything else is a damaged or foreign folder."""

    model_config = ConfigDict(strict=True)

    format_version: int
    model: str
    labels: list[str]
    seed: int
    settings: dict[str, Any]
    temperature: float = Field(gt=0)


def load_model(
    folder: Path,
    *,
    trusted_encoder: Path | None = None,
    encoding: EncodingOptions | None = None,
) -> TrainedModel:
    """Read a model folder written by `save_model`; problems are one line naming it.

    A folder's `settings.encoder_path` is followed only when it is the bundled encoder
    or `trusted_encoder` (the user's own `encoder.path`): a model file never chooses
    which folder's code and weights are loaded. `encoding` is how its encoders run
    (None: the defaults); it is not read from the folder.
    """
    name = display_path(folder)
    spec_path = folder / MODEL_FILE
    if not spec_path.is_file():
        raise InputDataError(f"{name}: not a stance model folder (no {MODEL_FILE})")
    try:
        raw = json.loads(spec_path.read_text(encoding="utf-8"))
        card_path = folder / CARD_FILE
        card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputDataError(f"{name}: damaged model description ({error})") from None
    version = raw.get("format_version") if isinstance(raw, dict) else None
    model = raw.get("model") if isinstance(raw, dict) else None
    if version != FORMAT_VERSION or (isinstance(model, str) and model not in MODELS):
        raise InputDataError(f"{name}: unsupported model format {version!r} or model {model!r}")
    try:
        spec = ModelSpec.model_validate(raw)
    except ValidationError as error:
        raise InputDataError(f"{name}/{MODEL_FILE}: {first_problem(error)}") from None
    if not isinstance(card, dict):
        raise InputDataError(f"{name}/{CARD_FILE}: expected a JSON object")
    for encoder_path in _encoder_paths(spec.settings):
        _check_encoder_path(encoder_path, trusted_encoder, name)
    try:
        classifier = model_class(spec.model).load(
            folder, labels=spec.labels, seed=spec.seed, encoding=encoding, **spec.settings
        )
        temperature = spec.temperature
    except InputDataError:
        raise
    except Exception as error:  # a damaged folder fails in many libraries' ways
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InputDataError(
            f"{name}: damaged model folder ({type(error).__name__}: {first_line[:200]})"
        ) from None
    return TrainedModel(classifier, temperature, card)


def _encoder_paths(settings: dict[str, Any]) -> list[Any]:
    """Every `encoder_path` in the settings, a cascade's parts' included."""
    found = [settings["encoder_path"]] if "encoder_path" in settings else []
    for value in settings.values():
        if isinstance(value, dict):
            found += _encoder_paths(value)
    return found


def _check_encoder_path(encoder_path: Any, trusted: Path | None, name: str) -> None:
    if encoder_path is None:
        return
    if not isinstance(encoder_path, str):
        raise InputDataError(f"{name}/{MODEL_FILE}: settings.encoder_path must be a path")
    chosen = Path(encoder_path).resolve()
    if chosen == bundled_encoder_path().resolve():
        return
    if trusted is not None and chosen == Path(trusted).resolve():
        return
    raise InputDataError(
        f"{name}/{MODEL_FILE}: settings.encoder_path names {encoder_path}, not the bundled "
        "encoder; set encoder.path in params.yaml to that folder to trust it"
    )
