"""`ensemble`: the weighted mean of several models' probabilities.

Models that err differently make a better average than either alone: with
`members: [hybrid_logreg, tfidf_logreg]`, the embedding model's sense of topic and
paraphrase and the word n-grams' function words ("unlikely to", "no longer") vote
together (measured on the development set: benchmarks/results/dev_variants.json).
Every member is fitted on the same training texts; the ensemble as a whole is
evaluated and calibrated out of fold like any other model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from pipeline.models.base import Context, StanceClassifier
from pipeline.models.registry import model_class


class EnsembleClassifier(StanceClassifier):
    """The `weights`-weighted mean of the members' probabilities.

    Settings: `members` (model names, each once), `weights` (one per member, or empty
    for equal weights) and `member_settings` (each member's own constructor settings).
    """

    name = "ensemble"

    def _weights(self) -> np.ndarray:
        members = self.settings["members"]
        weights = np.asarray(self.settings.get("weights") or [1.0] * len(members), dtype=float)
        return weights / weights.sum()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        return self.fit_in_context(texts, labels, None)

    def fit_in_context(
        self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[Context] | None
    ) -> Self:
        self._check_fit_input(texts, labels)
        self.members_ = [
            model_class(name)(
                labels=self.labels,
                seed=self.seed,
                encoding=self.encoding,
                **self.settings["member_settings"][name],
            ).fit_in_context(texts, labels, contexts)
            for name in self.settings["members"]
        ]
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_in_context(texts, None)

    def predict_proba_in_context(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.labels)))
        if not len(texts):
            return probabilities
        for weight, member in zip(self._weights(), self.members_, strict=True):
            probabilities += weight * member.predict_proba_in_context(texts, contexts)
        return probabilities

    def saved_settings(self) -> dict[str, Any]:
        saved = {member.name: member.saved_settings() for member in self.members_}
        return {**self.settings, "member_settings": saved}

    def save(self, folder: Path) -> None:
        for member in self.members_:
            (folder / member.name).mkdir()
            member.save(folder / member.name)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **settings)
        model.members_ = [
            model_class(name).load(
                folder / name,
                labels=labels,
                seed=seed,
                encoding=model.encoding,
                **settings["member_settings"][name],
            )
            for name in settings["members"]
        ]
        return model
