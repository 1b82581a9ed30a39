"""The development set: never trains, scored by the model fitted on every training row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import InputDataError
from pipeline.evaluate.dev import article_agreement
from pipeline.label.stage import run_label
from pipeline.train.data import dev_rows, training_rows
from tests.reliability.conftest import DEV, PRESS, MiniProject

LABELS = ["favor", "against", "none"]


def test_article_agreement_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "doc_id": ["a", "a", "b", "b", "c"],
            "gold": ["favor", "none", "against", "against", "none"],
        }
    )
    probabilities = np.array(
        [[0.6, 0.2, 0.2], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2], [0.4, 0.4, 0.2], [0.1, 0.1, 0.8]]
    )
    result = article_agreement(frame, probabilities, LABELS, "favor", "against")
    # a: gold +0.5, predicted +0.2 (right); b: gold -1, predicted +0.1 (wrong); c: no lean.
    assert result == {
        "n": 3,
        "leaning": 2,
        "sign_right": 1,
        "sign_agreement": 0.5,
        "index_mae": round((0.3 + 1.1 + 0.0) / 3, 4),
    }


@pytest.mark.slow
def test_the_pipeline_keeps_dev_out_of_training_and_scores_it(built: MiniProject) -> None:
    labels = pd.read_parquet(built.params.paths.labels)
    dev = dev_rows(labels)
    assert sorted(dev["source"].unique()) == sorted({row[0] for row in DEV})
    assert len(labels[labels.provenance == "press"]) == len(PRESS)
    trained = training_rows(labels, built.params.train)
    assert not trained["provenance"].eq("dev").any() and trained["provenance"].eq("press").any()
    metrics = json.loads(built.params.paths.eval_metrics.read_text(encoding="utf-8"))
    assert metrics["dev"]["n"] == len(DEV) and metrics["dev"]["outlets"] == 2
    assert metrics["dev"]["articles"]["n"] == 2
    predictions = pd.read_parquet(built.params.paths.dev_predictions)
    assert list(predictions["paragraph_id"]) == list(dev["paragraph_id"])


@pytest.mark.slow
def test_without_press_examples_training_has_none(built: MiniProject) -> None:
    built.edit_params(lambda data: data["train"].update(use_press=False))
    labels = pd.read_parquet(built.params.paths.labels)
    assert not training_rows(labels, built.params.train)["provenance"].eq("press").any()


def test_an_outlet_in_both_files_stops_the_label_stage(mini: MiniProject) -> None:
    annotations = mini.root / "data" / "annotations"
    line = json.loads((annotations / "press.jsonl").read_text(encoding="utf-8").splitlines()[0])
    line |= {"id": "dev-99", "text": "A different paragraph of the same outlet.", "position": 9}
    with (annotations / "dev.jsonl").open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(line) + "\n")
    from pipeline.segment.stage import run_segment

    run_segment(mini.params)
    with pytest.raises(InputDataError, match="Harbour Gazette"):
        run_label(mini.params)


def test_a_development_file_of_the_wrong_shape_is_one_line(mini: MiniProject) -> None:
    dev = mini.root / "data" / "annotations" / "dev.jsonl"
    record = json.loads(dev.read_text(encoding="utf-8").splitlines()[0]) | {"year": "2024"}
    dev.write_text(json.dumps(record) + "\n", encoding="utf-8")
    from pipeline.segment.stage import run_segment

    run_segment(mini.params)
    with pytest.raises(InputDataError, match=r"dev.jsonl:1: year: Input should be a valid integer"):
        run_label(mini.params)


@pytest.mark.slow
def test_the_dev_curve_writes_one_point_per_size_and_ends_with_all(built: MiniProject) -> None:
    from pipeline.evaluate.dev_curve import run_dev_curve

    built.edit_params(
        lambda data: data["evaluate"].update(dev_curve_sizes=[0, 3, 99], dev_curve_repeats=2)
    )
    points = run_dev_curve(built.params)
    assert [(p.press_examples, p.repeat) for p in points] == [(0, 0), (3, 0), (3, 1), (6, 0)]
    assert points[0].train_rows + len(PRESS) == points[-1].train_rows
    reports = built.params.paths.reports
    for suffix in ("json", "csv", "png"):
        assert (reports / f"dev_learning_curve.{suffix}").is_file()
    again = run_dev_curve(built.params)
    assert again == points
