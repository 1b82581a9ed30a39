"""`tfidf_logreg`: TF-IDF of word n-grams + logistic regression (the baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline.models.base import StanceClassifier
from pipeline.models.safe_io import dump_estimator, load_estimator

_FILE = "pipeline.skops"


class TfidfLogreg(StanceClassifier):
    """A scikit-learn `Pipeline`: sublinear TF-IDF, then balanced logistic regression.

    Bag-of-words reads the whole paragraph, so long paragraphs need no chunking.
    """

    name = "tfidf_logreg"

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            [
                (
                    "tfidf",
                    TfidfVectorizer(
                        ngram_range=(1, self.setting("ngram_max")),
                        min_df=self.setting("min_df"),
                        sublinear_tf=True,
                        strip_accents="unicode",
                    ),
                ),
                (
                    "logreg",
                    LogisticRegression(
                        C=self.setting("C"),
                        class_weight="balanced",
                        max_iter=2000,
                        random_state=self.seed,
                    ),
                ),
            ]
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        self.pipeline_ = self._pipeline().fit(list(texts), targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.labels)))
        if len(texts):
            probabilities[:, self.pipeline_.classes_] = self.pipeline_.predict_proba(list(texts))
        return probabilities

    def save(self, folder: Path) -> None:
        dump_estimator(self.pipeline_, folder / _FILE)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        model.pipeline_ = load_estimator(folder / _FILE)
        return model
