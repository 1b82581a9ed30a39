"""The fine-tuned transformer classifier, with a tiny BERT this test builds and saves
itself (MiniLM's tokenizer, one 32-wide layer): no download, a few seconds a fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from pipeline.encoders.base import bundled_encoder_path
from pipeline.errors import InputDataError
from pipeline.models.chunking import pool, sentence_windows
from pipeline.models.transformer_model import TransformerClassifier, balanced_class_weights

LABELS = ("favor", "against", "none")
TEXTS = [
    "Lifting the sanctions would pull Moscow away from Beijing.",
    "A grand bargain could split the two partners apart.",
    "Offer the Kremlin a way back west and the alliance frays.",
    "Détente with Russia is the surest way to isolate China.",
    "Nothing Washington offers will break this partnership.",
    "The two capitals are bound by ideology, not convenience.",
    "Courting Moscow only rewards aggression and changes nothing.",
    "Russia and China will stand together whatever the West does.",
    "The harvest festival drew record crowds this weekend.",
    "Local trains will run on a reduced timetable in August.",
    "The museum reopens after a long renovation of its roof.",
    "Rain is expected across the coast on Thursday evening.",
]
TARGETS = ["favor"] * 4 + ["against"] * 4 + ["none"] * 4
# A high learning rate: the tiny model learns its twelve examples in ten epochs.
SETTINGS = {"epochs": 10.0, "batch_size": 4, "learning_rate": 5e-3, "max_length": 32}
LONG_TEXT = " ".join(
    f"Sentence number {i} argues that lifting sanctions could pull Moscow away from Beijing."
    for i in range(60)
)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised one-layer BERT with MiniLM's tokenizer, saved like a checkpoint."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_encoder_path()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        initializer_range=0.2,  # wide enough that texts differ before any training
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def fitted(encoder: Path, seed: int = 7, **settings: object) -> TransformerClassifier:
    model = TransformerClassifier(
        labels=LABELS, seed=seed, encoder_path=str(encoder), **{**SETTINGS, **settings}
    )
    return model.fit(TEXTS, TARGETS)


@pytest.fixture(scope="module")
def model(tiny_encoder: Path) -> TransformerClassifier:
    return fitted(tiny_encoder)


def test_probabilities_are_distributions_in_label_order(model: TransformerClassifier) -> None:
    probabilities = model.predict_proba(TEXTS[:5])
    assert probabilities.shape == (5, len(LABELS))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities >= 0).all()
    assert list(model.classes_) == list(LABELS)
    assert model.model_.config.id2label == dict(enumerate(LABELS))
    assert model.predict_proba([]).shape == (0, len(LABELS))
    assert model.predict(TEXTS[:2]) == [LABELS[i] for i in probabilities[:2].argmax(axis=1)]


def test_learns_its_training_examples(model: TransformerClassifier) -> None:
    assert np.isfinite(model.training_loss_)
    hits = sum(p == t for p, t in zip(model.predict(TEXTS), TARGETS, strict=True))
    assert hits >= len(TEXTS) - 1


def test_same_seed_same_probabilities(tiny_encoder: Path) -> None:
    first, second = (fitted(tiny_encoder, epochs=1.0) for _ in range(2))
    assert np.array_equal(first.predict_proba(TEXTS), second.predict_proba(TEXTS))


def test_save_load_round_trip_is_exact_and_pickle_free(
    tmp_path: Path, model: TransformerClassifier
) -> None:
    model.save(tmp_path)
    files = {path.name for path in tmp_path.rglob("*") if path.is_file()}
    assert "model.safetensors" in files
    assert not [name for name in files if name.endswith((".bin", ".pkl", ".pt", ".pickle"))]
    loaded = TransformerClassifier.load(
        tmp_path, labels=LABELS, seed=7, encoder_path=None, **SETTINGS
    )
    texts = [*TEXTS, LONG_TEXT]
    assert loaded.max_length_ == model.max_length_ == 32
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))


def test_load_refuses_other_labels(tmp_path: Path, model: TransformerClassifier) -> None:
    model.save(tmp_path)
    with pytest.raises(InputDataError, match="labels"):
        TransformerClassifier.load(tmp_path, labels=("against", "favor", "none"), seed=7)


def test_long_text_is_the_pool_of_its_windows(model: TransformerClassifier) -> None:
    def count(text: str) -> int:
        return len(model.tokenizer_.tokenize(text))

    assert count(LONG_TEXT) > 32
    windows = sentence_windows(LONG_TEXT, count, 32 - 2)
    assert len(windows) > 1
    assert all(count(window) <= 30 for window in windows)
    per_window = model.predict_proba(windows)
    weights = np.asarray([len(window.split()) for window in windows], dtype=np.float64)
    expected = pool(per_window, np.zeros(len(windows), dtype=np.int64), weights, 1)
    assert np.allclose(model.predict_proba([LONG_TEXT]), expected, atol=1e-6)


def test_window_length_defaults_to_the_sentence_transformers_setting(
    tiny_encoder: Path, tmp_path: Path
) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_encoder / name).read_bytes())
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 24}')
    model = TransformerClassifier(
        labels=LABELS, seed=0, encoder_path=str(tmp_path), epochs=0.25, batch_size=4
    ).fit(TEXTS, TARGETS)
    assert model.max_length_ == 24


def test_balanced_class_weights() -> None:
    weights = balanced_class_weights(np.asarray([0, 0, 0, 1]), 3)
    assert np.allclose(weights, [4 / 6, 2.0, 1.0])
