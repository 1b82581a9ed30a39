"""`stance evaluate` and `stance train` on a small annotated corpus (TF-IDF model: fast)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.evaluate.stage import run_evaluate
from pipeline.label.stage import run_label
from pipeline.models.persist import load_model
from pipeline.train.stage import run_train
from tests.conftest import run_module
from tests.label.conftest import (  # the fixture is shared with the label tests
    BagOfWordsEncoder,
    annotated_corpus,  # noqa: F401
    update_params,
)


@pytest.fixture
def labelled(annotated_corpus: Callable[..., Params]) -> Params:  # noqa: F811
    params = annotated_corpus(**{"train.model": "tfidf_logreg"})
    run_label(params, encoder=BagOfWordsEncoder())
    return params


def test_evaluate_writes_predictions_metrics_and_plots(labelled: Params) -> None:
    metrics = run_evaluate(labelled)
    oof = pd.read_parquet(labelled.paths.oof)
    gold = pd.read_parquet(labelled.paths.labels).query("provenance == 'gold'")
    assert sorted(oof.paragraph_id) == sorted(gold.paragraph_id)
    assert {"model_id", "gold", "label", "prob_favor", "raw_prob_none"} <= set(oof.columns)
    assert set(oof.model_id) == {metrics["model_id"]}
    assert oof[["prob_favor", "prob_against", "prob_none"]].sum(axis=1).round(6).eq(1).all()
    stored = json.loads(labelled.paths.eval_metrics.read_text(encoding="utf-8"))
    assert stored == metrics
    for key in ("macro_f1", "f_avg", "accuracy", "brier", "ece", "per_class", "per_source"):
        assert key in stored
    assert "seconds" not in json.dumps(stored)  # timings would break reproducibility
    confusion = pd.read_csv(labelled.paths.plots / "confusion.csv")
    assert list(confusion.columns) == ["actual", "predicted"] and len(confusion) == len(oof)
    assert (labelled.paths.plots / "reliability.csv").is_file()


def test_evaluate_twice_gives_identical_files(labelled: Params) -> None:
    run_evaluate(labelled)
    first = [p.read_bytes() for p in (labelled.paths.oof, labelled.paths.eval_metrics)]
    run_evaluate(labelled)
    assert [p.read_bytes() for p in (labelled.paths.oof, labelled.paths.eval_metrics)] == first


def test_train_saves_a_loadable_model_with_its_card(labelled: Params) -> None:
    metrics = run_evaluate(labelled)
    folder = run_train(labelled)
    assert folder == labelled.paths.models / "tfidf_logreg"
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    assert card["grouped_cv"] == metrics
    assert card["proposition"]["id"] == labelled.proposition.id
    assert card["labels"] == list(labelled.labels)
    assert len(card["training"]["data_sha256"]) == 64
    assert card["training"]["by_provenance"] == {"gold": 2, "synthetic": 3} or (
        set(card["training"]["by_provenance"]) <= {"gold", "synthetic", "weak"}
    )
    assert card["libraries"]["scikit-learn"]
    assert "Grouped evaluation" in (folder / "README.md").read_text(encoding="utf-8")
    model = load_model(folder)
    assert model.temperature == card["temperature"]
    probabilities = model.predict_proba(["Moscow resents Beijing.", "Sign up now."])
    assert probabilities.shape == (2, 3)


def test_train_refuses_stale_evaluation(labelled: Params) -> None:
    with pytest.raises(InputDataError, match=r"eval.json: not found; run `stance evaluate`"):
        run_train(labelled)
    run_evaluate(labelled)
    changed = update_params(
        labelled.paths.paragraphs.parents[1] / "params.yaml",
        **{"train.models.tfidf_logreg.C": 0.5},
    )
    with pytest.raises(InputDataError, match=r"metrics are for tfidf_logreg-\w+, not"):
        run_train(changed)


def test_train_keeps_the_out_of_fold_predictions_with_their_text(labelled: Params) -> None:
    run_evaluate(labelled)
    kept = pd.read_parquet(run_train(labelled) / "oof.parquet")
    oof = pd.read_parquet(labelled.paths.oof)
    labels = pd.read_parquet(labelled.paths.labels).set_index("paragraph_id")
    assert list(kept["paragraph_id"]) == list(oof["paragraph_id"])
    assert list(kept["text"]) == list(labels.loc[kept["paragraph_id"], "text"])
    assert kept.drop(columns="text").equals(oof)


def test_train_refuses_predictions_of_paragraphs_it_cannot_find(labelled: Params) -> None:
    run_evaluate(labelled)
    oof = pd.read_parquet(labelled.paths.oof)
    oof.loc[0, "paragraph_id"] = "gone:000000000000"
    oof.to_parquet(labelled.paths.oof, index=False)
    with pytest.raises(InputDataError, match=r"oof.parquet: 1 paragraphs are not in .*labels"):
        run_train(labelled)


def test_cli_without_labels_says_what_to_run(labelled: Params) -> None:
    labelled.paths.labels.unlink()
    folder = labelled.paths.paragraphs.parents[1]
    done = run_module("pipeline", "evaluate", "-p", str(folder / "params.yaml"), cwd=folder)
    assert done.returncode == 3
    assert "labels.parquet: not found; run `stance label`" in done.stderr
    assert "Traceback" not in done.stderr
