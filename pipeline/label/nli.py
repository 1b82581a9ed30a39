"""The `nli` labeler: zero-shot stance with a natural-language-inference model on disk.

Uses transformers' `zero-shot-classification` pipeline: each hypothesis (from
`label.nli.hypotheses`, placed in `hypothesis_template`) is scored for
entailment against the paragraph, and the softmax over all hypotheses is summed
per label. Off by default: it needs a local NLI checkpoint (e.g. an MNLI model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pipeline.config import NliSettings
from pipeline.encoders.base import use_offline_hub
from pipeline.errors import ConfigError
from pipeline.io import display_path
from pipeline.label.base import Labeler
from pipeline.lexicon.vote import ABSTAIN, Vote


def load_zero_shot_pipeline(model: Path):
    """Load a local NLI checkpoint as a CPU zero-shot pipeline, without network access."""
    if not (model / "config.json").is_file():
        raise ConfigError(
            f"label.nli.model: {display_path(model)} is not a transformers model folder "
            "(no config.json)"
        )
    use_offline_hub()
    from transformers import pipeline

    return pipeline("zero-shot-classification", model=str(model), device=-1)


class NliLabeler(Labeler):
    """Votes the label whose hypotheses take the most entailment mass, if over `min_score`."""

    name = "nli"

    def __init__(
        self, classifier, hypotheses: Mapping[str, Sequence[str]], settings: NliSettings
    ) -> None:
        self.classifier = classifier
        self.hypotheses = {label: tuple(h) for label, h in hypotheses.items() if h}
        self.settings = settings

    @classmethod
    def from_settings(
        cls, settings: NliSettings, hypotheses: Mapping[str, Sequence[str]]
    ) -> NliLabeler:
        if settings.model is None:
            raise ConfigError("label.nli.model: no model path set")
        if not hypotheses:
            raise ConfigError("label.nli.hypotheses: at least one label needs a hypothesis")
        return cls(load_zero_shot_pipeline(settings.model), hypotheses, settings)

    def label_scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Entailment mass per label for each text (sums to 1 over the labels with hypotheses)."""
        owner = {h: label for label, hs in self.hypotheses.items() for h in hs}
        candidates = list(owner)
        results = self.classifier(
            texts,
            candidate_labels=candidates,
            hypothesis_template=self.settings.hypothesis_template,
            multi_label=False,
            batch_size=self.settings.batch_size,
        )
        if isinstance(results, dict):
            results = [results]
        scores = []
        for result in results:
            mass = dict.fromkeys(self.hypotheses, 0.0)
            for hypothesis, score in zip(result["labels"], result["scores"], strict=True):
                mass[owner[hypothesis]] += float(score)
            scores.append(mass)
        return scores

    def vote(self, paragraphs: pd.DataFrame) -> list[Vote]:
        texts = list(paragraphs["text"])
        if not texts:
            return []
        votes = []
        for mass in self.label_scores(texts):
            label = max(mass, key=mass.__getitem__)
            top = mass[label]
            tied = sum(1 for value in mass.values() if abs(value - top) < 1e-6) > 1
            votes.append(
                ABSTAIN if tied or top < self.settings.min_score else Vote(label, round(top, 6))
            )
        return votes
