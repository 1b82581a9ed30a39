"""The headline files `dvc metrics show` prints: the few numbers, from the stage's own dict."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.headline import (
    behaviour_headline,
    evaluation_headlines,
    labeling_headline,
    write_headlines,
)

LABELS = ("favor", "against", "none")


def _scores(macro_f1: float, n: int) -> dict:
    per_class = {
        label: {"precision": 0.5, "recall": 0.5, "f1": f1, "support": 3}
        for label, f1 in zip(LABELS, (0.7, 0.5, 0.8), strict=True)
    }
    return {
        "n": n,
        "macro_f1": macro_f1,
        "f_avg": 0.6,
        "accuracy": 0.68,
        "brier": 0.45,
        "ece": 0.12,
        "per_class": per_class,
        "per_source": {"AFP": {"macro_f1": 0.1}},
        "calibration": {"temperatures": {"AFP": 1.3}},
    }


def test_the_evaluation_headline_keeps_the_scores_and_each_class_f1_in_order() -> None:
    metrics = {"model_id": "m-1", "folds": 5, **_scores(0.67, 60), "dev": _scores(0.65, 436)}
    headlines = evaluation_headlines(metrics, LABELS)
    assert list(headlines) == ["eval.json", "dev.json"]
    assert headlines["eval.json"] == {
        "n": 60,
        "macro_f1": 0.67,
        "f_avg": 0.6,
        "accuracy": 0.68,
        "ece": 0.12,
        "brier": 0.45,
        "f1": {"favor": 0.7, "against": 0.5, "none": 0.8},
    }
    assert list(headlines["eval.json"]) == [
        "n",
        "macro_f1",
        "f_avg",
        "accuracy",
        "ece",
        "brier",
        "f1",
    ]
    assert headlines["dev.json"]["n"] == 436 and headlines["dev.json"]["macro_f1"] == 0.65


def test_without_a_development_set_its_headline_is_empty_not_missing() -> None:
    headlines = evaluation_headlines({**_scores(0.5, 10), "dev": None}, LABELS)
    assert headlines["dev.json"] == {}


def test_labeling_and_behaviour_headlines_take_the_aggregate_and_the_overall_rates() -> None:
    labeling = {
        "paragraphs": 60,
        "labelers": {"rules": {"on_gold": {"coverage": 0.5}}},
        "aggregate_without_gold": {
            "on_gold": {"coverage": 0.57, "n": 34, "accuracy": 0.74, "macro_f1": 0.73, "x": 1},
            "on_synthetic": {"coverage": 0.63},
        },
    }
    assert labeling_headline(labeling) == {
        "n": 34,
        "macro_f1": 0.73,
        "accuracy": 0.74,
        "coverage": 0.57,
    }
    behaviour = {
        "cases": 142,
        "overall": {"label_pass_rate": 0.75, "pairs": 53, "pair_pass_rate": 0.47},
        "rules": {"1": {"label_pass_rate": 1.0}},
    }
    assert behaviour_headline(behaviour) == {"label_pass_rate": 0.75, "pair_pass_rate": 0.47}


def test_headlines_are_written_as_indented_json_with_a_final_newline(tmp_path: Path) -> None:
    folder = tmp_path / "metrics" / "headline"
    write_headlines(folder, {"eval.json": {"n": 3, "f1": {"favor": 0.5}}, "dev.json": {}})
    text = (folder / "eval.json").read_text(encoding="utf-8")
    assert text == '{\n  "n": 3,\n  "f1": {\n    "favor": 0.5\n  }\n}\n'
    assert json.loads((folder / "dev.json").read_text(encoding="utf-8")) == {}
    assert sorted(path.name for path in folder.iterdir()) == ["dev.json", "eval.json"]
