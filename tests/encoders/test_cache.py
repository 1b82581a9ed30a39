"""The encoder's disk cache, the bounded in-memory cache and the backend choice."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

from pipeline.encoders import factory
from pipeline.encoders.base import EncodingOptions, by_length
from pipeline.encoders.cache import CachedEncoder, EmbeddingCache
from pipeline.encoders.factory import EmbeddingCaches, make_encoder
from pipeline.encoders.store import EmbeddingStore
from pipeline.encoders.torch_encoder import SentenceEncoder


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


def test_make_encoder_follows_the_options_it_is_given(tmp_path: Path) -> None:
    cached = make_encoder(None, EncodingOptions(cache=True, cache_dir=tmp_path))
    assert isinstance(cached, CachedEncoder)
    assert cached.store.path == tmp_path / "embeddings.sqlite"
    assert cached.model_id.endswith("/torch")
    assert isinstance(make_encoder(None, EncodingOptions(cache=False)), SentenceEncoder)


def test_onnx_backend_falls_back_to_torch_with_a_warning(
    tmp_path: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setitem(sys.modules, "pipeline.encoders.onnx_encoder", None)  # import fails
    options = EncodingOptions(backend="onnx-int8", cache=False, cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger=factory.__name__):
        chosen = make_encoder(None, options)
    assert isinstance(chosen, SentenceEncoder)
    assert "onnx-int8 unavailable" in caplog.text and "PyTorch" in caplog.text


def test_memory_caches_are_kept_per_encoder_folder_and_options(monkeypatch) -> None:
    built: list[tuple[Path | None, str]] = []

    def recording_make_encoder(path: Path | None, options: EncodingOptions) -> CountingEncoder:
        built.append((path, options.backend))
        return CountingEncoder()

    monkeypatch.setattr(factory, "make_encoder", recording_make_encoder)
    caches = EmbeddingCaches()
    first = caches.get(None, EncodingOptions())
    assert caches.get(None, EncodingOptions()) is first  # equal options share one cache
    assert caches.get(None, EncodingOptions(backend="onnx-int8")) is not first
    assert caches.get("/some/encoder", EncodingOptions()) is not first
    assert built == [(None, "torch"), (None, "onnx-int8"), (Path("/some/encoder"), "torch")]
    caches.clear()
    assert caches.get(None, EncodingOptions()) is not first


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
    tmp_path: Path, monkeypatch, caplog
) -> None:
    from pipeline.encoders import onnx_encoder
    from pipeline.errors import OutputError

    def cannot_write(self, texts):
        raise OutputError("cannot write the ONNX export to /read-only/onnx")

    monkeypatch.setattr(onnx_encoder.OnnxSentenceEncoder, "encode", cannot_write)
    options = EncodingOptions(backend="onnx", cache=False, cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger=factory.__name__):
        chosen = make_encoder(None, options)
    assert isinstance(chosen, SentenceEncoder)
    assert "cannot write the ONNX export" in caplog.text
