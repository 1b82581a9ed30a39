"""Versions named by git revision or DVC experiment, read without touching the workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.compare.versions import load_version, revision_settings
from pipeline.errors import InputDataError
from tests.compare.conftest import MODEL_A, MODEL_B, build_model, git, stance
from tests.conftest import write_params


def _new_repo(root: Path) -> Path:
    """An empty git repo with a params.yaml whose `train.model` is tfidf_logreg."""
    root.mkdir()
    git(root, "init", "--quiet")
    params = yaml.safe_load(write_params(root).read_text(encoding="utf-8"))
    params["train"]["model"] = "tfidf_logreg"
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    (root / "README.md").write_text("A project for tests.\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repo with model A committed, then model B (plain git files, no DVC)."""
    root = _new_repo(tmp_path_factory.mktemp("history") / "project")
    for number, model in enumerate((MODEL_A, MODEL_B), start=1):
        build_model(root / "models" / "tfidf_logreg", **model)
        git(root, "add", "-A")
        git(root, "commit", "--quiet", "-m", f"model {number}")
    return root


def test_compare_two_revisions_from_inside_the_repo(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history)
    code, out, err = stance("compare", "HEAD~1", "HEAD", "--format", "json")
    assert code == 0, err
    record = json.loads(out)
    a, b = record["versions"]
    assert (a["name"], a["model_id"]) == ("HEAD~1", MODEL_A["model_id"])
    assert (b["name"], b["model_id"]) == ("HEAD", MODEL_B["model_id"])
    assert a["origin"].startswith("revision ") and b["origin"].startswith("revision ")
    assert record["comparisons"][0]["flip_counts"] == {"fixed": 2, "broke": 1, "changed": 0}
    assert git(history, "status", "--porcelain") == ""


def test_a_dvc_experiment_name_is_its_commit(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history)
    first = git(history, "rev-parse", "HEAD~1")
    git(history, "update-ref", "refs/exps/ab/cdef0123456789/lower-c", first)
    a = load_version("lower-c")
    assert a.origin == f"experiment lower-c ({first[:8]})"
    assert a.model_id == MODEL_A["model_id"]


def test_an_older_revision_reads_the_evaluate_stage_predictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: tuple[Path, Path]
) -> None:
    """Before models kept oof.parquet: paths.oof (no text) joined with paths.labels."""
    root = _new_repo(tmp_path / "old")
    oof = build_model(root / "models" / "tfidf_logreg", **MODEL_B, with_out_of_fold=False)
    (root / "data" / "predictions").mkdir(parents=True)
    oof.drop(columns="text").to_parquet(root / "data" / "predictions" / "oof.parquet")
    labels = oof[["paragraph_id", "source", "text"]].assign(label=oof["gold"])
    labels.to_parquet(root / "data" / "labels.parquet")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "old layout")
    monkeypatch.chdir(root)
    code, out, err = stance("compare", "HEAD", str(models[1]), "-f", "json")
    assert code == 0, err
    comparison = json.loads(out)["comparisons"][0]
    assert comparison["flips"] == []
    assert comparison["macro_f1_difference"]["estimate"] == 0.0


def test_a_revision_without_a_model_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _new_repo(tmp_path / "empty")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "params only")
    monkeypatch.chdir(root)
    with pytest.raises(InputDataError, match=r"^HEAD: revision \w{8} has no trained model"):
        load_version("HEAD")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside `dvc add`, not ours
def test_dvc_outputs_come_from_the_cache_or_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: tuple[Path, Path]
) -> None:
    from dvc.repo import Repo

    root = _new_repo(tmp_path / "dvc")
    build_model(root / "models" / "tfidf_logreg", **MODEL_A)
    repo = Repo.init(str(root))
    repo.add(str(root / "models" / "tfidf_logreg"))
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "model tracked by DVC")
    monkeypatch.chdir(root)
    version = load_version("HEAD")
    assert version.model_id == MODEL_A["model_id"]
    pd.testing.assert_frame_equal(version.predictions, load_version(str(models[0])).predictions)

    shutil.rmtree(root / ".dvc" / "cache")
    with pytest.raises(InputDataError) as error:
        load_version("HEAD")
    assert "is not in the local DVC cache" in str(error.value)
    assert str(error.value).startswith("HEAD: models/tfidf_logreg/card.json of revision ")


def test_an_older_params_file_is_read_tolerantly() -> None:
    """Only the keys that locate the model are read; unknown ones and gaps are no obstacle."""
    old = yaml.safe_dump({"paths": {"models": "trained"}, "train": {"retired_option": 1}})
    assert revision_settings(old.encode(), name="v1") == {
        "models": "trained",
        "model": "hybrid_logreg",
        "oof": "data/predictions/oof.parquet",
        "labels": "data/labels.parquet",
    }
    with pytest.raises(InputDataError, match=r"^v1: params\.yaml: not valid YAML$"):
        revision_settings(b"paths: [", name="v1")
