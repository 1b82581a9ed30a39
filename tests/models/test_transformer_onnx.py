"""The fine-tuned classifiers on ONNX Runtime against PyTorch, with the tiny BERT of
test_transformer_model: the same probabilities (pairs too), from an export made once,
kept in the cache folder, and rebuilt when damaged."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import pipeline.models.transformer_onnx as transformer_onnx
from pipeline.encoders.base import EncodingOptions
from pipeline.errors import ConfigError
from pipeline.models.cross_encoder import CrossEncoderClassifier
from pipeline.models.transformer_model import TransformerClassifier
from pipeline.models.transformer_onnx import (
    FP32_FILE,
    INT8_FILE,
    MANIFEST_FILE,
    classifier_export_dir,
    is_complete_export,
    network_sha256,
)
from tests.models.test_cross_encoder import CLAIM
from tests.models.test_transformer_model import LABELS, LONG_TEXT, SETTINGS, TARGETS, TEXTS
from tests.models.test_transformer_model import tiny_encoder as tiny_encoder

# Short texts, one text of many windows, and texts the model never saw.
TEXTS_TO_SCORE = [
    *TEXTS,
    LONG_TEXT,
    "Moscow and Beijing drift apart.",
    "The bakery on the corner closes early on Sundays.",
]


@pytest.fixture(scope="module")
def transformer(tiny_encoder: Path) -> TransformerClassifier:
    model = TransformerClassifier(labels=LABELS, seed=7, encoder_path=str(tiny_encoder), **SETTINGS)
    return model.fit(TEXTS, TARGETS)


@pytest.fixture(scope="module")
def cross_encoder(tiny_encoder: Path) -> CrossEncoderClassifier:
    model = CrossEncoderClassifier(
        labels=LABELS,
        seed=7,
        encoder_path=str(tiny_encoder),
        proposition=CLAIM,
        **{**SETTINGS, "max_length": 48},
    )
    return model.fit(TEXTS, TARGETS)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def scored(
    model: TransformerClassifier, backend: str, cache_root: Path, texts: Sequence[str]
) -> np.ndarray:
    """Probabilities of `texts` with the encoding backend `backend`, exports in `cache_root`."""
    previous = model.encoding
    model.encoding = EncodingOptions(backend=backend, cache_dir=cache_root)
    try:
        return model.predict_proba(list(texts))
    finally:
        model.encoding = previous


def export_dir_of(model: TransformerClassifier, cache_root: Path) -> Path:
    return classifier_export_dir(cache_root, network_sha256(model.model_))


@pytest.mark.parametrize("name", ["transformer", "cross_encoder"])
def test_fp32_gives_the_probabilities_of_pytorch(
    name: str, cache_root: Path, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(name)
    reference = model.predict_proba(TEXTS_TO_SCORE)
    probabilities = scored(model, "onnx", cache_root, TEXTS_TO_SCORE)
    assert model._onnx.network is model.model_  # the ONNX path ran, not PyTorch
    assert probabilities.shape == (len(TEXTS_TO_SCORE), len(LABELS))
    np.testing.assert_allclose(probabilities, reference, atol=1e-4, rtol=0)
    assert is_complete_export(export_dir_of(model, cache_root), network_sha256(model.model_))


def test_the_cross_encoder_feeds_the_pairs(
    cross_encoder: CrossEncoderClassifier, cache_root: Path
) -> None:
    other = CrossEncoderClassifier(**{**cross_encoder.get_params(), "proposition": "Rain falls"})
    other.tokenizer_, other.model_, other.max_length_ = (
        cross_encoder.tokenizer_,
        cross_encoder.model_,
        cross_encoder.max_length_,
    )
    claim = scored(cross_encoder, "onnx", cache_root, TEXTS)
    rain = scored(other, "onnx", cache_root, TEXTS)
    assert not np.allclose(claim, rain, atol=1e-3)  # the claim is part of every input
    np.testing.assert_allclose(rain, other.predict_proba(TEXTS), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", ["transformer", "cross_encoder"])
def test_int8_gives_probabilities_close_to_the_float_model(
    name: str, cache_root: Path, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(name)
    reference = model.predict_proba(TEXTS_TO_SCORE)
    probabilities = scored(model, "onnx-int8", cache_root, TEXTS_TO_SCORE)
    assert probabilities.shape == reference.shape
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    agree = (probabilities.argmax(axis=1) == reference.argmax(axis=1)).mean()
    assert agree >= 0.8  # int8 bits differ across CPUs; the decisions mostly do not


def test_torch_stays_the_default(tiny_encoder: Path) -> None:
    model = TransformerClassifier(
        labels=LABELS, seed=7, encoder_path=str(tiny_encoder), **{**SETTINGS, "epochs": 1.0}
    ).fit(TEXTS, TARGETS)
    model.predict_proba(TEXTS[:2])
    assert getattr(model, "_onnx", None) is None


def test_the_export_is_reused_from_the_cache(
    transformer: TransformerClassifier,
    cache_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = scored(transformer, "onnx", cache_root, TEXTS)
    export_dir = export_dir_of(transformer, cache_root)
    stamps = {name: (export_dir / name).stat().st_mtime_ns for name in (FP32_FILE, INT8_FILE)}

    def no_second_export(*args: object) -> None:
        raise AssertionError("the export was rebuilt")

    monkeypatch.setattr(transformer_onnx, "_build_export", no_second_export)
    transformer.save(tmp_path)  # a saved and reloaded model has the same weights
    loaded = TransformerClassifier.load(
        tmp_path, labels=LABELS, seed=7, encoder_path=None, **SETTINGS
    )
    assert network_sha256(loaded.model_) == network_sha256(transformer.model_)
    np.testing.assert_allclose(scored(loaded, "onnx", cache_root, TEXTS), first, atol=1e-6)
    scored(loaded, "onnx-int8", cache_root, TEXTS)
    assert {name: (export_dir / name).stat().st_mtime_ns for name in stamps} == stamps
    assert not [p for p in export_dir.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["truncated graph", "no manifest", "other weights"])
def test_a_damaged_export_is_rebuilt(
    transformer: TransformerClassifier, tmp_path: Path, damage: str
) -> None:
    reference = scored(transformer, "onnx", tmp_path, TEXTS)
    export_dir = export_dir_of(transformer, tmp_path)
    manifest_file = export_dir / MANIFEST_FILE
    if damage == "truncated graph":
        graph = export_dir / FP32_FILE
        graph.write_bytes(graph.read_bytes()[:1000])
    elif damage == "no manifest":
        manifest_file.unlink()
    else:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        manifest_file.write_text(json.dumps({**manifest, "weights_sha256": "0" * 64}))
    transformer._onnx = None  # a new process: nothing opened yet
    np.testing.assert_allclose(scored(transformer, "onnx", tmp_path, TEXTS), reference, atol=1e-6)
    assert is_complete_export(export_dir, network_sha256(transformer.model_))
    assert [p.name for p in export_dir.parent.iterdir()] == [export_dir.name]


@pytest.mark.parametrize("package", ["onnxruntime", "optimum.exporters.onnx"])
def test_missing_onnx_packages_are_a_config_error(
    transformer: TransformerClassifier,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: str,
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # makes importing it fail
    with pytest.raises(ConfigError, match="needs onnxruntime and optimum: install the `onnx`"):
        scored(transformer, "onnx", tmp_path, TEXTS)
    assert not (tmp_path / "onnx-classifier").exists()
