"""The encoder's disk cache, the bounded in-memory cache and the backend choice."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import encoder as encoder_module
from pipeline.embedding_store import EmbeddingStore
from pipeline.encoder import (
    CachedEncoder,
    EncodingOptions,
    SentenceEncoder,
    by_length,
    configure_encoding,
    encoding_options,
    make_encoder,
)
from pipeline.models.embed_logreg import EmbeddingCache


class CountingEncoder:
    """A deterministic stand-in encoder that records every text it is asked to encode."""

    model_id = "counting/test"
    max_seq_length = 64

    def __init__(self) -> None:
        self.seen: list[str] = []

    def tokenizer(self):
        def tokenize(text: str | list[str], **_: object) -> dict:
            if isinstance(text, list):  # a batch, as Hugging Face tokenizers take it
                return {"input_ids": [one.split() for one in text]}
            return {"input_ids": text.split()}

        return tokenize

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        vectors = np.zeros((len(texts), 4), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row] = [len(text), text.count("a"), text.count("e"), 1.0]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


@pytest.fixture
def restore_options():
    saved = encoding_options()
    yield
    configure_encoding(saved)


def test_cached_encoder_encodes_each_text_once_across_instances(tmp_path: Path) -> None:
    texts = ["alpha beta", "gamma", "alpha beta", "delta epsilon zeta"]
    first_inner = CountingEncoder()
    first = CachedEncoder(first_inner, EmbeddingStore(tmp_path / "e.sqlite")).encode(texts)
    assert first_inner.seen == ["alpha beta", "gamma", "delta epsilon zeta"]  # duplicates once

    second_inner = CountingEncoder()
    again = CachedEncoder(second_inner, EmbeddingStore(tmp_path / "e.sqlite"))
    mixed = ["gamma", "a new text", "alpha beta"]
    result = again.encode(mixed)
    assert second_inner.seen == ["a new text"]  # the rest came from disk
    np.testing.assert_array_equal(result, CountingEncoder().encode(mixed))
    np.testing.assert_array_equal(first, CountingEncoder().encode(texts))


def test_cached_encoder_keys_by_model_id(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path / "e.sqlite")
    CachedEncoder(CountingEncoder(), store).encode(["same text"])
    other = CountingEncoder()
    other.model_id = "counting/other-weights"
    CachedEncoder(other, store).encode(["same text"])
    assert other.seen == ["same text"]  # another encoder's vector is never reused


def test_memory_cache_is_bounded_and_keeps_recent_texts() -> None:
    inner = CountingEncoder()
    cache = EmbeddingCache(inner, max_texts=3)
    cache.embed(["one a", "two b", "three c"])
    cache.embed(["one a"])  # now the most recently used
    cache.embed(["four d"])  # evicts the least recently used: "two b"
    assert len(cache._vectors) == 3
    inner.seen.clear()
    cache.embed(["one a", "two b"])
    assert inner.seen == ["two b"]


def test_memory_cache_returns_rows_in_input_order() -> None:
    cache = EmbeddingCache(CountingEncoder(), max_texts=2)
    texts = ["x a a", "y e", "z", "x a a", "w e e e"]  # more distinct texts than it keeps
    vectors = cache.embed(texts)
    expected = np.stack([cache.embed([text])[0] for text in texts])
    np.testing.assert_allclose(vectors, expected)
    np.testing.assert_array_equal(vectors[0], vectors[3])


def test_by_length_puts_similar_lengths_together() -> None:
    texts = ["bb", "a", "dddd", "ccc"]
    assert [texts[i] for i in by_length(texts)] == ["dddd", "ccc", "bb", "a"]


def test_make_encoder_follows_the_configured_options(tmp_path: Path, restore_options) -> None:
    configure_encoding(EncodingOptions(cache=True, cache_dir=tmp_path))
    cached = make_encoder()
    assert isinstance(cached, CachedEncoder)
    assert cached.store.path == tmp_path / "embeddings.sqlite"
    assert cached.model_id.endswith("/torch")
    configure_encoding(EncodingOptions(cache=False))
    assert isinstance(make_encoder(), SentenceEncoder)


def test_onnx_backend_falls_back_to_torch_with_a_warning(
    tmp_path: Path, restore_options, monkeypatch, caplog
) -> None:
    monkeypatch.setitem(sys.modules, "pipeline.onnx_encoder", None)  # import fails
    configure_encoding(EncodingOptions(backend="onnx-int8", cache=False, cache_dir=tmp_path))
    with caplog.at_level(logging.WARNING, logger=encoder_module.__name__):
        chosen = make_encoder()
    assert isinstance(chosen, SentenceEncoder)
    assert "onnx-int8 unavailable" in caplog.text and "PyTorch" in caplog.text


class RecordingModel:
    """A stand-in trained model that records the encoding options it predicts under."""

    labels = ("favor", "against", "none")

    def __init__(self) -> None:
        self.backends: list[str] = []

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.backends.append(encoding_options().backend)
        return np.full((len(texts), 3), 1 / 3)


def test_each_loaded_model_predicts_with_its_own_backend(restore_options) -> None:
    from pipeline.score.model import ModelInfo, StanceModel

    info = ModelInfo("stand-in", None, None)
    fast = StanceModel(RecordingModel(), info, encoding=EncodingOptions(backend="onnx-int8"))
    plain = StanceModel(RecordingModel(), info, encoding=EncodingOptions(backend="torch"))
    configure_encoding(EncodingOptions(backend="onnx"))
    fast.predict_proba(["a"])
    plain.predict_proba(["b"])
    fast.predict_proba(["c"])
    assert fast.model.backends == ["onnx-int8", "onnx-int8"]
    assert plain.model.backends == ["torch"]
    assert encoding_options().backend == "onnx"  # the process setting is restored after each


def test_cache_command_reports_and_clears(tmp_path: Path, monkeypatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no params.yaml here: the defaults apply
    assert run_cli("cache")[1].endswith("empty (nothing cached yet)\n")
    with EmbeddingStore(tmp_path / "embeddings.sqlite") as store:
        store.store("some/encoder", ["one", "two", "three"], np.eye(3, dtype=np.float32))
    code, out, _ = run_cli("cache")
    assert code == 0 and "3 vectors" in out
    code, out, _ = run_cli("cache", "--clear")
    assert code == 0 and "0 vectors" in out and "cleared" in out
    with EmbeddingStore(tmp_path / "embeddings.sqlite") as store:
        assert not store.lookup("some/encoder", ["one"])[0].any()


def test_an_onnx_export_that_cannot_be_written_falls_back_to_torch(
    tmp_path: Path, restore_options, monkeypatch, caplog
) -> None:
    from pipeline import onnx_encoder
    from pipeline.errors import OutputError

    def cannot_write(self, texts):
        raise OutputError("cannot write the ONNX export to /read-only/onnx")

    monkeypatch.setattr(onnx_encoder.OnnxSentenceEncoder, "encode", cannot_write)
    configure_encoding(EncodingOptions(backend="onnx", cache=False, cache_dir=tmp_path))
    with caplog.at_level(logging.WARNING, logger=encoder_module.__name__):
        chosen = make_encoder()
    assert isinstance(chosen, SentenceEncoder)
    assert "cannot write the ONNX export" in caplog.text
