"""The development errors grouped by rule, genre, region and position."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import InputDataError
from pipeline.evaluate.errors import error_breakdown
from pipeline.label.written import WrittenExample


def example(number: int, rule: int | None, genre: str, position: int) -> WrittenExample:
    return WrittenExample(
        example_id=f"dev-{number}",
        text=f"paragraph {number}",
        label="none",
        outlet="Outlet",
        source_url="https://example.org/a",
        article_id="a",
        title="A title",
        genre=genre,
        year=2024,
        region="europe",
        position=position,
        rule=rule,
        note="a note",
        line=number,
    )


EXAMPLES = [
    example(1, 2, "wire", 1),
    example(2, 2, "wire", 5),
    example(3, None, "op-ed", 2),
    example(4, 10, "op-ed", 9),
]
PREDICTIONS = pd.DataFrame(
    {
        "paragraph_id": ["dev:dev-1", "dev:dev-2", "dev:dev-3", "dev:dev-4"],
        "gold": ["favor", "favor", "none", "against"],
        "label": ["against", "favor", "against", "against"],
    }
)


def test_errors_are_counted_per_group_by_hand() -> None:
    breakdown = error_breakdown(PREDICTIONS, EXAMPLES)
    assert breakdown["overall"] == {
        "n": 4,
        "accuracy": 0.5,
        "errors": {"favor -> against": 1, "none -> against": 1},
    }
    assert list(breakdown["by_rule"]) == ["2", "10", "none cited"]  # numbers in order
    assert breakdown["by_rule"]["2"] == {"n": 2, "accuracy": 0.5, "errors": {"favor -> against": 1}}
    assert breakdown["by_genre"]["op-ed"]["errors"] == {"none -> against": 1}
    assert breakdown["by_position"] == {
        "1": {"n": 1, "accuracy": 0.0, "errors": {"favor -> against": 1}},
        "2": {"n": 1, "accuracy": 0.0, "errors": {"none -> against": 1}},
        "4+": {"n": 2, "accuracy": 1.0, "errors": {}},
    }
    assert breakdown["by_region"]["europe"]["n"] == 4


def test_a_prediction_without_its_development_line_is_one_line() -> None:
    stale = PREDICTIONS.assign(paragraph_id=["dev:dev-1", "dev:dev-2", "dev:dev-3", "dev:gone"])
    with pytest.raises(InputDataError, match=r"1 development predictions \(e\.g\. dev:gone\)"):
        error_breakdown(stale, EXAMPLES)
