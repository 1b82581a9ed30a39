"""Paragraph ids are stable: renaming, reordering or adding files changes none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline.config import Params
from pipeline.segment.core import paragraph_id
from pipeline.segment.stage import run_segment
from tests.conftest import article, write_manifest

ALPHA = article(
    "Harbour traffic rose for the third year in a row.",
    "Officials credit the new container terminal.",
    title="Harbour Traffic Rises",
)
BETA = article("The museum reopened after two years of repairs.", title="Museum Reopens")
GAMMA = article("Rail fares will rise by four percent in January.", title="Fares Rise")


def ids_by_doc(params: Params) -> dict[str, list[str]]:
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    return {doc: group.paragraph_id.tolist() for doc, group in table.groupby("doc_id")}


def test_id_depends_on_doc_and_normalised_text_only() -> None:
    assert paragraph_id("a", "The plan “works”.") == paragraph_id("a", 'the  plan "works".')
    assert paragraph_id("a", "The plan works.") != paragraph_id("b", "The plan works.")
    assert paragraph_id("a", "The plan works.") != paragraph_id("a", "The plan failed.")
    assert paragraph_id("doc-1", "x").startswith("doc-1:")


def test_renaming_and_reordering_files_changes_no_id(corpus: Callable[..., Params]) -> None:
    params = corpus({"alpha.txt": ALPHA, "beta.txt": BETA})
    before = ids_by_doc(params)

    folder = params.paths.corpus_dir
    (folder / "alpha.txt").rename(folder / "zz_renamed.txt")
    write_manifest(
        params.paths.manifest,
        [
            {"doc_id": "beta", "file": "beta.txt", "source": "Outlet beta"},
            {"doc_id": "alpha", "file": "zz_renamed.txt", "source": "Outlet alpha"},
        ],
    )
    assert ids_by_doc(params) == before


def test_adding_a_file_changes_no_existing_id(corpus: Callable[..., Params]) -> None:
    params = corpus({"alpha.txt": ALPHA, "beta.txt": BETA})
    before = ids_by_doc(params)
    (params.paths.corpus_dir / "gamma.txt").write_text(GAMMA, encoding="utf-8")
    write_manifest(
        params.paths.manifest,
        [{"doc_id": stem, "file": f"{stem}.txt"} for stem in ("gamma", "alpha", "beta")],
    )
    after = ids_by_doc(params)
    assert {doc: after[doc] for doc in before} == before
    assert len(after["gamma"]) == 1


def test_editing_one_paragraph_changes_only_its_id(corpus: Callable[..., Params]) -> None:
    params = corpus({"alpha.txt": ALPHA})
    before = ids_by_doc(params)["alpha"]
    path: Path = params.paths.corpus_dir / "alpha.txt"
    path.write_text(ALPHA.replace("third year", "fourth year"), encoding="utf-8")
    after = ids_by_doc(params)["alpha"]
    assert after[0] != before[0]
    assert after[1] == before[1]


def test_two_runs_write_identical_bytes(corpus: Callable[..., Params]) -> None:
    params = corpus({"alpha.txt": ALPHA, "beta.txt": BETA})
    run_segment(params)
    first = params.paths.paragraphs.read_bytes()
    first_metrics = params.paths.segment_metrics.read_bytes()
    run_segment(params)
    assert params.paths.paragraphs.read_bytes() == first
    assert params.paths.segment_metrics.read_bytes() == first_metrics
