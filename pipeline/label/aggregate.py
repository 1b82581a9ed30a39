"""Combine labelers' votes into one label and a confidence per paragraph.

Weighted vote (docs/labeling.md, "Aggregation"): each vote adds
`weight(labeler) * score` to its label's mass. The label with the most mass
wins; its confidence is that mass over (all mass + `prior`). The prior is a
pseudo-mass for "unknown", so one weak vote gives a modest confidence and
agreeing votes raise it. A tie, or no votes at all, leaves the paragraph
unlabelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.lexicon.vote import Vote


@dataclass(frozen=True)
class Aggregate:
    """The combined verdict on one paragraph (label None: no decision)."""

    label: str | None
    confidence: float


def weighted_vote(
    votes: Mapping[str, Sequence[Vote]], weights: Mapping[str, float], prior: float
) -> list[Aggregate]:
    """One `Aggregate` per paragraph from each labeler's votes (all sequences align)."""
    lengths = {len(column) for column in votes.values()}
    if len(lengths) > 1:
        raise ValueError(f"labelers returned different numbers of votes: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    results = []
    for row in range(count):
        mass: dict[str, float] = {}
        for name, column in votes.items():
            vote = column[row]
            if vote.label is not None and weights.get(name, 0.0) > 0 and vote.score > 0:
                mass[vote.label] = mass.get(vote.label, 0.0) + weights[name] * vote.score
        results.append(_decide(mass, prior))
    return results


def _decide(mass: Mapping[str, float], prior: float) -> Aggregate:
    if not mass:
        return Aggregate(None, 0.0)
    ranked = sorted(mass.values(), reverse=True)
    if len(ranked) > 1 and abs(ranked[0] - ranked[1]) < 1e-9:
        return Aggregate(None, 0.0)
    label = max(mass, key=mass.__getitem__)
    return Aggregate(label, round(mass[label] / (sum(mass.values()) + prior), 6))
