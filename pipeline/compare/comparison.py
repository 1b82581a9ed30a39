"""Each version against the baseline: the paired statistics and what changed in the card.

`Comparison` is what `stats` computes for one pair of versions and what `formats`
renders; `compare_versions` pairs the baseline (the first version) with each other one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.compare.cards import CardDifference, card_differences
from pipeline.compare.stats import CompareSettings, PairComparison, compare_predictions
from pipeline.compare.versions import Version, aligned, check_same_gold


@dataclass(frozen=True)
class Comparison:
    """Version B against the baseline A: the statistics and what changed in the card."""

    a: Version
    b: Version
    result: PairComparison
    card_differences: list[CardDifference]


def compare_versions(versions: Sequence[Version], settings: CompareSettings) -> list[Comparison]:
    """The baseline (first version) against each other version, on the same gold paragraphs."""
    baseline = versions[0]
    comparisons = []
    for version in versions[1:]:
        check_same_gold(baseline, version)
        other = aligned(version, baseline.predictions["paragraph_id"])
        result = compare_predictions(baseline.predictions, other.predictions, settings)
        comparisons.append(
            Comparison(baseline, other, result, card_differences(baseline.card, version.card))
        )
    return comparisons
