"""`embed_logreg`: frozen MiniLM sentence embeddings + logistic regression."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.encoder import EncodingOptions, SentenceModel, encoding_options, make_encoder
from pipeline.models.base import StanceClassifier
from pipeline.models.chunking import TokenCounter, chunk_texts, pool
from pipeline.models.safe_io import dump_estimator, load_estimator

_FILE = "logreg.skops"


class EmbeddingCache:
    """Pooled paragraph embeddings by text, so cross-validation folds encode each text once.

    At most `max_texts` are kept in memory (least recently used dropped first), so
    scoring a large corpus in a stream does not grow; the encoder may keep more
    on disk (`CachedEncoder`).
    """

    def __init__(self, encoder: SentenceModel, max_texts: int = 20_000) -> None:
        self.encoder = encoder
        self.max_texts = max_texts
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Length-weighted mean of sentence-window embeddings per text, re-normalised."""
        known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            count = TokenCounter(self.encoder.tokenizer())
            count.prime(missing)  # most paragraphs fit in one window: one call counts them all
            limit = self.encoder.max_seq_length - 2  # room for [CLS] and [SEP]
            windows, owners, weights = chunk_texts(missing, count, limit)
            pooled = pool(self.encoder.encode(windows), owners, weights, len(missing))
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            known.update(zip(missing, pooled.astype(np.float32), strict=True))
        for text in known:
            self._vectors[text] = known[text]
            self._vectors.move_to_end(text)
        while len(self._vectors) > self.max_texts:
            self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]) if len(texts) else np.zeros((0, 0))


_CACHES: dict[tuple[str, EncodingOptions], EmbeddingCache] = {}


def shared_cache(encoder_path: str | None) -> EmbeddingCache:
    """One cache per encoder and encoding options per process (safe to drop)."""
    key = (encoder_path or "bundled", encoding_options())
    if key not in _CACHES:
        _CACHES[key] = EmbeddingCache(make_encoder(Path(encoder_path) if encoder_path else None))
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
