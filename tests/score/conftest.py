"""Fixtures for `stance score`: a tiny TF-IDF model saved as `stance train` saves one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models.persist import save_model
from pipeline.models.tfidf_logreg import TfidfLogreg

LABELS = ("favor", "against", "none")
TRAINING = [
    ("Moscow resents its junior partner role and looks for a way out.", "favor"),
    ("Chinese banks refuse Russian payments and the strain shows.", "favor"),
    ("The Kremlin distrusts Beijing and wants other options.", "favor"),
    ("The bond between Russia and China is unbreakable.", "against"),
    ("Moscow depends on Chinese buyers and has no alternative.", "against"),
    ("Putin and Xi praised a friendship stronger than an alliance.", "against"),
    ("The ferry timetable changes in May.", "none"),
    ("Subscribe to our newsletter for more.", "none"),
    ("The weather in Lisbon was mild for the season.", "none"),
]
MODEL_ID = "tfidf_logreg-0123456789"

ARTICLE = (
    "Old Friends\n\n"
    "Russia and China call their bond unbreakable, and the Kremlin depends on Chinese buyers "
    "with no alternative in sight.\n\n"
    "Moscow resents its junior partner role; Chinese banks refuse Russian payments.\n\n"
    "The weather in Lisbon was mild for the season.\n"
)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fitted tfidf_logreg model folder with a card (model.json, card.json, README.md)."""
    texts, labels = zip(*TRAINING, strict=True)
    classifier = TfidfLogreg(labels=LABELS, seed=0).fit(list(texts), list(labels))
    folder = tmp_path_factory.mktemp("models") / "tfidf_logreg"
    card = {"model": "tfidf_logreg", "model_id": MODEL_ID, "labels": list(LABELS)}
    save_model(classifier, folder, temperature=1.0, card=card, readme="# test model\n")
    return folder


def read_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _static_variant(model: str, static: Path, **cascade: object) -> object:
    """An unfitted `model` (static_logreg or a cascade over it) configured like the pipeline's."""
    from pipeline.config import load_params
    from pipeline.models.factory import build_model
    from tests.conftest import REPO

    params = load_params(REPO / "params.yaml")
    models = params.train.models
    models = models.model_copy(update={"cascade": models.cascade.model_copy(update=cascade)})
    return build_model(
        params.model_copy(
            update={
                "paths": params.paths.model_copy(update={"static_encoder": static}),
                "train": params.train.model_copy(update={"model": model, "models": models}),
            }
        )
    )


@pytest.fixture(scope="session")
def tiny_static_logreg(tmp_path_factory: pytest.TempPathFactory, tiny_static_model: Path) -> Path:
    """A static_logreg folder on the tiny distilled model, saved as `stance train` saves one."""
    texts, labels = zip(*TRAINING, strict=True)
    classifier = _static_variant("static_logreg", tiny_static_model).fit(list(texts), list(labels))
    folder = tmp_path_factory.mktemp("models") / "static_logreg"
    card = {
        "model": "static_logreg",
        "model_id": "static_logreg-0123456789",
        "labels": list(LABELS),
    }
    save_model(classifier, folder, temperature=1.0, card=card, readme="# test model\n")
    return folder


@pytest.fixture(scope="session")
def tiny_cascade(tmp_path_factory: pytest.TempPathFactory, tiny_static_model: Path) -> Path:
    """A cascade folder: the tiny static_logreg first, a TF-IDF model for the unsure paragraphs."""
    texts, labels = zip(*TRAINING, strict=True)
    classifier = _static_variant(
        "cascade", tiny_static_model, slow="tfidf_logreg", threshold=0.6
    ).fit(list(texts), list(labels))
    folder = tmp_path_factory.mktemp("models") / "cascade"
    card = {"model": "cascade", "model_id": "cascade-0123456789", "labels": list(LABELS)}
    save_model(classifier, folder, temperature=1.0, card=card, readme="# test model\n")
    return folder


@pytest.fixture
def articles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of two articles, the working folder its parent (no params.yaml there)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "b.md").write_text("# Bridge\n\nThe bridge opened to traffic on Friday.\n")
    monkeypatch.chdir(tmp_path)
    return folder
