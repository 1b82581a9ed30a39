"""The `rules` labeler: labelling functions read from a versioned YAML file.

The rules, their file format and their matching live in `pipeline.lexicon.rules`
(the models use the same votes as features); this is the labeler that casts them.
"""

from __future__ import annotations

import pandas as pd

from pipeline.label.base import Labeler
from pipeline.lexicon.rules import RuleSet
from pipeline.lexicon.vote import Vote


class RulesLabeler(RuleSet, Labeler):
    """Votes from cue-pattern rules; rules that fire are combined per label.

    Within a label, rule weights combine as a noisy-or, 1 - prod(1 - weight).
    The vote goes to the strongest label, with the gap to the runner-up as its
    score; a tie abstains.
    """

    name = "rules"

    def vote(self, paragraphs: pd.DataFrame) -> list[Vote]:
        return [self.vote_text(text) for text in paragraphs["text"]]
