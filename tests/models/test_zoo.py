"""Every registered model honours the interface: probabilities in label order, a safe
save/load round trip, and no pickle. Transformer-based models have their own tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_params
from pipeline.errors import InputDataError
from pipeline.models.factory import build_model
from pipeline.models.persist import load_model, save_model
from pipeline.models.registry import MODELS, model_class
from tests.conftest import REPO

PARAMS = load_params(REPO / "params.yaml")
LABELS = list(PARAMS.labels)


def written_examples(per_label: int) -> tuple[list[str], list[str]]:
    lines = PARAMS.paths.synthetic.read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines]
    chosen = [
        e for label in LABELS for e in [x for x in examples if x["label"] == label][:per_label]
    ]
    return [e["text"] for e in chosen], [e["label"] for e in chosen]


QUICK = ["tfidf_logreg"]
WITH_ENCODER = [
    pytest.param(name, marks=pytest.mark.slow) for name in ("embed_logreg", "hybrid_logreg")
]


@pytest.mark.parametrize("name", QUICK + WITH_ENCODER)
def test_interface_and_safe_round_trip(name: str, tmp_path: Path) -> None:
    texts, labels = written_examples(12)
    model = build_model(
        PARAMS.model_copy(update={"train": PARAMS.train.model_copy(update={"model": name})})
    )
    assert model.fit(texts, labels) is model
    probabilities = model.predict_proba([*texts[:5], "A sentence nobody wrote before."])
    assert probabilities.shape == (6, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert list(model.classes_) == LABELS
    assert model.predict(texts[:2]) == [LABELS[i] for i in probabilities[:2].argmax(axis=1)]

    folder = tmp_path / name
    save_model(model, folder, temperature=1.5, card={"model": name}, readme="# card\n")
    assert not [p for p in folder.rglob("*") if p.suffix in {".pkl", ".pickle", ".joblib", ".bin"}]
    # Nothing machine-specific: the same model saved elsewhere gives the same files.
    assert str(REPO) not in (folder / "model.json").read_text(encoding="utf-8")
    if name == "hybrid_logreg":  # its word n-gram vocabulary is saved beside the weights
        assert (folder / "tfidf.skops").is_file()
    loaded = load_model(folder)
    assert loaded.temperature == 1.5 and loaded.card == {"model": name}
    np.testing.assert_allclose(loaded.classifier.predict_proba(texts[:5]), probabilities[:5])


def test_a_class_missing_from_training_gets_zero_probability() -> None:
    texts, labels = written_examples(6)
    keep = [i for i, label in enumerate(labels) if label != "against"]
    model = model_class("tfidf_logreg")(labels=LABELS).fit(
        [texts[i] for i in keep], [labels[i] for i in keep]
    )
    assert (model.predict_proba(texts)[:, LABELS.index("against")] == 0).all()


def test_bad_training_input_is_a_bug_with_a_clear_message() -> None:
    model = model_class("tfidf_logreg")(labels=LABELS)
    with pytest.raises(ValueError, match="unknown label 'maybe'"):
        model.fit(["a text"], ["maybe"])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        model.fit(["a", "b"], ["none"])


def test_loading_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not a stance model folder"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text('{"format_version": 1, "model": "pickle_jar"}')
    with pytest.raises(InputDataError, match="unsupported model format"):
        load_model(tmp_path)


def test_tampered_skops_file_is_refused(tmp_path: Path) -> None:
    texts, labels = written_examples(6)
    model = model_class("tfidf_logreg")(labels=LABELS).fit(texts, labels)
    save_model(model, tmp_path / "m", temperature=1.0, card={}, readme="")
    # A skops file that would call a function outside the trusted set must not load.
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump(FunctionTransformer(func=os.getcwd), tmp_path / "m" / "pipeline.skops")
    with pytest.raises(InputDataError, match="refusing to load untrusted types"):
        load_model(tmp_path / "m")


def test_registry_names_match_params() -> None:
    assert set(MODELS) == set(PARAMS.train.models.model_dump())


def test_saved_model_folders_are_byte_reproducible(tmp_path: Path) -> None:
    """Two fits on the same data save identical files, so DVC sees the same output."""
    texts, labels = written_examples(8)
    folders = []
    for run in ("first", "second"):
        model = model_class("tfidf_logreg")(labels=LABELS, seed=3).fit(texts, labels)
        save_model(model, tmp_path / run, temperature=1.0, card={"run": 1}, readme="# card\n")
        folders.append(tmp_path / run)
    files = sorted(p.name for p in folders[0].iterdir())
    assert files == sorted(p.name for p in folders[1].iterdir())
    for name in files:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_saved_vectorizers_do_not_depend_on_the_process(tmp_path: Path) -> None:
    """scikit-learn caches id(stop_words), a memory address, on text vectorizers;
    saved files must not carry it, or every fresh process writes different bytes."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from pipeline.models.safe_io import dump_estimator, load_estimator

    texts, _ = written_examples(8)
    vectorizer = TfidfVectorizer(min_df=2).fit(texts)
    dump_estimator(vectorizer, tmp_path / "a.skops")
    vectorizer._stop_words_id = 12345  # what another process would have cached
    dump_estimator(vectorizer, tmp_path / "b.skops")
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()
    assert vectorizer._stop_words_id == 12345  # the fitted object itself is untouched
    loaded = load_estimator(tmp_path / "a.skops")
    assert (loaded.transform(texts[:3]) != vectorizer.transform(texts[:3])).nnz == 0
