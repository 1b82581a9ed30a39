"""The output formats of `stance compare`: one record, rendered three ways.

json: the record itself (`pipeline.compare.record`, which describes it); markdown: GitHub
tables for a pull-request comment (`pipeline.compare.markdown`); table: Rich tables for a
terminal (`pipeline.compare.table`). Both text formats show at most `max_flips` flipped
paragraphs with their text cut short.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.compare.markdown import render_markdown
from pipeline.compare.table import render_table
from pipeline.output_format import pick_format


class CompareFormat(StrEnum):
    """How a comparison is written."""

    table = "table"
    markdown = "markdown"
    json = "json"


_SUFFIXES = {
    ".json": CompareFormat.json,
    ".md": CompareFormat.markdown,
    ".markdown": CompareFormat.markdown,
    ".txt": CompareFormat.table,
}


def choose_format(
    requested: CompareFormat | None, output: Path | None, *, stdout_is_terminal: bool
) -> CompareFormat:
    """The format asked for; else the suffix of --output (.json, .md, .txt); else table on a
    terminal and markdown otherwise (ready to paste into a pull request)."""
    return pick_format(
        requested,
        output,
        by_suffix=_SUFFIXES,
        terminal=CompareFormat.table,
        piped=CompareFormat.markdown,
        stdout_is_terminal=stdout_is_terminal,
    )


def render(
    record: dict[str, Any],
    output_format: CompareFormat,
    *,
    max_flips: int,
    width: int = 120,
    color: bool = False,
) -> str:
    """The record as text in `output_format` (width and color only matter for table)."""
    if output_format is CompareFormat.json:
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if output_format is CompareFormat.markdown:
        return render_markdown(record, max_flips=max_flips)
    return render_table(record, max_flips=max_flips, width=width, color=color)
