"""The interface every stance classifier follows, in the scikit-learn spirit.

`__init__` only stores its keyword arguments; `fit(texts, labels)` learns and
returns self; `predict_proba(texts)` returns an (n, k) array whose columns follow
`classes_`; `save(folder)` writes weights in safe formats (skops, safetensors)
and `load(folder)` reads them back. A new model is one subclass in one module
plus an entry in `pipeline.models.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np


class StanceClassifier(ABC):
    """A paragraph classifier over a fixed, ordered label set."""

    name: ClassVar[str]

    def __init__(self, *, labels: Sequence[str], seed: int = 0, **settings: Any) -> None:
        self.labels = tuple(labels)
        self.seed = seed
        self.settings = dict(settings)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as given (what a card records)."""
        return {"labels": list(self.labels), "seed": self.seed, **self.settings}

    def saved_settings(self) -> dict[str, Any]:
        """Settings as `model.json` records them: machine-independent, so the same model
        saved on two machines gives the same files. Override when a setting names a file
        the model copies into its folder."""
        return dict(self.settings)

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.labels)

    def _check_fit_input(self, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if not len(texts):
            raise ValueError("no training examples")
        unknown = sorted(set(labels) - set(self.labels))
        if unknown:
            raise ValueError(f"unknown label {unknown[0]!r}; expected one of {self.labels}")
        return np.asarray([self.labels.index(label) for label in labels])

    @abstractmethod
    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        """Learn from paragraph texts and their labels (names from `labels`)."""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (len(texts), len(labels)), columns in `classes_` order."""

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the fitted state into `folder` (safe formats only)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        """Rebuild a fitted classifier from `folder` and its constructor arguments."""
