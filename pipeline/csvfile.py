"""CSV cells a spreadsheet will not run: every CSV the project writes goes through here.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets; article text and source names are untrusted, so
such a text cell gets a leading `'` (OWASP's rule for CSV injection). Numbers are
written as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value`, with a `'` in front when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(
    stream: TextIO, rows: Iterable[Mapping[str, Any]], columns: Sequence[str], **options: Any
) -> None:
    """Write a header and `rows` (dicts keyed by `columns`) with every text cell made safe."""
    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\n", **options)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in row.items()})


def frame_to_csv(frame: pd.DataFrame) -> str:
    """`frame.to_csv(index=False)` with every text cell made safe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(csv_cell)
    return safe.to_csv(index=False)
