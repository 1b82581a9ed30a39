"""File input and output shared by the stages: safe reading, atomic writing.

Every output goes to a temporary file in the destination folder and is renamed
into place, so an interrupted run never leaves a half-written file behind (a FIFO
or a device such as /dev/null is written to instead), with the permissions the
umask gives or those of the file it replaces. Folders of inputs are listed by
`find_files`, which refuses links that lead out of the folder; no output may
overwrite an input (`refuse_overwriting_inputs`).
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from charset_normalizer import from_bytes

from pipeline.errors import DocumentError, InputDataError, OutputError
from pipeline.text import quote_odd

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
        return quote_odd(str(path.resolve().relative_to(Path.cwd().resolve())))
    return quote_odd(str(path))


def decode_text(data: bytes, *, name: str) -> DecodedText:
    """Decode article bytes: UTF-8 (BOM dropped) first, then a detected charset.

    Raises `DocumentError` for empty or binary content. Bytes that no charset
    explains are replaced (U+FFFD) and the caller is told through `replaced`.
    """
    if not data.strip():
        raise DocumentError(f"{name}: empty file")
    wide = _wide_unicode(data)
    if wide is not None:  # UTF-16/32 with a BOM (newsroom exports): NULs are half its bytes
        try:
            return DecodedText(text=data.decode(wide), encoding=wide, replaced=False)
        except UnicodeDecodeError:
            text = data.decode(wide, errors="replace")
            return DecodedText(text=text, encoding=wide, replaced=True)
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


# Longest first: the UTF-32 little-endian BOM begins with the UTF-16 one.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _wide_unicode(data: bytes) -> str | None:
    """The codec of UTF-16 or UTF-32 bytes that open with a byte-order mark, else None."""
    return next((codec for bom, codec in _WIDE_BOMS if data.startswith(bom)), None)


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


def display_link(path: Path) -> str:
    """A path as the user named it, links not followed (`display_path` names what a link
    leads to): for messages about the link itself."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    with contextlib.suppress(ValueError):
        return quote_odd(str(absolute.relative_to(Path.cwd().resolve())))
    return quote_odd(str(path))


def outside_folder(path: Path, folder: Path) -> str | None:
    """Why `path` may not be read as part of `folder`: links followed, it lies outside
    (the folder is resolved too, so a corpus folder may itself be a link); else None."""
    target = path.resolve()
    if target.is_relative_to(folder.resolve()):
        return None
    how = "a link to" if path.is_symlink() else "resolves to"
    return f"{display_link(path)}: {how} {display_path(target)}, outside {display_link(folder)}"


@dataclass(frozen=True)
class FolderFiles:
    """The files found under a folder, and one message per path passed over (a link that
    leads outside the folder, a file or subfolder that cannot be read), by path."""

    files: list[Path]
    refused: dict[Path, str]


def find_files(folder: Path, suffixes: Sequence[str]) -> FolderFiles:
    """Files under `folder` whose suffix (in any case) is one of `suffixes`, in path order.

    Hidden files and folders are left out, and links to folders are not followed (as with
    `Path.rglob`). A link to a file counts only when it resolves inside `folder`, so that
    `seeds/x.txt -> /etc/passwd` is never read. What is refused is returned, not logged:
    the segment stage warns, `stance score` also counts it as a failed input.
    """
    files: list[Path] = []
    refused: dict[Path, str] = {}

    def unlistable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else folder
        refused[where] = f"{display_link(where)}: cannot list the folder ({os_reason(error)})"

    for top, subfolders, names in os.walk(folder, onerror=unlistable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            path = Path(top) / name
            if name.startswith(".") or path.suffix.lower() not in suffixes:
                continue
            try:
                if not path.is_file():
                    continue
                outside = outside_folder(path, folder)
            except OSError as error:
                refused[path] = f"{display_link(path)}: {os_reason(error)}"
                continue
            if outside is None:
                files.append(path)
            else:
                refused[path] = outside
    return FolderFiles(sorted(files), dict(sorted(refused.items())))


def os_reason(error: OSError) -> str:
    """An OS error's reason in the words of our messages: "permission denied"."""
    return (error.strerror or type(error).__name__).lower()


def refuse_overwriting_inputs(output: Path | None, inputs: Iterable[Path]) -> None:
    """Refuse an output that is one of the inputs, lies inside an input folder, or holds an
    input (a folder output replaces all it holds): writing it would destroy what the command
    reads. Links are followed, so another name for an input is refused as well."""
    if output is None:
        return
    target = output.resolve()
    for source in inputs:
        where = source.resolve()
        if target == where:
            problem = f"is the input {display_link(source)}"
        elif target.is_relative_to(where):
            problem = f"lies inside the input folder {display_link(source)}"
        elif where.is_relative_to(target):
            problem = f"holds the input {display_link(source)}, which writing it would delete"
        else:
            continue
        raise OutputError(f"{display_link(output)}: {problem}; choose another output")


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside `path`; rename it onto `path` only on success.

    The file keeps the permissions of the file it replaces, else gets the umask's (as
    `open` would give). A FIFO or a character device (`-o /dev/null`, a named pipe) is
    written to directly: renaming onto it would replace it with a regular file.
    """
    existing = _stat_or_none(path)
    kind = None if existing is None else stat.S_IFMT(existing.st_mode)
    if kind in (stat.S_IFCHR, stat.S_IFIFO):
        try:
            stream = path.open(mode)
        except OSError as error:
            raise _cannot_write(path, error) from None
        with stream:
            yield stream
        return
    if kind not in (None, stat.S_IFREG, stat.S_IFDIR):  # a directory fails on rename, below
        raise OutputError(
            f"{display_path(path)}: not a regular file, a FIFO or a character device; "
            "choose a file path"
        )
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
            replaced = existing if kind == stat.S_IFREG else None
            os.fchmod(stream.fileno(), _output_mode(replaced, 0o666))
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
    """A temporary sibling folder to fill; it replaces `folder` only on success
    (`replace_folder`), with the permissions of the folder it replaces, else the umask's."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent)
        )
    except OSError as error:
        raise _cannot_write(folder, error) from None
    try:
        existing = _stat_or_none(folder)
        is_folder = existing is not None and stat.S_ISDIR(existing.st_mode)
        staging.chmod(_output_mode(existing if is_folder else None, 0o777))
        yield staging
        replace_folder(folder, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_folder(folder: Path, staging: Path) -> None:
    """Rename the filled `staging` onto `folder`. A previous `folder` is renamed aside first
    and deleted last, so one of the two is always whole: a failure before the new one is in
    place puts the old one back; a kill in between leaves it beside, as `.<name>.old-*.tmp`."""
    if not (folder.exists() or folder.is_symlink()):
        staging.rename(folder)
        return
    aside = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:12]}.tmp"
    folder.rename(aside)
    try:
        staging.rename(folder)
    except BaseException:
        aside.rename(folder)
        raise
    if aside.is_symlink():
        aside.unlink()
    else:
        shutil.rmtree(aside, ignore_errors=True)


def _stat_or_none(path: Path) -> os.stat_result | None:
    """What `path` names, links followed; None when nothing is there (or it cannot be
    looked at, which the write itself then reports)."""
    try:
        return path.stat()
    except (OSError, ValueError):
        return None


def _output_mode(replaced: os.stat_result | None, full: int) -> int:
    """The permissions of a new output: those of the one it replaces, else `full` less the
    umask (mkstemp and mkdtemp make everything private whatever the umask)."""
    if replaced is not None:
        return stat.S_IMODE(replaced.st_mode)
    return full & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (another thread
    may be creating files), else set to private for an instant and put back."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


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
