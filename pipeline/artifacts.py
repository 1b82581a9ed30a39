"""Where the pipeline's trained artifacts live and how their cards are read.

A model folder (`models/<name>/`, written by `pipeline.models.persist.save_model`)
holds `model.json`, `card.json` and, for models the pipeline evaluated,
`oof.parquet`. The stages that only need a path or a card (report, score,
compare, annotate, behaviour) import this module, not the training stack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.config import Params
from pipeline.errors import InputDataError, first_problem
from pipeline.io import display_path

MODEL_FILE = "model.json"
CARD_FILE = "card.json"
OOF_FILE = "oof.parquet"


def model_folder(params: Params) -> Path:
    """Where `dvc repro` saves the model chosen by `train.model` (under `paths.models`)."""
    return params.paths.models / params.train.model


class CardFields(BaseModel):
    """What a reader takes from a card, with the types it needs (the rest is kept)."""

    model_config = ConfigDict(extra="allow", strict=True)

    labels: list[str] | None = None
    model: str | None = None
    model_id: str | None = None


def parse_card(data: bytes, *, name: str) -> dict[str, Any]:
    """A model card from its JSON bytes; damage is one line naming it."""
    try:
        card = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputDataError(f"{name}: damaged model card ({error})") from None
    if not isinstance(card, dict):
        raise InputDataError(f"{name}: damaged model card (not a JSON object)")
    try:
        CardFields.model_validate(card)
    except ValidationError as error:
        raise InputDataError(f"{name}: damaged model card ({first_problem(error)})") from None
    return card


def read_card(folder: Path) -> dict[str, Any]:
    """The model card the train stage wrote in `folder`; a missing one says to train."""
    path = folder / CARD_FILE
    if not path.is_file():
        raise InputDataError(f"{display_path(folder)}: no trained model; run `stance train` first")
    return parse_card(path.read_bytes(), name=display_path(path))


def card_sha256(folder: Path) -> str | None:
    """The SHA-256 of a folder's card bytes (which card scored an output), or None."""
    path = folder / CARD_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
