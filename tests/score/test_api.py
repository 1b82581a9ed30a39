"""The Python API: `StanceModel.load(folder).score_text(text)` and `score_files`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import pipeline
from pipeline.errors import DocumentError, InputDataError
from pipeline.models.persist import load_model
from pipeline.report.index import bootstrap_interval, group_seed
from pipeline.score.model import StanceModel
from tests.conftest import write_params
from tests.label.conftest import update_params
from tests.score.conftest import ARTICLE, MODEL_ID


@pytest.fixture(scope="module")
def model(tiny_model: Path) -> StanceModel:
    return StanceModel.load(tiny_model)


def test_score_text_labels_paragraphs_and_the_article(model: StanceModel) -> None:
    scored = model.score_text(ARTICLE)
    assert scored.title == "Old Friends" and scored.source == "unknown:text"
    assert scored.n_paragraphs == 3
    assert [p.position for p in scored.paragraphs] == [0, 1, 2]
    assert all(p.paragraph_id.startswith("text:") for p in scored.paragraphs)
    for paragraph in scored.paragraphs:
        assert set(paragraph.probs) == {"favor", "against", "none"}
        assert sum(paragraph.probs.values()) == pytest.approx(1, abs=1e-3)
        assert paragraph.label == max(paragraph.probs, key=paragraph.probs.get)
    assert scored.ci_low <= scored.stance_index <= scored.ci_high
    assert -1 <= scored.stance_index <= 1


def test_probabilities_are_the_saved_models(model: StanceModel, tiny_model: Path) -> None:
    scored = model.score_text(ARTICLE)
    expected = load_model(tiny_model).predict_proba([p.text for p in scored.paragraphs])
    got = np.asarray([[p.probs[label] for label in model.labels] for p in scored.paragraphs])
    assert np.allclose(got, expected, atol=1e-4)


def test_same_text_same_ids_and_scores(model: StanceModel) -> None:
    assert model.score_text(ARTICLE, doc_id="a") == model.score_text(ARTICLE, doc_id="a")
    moved = model.score_text(ARTICLE, doc_id="b")
    assert all(p.paragraph_id.startswith("b:") for p in moved.paragraphs)


def test_model_info_names_the_model(model: StanceModel, tiny_model: Path) -> None:
    card_hash = hashlib.sha256((tiny_model / "card.json").read_bytes()).hexdigest()
    assert model.info.record() == {
        "type": "model",
        "name": "tfidf_logreg",
        "version": MODEL_ID,
        "card_hash": card_hash,
    }


def test_nothing_to_score_is_a_document_error(model: StanceModel) -> None:
    with pytest.raises(DocumentError, match="no article text"):
        model.score_text("Subscribe to our newsletter")


def test_score_files_reports_failures(model: StanceModel, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x00\x01binary")
    result = model.score_files([tmp_path], source="Outlet")
    assert [d.doc_id for d in result.documents] == ["a"]
    assert result.documents[0].source == "Outlet"
    assert len(result.failed) == 1 and "b.txt: binary file" in result.failed[0]


def test_bootstrap_seed_comes_from_params(tiny_model: Path, tmp_path: Path) -> None:
    params = update_params(
        write_params(tmp_path), **{"report.seed": 99, "report.bootstrap_samples": 300}
    )
    scored = StanceModel.load(tiny_model, params=params).score_text(ARTICLE, doc_id="doc")
    stance = np.asarray([p.probs["favor"] - p.probs["against"] for p in scored.paragraphs])
    low, high = bootstrap_interval(stance, samples=300, confidence=0.95, seed=group_seed(99, "doc"))
    assert scored.ci_low == pytest.approx(low, abs=2e-4)
    assert scored.ci_high == pytest.approx(high, abs=2e-4)


def test_load_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="model folder not found"):
        StanceModel.load(tmp_path / "nope")
    with pytest.raises(InputDataError, match="not a stance model folder"):
        StanceModel.load(tmp_path)


def test_the_package_exports_stance_model_lazily() -> None:
    assert pipeline.StanceModel is StanceModel
    with pytest.raises(AttributeError):
        _ = pipeline.NoSuchThing
