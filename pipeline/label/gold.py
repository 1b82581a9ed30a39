"""The `gold` labeler: current human annotations, score 1."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipeline.label.annotations import Annotation
from pipeline.label.base import Labeler
from pipeline.lexicon.vote import ABSTAIN, Vote


class GoldLabeler(Labeler):
    """Votes the annotated label where a current annotation exists, abstains elsewhere.

    Only annotations whose text hash matches the paragraph (see
    `annotations.match_annotations`) are passed in; stale ones never vote.
    """

    name = "gold"

    def __init__(self, annotations: Mapping[str, Annotation]) -> None:
        self.annotations = annotations

    def vote(self, paragraphs: pd.DataFrame) -> list[Vote]:
        votes = []
        for paragraph_id in paragraphs["paragraph_id"]:
            annotation = self.annotations.get(paragraph_id)
            votes.append(ABSTAIN if annotation is None else Vote(annotation.label, 1.0))
        return votes
