"""`cross_encoder`: the encoder fine-tuned on (proposition, paragraph) pairs.

The same network, training loop, windowing and pooling as `transformer`, but every
window is read as the second segment of a pair whose first segment is the proposition's
text (`proposition.text` in params), so attention can relate each word of the paragraph
to the claim. The model therefore learns "does this paragraph argue for or against
*this* claim" rather than "which side does this topic usually fall on", and a model
folder records the proposition it was trained for.

With `context: true` the first segment also carries where the paragraph sits, as the
annotation guidelines ask a reader to judge it: `[CLS] claim [SEP] title | section
[SEP] window [SEP]`, the title and heading cut to 48 word pieces (a fifth of a shorter
window) and left out where unknown (a written example has neither). The stages pass each
paragraph's context (`fit_in_context`, `predict_proba_in_context`); plain `fit` and
`predict_proba` read none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from pipeline.errors import ConfigError
from pipeline.models.base import Context
from pipeline.models.transformer_model import TransformerClassifier

# Word pieces of title and section heading kept per window, at most a fifth of it (the
# claim and the paragraph get the rest).
_CONTEXT_TOKENS = 48
_JOIN = " | "


class CrossEncoderClassifier(TransformerClassifier):
    """A fine-tuned pair classifier: [CLS] proposition [SEP] paragraph window [SEP].

    Settings: those of `transformer`, plus `proposition` (the claim's text, from params)
    and `context` (whether the first segment also carries the title and section heading).
    """

    name = "cross_encoder"

    def _proposition(self) -> str:
        proposition = str(self.settings.get("proposition") or "").strip()
        if not proposition:
            raise ConfigError("proposition.text: the cross-encoder needs the proposition's text")
        return proposition

    def _reads_context(self) -> bool:
        return bool(self.setting("context"))

    def _context_tokens(self) -> int:
        return min(_CONTEXT_TOKENS, self.max_length_ // 5)

    def _window_budget(self) -> int:
        """Tokens of paragraph text per window: what [CLS], two [SEP], the claim and (with
        `context`) one more [SEP] and the context's share leave."""
        claim = len(self.tokenizer_.tokenize(self._proposition()))
        reserved = 1 + self._context_tokens() if self._reads_context() else 0
        budget = self.max_length_ - 3 - claim - reserved
        if budget < 16:
            raise ConfigError(
                f"proposition.text: {claim} tokens leave {budget} of {self.max_length_} "
                "for the paragraph; shorten it"
            )
        return budget

    def _first_segment(self, context: Context | None) -> str:
        """The claim, then (with `context`) the title and heading, cut to their share."""
        claim = self._proposition()
        parts = context.parts() if context is not None and self._reads_context() else []
        if not parts:
            return claim
        tokens = self.tokenizer_.tokenize(_JOIN.join(parts))[: self._context_tokens()]
        where = self.tokenizer_.convert_tokens_to_string(tokens)
        return f"{claim} {self.tokenizer_.sep_token} {where}"

    def _encode(
        self, windows: list[str], contexts: Sequence[Context] | None
    ) -> dict[str, list[list[int]]]:
        firsts = [
            self._first_segment(None if contexts is None else contexts[index])
            for index in range(len(windows))
        ]
        return dict(
            self.tokenizer_(firsts, windows, truncation="only_second", max_length=self.max_length_)
        )

    @classmethod
    def load(cls, folder: Path, *, labels: Any, seed: int, **settings: Any) -> Self:
        model = super().load(folder, labels=labels, seed=seed, **settings)
        model._proposition()  # a card without the claim cannot score pairs
        return model
