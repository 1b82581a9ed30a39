"""The seed corpus: expected paragraphs, repairs, and no surviving site chrome."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.config import load_params
from pipeline.segment.stage import PARAGRAPH_SCHEMA, run_segment
from tests.conftest import REPO, SEEDS

EXPECTED_PARAGRAPHS = {
    "000_975a2217d1868434": 18,  # The Punching Bag Post: blank-line paragraphs under headings
    "001_07a43381c826e083": 8,  # AFP: one paragraph per line, no blank lines
    "002_6733627a06de0384": 6,  # Eurasia Daily Monitor: very long paragraphs
    "003_d7ee13c73e456a2f": 17,  # The Moscow Times: markdown, two paragraphs broken mid-sentence
    "004_9d950e5d5b89fb94": 11,  # Galeotti: bullets, repeated heading, comment form, bio
}

# Every line of site chrome in the seeds; none may reach a paragraph or a section.
CHROME_LINES = [
    "Site icon The Punching Bag Post",
    "Exit mobile version",
    "Publication: Eurasia Daily Monitor",
    "(Source: Reuters)",
    "By Alexander Gabuev",
    "By [Alexander Gabuev](#)",
    "December 02, 2020",
    "Patel Bednyakov / DPA / TASS",
    "Related article",
    "This article was first",
    "do not necessarily reflect the position of The Moscow Times",
    "Original url",
    "https://www.themoscowtimes.com",
    "Leave a Reply",
    "Your email address will not be published",
    "Required fields are marked",
    "Back To Top",
    "Professor Mark Galeotti is the author",
    "](#)",
    "**",
    "•",
]


@pytest.fixture(scope="module")
def seed_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the stage on the seeds once; return the written parquet file."""
    root = tmp_path_factory.mktemp("seeds-run")
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["paths"] = {
        "corpus_dir": str(SEEDS),
        "manifest": str(SEEDS / "sources.csv"),
        "paragraphs": "data/paragraphs.parquet",
        "segment_metrics": "metrics/segment.json",
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    loaded = load_params(root / "params.yaml")
    run_segment(loaded)
    return loaded.paths.paragraphs


@pytest.fixture(scope="module")
def paragraphs(seed_output: Path) -> pd.DataFrame:
    return pd.read_parquet(seed_output)


def paragraphs_of(table: pd.DataFrame, doc_id: str) -> list[str]:
    return table[table.doc_id == doc_id].sort_values("position").text.tolist()


def test_expected_paragraph_count_per_seed(paragraphs: pd.DataFrame) -> None:
    counts = paragraphs.groupby("doc_id").size().to_dict()
    assert counts == EXPECTED_PARAGRAPHS


def test_seed_003_break_before_blank_line_is_repaired(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "003_d7ee13c73e456a2f")
    joined = [t for t in texts if "Moscow and Beijing are well aware" in t]
    assert len(joined) == 1
    assert joined[0].startswith("For many years, Putin and senior Russian officials")
    assert joined[0].endswith(
        "getting drawn into a major conflict over the interests of its partner."
    )
    assert not any(t.startswith("well aware") for t in texts)


def test_seed_003_parenthetical_continuation_is_repaired(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "003_d7ee13c73e456a2f")
    joined = [t for t in texts if "trade war currently raging between China and Australia" in t]
    assert len(joined) == 1
    assert joined[0].endswith("symbiosis with the Chinese economy).")
    assert not any(t.startswith("(despite") for t in texts)


def test_no_chrome_survives(paragraphs: pd.DataFrame) -> None:
    for column in ("text", "section", "title"):
        for value in paragraphs[column]:
            for chrome in CHROME_LINES:
                assert chrome not in value, f"{chrome!r} survived in {column}: {value[:80]!r}"


def test_markdown_syntax_is_removed_but_link_text_kept(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "003_d7ee13c73e456a2f")
    assert any("Russia has taken important steps to strengthen" in t for t in texts)
    assert not any("[" in t or "](" in t for t in texts)


def test_headings_are_sections_not_paragraphs(paragraphs: pd.DataFrame) -> None:
    punching_bag = paragraphs[paragraphs.doc_id == "000_975a2217d1868434"]
    assert "Evidence of a US-Russia Thaw" not in set(punching_bag.text)
    assert punching_bag.section.tolist()[:4] == ["Evidence of a US-Russia Thaw"] * 4
    assert punching_bag.section.iloc[-1] == "Russia’s Expanding Options"
    assert set(paragraphs[paragraphs.doc_id == "001_07a43381c826e083"].section) == {""}


def test_titles_are_not_paragraphs(paragraphs: pd.DataFrame) -> None:
    for title in paragraphs.title.unique():
        if title:
            assert title not in set(paragraphs.text)
    galeotti = paragraphs[paragraphs.doc_id == "004_9d950e5d5b89fb94"]
    # The repeated headline shows once, as the section of the opening paragraphs.
    assert galeotti.section.iloc[0] == "The Putin-Trump Dynamic: A Double-Edged Sword for Russia"


def test_bullet_items_are_kept_as_paragraphs(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "004_9d950e5d5b89fb94")
    bullets = [t for t in texts if t.startswith(("The diplomatic isolation", "There is a growing"))]
    assert len(bullets) == 2
    assert all(not t.startswith("•") for t in bullets)


def test_editor_note_is_article_text(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "000_975a2217d1868434")
    assert texts[-1].startswith("PB Editor: If Trump does indeed pursue this strategy")


def test_standfirst_repeated_in_body_is_kept_once(paragraphs: pd.DataFrame) -> None:
    texts = paragraphs_of(paragraphs, "003_d7ee13c73e456a2f")
    hits = [t for t in texts if t.startswith("In recent years, Moscow has tried to exploit")]
    assert len(hits) == 1 and "taking shape" in hits[0]


def test_table_schema_and_metadata(paragraphs: pd.DataFrame) -> None:
    assert list(paragraphs.columns) == PARAGRAPH_SCHEMA.names
    assert paragraphs.paragraph_id.is_unique
    moscow_times = paragraphs[paragraphs.doc_id == "003_d7ee13c73e456a2f"]
    assert set(moscow_times.source) == {"The Moscow Times"}
    assert set(moscow_times.date) == {"2020-12-02"}
    assert paragraphs[paragraphs.doc_id == "001_07a43381c826e083"].date.isna().all()
    unknown = paragraphs[paragraphs.doc_id == "004_9d950e5d5b89fb94"]
    assert set(unknown.source) == {"unknown:004_9d950e5d5b89fb94"}
    for _, group in paragraphs.groupby("doc_id"):
        assert group.position.tolist() == list(range(len(group)))
    assert (paragraphs.n_words == paragraphs.text.str.split().str.len()).all()


def test_metrics_count_paragraphs_and_dropped_chrome(seed_output: Path) -> None:
    metrics = json.loads((seed_output.parents[1] / "metrics" / "segment.json").read_text())
    assert metrics["paragraphs"] == sum(EXPECTED_PARAGRAPHS.values())
    assert metrics["skipped_documents"] == []
    assert metrics["dropped_lines"]["comment form"] == 2
    assert metrics["dropped_lines"]["author bio"] == 1
    assert len(metrics["paragraphs_per_source"]) == 5


def test_readable_by_datasets(seed_output: Path, tmp_path: Path) -> None:
    from datasets import load_dataset

    dataset = load_dataset(
        "parquet", data_files=str(seed_output), split="train", cache_dir=str(tmp_path)
    )
    assert dataset.num_rows == sum(EXPECTED_PARAGRAPHS.values())
    assert {"paragraph_id", "text", "source", "section"} <= set(dataset.column_names)


def test_manifest_matches_the_seed_files() -> None:
    listed = set(pd.read_csv(SEEDS / "sources.csv").file)
    on_disk = {path.name for path in SEEDS.glob("*.txt")}
    assert listed == on_disk
    shared = REPO.parent / "shared" / "seeds"
    if shared.is_dir():  # the seeds are exactly the files given
        for path in shared.iterdir():
            assert (SEEDS / path.name).read_bytes() == path.read_bytes()
