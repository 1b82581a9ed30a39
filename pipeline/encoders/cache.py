"""The two caches in front of an encoder: vectors on disk, pooled paragraph vectors in memory.

`CachedEncoder` looks texts up in the `EmbeddingStore` (`pipeline.encoders.store`)
under a hash of the text and the encoder's `model_id` (its weights and inference
path), so re-encoding an unchanged paragraph costs a lookup. `EmbeddingCache`
keeps the window-pooled vector of each paragraph in memory, so the folds of a
cross-validation encode each paragraph once. Neither changes a vector.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from pipeline.encoders.base import SentenceModel
from pipeline.encoders.store import EmbeddingStore
from pipeline.models.chunking import TokenCounter, chunk_texts, pool


class CachedEncoder:
    """An encoder whose vectors are looked up on disk first and stored when computed.

    Only texts the store lacks reach the encoder (each distinct text once); the
    vectors are exactly the encoder's, so results do not depend on the cache.
    """

    def __init__(self, encoder: SentenceModel, store: EmbeddingStore) -> None:
        self.encoder = encoder
        self.store = store

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def max_seq_length(self) -> int:
        return self.encoder.max_seq_length

    def tokenizer(self):
        return self.encoder.tokenizer()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.encoder.encode(texts)
        found, stored = self.store.lookup(self.model_id, texts)
        if found.all():
            return stored
        missing = list(dict.fromkeys(t for t, hit in zip(texts, found, strict=True) if not hit))
        fresh = self.encoder.encode(missing)
        self.store.store(self.model_id, missing, fresh)
        by_text = dict(zip(missing, fresh, strict=True))
        result = np.empty((len(texts), fresh.shape[1]), dtype=np.float32)
        for row, (text, hit) in enumerate(zip(texts, found, strict=True)):
            result[row] = stored[row] if hit else by_text[text]
        return result


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
