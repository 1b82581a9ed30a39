"""A verdict on one paragraph: what the rules give and every labeler returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vote:
    """A labeler's verdict on one paragraph: a label with a score in (0, 1], or abstain."""

    label: str | None
    score: float = 0.0

    @property
    def abstains(self) -> bool:
        return self.label is None


ABSTAIN = Vote(None, 0.0)
