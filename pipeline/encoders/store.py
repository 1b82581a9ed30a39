"""A persistent cache of paragraph embeddings, shared by every `stance` process on a machine.

Why: embedding paragraphs is the slow part of `stance score` and of the pipeline
stages. When only the classifier head changes, the paragraphs and the encoder do
not, so their vectors are looked up here instead of being computed again.

Key: sha256 over the encoder id, one NUL byte and the paragraph's UTF-8 bytes
(lone surrogates kept with `surrogatepass`, so every Python string has a key).
Encoder ids may not contain NUL, which keeps the key unambiguous. Each row keeps
the vector as raw little-endian float32 bytes together with its dimension; a row
whose byte length disagrees with that dimension is treated as a miss. Nothing is
pickled, so a cache file can never run code.

Bound: the store estimates its size from its row count and vector bytes, which
triggers keep in a one-row totals table (exact across processes, one cheap read
per write), and from how many such rows fit a 16 KiB page (`_row_bytes`; the
file stays within a few pages of the estimate). When a write would take the
estimate over `max_mb` (MiB; `math.inf` for no bound), the least recently used
rows are deleted first, down to about 90% of the bound. Recency is `last_used`,
a `time.time_ns()` stamp set on insert and refreshed for hits by one UPDATE per
lookup chunk; wall-clock stamps order rows sensibly across processes.

Concurrency: one SQLite file in WAL mode, so a SELECT never waits for a writer
(the recency UPDATE after a hit does, briefly). Writers take the lock up front
(`BEGIN IMMEDIATE`), wait up to 30 s for each other, and keep transactions short
(one chunk of rows). `INSERT OR IGNORE` means
racing writers of the same key both succeed and the first vector stays. Each
process must open its own connection: a store opens lazily on first use, so
create it in the process that uses it (or before a fork, as long as the parent
has not used it), never use one connection from two processes or threads.

Failure: a cache must never break the run it speeds up. If the file is corrupt,
the folder is not writable or the disk is full, the store logs one warning naming
the file and behaves as an empty, disabled cache for the rest of its life. A
corrupt file (and its -wal/-shm companions) is renamed to `<name>.corrupt` so the
next run starts a fresh one; the data is only a cache, and keeping the bad file
aside rather than deleting it leaves something to inspect.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import numpy as np

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_MIB = 1024 * 1024
# Keys per SELECT/UPDATE and rows per write transaction: well under SQLite's limit
# on bound parameters, and short enough that other processes barely wait.
_CHUNK = 500
_BUSY_TIMEOUT_S = 30.0
# Size model (see `_row_bytes`), checked against files of 64- to 1024-d rows: a
# table row is the vector plus ~100 bytes (key, model id, integers, headers),
# whole rows share a page, and the two indexes add ~60 bytes per row.
# 16 KiB pages waste little space next to 1.5 KiB MiniLM rows; 4 KiB pages would
# hold only two of them and waste a quarter of the file.
_PAGE_SIZE = 16384
_PAGE_HEADER = 8
_RECORD_OVERHEAD = 100
_INDEX_BYTES = 60
# Checkpoint the WAL every 256 pages (4 MiB) and truncate it back to 4 MiB afterwards.
_WAL_PAGES = 256
_WAL_LIMIT = 4 * _MIB
_EVICT_TO = 0.9
_VECTOR_DTYPE = np.dtype("<f4")
_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key BLOB PRIMARY KEY,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    last_used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS embeddings_by_last_used ON embeddings (last_used);
CREATE TABLE IF NOT EXISTS totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    row_count INTEGER NOT NULL,
    vector_bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals (id, row_count, vector_bytes) VALUES (0, 0, 0);
CREATE TRIGGER IF NOT EXISTS embeddings_count_insert AFTER INSERT ON embeddings BEGIN
    UPDATE totals SET row_count = row_count + 1,
        vector_bytes = vector_bytes + length(NEW.vector) WHERE id = 0;
END;
CREATE TRIGGER IF NOT EXISTS embeddings_count_delete AFTER DELETE ON embeddings BEGIN
    UPDATE totals SET row_count = row_count - 1,
        vector_bytes = vector_bytes - length(OLD.vector) WHERE id = 0;
END;
"""

T = TypeVar("T")


def default_cache_dir() -> Path:
    """`$STANCE_CACHE_DIR`, else `$XDG_CACHE_HOME/stance`, else `~/.cache/stance`.

    An empty or relative `XDG_CACHE_HOME` is ignored, as the XDG spec asks.
    """
    explicit = os.environ.get("STANCE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "stance"
    return Path.home() / ".cache" / "stance"


def embedding_key(model_id: str, text: str) -> bytes:
    """The 32-byte row key of `text` embedded by the encoder named `model_id`."""
    if "\0" in model_id:
        raise ValueError(f"model_id must not contain a NUL character: {model_id!r}")
    digest = hashlib.sha256(model_id.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _placeholders(values: Sequence[object]) -> str:
    """`?,?,…` with one parameter per value (the values themselves are bound, never inlined)."""
    return ",".join("?" * len(values))


def _decode(dim: int, blob: bytes) -> np.ndarray | None:
    """The stored vector, or None when its byte length does not match its dimension."""
    if not isinstance(blob, bytes) or dim <= 0 or len(blob) != dim * _VECTOR_DTYPE.itemsize:
        return None
    return np.frombuffer(blob, dtype=_VECTOR_DTYPE)


def _row_bytes(vector_bytes: float) -> float:
    """Estimated bytes on disk per row whose vector takes `vector_bytes`."""
    record = vector_bytes + _RECORD_OVERHEAD
    usable = _PAGE_SIZE - _PAGE_HEADER
    if record > usable:  # SQLite sizes the spilled part to fill whole overflow pages
        return record + _INDEX_BYTES
    return _PAGE_SIZE / (usable // record) + _INDEX_BYTES


def _is_corruption(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _CORRUPT_CODES


class EmbeddingStore:
    """Vectors by (encoder id, paragraph text) in one SQLite file, bounded by `max_mb` MiB.

    Use from one thread; each process opens its own connection (see the module
    docstring). `close()` releases the connection; a later call opens it again.
    """

    def __init__(self, path: Path, *, max_mb: float = 1024.0) -> None:
        self.path = path
        self.max_mb = max_mb
        self._connection: sqlite3.Connection | None = None
        self._disabled = False
        self._last_stamp = 0

    # -- public API ---------------------------------------------------------------------------

    def lookup(self, model_id: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cached vectors of `texts`: `(found, vectors)` in input order.

        `found` is a bool mask of `len(texts)`; `vectors` is float32 of shape
        `(len(texts), d)` with the stored bytes in found rows and zeros elsewhere.
        `d` comes from the rows found; when none is found the shape is
        `(len(texts), 0)`. Should rows of two dimensions turn up for one encoder id,
        those that differ from the first one found count as misses.
        """
        keys = [embedding_key(model_id, text) for text in texts]
        stored = self._guarded(lambda connection: self._fetch(connection, keys), {})
        return self._assemble(keys, stored)

    def store(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Save one vector per text (a 2-D array, one row each); existing keys keep theirs.

        Vectors are stored as float32, so anything else is cast first; float32 input
        comes back from `lookup` bit for bit. Raises ValueError for a wrong shape.
        """
        matrix = self._validated(texts, vectors)
        if not len(texts):
            return
        keys = [embedding_key(model_id, text) for text in texts]
        rows = [
            (key, model_id, matrix.shape[1], vector.tobytes())
            for key, vector in zip(keys, matrix, strict=True)
        ]
        self._guarded(lambda connection: self._insert(connection, rows), None)

    def stats(self) -> dict[str, Any]:
        """Rows, estimated size (MiB, what the bound applies to) and file size on disk."""
        totals = self._guarded(self._totals, (0, 0))
        return {
            "path": str(self.path),
            "enabled": not self._disabled,
            "rows": totals[0],
            "mb": self._estimated_bytes(*totals) / _MIB,
            "file_mb": self._file_bytes() / _MIB,
            "max_mb": self.max_mb,
        }

    def clear(self, model_id: str | None = None) -> None:
        """Delete every row, or only those of one encoder id, and give free pages back."""
        self._guarded(lambda connection: self._delete(connection, model_id), None)

    def close(self) -> None:
        """Close the connection (if open); the store reopens on its next use."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(sqlite3.Error):
                connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading and writing ------------------------------------------------------------------

    def _fetch(
        self, connection: sqlite3.Connection, keys: list[bytes]
    ) -> dict[bytes, tuple[int, bytes]]:
        """Stored (dim, vector bytes) by key, refreshing `last_used` of the hits."""
        found: dict[bytes, tuple[int, bytes]] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            select = (
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({_placeholders(chunk)})"
            )
            rows = connection.execute(select, chunk).fetchall()
            hits = [key for key, _, _ in rows]
            if hits:
                touch = f"UPDATE embeddings SET last_used = ? WHERE key IN ({_placeholders(hits)})"
                connection.execute(touch, [self._stamp(), *hits])
            found.update((key, (dim, vector)) for key, dim, vector in rows)
        return found

    def _assemble(
        self, keys: list[bytes], stored: dict[bytes, tuple[int, bytes]]
    ) -> tuple[np.ndarray, np.ndarray]:
        decoded = {key: _decode(dim, blob) for key, (dim, blob) in stored.items()}
        valid = {key: vector for key, vector in decoded.items() if vector is not None}
        dim = len(next(iter(valid.values()))) if valid else 0
        found = np.zeros(len(keys), dtype=bool)
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        for index, key in enumerate(keys):
            vector = valid.get(key)
            if vector is not None and len(vector) == dim:
                found[index] = True
                vectors[index] = vector
        return found, vectors

    def _insert(
        self, connection: sqlite3.Connection, rows: list[tuple[bytes, str, int, bytes]]
    ) -> None:
        for chunk in _chunks(rows):
            stamp = self._stamp()
            incoming = len(chunk) * _row_bytes(len(chunk[0][3]))
            with self._write(connection):
                self._make_room(connection, incoming)
                connection.executemany(
                    "INSERT OR IGNORE INTO embeddings (key, model_id, dim, vector, last_used) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(*row, stamp) for row in chunk],
                )
                self._make_room(connection, 0.0)  # a chunk larger than the bound itself

    def _make_room(self, connection: sqlite3.Connection, incoming: float) -> None:
        """Inside a write, before adding `incoming` bytes: evict LRU rows if they would not fit.

        Evicting before inserting keeps the file from growing past the bound even for
        a moment. `incoming` counts keys that may already be stored, so this can evict
        a little early; callers store their misses, so that is rare.
        """
        row_count, vector_bytes = self._totals(connection)
        bound = self.max_mb * _MIB
        if not row_count or self._estimated_bytes(row_count, vector_bytes) + incoming <= bound:
            return
        # Rows of one encoder have one size, so the target holds a whole number of them.
        room = _EVICT_TO * bound - incoming
        keep = max(0, math.floor(room / _row_bytes(vector_bytes / row_count)))
        connection.execute(
            "DELETE FROM embeddings WHERE rowid IN "
            "(SELECT rowid FROM embeddings ORDER BY last_used LIMIT ?)",
            (row_count - keep,),
        )

    def _delete(self, connection: sqlite3.Connection, model_id: str | None) -> None:
        with self._write(connection):
            if model_id is None:
                connection.execute("DELETE FROM embeddings")
            else:
                connection.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,))
        connection.execute("PRAGMA incremental_vacuum").fetchall()

    @staticmethod
    def _totals(connection: sqlite3.Connection) -> tuple[int, int]:
        row = connection.execute(
            "SELECT row_count, vector_bytes FROM totals WHERE id = 0"
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    @staticmethod
    def _estimated_bytes(row_count: int, vector_bytes: int) -> float:
        return row_count * _row_bytes(vector_bytes / row_count) if row_count else 0.0

    def _file_bytes(self) -> int:
        names = [self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))]
        sizes = []
        for name in names:
            with contextlib.suppress(OSError):
                if name.is_file():
                    sizes.append(name.stat().st_size)
        return sum(sizes)

    def _stamp(self) -> int:
        """A wall-clock stamp in ns, strictly increasing within this process."""
        self._last_stamp = max(time.time_ns(), self._last_stamp + 1)
        return self._last_stamp

    @staticmethod
    @contextlib.contextmanager
    def _write(connection: sqlite3.Connection) -> Iterator[None]:
        """A write transaction that takes the lock up front, so the busy timeout applies."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # -- opening and failing safely -----------------------------------------------------------

    def _validated(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        matrix = np.asarray(vectors)
        if matrix.ndim != 2:
            raise ValueError(
                f"vectors must be a 2-D array (texts × dims), got shape {matrix.shape}"
            )
        if matrix.shape[0] != len(texts):
            raise ValueError(
                f"vectors has {matrix.shape[0]} rows but {len(texts)} texts were given"
            )
        if len(texts) and matrix.shape[1] == 0:
            raise ValueError("vectors must have at least one dimension (shape (n, 0) given)")
        return np.ascontiguousarray(matrix, dtype=_VECTOR_DTYPE)

    def _guarded(self, operation: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """Run `operation` on the open connection; on a storage failure, disable the cache."""
        if self._disabled:
            return fallback
        try:
            return operation(self._open())
        except sqlite3.ProgrammingError:
            raise  # misuse (another thread, closed cursor) is a bug, not a storage failure
        except (sqlite3.DatabaseError, OSError) as error:
            self._disable(error)
            return fallback

    def _open(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        if not self.max_mb > 0:
            raise ValueError(f"max_mb must be a positive number of MiB, got {self.max_mb!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            self._prepare(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        # page_size and auto_vacuum only take effect on a new, empty file (before WAL);
        # incremental auto_vacuum lets clear() give the freed space back.
        connection.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("PRAGMA journal_mode = WAL").fetchall()
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(f"PRAGMA wal_autocheckpoint = {_WAL_PAGES}").fetchall()
        connection.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}").fetchall()
        with self._write(connection):
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise sqlite3.OperationalError(
                    f"schema version {version} is not {SCHEMA_VERSION} (written by another "
                    "version of stance?)"
                )
            for statement in _split_statements(_SCHEMA):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _disable(self, error: BaseException) -> None:
        self.close()
        self._disabled = True
        detail = f"{type(error).__name__}: {error}"
        if _is_corruption(error):
            moved = self._move_aside()
            log.warning(
                "embedding cache %s is corrupt (%s); %s, running without the cache",
                self.path,
                detail,
                moved,
            )
        else:
            log.warning(
                "embedding cache %s cannot be used (%s); running without the cache",
                self.path,
                detail,
            )

    def _move_aside(self) -> str:
        """Rename the file and its WAL companions to `<name>.corrupt*`; say what happened."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            for suffix in ("-wal", "-shm"):
                companion = self.path.with_name(self.path.name + suffix)
                if companion.exists():
                    companion.replace(aside.with_name(aside.name + suffix))
            self.path.replace(aside)
        except OSError as error:
            return f"could not move it aside ({error.strerror})"
        return f"moved it to {aside.name} so the next run starts afresh"


def _split_statements(script: str) -> Iterator[str]:
    """The schema's statements one by one (`executescript` would commit our transaction)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
