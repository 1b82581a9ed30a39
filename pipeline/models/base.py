"""The interface every stance classifier follows, in the scikit-learn spirit.

`__init__` only stores its keyword arguments; `fit(texts, labels)` learns and
returns self; `predict_proba(texts)` returns an (n, k) array whose columns follow
`classes_`; `save(folder)` writes weights in safe formats (skops, safetensors)
and `load(folder)` reads them back. `fit_in_context` and `predict_proba_in_context`
also hand over where each paragraph sits (its article's title and section heading, a
`Context`): the pipeline's stages call them, and a model that reads no context (all
but `cross_encoder` with `context: true`) inherits versions that ignore it. A new
model is one subclass in one module, its settings class (`pipeline.models.settings`)
and an entry in `pipeline.models.registry`, or `@register_model` outside the package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from pipeline.encoders.base import EncodingOptions


@dataclass(frozen=True)
class Context:
    """Where a paragraph sits, as the guidelines ask a reader to see it: its article's
    title and its section heading ("" where unknown, as for a written example)."""

    title: str = ""
    section: str = ""

    def parts(self) -> list[str]:
        """The title and the heading that are known, the heading left out when it only
        repeats the title."""
        title, section = self.title.strip(), self.section.strip()
        return [part for part in (title, section if section != title else "") if part]


def frame_contexts(frame: Any) -> list[Context]:
    """The `Context` of each row of a table with optional `title` and `section`
    columns (a pandas DataFrame; missing values and missing columns give "")."""

    def column(name: str) -> list[str]:
        if name not in frame:
            return [""] * len(frame)
        return [value if isinstance(value, str) else "" for value in frame[name]]

    return [
        Context(title, section)
        for title, section in zip(column("title"), column("section"), strict=True)
    ]


class StanceClassifier(ABC):
    """A paragraph classifier over a fixed, ordered label set."""

    name: ClassVar[str]

    def __init__(
        self,
        *,
        labels: Sequence[str],
        seed: int = 0,
        encoding: EncodingOptions | None = None,
        **settings: Any,
    ) -> None:
        self.labels = tuple(labels)
        self.seed = seed
        # How the model's encoders run (backend, disk cache, threads; None: the defaults).
        # Not a setting: neither saved in model.json nor part of the model id.
        self.encoding = encoding
        self.settings = dict(settings)

    @property
    def encoding_options(self) -> EncodingOptions:
        """`encoding`, or the default options when none were given."""
        return self.encoding if self.encoding is not None else EncodingOptions()

    def setting(self, key: str) -> Any:
        """A setting as given to the constructor, else its default in the model's settings
        class (`pipeline.models.registry`): the one place a default is written."""
        if key in self.settings:
            return self.settings[key]
        from pipeline.models.registry import settings_class

        return settings_class(self.name).model_fields[key].default

    def reset_counts(self) -> None:  # noqa: B027 (optional: most models keep no statistics)
        """Start the model's own run statistics (see `run_summary`) from zero; most keep none."""

    def run_summary(self) -> str | None:
        """One line on what scoring has cost since loading or `reset_counts()` (a cascade:
        how many paragraphs went to its slow model), for `stance score` to log; None: nothing."""
        return None

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

    def fit_in_context(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None
    ) -> Self:
        """`fit`, told each paragraph's `Context` (None: unknown). This version ignores it."""
        return self.fit(texts, labels)

    def predict_proba_in_context(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        """`predict_proba`, told each paragraph's `Context`. This version ignores it."""
        return self.predict_proba(texts)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return [self.labels[i] for i in self.predict_proba(texts).argmax(axis=1)]

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the fitted state into `folder` (safe formats only)."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        """Rebuild a fitted classifier from `folder` and its constructor arguments
        (`encoding` among them, passed on to the constructor)."""
