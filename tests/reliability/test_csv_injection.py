"""CSV cells a spreadsheet will not run (S3): text that starts like a formula gets a `'`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from pipeline.csvfile import csv_cell, frame_to_csv, write_csv
from tests.reliability.conftest import score_to_csv

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_is_quoted(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Moscow and Beijing", "a = b", "", -0.5, 3, None])
def test_other_cells_are_kept(value: object) -> None:
    assert csv_cell(value) == value


def test_both_writers_quote_text_and_keep_numbers() -> None:
    frame = pd.DataFrame({"text": ["=1+1", "plain"], "stance": [-0.25, 0.5]})
    rows = list(csv.DictReader(io.StringIO(frame_to_csv(frame))))
    assert [row["text"] for row in rows] == ["'=1+1", "plain"]
    assert [row["stance"] for row in rows] == ["-0.25", "0.5"]
    buffer = io.StringIO()
    write_csv(buffer, frame.to_dict("records"), ["text", "stance"])
    assert buffer.getvalue() == frame_to_csv(frame)


@pytest.mark.slow
def test_stance_score_csv_quotes_a_formula_paragraph(tiny_model: Path, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(
        '=HYPERLINK("http://evil.example","Moscow and Beijing")\n\n'
        "Russia resents its junior partner role with China.\n",
        encoding="utf-8",
    )
    rows = score_to_csv(tiny_model, article, tmp_path)
    texts = [row["text"] for row in rows]
    assert texts[0].startswith("'=HYPERLINK(")
    assert not any(text.startswith(("=", "+", "-", "@")) for text in texts)
