"""`embed_logreg`: frozen MiniLM sentence embeddings + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.encoders.factory import EMBEDDINGS
from pipeline.models.base import StanceClassifier
from pipeline.models.safe_io import dump_estimator, load_estimator

_FILE = "logreg.skops"


class EmbedLogreg(StanceClassifier):
    """Logistic regression on pooled sentence embeddings of the (frozen) encoder.

    Settings: `C`, and `encoder_path` (None: the bundled all-MiniLM-L6-v2).
    """

    name = "embed_logreg"

    def _features(self, texts: Sequence[str]) -> np.ndarray:
        cache = EMBEDDINGS.get(self.settings.get("encoder_path"), self.encoding_options)
        return cache.embed(list(texts))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        self.logreg_ = LogisticRegression(
            C=self.setting("C"),
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
