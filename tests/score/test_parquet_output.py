"""`stance score --format parquet --output DIR`: the folder layout both engines write."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.score import folder as score_folder
from tests.conftest import run_cli
from tests.score.conftest import ARTICLE, MODEL_ID, read_jsonl


def stance(*args: str) -> int:
    code, out, err = run_cli(*args)
    sys.stderr.write(err)
    assert out == ""
    return code


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two article files and a parquet table of three rows (one of them unusable)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "b.md").write_text("# Bridge\n\nThe bridge opened to traffic on Friday.\n")
    rows = [
        {"doc_id": "t1", "source": "Wire", "text": ARTICLE},
        {"doc_id": "t2", "source": None, "text": "   "},
        {"doc_id": None, "source": None, "text": "Moscow resents Beijing; the strain shows."},
    ]
    pd.DataFrame(rows).to_parquet(tmp_path / "table.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    return ["in", "table.parquet"]


def test_the_folder_holds_the_jsonl_content_as_two_tables(inputs, tiny_model, tmp_path) -> None:
    assert stance("score", *inputs, "-m", str(tiny_model), "-f", "parquet", "-o", "out") == 1
    _, jsonl, _ = run_cli("score", *inputs, "-m", str(tiny_model), "-f", "jsonl")
    paragraphs, documents = score_folder.read_score_folder(tmp_path / "out")
    lines = read_jsonl(jsonl)
    expected_documents = [line for line in lines if line["type"] == "document"]
    expected_paragraphs = [line for line in lines if line["type"] == "paragraph"]
    assert list(documents["doc"]) == [d["doc"] for d in expected_documents]
    assert list(documents["doc"]) == ["in/a.txt", "in/b.md", "table.parquet:1", "table.parquet:3"]
    assert list(documents["stance_index"]) == [d["stance_index"] for d in expected_documents]
    assert list(documents["count_favor"]) == [d["counts"]["favor"] for d in expected_documents]
    assert list(paragraphs["paragraph_id"]) == [p["paragraph_id"] for p in expected_paragraphs]
    assert list(paragraphs["prob_against"]) == [p["probs"]["against"] for p in expected_paragraphs]
    assert documents["input_order"].is_monotonic_increasing
    assert set(paragraphs["model"]) == {MODEL_ID} and paragraphs["card_hash"].notna().all()
    assert list(documents["doc_id"]) == ["a", "b", "t1", "table-3"]


def test_schema_and_run_record(inputs, tiny_model, tmp_path) -> None:
    stance("score", *inputs, "-m", str(tiny_model), "-f", "parquet", "-o", "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["documents", "paragraphs", "run.json"]
    labels = ("favor", "against", "none")
    for table, schema in (
        ("paragraphs", score_folder.paragraph_schema(labels)),
        ("documents", score_folder.document_schema(labels)),
    ):
        files = sorted((out / table).iterdir())
        assert [f.name for f in files] == ["part-0000000000000000000.parquet"]
        assert pq.read_schema(files[0]).remove_metadata() == schema
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "local" and run["labels"] == list(labels)
    assert (run["documents"], run["paragraphs"]) == (4, 8)
    assert run["model"]["version"] == MODEL_ID
    assert run["failed"] == ["table.parquet:2: empty 'text'"]


def test_no_article_still_gives_readable_empty_tables(tmp_path, tiny_model, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    assert stance("score", "empty.txt", "-m", str(tiny_model), "-f", "parquet", "-o", "out") == 1
    paragraphs, documents = score_folder.read_score_folder(tmp_path / "out")
    assert len(paragraphs) == 0 and len(documents) == 0
    assert "prob_favor" in paragraphs.columns and "ci_high" in documents.columns


def test_a_previous_output_is_replaced_whole(inputs, tiny_model, tmp_path) -> None:
    args = ("score", *inputs, "-m", str(tiny_model), "-f", "parquet", "-o", "out")
    stance(*args)
    (tmp_path / "out" / "paragraphs" / "part-9999999999999999999.parquet").write_bytes(b"old")
    stance(*args)
    assert len(list((tmp_path / "out" / "paragraphs").iterdir())) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "table.parquet"]


def test_many_articles_make_several_shards(tmp_path, tiny_model, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(score_folder, "SHARD_PARAGRAPHS", 4)
    rows = [{"doc_id": f"d{i}", "text": ARTICLE} for i in range(5)]
    pd.DataFrame(rows).to_parquet(tmp_path / "t.parquet", index=False)
    assert stance("score", "t.parquet", "-m", str(tiny_model), "-f", "parquet", "-o", "out") == 0
    shards = sorted(p.name for p in (tmp_path / "out" / "paragraphs").iterdir())
    assert len(shards) == 3  # 3 paragraphs an article: a shard holds two articles
    paragraphs, documents = score_folder.read_score_folder(tmp_path / "out")
    assert list(documents["doc_id"]) == [f"d{i}" for i in range(5)] and len(paragraphs) == 15


@pytest.mark.parametrize(
    ("prepare", "message", "exit_code"),
    [
        (None, "parquet output is a folder of tables; pass --output DIR", 2),
        ("file", "out: is a file; parquet output is a folder, pass a folder path", 4),
        ("foreign", "out: a folder that `stance score` did not write (no run.json)", 4),
    ],
)
def test_bad_output_is_one_line(inputs, tiny_model, tmp_path, prepare, message, exit_code) -> None:
    args = ["score", *inputs, "-m", str(tiny_model), "-f", "parquet"]
    if prepare == "file":
        (tmp_path / "out").write_text("keep me\n")
    elif prepare == "foreign":
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "notes.txt").write_text("keep me\n")
    if prepare:
        args += ["-o", "out"]
    code, out, err = run_cli(*args)
    assert (code, out) == (exit_code, "")
    assert err.startswith(f"stance: error: {message}") and err.count("\n") == 1
    if prepare == "foreign":
        assert (tmp_path / "out" / "notes.txt").read_text() == "keep me\n"


def test_ray_options_need_the_ray_engine(inputs, tiny_model) -> None:
    code, _, err = run_cli("score", *inputs, "-m", str(tiny_model), "--workers", "2")
    assert code == 2
    assert err == "stance: error: --workers and --address are options of --engine ray\n"
