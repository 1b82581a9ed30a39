"""`embed_logreg`: frozen MiniLM sentence embeddings + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.encoder import SentenceEncoder
from pipeline.models.base import StanceClassifier
from pipeline.models.chunking import chunk_texts, pool
from pipeline.models.safe_io import dump_estimator, load_estimator

_FILE = "logreg.skops"


class EmbeddingCache:
    """Paragraph embeddings by text, so cross-validation folds encode each text once."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Length-weighted mean of sentence-window embeddings per text, re-normalised."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            tokenizer = self.encoder.tokenizer()
            limit = self.encoder.max_seq_length - 2  # room for [CLS] and [SEP]

            def count(text: str) -> int:
                return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

            windows, owners, weights = chunk_texts(missing, count, limit)
            pooled = pool(self.encoder.encode(windows), owners, weights, len(missing))
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            self._vectors.update(zip(missing, pooled.astype(np.float32), strict=True))
        return np.stack([self._vectors[t] for t in texts]) if len(texts) else np.zeros((0, 0))


_CACHES: dict[str, EmbeddingCache] = {}


def shared_cache(encoder_path: str | None, batch_size: int = 32) -> EmbeddingCache:
    """One cache per encoder per process (safe to drop: it only saves recomputation)."""
    key = encoder_path or "bundled"
    if key not in _CACHES:
        path = Path(encoder_path) if encoder_path else None
        _CACHES[key] = EmbeddingCache(SentenceEncoder(path, batch_size=batch_size))
    return _CACHES[key]


class EmbedLogreg(StanceClassifier):
    """Logistic regression on pooled sentence embeddings of the (frozen) encoder.

    Settings: `C`, and `encoder_path` (None: the bundled all-MiniLM-L6-v2).
    """

    name = "embed_logreg"

    def _features(self, texts: Sequence[str]) -> np.ndarray:
        return shared_cache(self.settings.get("encoder_path")).embed(list(texts))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        self.logreg_ = LogisticRegression(
            C=self.settings.get("C", 1.0),
            class_weight="balanced",
            max_iter=2000,
            random_state=self.seed,
        ).fit(self._features(texts), targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.labels)))
        if len(texts):
            probabilities[:, self.logreg_.classes_] = self.logreg_.predict_proba(
                self._features(texts)
            )
        return probabilities

    def save(self, folder: Path) -> None:
        dump_estimator(self.logreg_, folder / _FILE)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        model.logreg_ = load_estimator(folder / _FILE)
        return model
