"""`cross_encoder`: the encoder fine-tuned on (proposition, paragraph) pairs.

The same network, training loop, windowing and pooling as `transformer`, but every
window is read as the second segment of a pair whose first segment is the proposition's
text (`proposition.text` in params), so attention can relate each word of the paragraph
to the claim. The model therefore learns "does this paragraph argue for or against
*this* claim" rather than "which side does this topic usually fall on", and a model
folder records the proposition it was trained for.

Not yet used: the article title and section heading as context (the classifier
interface gives `fit` and `predict_proba` paragraph texts only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pipeline.errors import ConfigError
from pipeline.models.transformer_model import TransformerClassifier


class CrossEncoderClassifier(TransformerClassifier):
    """A fine-tuned pair classifier: [CLS] proposition [SEP] paragraph window [SEP].

    Settings: those of `transformer`, plus `proposition` (the claim's text, from params).
    """

    name = "cross_encoder"

    def _proposition(self) -> str:
        proposition = str(self.settings.get("proposition") or "").strip()
        if not proposition:
            raise ConfigError("proposition.text: the cross-encoder needs the proposition's text")
        return proposition

    def _window_budget(self) -> int:
        """Tokens of paragraph text per window: what [CLS], two [SEP] and the claim leave."""
        claim = len(self.tokenizer_.tokenize(self._proposition()))
        budget = self.max_length_ - 3 - claim
        if budget < 16:
            raise ConfigError(
                f"proposition.text: {claim} tokens leave {budget} of {self.max_length_} "
                "for the paragraph; shorten it"
            )
        return budget

    def _encode(self, windows: list[str]) -> dict[str, list[list[int]]]:
        claims = [self._proposition()] * len(windows)
        return dict(
            self.tokenizer_(claims, windows, truncation="only_second", max_length=self.max_length_)
        )

    @classmethod
    def load(cls, folder: Path, *, labels: Any, seed: int, **settings: Any) -> Self:
        model = super().load(folder, labels=labels, seed=seed, **settings)
        model._proposition()  # a card without the claim cannot score pairs
        return model
