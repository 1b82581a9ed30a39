"""Outlet metadata in the manifest (country, outlet_type, group_*): checked, carried, optional."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.segment.stage import PARAGRAPH_SCHEMA, run_segment
from tests.conftest import article

GOOD = article("The harbour reopened on Monday after repairs.", title="Harbour Reopens")
OTHER = article("The museum added a new wing for modern art.", title="Museum Grows")


def _manifest(params: Params, text: str) -> Params:
    params.paths.manifest.write_text(text, encoding="utf-8")
    return params


def test_outlet_columns_reach_the_paragraphs_and_unknown_stays_empty(
    corpus: Callable[..., Params],
) -> None:
    params = _manifest(
        corpus({"a.txt": GOOD, "b.txt": OTHER}),
        "doc_id,file,source,group_bloc,country,outlet_type,group_alliance\n"
        "a,a.txt,Wire,west,US,wire,\n"
        "b,b.txt,Blog,,,,\n",
    )
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    # outlet columns after the usual ones, country and outlet_type first; an all-empty
    # column (group_alliance) is not written
    assert list(table.columns) == [*PARAGRAPH_SCHEMA.names, "country", "outlet_type", "group_bloc"]
    wire, blog = table[table.doc_id == "a"].iloc[0], table[table.doc_id == "b"].iloc[0]
    assert (wire.country, wire.outlet_type, wire.group_bloc) == ("US", "wire", "west")
    assert pd.isna(blog.country) and pd.isna(blog.group_bloc)  # unknown, not guessed


def test_a_manifest_without_outlet_columns_gives_the_usual_table(
    corpus: Callable[..., Params],
) -> None:
    params = corpus({"a.txt": GOOD})
    run_segment(params)
    assert list(pd.read_parquet(params.paths.paragraphs).columns) == PARAGRAPH_SCHEMA.names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("doc_id,file,country\na,a.txt,U\x07S\n", "sources.csv:2: country 'U\\x07S' contains a "),
        (f"doc_id,file,outlet_type\na,a.txt,{'x' * 101}\n", "sources.csv:2: outlet_type is 101 "),
        ("doc_id,file,group_\na,a.txt,west\n", "sources.csv:1: column 'group_': the name after"),
        ("doc_id,file,group_Bloc\na,a.txt,west\n", "sources.csv:1: column 'group_Bloc'"),
        ("doc_id,file,country,country\na,a.txt,US,RU\n", "sources.csv:1: column 'country' appe"),
        ("doc_id,file,region\na,a.txt,EU\n", "unknown column 'region'"),
    ],
)
def test_bad_outlet_metadata_is_one_line_naming_file_line_and_column(
    corpus: Callable[..., Params], text: str, message: str
) -> None:
    params = _manifest(corpus({"a.txt": GOOD}), text)
    with pytest.raises(InputDataError, match=re.escape(message)) as error:
        run_segment(params)
    assert "\n" not in str(error.value)
    assert not params.paths.paragraphs.exists()
