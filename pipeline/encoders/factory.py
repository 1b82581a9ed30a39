"""The one place an encoder is built: backend chosen by `EncodingOptions`, disk cache in front.

`make_encoder(path, options)` gives the PyTorch encoder or the ONNX one (`onnx`, or
`onnx-int8` with dynamically quantised weights), exported once into the cache
folder; ONNX falls back to PyTorch, with a warning, when it cannot run. With
`options.cache` on, the encoder is wrapped in a `CachedEncoder`.

`EMBEDDINGS` owns the process's in-memory paragraph caches (`EmbeddingCaches`), one
per encoder folder and options, which the embedding classifiers share.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.encoders.base import CACHE_FILE, EncodingOptions, SentenceModel
from pipeline.encoders.cache import CachedEncoder, EmbeddingCache
from pipeline.encoders.store import EmbeddingStore
from pipeline.encoders.torch_encoder import SentenceEncoder
from pipeline.errors import StanceError
from pipeline.io import display_path

log = logging.getLogger(__name__)


def describe_cache(options: EncodingOptions, *, clear: bool = False) -> str:
    """One line on the disk cache: where it is, how much it holds (after clearing, if asked)."""
    path = options.cache_root / CACHE_FILE
    if not path.is_file():
        return f"{display_path(path)}: empty (nothing cached yet)"
    with EmbeddingStore(path, max_mb=options.cache_max_mb) as store:
        if clear:
            store.clear()
        stats = store.stats()
    return (
        f"{display_path(path)}: {stats['rows']} vectors, {stats['file_mb']:.1f} MB on disk "
        f"(bound {options.cache_max_mb:g} MB)" + ("; cleared" if clear else "")
    )


def make_encoder(path: Path | None, options: EncodingOptions) -> SentenceModel:
    """The encoder of `path` (None: bundled) on the backend `options` name, cached if asked."""
    encoder = _backend_encoder(path, options)
    if not options.cache:
        return encoder
    store = EmbeddingStore(options.cache_root / CACHE_FILE, max_mb=options.cache_max_mb)
    return CachedEncoder(encoder, store)


def _backend_encoder(path: Path | None, options: EncodingOptions) -> SentenceModel:
    torch_encoder = SentenceEncoder(path, batch_size=options.batch_size, threads=options.threads)
    if options.backend == "torch":
        return torch_encoder
    try:
        from pipeline.encoders.onnx_encoder import OnnxSentenceEncoder

        onnx_encoder = OnnxSentenceEncoder(
            path,
            batch_size=options.batch_size,
            quantized=options.backend == "onnx-int8",
            cache_root=options.cache_root,
            threads=options.threads,
        )
        onnx_encoder.encode(["A sentence that loads the exported model."])
    except (ImportError, StanceError, OSError, RuntimeError) as error:  # e.g. no room to export
        log.warning("encoder: %s unavailable (%s); using PyTorch", options.backend, error)
        return torch_encoder
    return onnx_encoder


class EmbeddingCaches:
    """Pooled paragraph embeddings, one `EmbeddingCache` per encoder folder and options.

    Kept for the life of the process so that cross-validation folds and the models
    of an ensemble encode each paragraph once; safe to drop with `clear()`.
    """

    def __init__(self) -> None:
        self._caches: dict[tuple[str, EncodingOptions], EmbeddingCache] = {}

    def get(self, encoder_path: str | None, options: EncodingOptions) -> EmbeddingCache:
        """The cache of the encoder in `encoder_path` (None: bundled) run with `options`."""
        key = (encoder_path or "bundled", options)
        if key not in self._caches:
            path = Path(encoder_path) if encoder_path else None
            self._caches[key] = EmbeddingCache(make_encoder(path, options))
        return self._caches[key]

    def clear(self) -> None:
        """Forget every cached embedding (the disk cache keeps its own)."""
        self._caches.clear()


EMBEDDINGS = EmbeddingCaches()
