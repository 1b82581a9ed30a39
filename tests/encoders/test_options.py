"""Encoding options reach a classifier explicitly: through its constructor, to every part
of a composite model, and never into the settings it saves or that name its model id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.encoders import factory
from pipeline.encoders.base import EncodingOptions
from pipeline.encoders.cache import EmbeddingCache
from pipeline.models.ensemble import EnsembleClassifier
from tests.encoders.test_cache import CountingEncoder

LABELS = ("favor", "against", "none")
TEXTS = ["we favour a deal", "we reject the deal", "the weather is mild"] * 2
TARGETS = ["favor", "against", "none"] * 2
INT8 = EncodingOptions(backend="onnx-int8", cache=False)
ONNX = EncodingOptions(backend="onnx", cache=False)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[EncodingOptions]:
    """The options each embedding lookup of a model asks the shared caches for."""
    seen: list[EncodingOptions] = []

    def get(encoder_path: str | None, options: EncodingOptions) -> EmbeddingCache:
        seen.append(options)
        return EmbeddingCache(CountingEncoder())

    monkeypatch.setattr(factory.EMBEDDINGS, "get", get)
    return seen


def ensemble(encoding: EncodingOptions | None) -> EnsembleClassifier:
    return EnsembleClassifier(
        labels=LABELS,
        seed=1,
        encoding=encoding,
        members=["embed_logreg", "tfidf_logreg"],
        weights=[],
        member_settings={"embed_logreg": {"encoder_path": None}, "tfidf_logreg": {}},
    )


def test_every_member_encodes_with_the_options_the_model_was_given(asked) -> None:
    model = ensemble(INT8).fit(TEXTS, TARGETS)
    assert [member.encoding for member in model.members_] == [INT8, INT8]
    probabilities = model.predict_proba(TEXTS[:2])
    assert probabilities.shape == (2, 3)
    assert asked and set(asked) == {INT8}


def test_a_loaded_model_encodes_with_the_options_given_to_load(asked, tmp_path: Path) -> None:
    trained = ensemble(INT8).fit(TEXTS, TARGETS)
    trained.save(tmp_path)
    settings = trained.saved_settings()
    assert "encoding" not in settings and "encoding" not in settings["member_settings"]
    expected = trained.predict_proba(TEXTS)
    loaded = EnsembleClassifier.load(tmp_path, labels=LABELS, seed=1, encoding=ONNX, **settings)
    asked.clear()
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected)
    assert [member.encoding for member in loaded.members_] == [ONNX, ONNX]
    assert asked and set(asked) == {ONNX}


def test_no_options_means_the_defaults(asked) -> None:
    model = ensemble(None).fit(TEXTS, TARGETS)
    assert model.encoding is None and model.encoding_options == EncodingOptions()
    assert set(asked) == {EncodingOptions()}
    assert "encoding" not in model.get_params()  # what a card records stays the same
