"""`hybrid_logreg`: sentence embeddings, word n-grams and the labelers' knowledge, in one
logistic regression.

A classifier trained on a few outlets learns their topics, not stance. The
frozen MiniLM embedding carries topic and paraphrase; a TF-IDF block of word
1-2-grams (L2-normalised like the embedding, weighted by `lexical_weight`)
carries the function words that often decide the side and that a mean-pooled
embedding blurs ("if", "no longer", "fragile", "unlikely to"). Two signals from
the annotation guidelines travel better to unseen outlets, so they are added
too:

- **actor mentions**: how many of `proposition.actors` groups the paragraph
  names (none, some, all). A paragraph that does not name both actors rarely
  takes a side on their relationship (guidelines rules 6 and 10);
- **rule votes**: the rules labeler's vote and score, one column per label.

The hand features are multiplied by `feature_scale` so that the regulariser does
not drown them among 384 embedding dimensions. After prediction, an **actor
gate** moves `gate_strength` of the probability mass to the no-stance label for
paragraphs naming fewer than `min_actor_groups` groups. Temperature scaling
(fitted out of fold) then calibrates the result.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from pipeline.encoders.factory import EMBEDDINGS
from pipeline.lexicon.entities import EntityMatcher
from pipeline.lexicon.rules import RuleSet, load_rules
from pipeline.models.base import StanceClassifier
from pipeline.models.safe_io import dump_estimator, load_estimator

_FILE = "logreg.skops"
_LEXICAL = "tfidf.skops"
_RULES = "rules.yaml"


class HybridLogreg(StanceClassifier):
    """Logistic regression on [embedding, TF-IDF, actor-group one-hot, rule votes], then the gate.

    Settings: `C`, `feature_scale`, `gate_strength`, `min_actor_groups`,
    `lexical_weight`, `lexical_min_df`, `actors` (groups of names, from params),
    `rules_path` (the rules file; copied into the saved model) and `encoder_path`.
    """

    name = "hybrid_logreg"

    def _tools(self) -> tuple[EntityMatcher, RuleSet]:
        if not hasattr(self, "_matcher"):
            actors = self.settings.get("actors") or {}
            self._matcher = EntityMatcher(actors)
            self._rules = RuleSet(
                *load_rules(Path(self.settings["rules_path"]), self.labels, actors)
            )
        return self._matcher, self._rules

    def _actor_groups(self, texts: Sequence[str]) -> np.ndarray:
        matcher, _ = self._tools()
        return np.asarray([len(matcher.mentioned(text)) for text in texts])

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length paragraph vectors (here: the frozen MiniLM, pooled over windows)."""
        cache = EMBEDDINGS.get(self.settings.get("encoder_path"), self.encoding_options)
        return cache.embed(list(texts))

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        _, rules = self._tools()
        embedding = self._embed(texts)
        groups = len(self.settings.get("actors") or {})
        counts = self._actor_groups(texts)
        mentions = np.zeros((len(texts), 3))
        mentions[
            np.arange(len(texts)), np.where(counts == 0, 0, np.where(counts < groups, 1, 2))
        ] = 1
        votes = np.zeros((len(texts), len(self.labels)))
        for row, text in enumerate(texts):
            vote = rules.vote_text(text)
            if vote.label is not None:
                votes[row, self.labels.index(vote.label)] = vote.score
        scale = self.setting("feature_scale")
        blocks = [sparse.csr_matrix(np.hstack([embedding, mentions * scale, votes * scale]))]
        if self.lexical_ is not None:
            weight = self.setting("lexical_weight")
            blocks.append(self.lexical_.transform(texts) * weight)
        return sparse.hstack(blocks, format="csr")

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Self:
        targets = self._check_fit_input(texts, labels)
        self.lexical_ = None
        if self.setting("lexical_weight") > 0:
            self.lexical_ = TfidfVectorizer(
                ngram_range=(1, 2),
                min_df=self.setting("lexical_min_df"),
                sublinear_tf=True,
                dtype=np.float64,
            ).fit(texts)
        self.logreg_ = LogisticRegression(
            C=self.setting("C"),
            class_weight="balanced",
            max_iter=3000,
            random_state=self.seed,
        ).fit(self._features(texts), targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probabilities = np.zeros((len(texts), len(self.labels)))
        if not len(texts):
            return probabilities
        probabilities[:, self.logreg_.classes_] = self.logreg_.predict_proba(self._features(texts))
        needed = min(self.setting("min_actor_groups"), len(self.settings.get("actors") or {}))
        gated = self._actor_groups(texts) < needed
        strength = self.setting("gate_strength")
        neutral = np.zeros(len(self.labels))
        neutral[-1] = 1.0  # the no-stance label is last in `labels`
        probabilities[gated] = (1 - strength) * probabilities[gated] + strength * neutral
        return probabilities

    def saved_settings(self) -> dict[str, Any]:
        return {**self.settings, "rules_path": _RULES}  # the copy saved beside the weights

    def save(self, folder: Path) -> None:
        dump_estimator(self.logreg_, folder / _FILE)
        if self.lexical_ is not None:
            dump_estimator(self.lexical_, folder / _LEXICAL)
        shutil.copyfile(self.settings["rules_path"], folder / _RULES)

    @classmethod
    def load(cls, folder: Path, *, labels: Sequence[str], seed: int, **settings: Any) -> Self:
        model = cls(labels=labels, seed=seed, **{**settings, "rules_path": str(folder / _RULES)})
        model.logreg_ = load_estimator(folder / _FILE)
        lexical = folder / _LEXICAL
        model.lexical_ = load_estimator(lexical) if lexical.is_file() else None
        return model
