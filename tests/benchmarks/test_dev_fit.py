"""benchmarks/dev_fit.py keeps the runs of models it does not measure this time."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_params
from pipeline.evaluate.dev import DevPredictions
from tests.conftest import REPO

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_dev_fit():
    sys.path.insert(0, str(BENCHMARKS))  # dev_fit imports its sibling `harness`
    try:
        spec = importlib.util.spec_from_file_location(
            "benchmarks_dev_fit", BENCHMARKS / "dev_fit.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


dev_fit = _load_dev_fit()


def test_runs_of_other_models_are_kept_and_remeasured_ones_dropped(tmp_path: Path) -> None:
    runs = [{"model": "setfit", "use_press": True}, {"model": "transformer", "use_press": True}]
    (tmp_path / "dev_fit.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")
    assert dev_fit.kept_runs(tmp_path, [("transformer", True)]) == [runs[0]]
    assert dev_fit.kept_runs(tmp_path, [("cross_encoder", True)]) == runs


def test_no_earlier_file_keeps_nothing(tmp_path: Path) -> None:
    assert dev_fit.kept_runs(tmp_path, [("setfit", True)]) == []


def test_runs_are_kept_by_name_so_variants_of_one_model_coexist(tmp_path: Path) -> None:
    runs = [
        {"model": "cross_encoder", "use_press": True},  # from before runs had names
        {"name": "cross_encoder context", "model": "cross_encoder", "use_press": True},
    ]
    (tmp_path / "dev_fit.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")
    assert dev_fit.kept_runs(tmp_path, [("cross_encoder context", True)]) == [runs[0]]
    assert dev_fit.kept_runs(tmp_path, [("cross_encoder", True)]) == [runs[1]]


def test_a_fit_with_the_press_keeps_the_same_models_fit_without_it(tmp_path: Path) -> None:
    runs = [
        {"model": "transformer", "use_press": False},
        {"model": "transformer", "use_press": True},
    ]
    (tmp_path / "dev_fit.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")
    assert dev_fit.kept_runs(tmp_path, [("transformer", True)]) == [runs[0]]
    assert dev_fit.kept_runs(tmp_path, [("transformer", False)]) == [runs[1]]


def test_a_change_replaces_one_existing_params_key() -> None:
    raw = {"train": {"models": {"cross_encoder": {"label_smoothing": 0.0}}}}
    key, value = dev_fit.parse_change("train.models.cross_encoder.label_smoothing=0.1")
    dev_fit.set_key(raw, key, value)
    assert raw["train"]["models"]["cross_encoder"]["label_smoothing"] == 0.1
    assert dev_fit.parse_change("train.models.x.context=true") == ("train.models.x.context", True)
    with pytest.raises(SystemExit, match="no such key"):
        dev_fit.set_key(raw, "train.models.cross_encoder.label_smothing", 0.1)  # a typo
    with pytest.raises(SystemExit, match="no 'modles'"):
        dev_fit.set_key(raw, "train.modles.cross_encoder.label_smoothing", 0.1)
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        dev_fit.parse_change("label_smoothing")


def test_an_ensemble_of_two_runs_is_the_mean_of_their_kept_probabilities(
    tmp_path: Path,
) -> None:
    ids = ["dev:a-1", "dev:a-2", "dev:b-1"]
    labels = pd.DataFrame(
        {
            "paragraph_id": ids,
            "doc_id": ["dev:a", "dev:a", "dev:b"],
            "source": ["A", "A", "B"],
            "text": ["x", "y", "z"],
            "label": ["favor", "against", "none"],
            "provenance": "dev",
        }
    )
    first = np.asarray([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    second = np.asarray([[0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    frame = labels[["paragraph_id", "doc_id", "source"]].assign(gold=labels["label"])
    for name, probabilities in (("one", first), ("two", second)):
        dev_fit.save_probabilities(tmp_path, (name, DevPredictions(frame, probabilities)))
    runs = [{"name": n, "model": "m", "use_press": True, "seconds": 2.0} for n in ("one", "two")]
    (tmp_path / "dev_fit.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")
    params = load_params(REPO / "params.yaml")
    run = dev_fit.ensemble_run(tmp_path, ["one", "two"], labels, params)
    _, kept = run["_predictions"]
    np.testing.assert_allclose(kept.probabilities, (first + second) / 2)
    assert (run["name"], run["members"], run["seconds"]) == ("one + two", ["one", "two"], 4.0)
    assert run["accuracy"] == 1.0  # favor, against, none: each mean's top label is right
    with pytest.raises(SystemExit, match="no run named 'three'"):
        dev_fit.ensemble_run(tmp_path, ["one", "three"], labels, params)


def test_a_refused_value_is_one_line_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["dev_fit.py", "--models", "tfidf_logreg", "--set", "train.models.tfidf_logreg.C=-1"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit, match=r"^--set: params\.yaml: train\.models\.tfidf_logreg\.C: "):
        dev_fit.main()
