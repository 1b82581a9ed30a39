"""`stance compare` ranks versions by the development set their cards carry."""

from __future__ import annotations

import pandas as pd

from pipeline.compare.markdown import development_markdown
from pipeline.compare.record import development_ranking
from pipeline.compare.versions import Version

LABELS = ("favor", "against", "none")


def _dev(macro_f1: float) -> dict:
    return {
        "n": 10,
        "outlets": 3,
        "macro_f1": macro_f1,
        "macro_f1_interval": {"low": macro_f1 - 0.1, "high": macro_f1 + 0.1, "confidence": 0.95},
        "f_avg": macro_f1 - 0.05,
        "ece": 0.05,
        "per_class": {label: {"f1": macro_f1} for label in LABELS},
        "articles": {"n": 4, "leaning": 3, "sign_right": 2},
    }


def _version(name: str, dev: dict | None) -> Version:
    card = {"model_id": f"{name}-id", "grouped_cv": {"macro_f1": 0.5, "dev": dev}}
    return Version(name, "test", card, LABELS, pd.DataFrame())


def test_versions_are_ranked_by_development_macro_f1_and_those_without_are_left_out() -> None:
    versions = [_version("a", _dev(0.5)), _version("b", None), _version("c", _dev(0.7))]
    assert [row["name"] for row in development_ranking(versions)] == ["c", "a"]


def test_the_markdown_table_has_one_cell_per_column() -> None:
    record = {
        "labels": list(LABELS),
        "development": development_ranking([_version("a", _dev(0.6))]),
    }
    lines = development_markdown(record)
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 3
    assert len({line.count("|") for line in table}) == 1
    assert "0.6000 [0.5000, 0.7000]" in table[2] and "2 of 3" in table[2]


def test_no_development_set_means_no_section() -> None:
    assert development_markdown({"labels": list(LABELS), "development": []}) == []
