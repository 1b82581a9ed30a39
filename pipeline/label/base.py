"""The interface every labeler follows: one vote (or an abstention) per paragraph."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import pandas as pd

from pipeline.lexicon.vote import Vote


class Labeler(ABC):
    """A source of weak (or gold) labels.

    `vote` receives a frame with at least `paragraph_id` and `text` columns and
    returns one `Vote` per row, in order. A new labeler is one subclass in one
    file plus an entry in `pipeline.label.registry`.
    """

    name: ClassVar[str]

    @abstractmethod
    def vote(self, paragraphs: pd.DataFrame) -> list[Vote]:
        """One vote per row of `paragraphs`."""
