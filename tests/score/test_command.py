"""`stance score` through the real entry point: formats, stdin, --output, exit codes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_params
from pipeline.segment.stage import run_segment
from tests.conftest import REPO, SEEDS, run_cli, run_module, write_manifest, write_params
from tests.label.conftest import update_params
from tests.score.conftest import ARTICLE, MODEL_ID, read_jsonl


def stance(*args: str) -> tuple[int, str]:
    """Run `stance ARGS` in this process; return the exit code and standard output (standard
    error goes on to the test's capture)."""
    code, out, err = run_cli(*args)
    sys.stderr.write(err)
    return code, out


def test_jsonl_is_the_default_off_a_terminal(articles: Path, tiny_model: Path) -> None:
    code, out = stance("score", str(articles), "--model", str(tiny_model))
    assert code == 0
    lines = read_jsonl(out)
    card_hash = hashlib.sha256((tiny_model / "card.json").read_bytes()).hexdigest()
    assert lines[0] == {
        "type": "model",
        "name": "tfidf_logreg",
        "version": MODEL_ID,
        "card_hash": card_hash,
    }
    types = [line["type"] for line in lines[1:]]
    assert types == ["document", "paragraph", "paragraph", "paragraph", "document", "paragraph"]
    document, paragraph = lines[1], lines[2]
    assert document["doc"] == "in/a.txt" and document["source"] == "unknown:a"
    assert document["n_paragraphs"] == 3 and sum(document["counts"].values()) == 3
    assert set(document) == {"type", "doc", "source", "n_paragraphs", "counts"} | {
        "stance_index",
        "ci_low",
        "ci_high",
    }
    assert set(paragraph) == {"type", "doc", "paragraph_id", "position", "text", "label", "probs"}
    assert paragraph["doc"] == "in/a.txt" and paragraph["paragraph_id"].startswith("a:")
    assert list(paragraph["probs"]) == ["favor", "against", "none"]


def test_json_is_the_same_content_as_one_object(articles: Path, tiny_model: Path) -> None:
    _, jsonl = stance("score", str(articles), "-m", str(tiny_model), "-f", "jsonl")
    code, out = stance("score", str(articles), "-m", str(tiny_model), "-f", "json")
    assert code == 0
    lines, whole = read_jsonl(jsonl), json.loads(out)
    assert whole["model"] == {k: v for k, v in lines[0].items() if k != "type"}
    documents = [line for line in lines if line["type"] == "document"]
    assert [d["doc"] for d in whole["documents"]] == [d["doc"] for d in documents]
    first = whole["documents"][0]
    assert first["stance_index"] == documents[0]["stance_index"]
    paragraphs = [line for line in lines if line["type"] == "paragraph"]
    assert [p["paragraph_id"] for d in whole["documents"] for p in d["paragraphs"]] == [
        p["paragraph_id"] for p in paragraphs
    ]


def test_csv_is_the_paragraph_rows(articles: Path, tiny_model: Path) -> None:
    code, out = stance("score", str(articles), "-m", str(tiny_model), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    assert list(rows[0]) == [
        "doc",
        "paragraph_id",
        "position",
        "label",
        "prob_favor",
        "prob_against",
        "prob_none",
        "text",
        "model",
    ]
    assert rows[0]["doc"] == "in/a.txt" and rows[0]["model"] == MODEL_ID
    assert abs(sum(float(rows[0][f"prob_{x}"]) for x in ("favor", "against", "none")) - 1) < 1e-3


def test_table_shows_each_article_and_a_summary(articles: Path, tiny_model: Path) -> None:
    code, out = stance("score", str(articles), "-m", str(tiny_model), "-f", "table")
    assert code == 0
    assert "in/a.txt · unknown:a" in out and "in/b.md · unknown:b" in out
    assert "stance index" in out and "P(favor)" in out
    assert out.strip().splitlines()[-1] == (
        f"2 articles, 4 paragraphs scored by tfidf_logreg ({MODEL_ID})"
    )


def test_stdin(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLE.encode())))
    code, out = stance("score", "-", "-m", str(tiny_model), "--source", "Wire")
    assert code == 0
    lines = read_jsonl(out)
    assert lines[1]["doc"] == "-" and lines[1]["source"] == "Wire"
    assert lines[1]["n_paragraphs"] == 3
    assert lines[2]["paragraph_id"].startswith("stdin:")


def test_output_file_and_its_suffix_format(articles: Path, tiny_model: Path) -> None:
    target = articles.parent / "out" / "scores.csv"
    code, out = stance("score", str(articles), "-m", str(tiny_model), "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("doc,paragraph_id,")
    assert [p.name for p in target.parent.iterdir()] == ["scores.csv"]  # no temporary left
    other = articles.parent / "scores.out"
    stance("score", str(articles), "-m", str(tiny_model), "-o", str(other))
    assert read_jsonl(other.read_text(encoding="utf-8"))[0]["type"] == "model"


def test_a_bad_file_leaves_the_rest_scored_and_exit_1(
    articles: Path, tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (articles / "empty.txt").write_bytes(b"")
    (articles / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    target = articles.parent / "scores.jsonl"
    code, _ = stance("score", str(articles), "-m", str(tiny_model), "-o", str(target))
    assert code == 1
    lines = read_jsonl(target.read_text(encoding="utf-8"))
    assert [line["doc"] for line in lines if line["type"] == "document"] == ["in/a.txt", "in/b.md"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "in/empty.txt: empty file; skipped",
        "in/image.html: binary file, not text; skipped",
    ]


def test_strict_writes_nothing_and_exits_1(articles: Path, tiny_model: Path) -> None:
    (articles / "empty.txt").write_bytes(b"")
    target = articles.parent / "scores.jsonl"
    code, _ = stance("score", str(articles), "-m", str(tiny_model), "--strict", "-o", str(target))
    assert code == 1
    assert not target.exists()


def test_seed_article_ids_match_the_segment_stage(tiny_model: Path, tmp_path: Path) -> None:
    """Scoring a seed file gives the paragraph ids the pipeline gives (segment on a copy)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed = SEEDS / "002_6733627a06de0384.txt"
    (corpus / seed.name).write_bytes(seed.read_bytes())
    write_manifest(corpus / "sources.csv", [{"doc_id": seed.stem, "file": seed.name}])
    params = update_params(write_params(tmp_path))
    run_segment(params)
    expected = pd.read_parquet(params.paths.paragraphs).paragraph_id.tolist()
    code, out = stance("score", str(seed), "-m", str(tiny_model), "-f", "jsonl")
    assert code == 0
    assert [line["paragraph_id"] for line in read_jsonl(out) if line["type"] == "paragraph"] == (
        expected
    )


def test_default_model_missing_says_how_to_make_one(
    articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(articles.parent)  # params.yaml here; models/ holds nothing
    code, out = stance("score", str(articles))
    assert code == 3 and out == ""
    error = capsys.readouterr().err.strip()
    default = load_params(REPO / "params.yaml").train.model
    assert error == (
        f"stance: error: models/{default}: no trained model; run `make run` "
        "(or `dvc repro`) to train it, or pass --model DIR"
    )


def test_no_params_and_no_model(articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = stance("score", str(articles))
    assert code == 3
    assert "pass --model DIR" in capsys.readouterr().err


def test_missing_model_folder(articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = stance("score", str(articles), "--model", "no/such/model")
    assert code == 3
    assert capsys.readouterr().err.strip() == (
        "stance: error: no/such/model: not found; pass a folder written by `stance train`"
    )


@pytest.mark.slow
def test_exit_codes_and_one_line_errors_as_a_user_sees_them(
    articles: Path, tiny_model: Path
) -> None:
    model = ("--model", str(tiny_model))
    cwd = articles.parent
    runs = []

    def score(*args: str):
        runs.append(run_module("pipeline", "score", *args, cwd=cwd))
        return runs[-1]

    done = score(str(articles), *model)
    assert done.returncode == 0, done.stderr
    assert read_jsonl(done.stdout)[0]["type"] == "model"

    (articles / "empty.txt").write_bytes(b"")
    done = score(str(articles), "missing.txt", *model)
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == [
        "stance: warning: in/empty.txt: empty file; skipped",
        "stance: warning: missing.txt: no such file or folder; skipped",
    ]
    assert len([line for line in read_jsonl(done.stdout) if line["type"] == "document"]) == 2

    done = score(str(articles), "--strict", *model)
    assert done.returncode == 1
    assert done.stderr.strip() == ("stance: error: in/empty.txt: empty file; stopped (--strict)")
    assert done.stdout == ""

    done = score(str(articles))
    assert done.returncode == 3 and done.stderr.count("\n") == 1
    assert "pass --model DIR" in done.stderr

    done = score(str(articles), *model, "--format", "xml")
    assert done.returncode == 2 and "'xml' is not one of" in done.stderr
    assert not any("Traceback" in run.stderr for run in runs)
