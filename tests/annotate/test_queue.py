"""`stance annotate queue`: what to label next, stratified by source, without repeats."""

from __future__ import annotations

import logging
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.annotate import queue as queue_module
from pipeline.annotate.duplicates import NearDuplicateIndex
from pipeline.annotate.queue import run_queue
from pipeline.artifacts import model_folder
from pipeline.models.persist import save_model
from pipeline.models.tfidf_logreg import TfidfLogreg
from pipeline.text import sha256_hex
from tests.annotate.queue_builders import (
    LABELS,
    gold_record,
    make_project,
    paragraph,
    read_queue,
    words,
    write_jsonl,
    write_scored_jsonl,
    write_votes,
)
from tests.conftest import run_cli

QUEUE_KEYS = [
    "rank",
    "paragraph_id",
    "doc_id",
    "source",
    "title",
    "section",
    "position",
    "text",
    "text_sha256",
    "model",
    "probs",
    "guess",
    "score",
    "strategy",
    "context",
]
CONFIDENT = (0.9, 0.05, 0.05)
UNSURE = (0.34, 0.33, 0.33)


def article_rows(doc_id: str, texts: list[str], *, source: str = "Outlet A") -> list[dict]:
    return [
        paragraph(f"{doc_id}:{index:012d}", text, source=source, position=index)
        for index, text in enumerate(texts)
    ]


def fake_scores(
    params: object, texts: list[str], contexts: object = None
) -> tuple[np.ndarray, str]:
    """Stands in for the trained model: probabilities fixed by each text's hash."""
    rows = []
    for text in texts:
        weights = np.array([1 + int(sha256_hex(text)[i], 16) for i in range(3)], dtype=float)
        rows.append(weights / weights.sum())
    return np.array(rows).reshape(len(texts), 3), "fake-model"


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring must not happen (the random strategy without a model)."""

    def refuse(params: object, texts: list[str], contexts: object = None) -> None:
        raise AssertionError("the model was asked to score")

    monkeypatch.setattr(queue_module, "score_texts", refuse)


def test_the_most_uncertain_paragraph_comes_first_with_every_key(tmp_path: Path) -> None:
    rows = article_rows("d1", [words(1), words(2), words(3)])
    params = make_project(tmp_path, rows)
    scored = write_scored_jsonl(tmp_path / "s.jsonl", rows, [CONFIDENT, UNSURE, (0.5, 0.4, 0.1)])
    output = tmp_path / "queue.jsonl"

    run_queue(params, n=3, strategy="uncertainty", scores=scored, output=output)

    queue = read_queue(output)
    assert [r["paragraph_id"] for r in queue] == [
        rows[1]["paragraph_id"],
        rows[2]["paragraph_id"],
        rows[0]["paragraph_id"],
    ]
    first = queue[0]
    assert list(first) == QUEUE_KEYS
    assert first["rank"] == 1 and first["strategy"] == "uncertainty"
    assert first["probs"] == dict(zip(LABELS, UNSURE, strict=True))
    assert first["guess"] == "favor" and first["model"] == "m-1"
    assert first["score"] == pytest.approx(1.0, abs=1e-3)  # entropy scaled to 0..1
    assert first["doc_id"] == "d1" and first["position"] == 1
    assert first["context"] == {"before": rows[0]["text"], "after": rows[2]["text"]}
    assert first["text_sha256"] == sha256_hex(rows[1]["text"])
    assert queue[2]["context"] == {"before": None, "after": rows[1]["text"]}
    assert first["title"] is None and first["section"] is None  # jsonl names neither


def test_margin_and_entropy_can_disagree_on_what_is_uncertain(tmp_path: Path) -> None:
    rows = article_rows("d1", [words(1), words(2)])
    close_pair, flat = (0.5, 0.45, 0.05), (0.4, 0.3, 0.3)
    scored = write_scored_jsonl(tmp_path / "s.jsonl", rows, [close_pair, flat])
    output = tmp_path / "queue.jsonl"
    by_margin = make_project(tmp_path, rows, **{"annotate.uncertainty": "margin"})
    run_queue(by_margin, scores=scored, output=output)
    assert [r["paragraph_id"] for r in read_queue(output)] == [
        rows[0]["paragraph_id"],
        rows[1]["paragraph_id"],
    ]
    assert read_queue(output)[0]["score"] == pytest.approx(0.95)

    by_entropy = make_project(tmp_path, rows, **{"annotate.uncertainty": "entropy"})
    run_queue(by_entropy, scores=scored, output=output)
    assert read_queue(output)[0]["paragraph_id"] == rows[1]["paragraph_id"]
    expected = -sum(p * math.log(p) for p in flat) / math.log(3)
    assert read_queue(output)[0]["score"] == pytest.approx(round(expected, 4))


def test_one_outlet_cannot_fill_the_queue(tmp_path: Path) -> None:
    loud = article_rows("a", [words(i) for i in range(10)], source="Loud")
    quiet = article_rows("b", [words(100)], source="Quiet")
    other = article_rows("c", [words(200 + i) for i in range(3)], source="Other")
    rows = loud + quiet + other
    probs = [UNSURE] * len(loud) + [CONFIDENT] * (len(quiet) + len(other))
    params = make_project(tmp_path, rows)
    scored = write_scored_jsonl(tmp_path / "s.jsonl", rows, probs)
    output = tmp_path / "queue.jsonl"

    run_queue(params, n=6, scores=scored, output=output)
    queue = read_queue(output)
    # Three sources, six places: two each, but Quiet has one, so Loud and Other share its rest.
    assert Counter(r["source"] for r in queue) == {"Loud": 3, "Quiet": 1, "Other": 2}
    assert queue[0]["source"] == "Loud"  # the most uncertain paragraph still comes first
    assert [r["rank"] for r in queue] == [1, 2, 3, 4, 5, 6]

    run_queue(params, n=3, scores=scored, output=output)
    assert Counter(r["source"] for r in read_queue(output)) == {"Loud": 1, "Quiet": 1, "Other": 1}


def test_near_duplicates_of_queued_and_labelled_paragraphs_are_collapsed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    long_text = words(1, count=40)
    reworded = long_text[:-1] + " again."  # one word more at the end: 5-gram Jaccard ~0.95
    labelled_text = words(2, count=40)
    wire_copy = labelled_text.replace(".", " today.")
    rows = [
        *article_rows("a", [long_text, labelled_text], source="A"),
        *article_rows("b", [reworded, "Short one here.", "SHORT  one here."], source="B"),
        *article_rows("c", [wire_copy, words(3)], source="C"),
    ]
    params = make_project(tmp_path, rows)
    write_jsonl(params.paths.gold, [gold_record(rows[1]["paragraph_id"], labelled_text)])
    scored = write_scored_jsonl(tmp_path / "s.jsonl", rows, [UNSURE] * len(rows))
    output = tmp_path / "queue.jsonl"
    caplog.set_level(logging.INFO, logger="pipeline")

    result = run_queue(params, n=10, scores=scored, output=output)

    texts = [r["text"] for r in read_queue(output)]
    assert long_text in texts and reworded not in texts
    assert wire_copy not in texts  # repeats a labelled paragraph
    assert labelled_text not in texts
    assert sum(text.casefold().startswith("short") for text in texts) == 1
    assert words(3) in texts
    assert result.collapsed == 3
    assert "3 near-duplicates collapsed" in caplog.text

    # Labelled in outlet A, still a repeat when only outlet C is queued.
    run_queue(params, n=10, sources=("C",), scores=scored, output=output)
    assert [r["text"] for r in read_queue(output)] == [words(3)]


def test_short_texts_are_compared_by_their_normalised_key_only() -> None:
    index = NearDuplicateIndex(0.8)
    index.add("Russia and China agree.")
    assert index.contains("russia  and CHINA agree.")
    assert not index.contains("Russia and China disagree.")


def test_labelled_paragraphs_are_left_out_unless_their_text_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = article_rows("d1", [words(1), words(2), words(3), words(4)])
    params = make_project(tmp_path, rows)
    labelled, changed, retracted, fresh = (row["paragraph_id"] for row in rows)
    write_jsonl(
        params.paths.gold,
        [
            gold_record(labelled, rows[0]["text"]),
            gold_record(changed, "The text as it was when it was labelled."),
            gold_record(retracted, rows[2]["text"]),
            {"paragraph_id": retracted, "retracts_line": 3, "annotator": "tests"},
        ],
    )
    monkeypatch.setattr(queue_module, "score_texts", fake_scores)
    output = tmp_path / "queue.jsonl"

    result = run_queue(params, n=10, output=output)

    assert sorted(r["paragraph_id"] for r in read_queue(output)) == [changed, retracted, fresh]
    assert result.unlabelled == 3
    assert all(r["model"] == "fake-model" for r in read_queue(output))


def test_random_is_deterministic_per_seed_and_needs_no_model(
    tmp_path: Path, no_model: None
) -> None:
    rows = article_rows("d1", [words(i) for i in range(20)])
    output = tmp_path / "queue.jsonl"
    params = make_project(tmp_path, rows, **{"annotate.seed": 1})
    run_queue(params, n=5, strategy="random", output=output)
    first = output.read_bytes()
    run_queue(params, n=5, strategy="random", output=output)
    assert output.read_bytes() == first
    queue = read_queue(output)
    assert all(r["model"] is None and r["probs"] is None and r["guess"] is None for r in queue)
    assert [r["score"] for r in queue] == sorted((r["score"] for r in queue), reverse=True)

    reseeded = make_project(tmp_path, rows, **{"annotate.seed": 2})
    run_queue(reseeded, n=5, strategy="random", output=output)
    assert output.read_bytes() != first


def test_disagreement_puts_a_split_vote_above_an_agreed_one(tmp_path: Path) -> None:
    rows = article_rows("d1", [words(1), words(2), words(3)])
    split, agreed, unvoted = (row["paragraph_id"] for row in rows)
    params = make_project(tmp_path, rows)
    write_votes(
        params.paths.votes,
        {
            split: {"rules": "favor", "prototypes": "against"},
            agreed: {"rules": "none", "prototypes": "none"},
        },
    )
    leaning_none = (0.2, 0.2, 0.6)
    scored = write_scored_jsonl(
        tmp_path / "s.jsonl", rows, [leaning_none, (0.05, 0.05, 0.9), leaning_none]
    )
    output = tmp_path / "queue.jsonl"

    run_queue(params, strategy="disagreement", scores=scored, output=output)

    queue = read_queue(output)
    # favor, against and the model's none: two of three voters differ from the majority.
    assert queue[0]["paragraph_id"] == split and queue[0]["score"] == pytest.approx(0.6667)
    # Only the model votes on the unvoted paragraph (no disagreement): its higher
    # entropy breaks the tie with the agreed one.
    assert [r["paragraph_id"] for r in queue[1:]] == [unvoted, agreed]
    assert [r["score"] for r in queue[1:]] == [0.0, 0.0]


def test_the_trained_model_scores_the_corpus_and_the_queue_is_byte_stable(
    tmp_path: Path,
) -> None:
    rows = [
        *article_rows("a", ["Moscow resents its junior partner role.", words(1)], source="A"),
        *article_rows(
            "b", ["The bond between Russia and China is unbreakable.", words(2)], source="B"
        ),
    ]
    params = make_project(
        tmp_path, rows, **{"train.model": "tfidf_logreg", "paths.models": "models"}
    )
    training = [
        ("Moscow resents its junior partner role and looks for a way out.", "favor"),
        ("Chinese banks refuse Russian payments.", "favor"),
        ("The bond between Russia and China is unbreakable.", "against"),
        ("Putin and Xi praised their friendship.", "against"),
        ("The ferry timetable changes in May.", "none"),
        ("The weather in Lisbon was mild.", "none"),
    ]
    texts, labels = zip(*training, strict=True)
    classifier = TfidfLogreg(labels=LABELS, seed=0).fit(list(texts), list(labels))
    card = {"model": "tfidf_logreg", "model_id": "tfidf_logreg-test", "labels": list(LABELS)}
    save_model(
        classifier,
        params.paths.models / "tfidf_logreg",
        temperature=1.0,
        card=card,
        readme="# test\n",
    )
    output = tmp_path / "queue.jsonl"

    run_queue(params, n=4, output=output)
    first = output.read_bytes()
    queue = read_queue(output)
    assert len(queue) == 4 and {r["model"] for r in queue} == {"tfidf_logreg-test"}
    for record in queue:
        assert sum(record["probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert record["guess"] == max(record["probs"], key=record["probs"].get)
        assert record["title"] == "A title"
    run_queue(params, n=4, output=output)
    assert output.read_bytes() == first

    # The random strategy shows the model's guess when a model is there.
    run_queue(params, n=2, strategy="random", output=output)
    assert all(r["guess"] in LABELS for r in read_queue(output))


def test_a_parquet_score_folder_gives_titles_and_sections(tmp_path: Path) -> None:
    rows = article_rows("d1", [words(1), words(2)])
    params = make_project(tmp_path, rows)
    folder = tmp_path / "scores"
    (folder / "paragraphs").mkdir(parents=True)
    (folder / "documents").mkdir()
    table = pd.DataFrame(rows)[["paragraph_id", "doc_id", "source", "position", "text"]]
    table = table.assign(input_order=0, doc="d1.txt", section=["Intro", ""], label="none")
    for label, values in zip(LABELS, zip(CONFIDENT, UNSURE, strict=True), strict=True):
        table[f"prob_{label}"] = values
    table["model"] = "m-2"
    table.to_parquet(folder / "paragraphs" / "part-0.parquet", index=False)
    documents = pd.DataFrame({"input_order": [0], "doc": ["d1.txt"], "title": ["Old Friends"]})
    documents.to_parquet(folder / "documents" / "part-0.parquet", index=False)
    output = tmp_path / "queue.jsonl"

    run_queue(params, scores=folder, output=output)

    queue = read_queue(output)
    assert [r["paragraph_id"] for r in queue] == [rows[1]["paragraph_id"], rows[0]["paragraph_id"]]
    assert queue[0]["title"] == "Old Friends" and queue[0]["model"] == "m-2"
    assert [r["section"] for r in queue] == [None, "Intro"]


def test_nothing_left_to_label_writes_an_empty_queue_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, no_model: None
) -> None:
    rows = article_rows("d1", [words(1)])
    params = make_project(tmp_path, rows)
    write_jsonl(params.paths.gold, [gold_record(rows[0]["paragraph_id"], rows[0]["text"])])
    output = tmp_path / "queue.jsonl"
    run_queue(params, output=output)
    assert output.read_bytes() == b""
    assert "no unlabelled paragraphs" in caplog.text


def cli_error(*args: str) -> tuple[int, str]:
    code, _, stderr = run_cli("annotate", "queue", *args)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stance: error: "), stderr
    return code, lines[0]


def test_bad_input_is_one_clear_error_through_the_cli(tmp_path: Path) -> None:
    rows = article_rows("d1", [words(1)], source="Outlet A")
    make_project(tmp_path, rows)
    params_file = str(tmp_path / "params.yaml")
    output = str(tmp_path / "queue.jsonl")

    code, line = cli_error("--params", params_file, "--from", str(tmp_path / "nope.jsonl"))
    assert code == 3 and "nope.jsonl: not found" in line

    (tmp_path / "scores.txt").write_text("hello\n", encoding="utf-8")
    code, line = cli_error("--params", params_file, "--from", str(tmp_path / "scores.txt"))
    assert code == 3 and "scores.txt" in line

    (tmp_path / "broken.jsonl").write_text('{"type": "model"}\nnot json\n', encoding="utf-8")
    code, line = cli_error("--params", params_file, "--from", str(tmp_path / "broken.jsonl"))
    assert code == 3 and "broken.jsonl:2: not valid JSON" in line

    code, line = cli_error("--params", params_file, "--source", "Outlet Z", "-o", output)
    assert code == 2 and "unknown source 'Outlet Z'" in line and "known: Outlet A" in line

    code, line = cli_error("--params", params_file, "-o", output)  # no trained model
    assert code == 2 and "run `dvc repro` first" in line
    assert not Path(output).exists()

    code, _, _ = run_cli(
        "annotate", "queue", "--params", params_file, "--strategy", "random", "-o", output
    )
    assert code == 0 and len(read_queue(Path(output))) == 1


def test_the_model_reads_each_paragraphs_title_and_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        paragraph("d1:000000000000", words(1), title="Pivot talk", section="Analysis"),
        paragraph("d2:000000000000", words(2), title="Summit", section=""),
    ]
    params = make_project(tmp_path, rows)
    seen: list[tuple[str, str, str]] = []

    def recording_scores(
        params: object, texts: list[str], contexts: list | None = None
    ) -> tuple[np.ndarray, str]:
        assert contexts is not None
        seen.extend((t, c.title, c.section) for t, c in zip(texts, contexts, strict=True))
        return fake_scores(params, texts)

    monkeypatch.setattr(queue_module, "score_texts", recording_scores)
    model_folder(params).mkdir(parents=True)  # random guesses only when a model exists
    for strategy in ("uncertainty", "random"):  # the ranking pass and the guesses pass
        seen.clear()
        run_queue(params, n=2, strategy=strategy, output=tmp_path / "queue.jsonl")
        expected = [(words(1), "Pivot talk", "Analysis"), (words(2), "Summit", "")]
        assert sorted(seen) == sorted(expected)
