"""Where the development set's errors fall: by the guideline rule its annotator cited,
by genre, by region and by position in the article.

Each development paragraph was labelled by one rule of the annotation guidelines
(`rule` in `paths.dev`; none for plain `none` paragraphs) from an article of a
known genre. Grouping the deployed model's mistakes by those fields says which
kinds of argument it misreads, which the headline macro-F1 cannot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from pipeline.errors import InputDataError
from pipeline.label.written import WrittenExample

FIELDS = ("rule", "genre", "region", "position")
NO_RULE = "none cited"
LATER = "4+"  # positions from the fourth paragraph on are one group


def _group_value(example: WrittenExample, field: str) -> str:
    """The example's group for `field`, as text (positions 4 and later together)."""
    if field == "rule":
        return NO_RULE if example.rule is None else str(example.rule)
    if field == "position":
        return str(example.position) if example.position < 4 else LATER
    return str(getattr(example, field))


def _summary(golds: Sequence[str], predictions: Sequence[str]) -> dict:
    """Count, accuracy and the wrong (gold -> predicted) pairs, most frequent first."""
    wrong = Counter(f"{g} -> {p}" for g, p in zip(golds, predictions, strict=True) if g != p)
    right = len(golds) - sum(wrong.values())
    return {
        "n": len(golds),
        "accuracy": round(right / len(golds), 4),
        "errors": dict(sorted(wrong.items(), key=lambda item: (-item[1], item[0]))),
    }


def error_breakdown(predictions: pd.DataFrame, examples: Sequence[WrittenExample]) -> dict:
    """Per field of `FIELDS`, each group's summary; `predictions` holds paragraph_id,
    gold and label (predicted) for every development paragraph."""
    meta = {f"dev:{example.example_id}": example for example in examples}
    missing = sorted(set(predictions["paragraph_id"]) - set(meta))
    if missing:
        raise InputDataError(
            f"{len(missing)} development predictions (e.g. {missing[0]}) have no line in "
            "the development file; run `dvc repro` to bring them up to date"
        )
    golds, predicted = list(predictions["gold"]), list(predictions["label"])
    breakdown: dict = {"overall": _summary(golds, predicted)}
    for field in FIELDS:
        values = [_group_value(meta[pid], field) for pid in predictions["paragraph_id"]]
        groups: dict[str, dict] = {}
        for value in sorted(set(values), key=_natural):
            rows = [i for i, v in enumerate(values) if v == value]
            groups[value] = _summary([golds[i] for i in rows], [predicted[i] for i in rows])
        breakdown[f"by_{field}"] = groups
    return breakdown


def _natural(value: str) -> tuple[int, int | str]:
    """Numbers in numeric order, then text."""
    return (0, int(value)) if value.isdigit() else (1, value)
