"""File input and output shared by the stages: safe reading, atomic writing.

Every output goes to a temporary file in the destination folder and is renamed
into place, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from pipeline.errors import DocumentError, InputDataError, OutputError

log = logging.getLogger(__name__)

# Share of control characters (other than whitespace) above which bytes are not text.
_BINARY_CONTROL_SHARE = 0.05
# Above this share of "mess" in a detected decoding, the bytes are UTF-8 with damage instead.
_MAX_CHAOS = 0.2


@dataclass(frozen=True)
class DecodedText:
    """A file's text with the encoding it was read in, and whether bytes were replaced."""

    text: str
    encoding: str
    replaced: bool


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when possible."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def decode_text(data: bytes, *, name: str) -> DecodedText:
    """Decode article bytes: UTF-8 (BOM dropped) first, then a detected charset.

    Raises `DocumentError` for empty or binary content. Bytes that no charset
    explains are replaced (U+FFFD) and the caller is told through `replaced`.
    """
    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    if _looks_binary(data):
        raise DocumentError(f"{name}: binary file, not text")
    try:
        text = data.decode("utf-8")
        encoding, replaced = "utf-8", False
    except UnicodeDecodeError:
        legacy = None if _mostly_utf8(data) else _legacy_charset(data)
        if legacy is not None:
            text, encoding, replaced = data.decode(legacy), legacy, False
        else:
            text, encoding, replaced = data.decode("utf-8", errors="replace"), "utf-8", True
    return DecodedText(text=text.removeprefix("\ufeff"), encoding=encoding, replaced=replaced)


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few stray bytes (text pasted from another encoding), not a legacy file:
    it has at least as many well-formed multi-byte characters as undecodable bytes."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if ord(char) > 127) - bad
    return good >= bad


def _legacy_charset(data: bytes) -> str | None:
    """The single-byte or CJK charset that explains the bytes, or None.

    charset-normalizer often scores Windows-1252 and its Central European and
    Baltic siblings exactly alike on Western text and then picks one of the
    others (turning "ñ" into "ń"); on such a tie Windows-1252, the commonest
    legacy encoding of English-language news, wins.
    """
    matches = [match for match in from_bytes(data) if match.encoding not in ("utf_8", "ascii")]
    if not matches or matches[0].chaos >= _MAX_CHAOS:
        return None
    best = matches[0]
    for match in matches:
        if (
            match.encoding == "cp1252"
            and match.chaos <= best.chaos
            and match.coherence >= best.coherence
        ):
            return "cp1252"
    return best.encoding


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return control / max(len(head), 1) > _BINARY_CONTROL_SHARE


def read_text_file(path: Path, *, max_bytes: int | None = None) -> DecodedText:
    """Read and decode one article file, with one-line errors naming it."""
    name = display_path(path)
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise DocumentError(
                f"{name}: {size / 1e6:.1f} MB is over the limit of {max_bytes / 1e6:.1f} MB "
                "(segment.max_file_mb); is it really one article?"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputDataError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise DocumentError(f"{name}: is a directory, not a file") from None
    except PermissionError:
        raise DocumentError(f"{name}: permission denied") from None
    return decode_text(data, name=name)


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside `path`; rename it onto `path` only on success."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as error:
        raise _cannot_write(path, error) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, mode) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        try:
            temp.replace(path)
        except OSError as error:
            raise _cannot_write(path, error) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """A temporary sibling folder to fill; it replaces `folder` only on success."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as error:
        raise _cannot_write(folder, error) from None
    try:
        yield staging
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _cannot_write(path: Path, error: OSError) -> OutputError:
    return OutputError(f"{display_path(path)}: cannot write ({error.strerror})")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` atomically, byte-identical for identical tables."""
    with atomic_output(path) as stream:
        pq.write_table(table, stream, compression="zstd", write_statistics=True)


def read_stage_table(path: Path, columns: Sequence[str], *, made_by: str) -> pd.DataFrame:
    """Read a parquet file another stage wrote, checking the columns the reader needs.

    `made_by` is the command that writes it, named in the error when it is missing.
    """
    name = display_path(path)
    if not path.is_file():
        raise InputDataError(f"{name}: not found; run `{made_by}` (or `dvc repro`) first")
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(f"{name}: not a readable parquet file ({error})") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputDataError(f"{name}: missing column {missing[0]!r}; re-run `{made_by}`")
    return frame
