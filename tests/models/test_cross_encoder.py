"""The cross-encoder: the transformer classifier reading (proposition, paragraph) pairs,
with the tiny BERT of test_transformer_model (no download, seconds a fit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.models.cross_encoder import CrossEncoderClassifier
from tests.models.test_transformer_model import LABELS, LONG_TEXT, SETTINGS, TARGETS, TEXTS
from tests.models.test_transformer_model import tiny_encoder as tiny_encoder

CLAIM = "Russia can be pulled away from China"


def fitted(encoder: Path, claim: str = CLAIM, **settings: object) -> CrossEncoderClassifier:
    model = CrossEncoderClassifier(
        labels=LABELS,
        seed=7,
        encoder_path=str(encoder),
        proposition=claim,
        **{**SETTINGS, "max_length": 48, **settings},
    )
    return model.fit(TEXTS, TARGETS)


@pytest.fixture(scope="module")
def model(tiny_encoder: Path) -> CrossEncoderClassifier:
    return fitted(tiny_encoder)


def test_every_window_is_the_claim_then_the_paragraph(model: CrossEncoderClassifier) -> None:
    encoded = model._encode(["Nothing will break this partnership."])
    tokens = model.tokenizer_.convert_ids_to_tokens(encoded["input_ids"][0])
    claim = model.tokenizer_.tokenize(CLAIM)
    assert tokens[: len(claim) + 2] == ["[CLS]", *claim, "[SEP]"]
    assert tokens[len(claim) + 2 : -1] == model.tokenizer_.tokenize(
        "Nothing will break this partnership."
    )
    assert set(encoded["token_type_ids"][0][len(claim) + 2 :]) == {1}


def test_long_paragraphs_fit_their_windows_beside_the_claim(model: CrossEncoderClassifier) -> None:
    windows, owners, _ = model._windows([LONG_TEXT])
    assert len(windows) > 1 and set(owners) == {0}
    lengths = [len(ids) for ids in model._encode(windows)["input_ids"]]
    assert max(lengths) <= 48  # nothing of a window is cut off


def test_learns_and_round_trips(tmp_path: Path, model: CrossEncoderClassifier) -> None:
    hits = sum(p == t for p, t in zip(model.predict(TEXTS), TARGETS, strict=True))
    assert hits >= len(TEXTS) - 1
    model.save(tmp_path)
    loaded = CrossEncoderClassifier.load(
        tmp_path, labels=LABELS, seed=7, encoder_path=None, proposition=CLAIM, **SETTINGS
    )
    assert np.array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_the_claim_changes_the_prediction(tiny_encoder: Path) -> None:
    model = fitted(tiny_encoder, epochs=1.0)
    other = model.__class__(**{**model.get_params(), "proposition": "The harvest was good"})
    other.tokenizer_, other.model_, other.max_length_ = (
        model.tokenizer_,
        model.model_,
        model.max_length_,
    )
    assert not np.allclose(model.predict_proba(TEXTS), other.predict_proba(TEXTS))


@pytest.mark.parametrize("claim", ["", "   "])
def test_a_missing_claim_is_a_config_error(tiny_encoder: Path, claim: str) -> None:
    with pytest.raises(ConfigError, match=r"proposition\.text"):
        fitted(tiny_encoder, claim=claim)


def test_a_claim_that_leaves_no_room_is_a_config_error(tiny_encoder: Path) -> None:
    with pytest.raises(ConfigError, match="shorten"):
        fitted(tiny_encoder, claim="word " * 40)
