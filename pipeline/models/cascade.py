"""`cascade`: a fast model scores every paragraph; the ones it is unsure of go to a slow one.

With `fast: static_logreg` and `slow: hybrid_logreg`, most paragraphs (plainly
off-topic ones above all) never reach MiniLM, and the ones near a decision
boundary get the better model. A paragraph escalates when the fast model's
highest probability is under `threshold`. Both parts are fitted on the same
training texts; the cascade as a whole is evaluated and calibrated (out of fold)
like any other model, so its grouped-CV metrics are the cascade's own.

`escalated_` and `scored_` count paragraphs since loading, fitting or
`reset_counts()`, so a caller can report the share that went to the slow model
(`stance score` logs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from pipeline.models.base import Context, StanceClassifier
from pipeline.models.registry import model_class

_PARTS = ("fast", "slow")


class CascadeClassifier(StanceClassifier):
    """Fast model first, slow model for paragraphs whose top fast probability < `threshold`.

    Settings: `fast`, `slow` (model names), `threshold`, and `fast_settings`,
    `slow_settings` (each part's own constructor settings).
    """

    name = "cascade"

    def _part(self, part: str) -> StanceClassifier:
        return model_class(self.settings[part])(
            labels=self.labels,
            seed=self.seed,
            encoding=self.encoding,
            **self.settings[f"{part}_settings"],
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        return self.fit_in_context(texts, labels, None)

    def fit_in_context(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None
    ) -> Self:
        self._check_fit_input(texts, labels)
        self.fast_ = self._part("fast").fit_in_context(texts, labels, contexts)
        self.slow_ = self._part("slow").fit_in_context(texts, labels, contexts)
        self.reset_counts()
        return self

    def escalate(self, probabilities: np.ndarray) -> np.ndarray:
        """Which rows of the fast model's probabilities go to the slow model."""
        return probabilities.max(axis=1) < self.settings["threshold"]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_in_context(texts, None)

    def predict_proba_in_context(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        probabilities = self.fast_.predict_proba_in_context(texts, contexts)
        unsure = np.flatnonzero(self.escalate(probabilities)) if len(texts) else []
        if len(unsure):
            probabilities[unsure] = self.slow_.predict_proba_in_context(
                [texts[i] for i in unsure],
                None if contexts is None else [contexts[i] for i in unsure],
            )
        self.escalated_ += len(unsure)
        self.scored_ += len(texts)
        return probabilities

    def reset_counts(self) -> None:
        """Start counting scored and escalated paragraphs from zero."""
        self.escalated_ = self.scored_ = 0

    def run_summary(self) -> str | None:
        """How many paragraphs the slow model scored since loading (the price of the run)."""
        if not self.scored_:
            return None
        return (
            f"cascade: {self.escalated_} of {self.scored_} paragraphs "
            f"({100 * self.escalated_ / self.scored_:.1f}%) were under the threshold "
            f"{self.settings['threshold']:.2f} and went to {self.settings['slow']}"
        )

    def saved_settings(self) -> dict[str, Any]:
        return {
            **self.settings,
            "fast_settings": self.fast_.saved_settings(),
            "slow_settings": self.slow_.saved_settings(),
        }

    def save(self, folder: Path) -> None:
        for part in _PARTS:
            (folder / part).mkdir()
            getattr(self, f"{part}_").save(folder / part)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        for part in _PARTS:
            loaded = model_class(settings[part]).load(
                folder / part,
                labels=labels,
                seed=seed,
                encoding=model.encoding,
                **settings[f"{part}_settings"],
            )
            setattr(model, f"{part}_", loaded)
        model.reset_counts()
        return model
