"""`stance score` streams: articles read one at a time, article tables, json written piecewise."""

from __future__ import annotations

import io
import json
import logging
import sys
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io import display_path
from pipeline.score import inputs as score_inputs
from pipeline.score import local_engine
from pipeline.score.core import ScoredDocument
from pipeline.score.formats import OutputFormat, write_scores
from pipeline.score.inputs import DocumentStream, read_documents
from pipeline.score.local_engine import score_paths
from pipeline.score.model import StanceModel
from tests.conftest import article, run_cli, write_manifest
from tests.score.conftest import ARTICLE, read_jsonl
from tests.segment.test_html import PAGE

BRIDGE = article("The bridge opened to traffic on Friday after two years of work.", title="Bridge")
# (doc_id, source, title, text): the same articles as files and as table rows, in the
# order a folder lists the files.
ARTICLES = [
    ("bridge", "", "", BRIDGE),
    ("leaf", "", "", PAGE),
    ("old-friends", "Outlet A", "Old Friends", ARTICLE),
]


@pytest.fixture(scope="module")
def model(tiny_model: Path) -> StanceModel:
    return StanceModel.load(tiny_model, batch_size=4)


def numbered(n: int) -> str:
    """A small three-paragraph article, different for every n."""
    return ARTICLE.replace("Lisbon", f"Lisbon on day {n}")


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    """One line per row: a dict as JSON, a string as it is (for broken lines)."""
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot(documents: list[ScoredDocument]) -> list[tuple]:
    """What must not depend on how the articles were given (everything but `doc`)."""
    return [
        (
            d.doc_id,
            d.source,
            d.title,
            d.counts,
            d.stance_index,
            d.ci_low,
            d.ci_high,
            [
                (p.paragraph_id, p.position, p.section, p.text, p.label, p.probs)
                for p in d.paragraphs
            ],
        )
        for d in documents
    ]


# Laziness and memory


def test_the_first_article_is_scored_before_the_last_file_is_read(
    model: StanceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        (tmp_path / f"{n:02d}.txt").write_text(numbered(n), encoding="utf-8")
    read: list[str] = []
    segment = score_inputs.segment_document

    def spy(document, settings):
        read.append(document.path.name)
        return segment(document, settings)

    monkeypatch.setattr(score_inputs, "segment_document", spy)
    scored = model.score_documents(DocumentStream([tmp_path], model.read))
    first = next(scored)
    assert first.doc_id == "00"
    assert read == ["00.txt", "01.txt"]  # a batch of 4 paragraphs needs two 3-paragraph articles
    assert len(list(scored)) == 29 and len(read) == 30


def test_score_paths_writes_articles_while_it_reads(
    model: StanceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(tmp_path / "rows.jsonl", [{"text": numbered(n)} for n in range(40)])
    rows_read: list[str] = []
    segment = score_inputs.segment_article

    def spy(text, meta, options, *, doc, html):
        rows_read.append(doc)
        return segment(text, meta, options, doc=doc, html=html)

    reads_at_write: list[int] = []

    class Recorder(io.StringIO):
        """Standard output that notes how many rows had been read when each article came."""

        def write(self, text: str) -> int:
            if '"type": "document"' in text:
                reads_at_write.append(len(rows_read))
            return super().write(text)

    monkeypatch.setattr(score_inputs, "segment_article", spy)
    monkeypatch.setattr(sys, "stdout", Recorder())
    run = score_paths(model, [tmp_path / "rows.jsonl"], output_format=OutputFormat.jsonl)
    assert run.totals.documents == 40 and run.failed == ()
    assert reads_at_write[0] <= 3  # the first article is out long before row 40 is read
    assert reads_at_write == sorted(reads_at_write) and reads_at_write[-1] == 40


def test_peak_memory_does_not_grow_with_the_number_of_articles(
    model: StanceModel, tmp_path: Path
) -> None:
    """Scoring 2,000 articles into json takes about the memory of 200; holding them all
    would take ~3 KB more per article (`read_documents`, measured: +5 MB)."""

    def peak(n: int) -> int:
        rows = [{"text": numbered(i)} for i in range(n)]
        table = write_jsonl(tmp_path / f"articles{n}.jsonl", rows)
        del rows
        output = tmp_path / f"{n}.json"
        tracemalloc.start()
        try:
            run = score_paths(model, [table], output_format=OutputFormat.json, output=output)
            peak_bytes = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert run.totals.documents == n and run.failed == ()
        return peak_bytes

    peak(50)  # first-call allocations (imports, caches) are not the corpus's
    small, large = peak(200), peak(2000)
    per_extra_article = (large - small) / 1800
    assert per_extra_article < 1000, (small, large)


def test_expected_count_counts_files_and_table_rows(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.md").write_text(BRIDGE, encoding="utf-8")
    write_jsonl(tmp_path / "rows.jsonl", [{"text": ARTICLE}] * 4)
    pq.write_table(pa.table({"text": [ARTICLE] * 3}), tmp_path / "rows.parquet")
    paths = [tmp_path, tmp_path / "rows.jsonl", tmp_path / "rows.parquet", tmp_path / "nope"]
    stream = DocumentStream(paths, score_inputs.ReadOptions())
    assert stream.expected_count() == 2 + 4 + 3
    assert stream.failed == []  # listing reads no article and reports nothing yet


def test_the_progress_bar_total_is_known_before_reading(
    model: StanceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq.write_table(pa.table({"text": [numbered(n) for n in range(25)]}), tmp_path / "t.parquet")
    totals: list[int] = []
    real = local_engine.progress

    def spy(items, description, *, total, min_items):
        totals.append(total)
        return real(items, description, total=total, min_items=min_items)

    monkeypatch.setattr(local_engine, "progress", spy)
    score_paths(model, [tmp_path / "t.parquet"], output=tmp_path / "out.jsonl")
    assert totals == [25]


# Article tables


@pytest.fixture
def as_files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    rows = []
    for doc_id, source, title, text in ARTICLES:
        name = f"{doc_id}.html" if text is PAGE else f"{doc_id}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        rows.append({"doc_id": doc_id, "file": name, "source": source, "title": title})
    write_manifest(folder / "sources.csv", rows)
    return folder


def table_rows() -> list[dict]:
    return [
        {"doc_id": doc_id, "source": source or None, "title": title, "text": text}
        for doc_id, source, title, text in ARTICLES
    ]


def test_jsonl_and_parquet_rows_score_as_the_files_do(
    model: StanceModel, as_files: Path, tmp_path: Path
) -> None:
    from_files = model.score_files([as_files])
    assert from_files.failed == [] and len(from_files.documents) == 3
    expected = snapshot(from_files.documents)
    assert [row[:2] for row in expected] == [
        ("bridge", "unknown:bridge"),
        ("leaf", "The Daily Leaf"),  # the page's site name fills the missing source
        ("old-friends", "Outlet A"),
    ]

    jsonl = write_jsonl(tmp_path / "articles.jsonl", table_rows())
    parquet_rows = [{**row, "html": row["text"] is PAGE or None} for row in table_rows()]
    parquet = tmp_path / "articles.parquet"
    pq.write_table(pa.Table.from_pylist(parquet_rows), parquet, row_group_size=2)
    for table in (jsonl, parquet):
        scored = model.score_files([table])
        assert scored.failed == []
        assert snapshot(scored.documents) == expected, table.name
        assert [d.doc for d in scored.documents] == [
            f"{display_path(table)}:{n}" for n in (1, 2, 3)
        ]


def test_rows_without_metadata_get_ids_from_the_file_and_the_given_source(
    model: StanceModel, tmp_path: Path
) -> None:
    table = write_jsonl(
        tmp_path / "inbox.jsonl",
        [{"text": ARTICLE, "url": "ignored"}, "", {"text": BRIDGE, "source": "Own"}],
    )
    scored = model.score_files([table], source="Given")
    assert [(d.doc_id, d.source) for d in scored.documents] == [
        ("inbox-1", "Given"),
        ("inbox-3", "Own"),  # row numbers are line numbers: the blank line 2 counts
    ]
    assert scored.documents[0].paragraphs[0].paragraph_id.startswith("inbox-1:")


def test_the_html_column_overrides_detection(model: StanceModel, tmp_path: Path) -> None:
    table = write_jsonl(tmp_path / "t.jsonl", [{"text": PAGE, "html": False}, {"text": PAGE}])
    as_text, detected = model.score_files([table]).documents
    assert as_text.paragraphs[0].text.startswith("<!doctype html>")  # markup read as text
    assert detected.title == "Tea Markets Shift" and detected.source == "The Daily Leaf"


def test_bad_rows_are_one_warning_each_naming_file_and_row(
    model: StanceModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"text": ARTICLE, "doc_id": "a"},
            "{broken",
            {"text": "   "},
            {"text": 7},
            {"body": ARTICLE},
            ["not", "an", "object"],
            {"text": BRIDGE, "doc_id": "a"},
            {"text": BRIDGE, "doc_id": "no spaces"},
            {"text": BRIDGE, "html": "yes"},
            {"text": "Subscribe to our newsletter"},
            {"text": BRIDGE, "source": 3},
            {"text": BRIDGE},
        ],
    )
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        scored = model.score_files([table])
    assert [d.doc_id for d in scored.documents] == ["a", "t-12"]
    name = display_path(table)
    assert [r.getMessage() for r in caplog.records] == [
        f"{name}:2: not JSON (Expecting property name enclosed in double quotes); skipped",
        f"{name}:3: empty 'text'; skipped",
        f"{name}:4: 'text' is not a string; skipped",
        f"{name}:5: no 'text'; skipped",
        f"{name}:6: not a JSON object; skipped",
        f"{name}:7: duplicate doc_id 'a' (row 1 has it); skipped",
        f"{name}:8: doc_id 'no spaces' must be letters, digits, '.', '_' or '-'; skipped",
        f"{name}:9: 'html' must be true or false; skipped",
        f"{name}:10: no article text left after removing site chrome; skipped",
        f"{name}:11: 'source' is not a string; skipped",
    ]
    assert len(scored.failed) == 10


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: pq.write_table(pa.table({"body": [ARTICLE]}), p), "no 'text' column"),
        (lambda p: pq.write_table(pa.table({"text": [1, 2]}), p), "column 'text' holds int64"),
        (
            lambda p: pq.write_table(pa.table({"text": [ARTICLE], "html": ["no"]}), p),
            "column 'html' holds string, not true/false",
        ),
        (lambda p: p.write_bytes(b"PAR1 but not really" * 50), "not a readable parquet file"),
        (lambda p: pq.write_table(pa.table({"text": pa.array([], pa.string())}), p), "no articles"),
    ],
)
def test_a_bad_parquet_file_is_one_failed_input(
    model: StanceModel, tmp_path: Path, make, reason: str
) -> None:
    bad = tmp_path / "bad.parquet"
    make(bad)
    scored = model.score_files([bad])
    assert scored.documents == []
    assert len(scored.failed) == 1
    assert scored.failed[0].startswith(f"{display_path(bad)}: {reason}")
    assert "\n" not in scored.failed[0]


def test_a_binary_jsonl_file_is_one_failed_input(model: StanceModel, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n" * 100)
    assert model.score_files([bad]).failed == [f"{display_path(bad)}: binary file, not jsonl text"]


def test_tables_in_a_folder_are_left_alone_by_default(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    write_jsonl(tmp_path / "rows.jsonl", [{"text": BRIDGE}])
    read = read_documents([tmp_path], score_inputs.ReadOptions())
    assert [d.doc_id for d in read.documents] == ["a"] and read.failed == []


# Through the command


@pytest.fixture
def bad_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(
        folder / "rows.jsonl",
        [{"text": ARTICLE, "doc_id": "first"}, "not json", {"text": ""}, {"text": BRIDGE}],
    )
    pq.write_table(pa.table({"body": [ARTICLE]}), folder / "notext.parquet")
    (folder / "junk.parquet").write_bytes(b"garbage" * 64)
    monkeypatch.chdir(tmp_path)
    return folder


def test_the_command_scores_good_rows_warns_about_bad_ones_and_exits_1(
    bad_tables: Path, tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inputs = [str(bad_tables / name) for name in ("rows.jsonl", "notext.parquet", "junk.parquet")]
    code, out, _ = run_cli("score", *inputs, "-m", str(tiny_model), "-f", "jsonl")
    assert code == 1
    documents = [line for line in read_jsonl(out) if line["type"] == "document"]
    assert [(d["doc"], d["source"]) for d in documents] == [
        ("in/rows.jsonl:1", "unknown:first"),
        ("in/rows.jsonl:4", "unknown:rows-4"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "in/rows.jsonl:2: not JSON (Expecting value); skipped",
        "in/rows.jsonl:3: empty 'text'; skipped",
        "in/notext.parquet: no 'text' column (the article text); skipped",
        "in/junk.parquet: not a readable parquet file (Parquet magic bytes not found in "
        "footer. Either the file is corrupted or this is not a parquet file.); skipped",
    ]


def test_the_table_footer_counts_failed_rows(bad_tables: Path, tiny_model: Path) -> None:
    code, out, _ = run_cli("score", "in/rows.jsonl", "-m", str(tiny_model), "-f", "table")
    assert code == 1
    assert out.strip().splitlines()[-1].endswith("; 2 inputs failed")


def test_strict_stops_at_the_first_bad_row_in_one_line(bad_tables: Path, tiny_model: Path) -> None:
    target = bad_tables.parent / "scores.json"
    args = ("score", "in/rows.jsonl", "-m", str(tiny_model), "--strict")
    code, out, err = run_cli(*args, "-o", str(target))
    assert code == 1 and not target.exists()
    assert (
        err.strip()
        == "stance: error: in/rows.jsonl:2: not JSON (Expecting value); stopped (--strict)"
    )
    code, out, err = run_cli(*args, "-f", "jsonl")
    assert code == 1 and out == ""  # nothing was scored before the stop: nothing written


# The json format


def eager_json(info, documents: list[ScoredDocument]) -> str:
    """The json writer as it was before it streamed: the whole object in one `json.dump`."""

    def untyped(record: dict, *drop: str) -> dict:
        return {k: v for k, v in record.items() if k not in ("type", *drop)}

    articles = [
        {
            **untyped(d.record()),
            "paragraphs": [untyped(p.record(d.doc), "doc") for p in d.paragraphs],
        }
        for d in documents
    ]
    stream = io.StringIO()
    json.dump({"model": untyped(info.record()), "documents": articles}, stream, indent=2)
    return stream.getvalue() + "\n"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_json_is_byte_for_byte_the_eager_json(
    model: StanceModel, as_files: Path, count: int
) -> None:
    documents = model.score_files([as_files]).documents[:count]
    stream = io.StringIO()
    totals = write_scores(stream, OutputFormat.json, model.info, documents, labels=model.labels)
    assert stream.getvalue() == eager_json(model.info, documents)
    assert totals.documents == count
    assert totals.paragraphs == sum(d.n_paragraphs for d in documents)
    whole = json.loads(stream.getvalue())
    assert list(whole) == ["model", "documents"] and len(whole["documents"]) == count
