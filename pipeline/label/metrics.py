"""How good each labeler and the aggregate are, measured against the gold labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sklearn.metrics import accuracy_score, f1_score

from pipeline.label.aggregate import Aggregate
from pipeline.lexicon.vote import Vote


def agreement(
    predicted: Sequence[str | None], truth: Sequence[str | None], labels: Sequence[str]
) -> dict[str, float | int | None]:
    """Coverage, accuracy and macro-F1 of `predicted` where both it and `truth` exist.

    `coverage` is the share of rows with a prediction; accuracy and macro-F1 are
    computed on the rows that have both a prediction and a true label (`n`).
    """
    pairs = [(p, t) for p, t in zip(predicted, truth, strict=True) if p is not None and t]
    result: dict[str, float | int | None] = {
        "coverage": _round(sum(p is not None for p in predicted) / len(predicted))
        if predicted
        else None,
        "n": len(pairs),
        "accuracy": None,
        "macro_f1": None,
    }
    if pairs:
        got, want = zip(*pairs, strict=True)
        result["accuracy"] = _round(accuracy_score(want, got))
        result["macro_f1"] = _round(
            f1_score(want, got, labels=list(labels), average="macro", zero_division=0)
        )
    return result


def conflict_rate(votes: Mapping[str, Sequence[Vote]], skip: set[str]) -> float | None:
    """Share of rows where two labelers (other than those in `skip`) vote different labels."""
    columns = [column for name, column in votes.items() if name not in skip]
    if not columns or not columns[0]:
        return None
    conflicts = sum(
        len({column[row].label for column in columns} - {None}) > 1
        for row in range(len(columns[0]))
    )
    return _round(conflicts / len(columns[0]))


def aggregate_quality(
    aggregates: Sequence[Aggregate],
    truth: Sequence[str | None],
    labels: Sequence[str],
    neutral_label: str,
) -> dict[str, float | int | None]:
    """`agreement` of the aggregate, plus macro-F1 over all gold rows with no decision read
    as the no-stance label (what a user gets if they fill gaps with `none`)."""
    predicted = [aggregate.label for aggregate in aggregates]
    result = agreement(predicted, truth, labels)
    filled = [(p or neutral_label, t) for p, t in zip(predicted, truth, strict=True) if t]
    result["macro_f1_all"] = (
        _round(
            f1_score(
                [t for _, t in filled],
                [p for p, _ in filled],
                labels=list(labels),
                average="macro",
                zero_division=0,
            )
        )
        if filled
        else None
    )
    return result


def _round(value: float) -> float:
    return round(float(value), 4)
