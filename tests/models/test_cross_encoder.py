"""The cross-encoder: the transformer classifier reading (proposition, paragraph) pairs,
with the tiny BERT of test_transformer_model (no download, seconds a fit)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.models.base import Context
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
    encoded = model._encode(["Nothing will break this partnership."], None)
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
    lengths = [len(ids) for ids in model._encode(windows, None)["input_ids"]]
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


WHERE = Context("Power of Siberia 2 stalls", "Energy")


@pytest.fixture(scope="module")
def with_context(tiny_encoder: Path) -> CrossEncoderClassifier:
    model = CrossEncoderClassifier(
        labels=LABELS,
        seed=7,
        encoder_path=str(tiny_encoder),
        proposition=CLAIM,
        context=True,
        **{**SETTINGS, "max_length": 64},
    )
    return model.fit_in_context(TEXTS, TARGETS, [WHERE] * len(TEXTS))


def test_with_context_the_title_and_section_follow_the_claim(
    with_context: CrossEncoderClassifier,
) -> None:
    tokenize = with_context.tokenizer_.tokenize
    (ids,) = with_context._encode(["Gas flows east."], [WHERE])["input_ids"]
    tokens = with_context.tokenizer_.convert_ids_to_tokens(ids)
    where = tokenize("Power of Siberia 2 stalls | Energy")
    window = tokenize("Gas flows east.")
    assert tokens == ["[CLS]", *tokenize(CLAIM), "[SEP]", *where, "[SEP]", *window, "[SEP]"]
    # no context known (a written example): the claim and the window alone
    bare = with_context._encode(["Gas flows east."], [Context()])["input_ids"]
    assert bare == with_context._encode(["Gas flows east."], None)["input_ids"]


def test_context_is_cut_to_its_share_and_windows_still_fit(
    with_context: CrossEncoderClassifier,
) -> None:
    long_title = Context("Sanctions " * 40, "Energy")
    windows, _, _ = with_context._windows([LONG_TEXT])
    encoded = with_context._encode(windows, [long_title] * len(windows))["input_ids"]
    assert max(len(ids) for ids in encoded) <= 64  # no window loses paragraph text
    first = with_context.tokenizer_.convert_ids_to_tokens(encoded[0])
    claim = len(with_context.tokenizer_.tokenize(CLAIM))
    assert first[claim + 2 : claim + 2 + 12] == ["sanctions"] * 12  # 64 // 5 pieces
    assert first[claim + 2 + 12] == "[SEP]"


def test_the_context_reaches_the_prediction_and_must_match_the_texts(
    with_context: CrossEncoderClassifier,
) -> None:
    titled = with_context.predict_proba_in_context(TEXTS, [WHERE] * len(TEXTS))
    other = with_context.predict_proba_in_context(TEXTS, [Context("Harvest festival")] * 12)
    assert not np.allclose(titled, other)
    with pytest.raises(ValueError, match="12 texts but 1 contexts"):
        with_context.predict_proba_in_context(TEXTS, [WHERE])


def test_without_the_setting_context_is_ignored(model: CrossEncoderClassifier) -> None:
    plain = model.predict_proba(TEXTS)
    assert np.array_equal(model.predict_proba_in_context(TEXTS, [WHERE] * len(TEXTS)), plain)


def test_counting_an_overlong_sentence_logs_no_too_long_warning(
    model: CrossEncoderClassifier,
) -> None:
    """The windows cut a long sentence, so transformers' "longer than the maximum"
    warning while counting its pieces would only alarm the user."""
    from transformers.utils import logging as hf_logging

    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    library, handler = hf_logging.get_logger("transformers"), Keep()
    library.addHandler(handler)
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_warning()
    model.tokenizer_.deprecation_warnings.clear()  # transformers warns once per tokenizer
    try:
        unbroken = " ".join(["partnership"] * (model.tokenizer_.model_max_length + 10))
        windows, _, _ = model._windows([unbroken])
    finally:
        library.removeHandler(handler)
        hf_logging.set_verbosity(level)
    assert len(windows) > 1
    assert not [message for message in messages if "longer than the specified" in message]
