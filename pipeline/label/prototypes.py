"""The `prototypes` labeler: zero-shot stance by similarity to statements of each side.

Each sentence of a paragraph is compared (cosine similarity of sentence
embeddings) with the statements listed under `proposition.statements`; a
label's similarity is its best sentence-statement pair. A paragraph must name
the proposition's actors before it can get a stance from this labeler.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.config import PrototypeSettings
from pipeline.encoders.base import TextEncoder
from pipeline.label.base import Labeler
from pipeline.lexicon.entities import EntityMatcher
from pipeline.lexicon.vote import ABSTAIN, Vote
from pipeline.text import split_sentences


class PrototypeLabeler(Labeler):
    """Votes by nearest statement, gated by the actors a paragraph names.

    - names no actor group: votes `neutral_label` with `off_topic_score`;
    - names fewer than `min_actor_groups` groups: abstains;
    - no sentence reaches `min_similarity` to any statement (not about the
      proposition): votes `neutral_label` with `off_topic_score`;
    - the two best labels closer than `margin`: abstains;
    - otherwise votes the most similar label with score
      logistic(gap / temperature), where gap is its lead over the runner-up.

    Sentence embeddings capture topic far better than side: on the synthetic
    examples the relevance test separates stance from no stance well, while the
    side it picks is close to chance (docs/labeling.md has the numbers), which is
    why its weight in params is low.
    """

    name = "prototypes"

    def __init__(
        self,
        encoder: TextEncoder,
        statements: Mapping[str, Sequence[str]],
        actors: Mapping[str, Sequence[str]],
        neutral_label: str,
        settings: PrototypeSettings,
    ) -> None:
        self.encoder = encoder
        self.statements = {label: tuple(s) for label, s in statements.items() if s}
        self.actors = actors
        self.neutral_label = neutral_label
        self.settings = settings
        self._entities = EntityMatcher(actors)
        self._statement_vectors: dict[str, np.ndarray] | None = None

    def _prototypes(self) -> dict[str, np.ndarray]:
        if self._statement_vectors is None:
            self._statement_vectors = {
                label: self.encoder.encode(list(sentences))
                for label, sentences in self.statements.items()
            }
        return self._statement_vectors

    def label_similarity(self, sentence_vectors: np.ndarray) -> dict[str, float]:
        """Best cosine similarity of any sentence to any statement, per label."""
        return {
            label: float((sentence_vectors @ vectors.T).max())
            for label, vectors in self._prototypes().items()
        }

    def _decide(self, similarity: Mapping[str, float]) -> Vote:
        ranked = sorted(similarity.items(), key=lambda item: item[1], reverse=True)
        (best_label, best), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else -1.0)
        gap = best - runner_up
        if best < self.settings.min_similarity:
            return Vote(self.neutral_label, self.settings.off_topic_score)
        if gap < self.settings.margin:
            return ABSTAIN
        score = 1 / (1 + math.exp(-gap / self.settings.temperature))
        return Vote(best_label, round(score, 6))

    def vote(self, paragraphs: pd.DataFrame) -> list[Vote]:
        if not self.statements:
            return [ABSTAIN] * len(paragraphs)
        votes: list[Vote | None] = []
        sentences: list[str] = []
        owners: list[int] = []
        for row, text in enumerate(paragraphs["text"]):
            named = len(self._entities.mentioned(text))
            if named == 0:
                votes.append(Vote(self.neutral_label, self.settings.off_topic_score))
            elif named < min(self.settings.min_actor_groups, len(self.actors)):
                votes.append(ABSTAIN)
            else:
                votes.append(None)
                parts = split_sentences(text) or [text]
                sentences.extend(parts)
                owners.extend([row] * len(parts))
        if sentences:
            vectors = self.encoder.encode(sentences)
            owner_array = np.asarray(owners)
            for row in sorted(set(owners)):
                votes[row] = self._decide(self.label_similarity(vectors[owner_array == row]))
        return [vote if vote is not None else ABSTAIN for vote in votes]
