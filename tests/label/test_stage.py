"""The `label` stage end to end: outputs, gold precedence, staleness, bad input, determinism."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.label.stage import LABEL_SCHEMA, run_label
from tests.conftest import run_module
from tests.label.conftest import BagOfWordsEncoder, write_lines

AnnotatedCorpus = Callable[..., Params]


def test_outputs_cover_corpus_and_synthetic(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    params = annotated_corpus()
    run_label(params, encoder=fake_encoder)
    labels = pd.read_parquet(params.paths.labels)
    paragraphs = pd.read_parquet(params.paths.paragraphs)
    assert list(labels.columns) == LABEL_SCHEMA.names
    corpus = labels[labels.provenance != "synthetic"]
    assert list(corpus.paragraph_id) == list(paragraphs.paragraph_id)
    assert (corpus.provenance == "gold").sum() == 2
    assert set(corpus.provenance) <= {"gold", "weak", "unlabeled"}
    synthetic = labels[labels.provenance == "synthetic"]
    assert list(synthetic.paragraph_id) == ["synthetic:s1", "synthetic:s2", "synthetic:s3"]
    assert set(synthetic.source) == {"synthetic"} and synthetic.doc_id.isna().all()
    # where each paragraph sits, for a model that reads it: the article's title and section
    assert list(corpus.title) == list(paragraphs.title) and set(corpus.title) == {
        "Talks Between Rivals",
        "Old Friends",
    }
    assert list(corpus.section.fillna("")) == list(paragraphs.section.fillna(""))
    assert synthetic.title.isna().all() and synthetic.section.isna().all()
    assert labels.confidence.between(0, 1).all()
    assert (labels.label.isna() == (labels.provenance == "unlabeled")).all()

    votes = pd.read_parquet(params.paths.votes)
    assert {"gold", "rules", "prototypes", "rules_score"} <= set(votes.columns)
    assert len(votes) == len(labels)

    metrics = json.loads(params.paths.labeling_metrics.read_text(encoding="utf-8"))
    assert metrics["gold"] == {"current": 2, "stale": 0, "stale_ids": []}
    assert set(metrics["labelers"]) == {"gold", "rules", "prototypes"}
    for name in ("rules", "prototypes"):
        assert set(metrics["labelers"][name]) == {"on_gold", "on_synthetic", "votes"}
    assert {"coverage", "n", "accuracy", "macro_f1", "macro_f1_all"} <= set(
        metrics["aggregate_without_gold"]["on_gold"]
    )
    assert 0 <= metrics["conflict_rate"] <= 1


def test_gold_wins_over_every_labeler(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    # The annotated favor paragraph is full of strain cues; mark it `against` instead.
    params = annotated_corpus()
    lines = params.paths.gold.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    write_lines(params.paths.gold, [json.dumps({**first, "label": "against"}), lines[1]])
    result = run_label(params, encoder=fake_encoder)
    row = result.labels.set_index("paragraph_id").loc[first["paragraph_id"]]
    assert (row.label, row.confidence, row.provenance) == ("against", 1.0, "gold")
    votes = result.votes.set_index("paragraph_id").loc[first["paragraph_id"]]
    assert votes["rules"] == "favor"  # the labeler disagreed and lost


def test_annotations_are_never_rewritten(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    params = annotated_corpus()
    before = {p: p.read_bytes() for p in (params.paths.gold, params.paths.synthetic)}
    run_label(params, encoder=fake_encoder)
    assert {p: p.read_bytes() for p in before} == before


def test_stale_annotation_is_reported_and_not_applied(
    annotated_corpus: AnnotatedCorpus,
    fake_encoder: BagOfWordsEncoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    params = annotated_corpus()
    annotated = json.loads(params.paths.gold.read_text(encoding="utf-8").splitlines()[0])
    # The annotated text is edited, so its paragraph gets a new id and the old one vanishes.
    article = params.paths.corpus_dir / "a.txt"
    article.write_text(
        article.read_text(encoding="utf-8").replace("the strain shows", "the strain is plain"),
        encoding="utf-8",
    )
    from pipeline.segment.stage import run_segment

    run_segment(params)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        result = run_label(params, encoder=fake_encoder)
    warning = " ".join(record.getMessage() for record in caplog.records)
    assert f"gold.jsonl:1: paragraph {annotated['paragraph_id']} is no longer in the corpus" in (
        warning
    )
    assert "not applied" in warning
    assert (result.labels.provenance == "gold").sum() == 1
    assert result.metrics["gold"]["stale_ids"] == [annotated["paragraph_id"]]

    strict = params.model_copy(
        update={"label": params.label.model_copy(update={"on_stale": "error"})}
    )
    with pytest.raises(InputDataError, match=r"1 stale annotation\(s\), first on line 1"):
        run_label(strict, encoder=fake_encoder)


def test_same_inputs_give_identical_outputs(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    params = annotated_corpus()
    outputs = (params.paths.labels, params.paths.votes, params.paths.labeling_metrics)
    run_label(params, encoder=fake_encoder)
    first = [path.read_bytes() for path in outputs]
    run_label(params, encoder=BagOfWordsEncoder())
    assert [path.read_bytes() for path in outputs] == first


def test_without_paragraphs_says_what_to_run(
    annotated_corpus: AnnotatedCorpus, fake_encoder: BagOfWordsEncoder
) -> None:
    params = annotated_corpus()
    params.paths.paragraphs.unlink()
    with pytest.raises(
        InputDataError, match=r"paragraphs.parquet: not found; run `stance segment`"
    ):
        run_label(params, encoder=fake_encoder)


def test_missing_annotation_files_only_warn(
    annotated_corpus: AnnotatedCorpus,
    fake_encoder: BagOfWordsEncoder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    params = annotated_corpus()
    params.paths.gold.unlink()
    params.paths.synthetic.unlink()
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        result = run_label(params, encoder=fake_encoder)
    assert "gold.jsonl: not found" in caplog.text
    assert set(result.labels.provenance) <= {"weak", "unlabeled"}


def label_cli(params: Params) -> tuple[int, str]:
    folder = params.paths.paragraphs.parents[1]
    done = run_module("pipeline", "label", "--params", str(folder / "params.yaml"), cwd=folder)
    return done.returncode, done.stderr


def test_cli_malformed_gold_is_one_line_with_line_number(
    annotated_corpus: AnnotatedCorpus,
) -> None:
    params = annotated_corpus(**{"label.prototypes.enabled": False})
    with params.paths.gold.open("a", encoding="utf-8") as stream:
        stream.write('{"paragraph_id": "x:1", "label": "favor"\n')
    code, stderr = label_cli(params)
    assert code == 3
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("stance: error: data/annotations/gold.jsonl:3: not valid JSON")
    )
    assert "Traceback" not in stderr


def test_cli_bad_rules_file_is_a_config_error(annotated_corpus: AnnotatedCorpus) -> None:
    params = annotated_corpus(**{"label.prototypes.enabled": False})
    params.paths.rules.write_text(
        "version: 1\nrules:\n  - name: x\n    label: favour\n    any: [a]\n"
    )
    code, stderr = label_cli(params)
    assert code == 2
    assert "rules.yaml: rules.0 (x): label 'favour' is not one of favor, against, none" in stderr
    assert "Traceback" not in stderr


def test_cli_runs_the_stage(annotated_corpus: AnnotatedCorpus) -> None:
    params = annotated_corpus(**{"label.prototypes.enabled": False})
    code, stderr = label_cli(params)
    assert code == 0, stderr
    assert "2 gold" in stderr and "3 synthetic" in stderr
    assert Path(params.paths.labels).is_file()
