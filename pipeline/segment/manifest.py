"""The corpus manifest (`sources.csv`): one row per article file with its metadata.

Columns: doc_id, file, source, title, author, date, url. Only `doc_id` and
`file` are required; metadata the text does not tell is left empty. The
`doc_id` (not the file name) anchors paragraph ids, so renaming a file and its
manifest row changes no id.

Optional outlet metadata: `country`, `outlet_type` (free text: wire, newspaper,
state media, ...) and any number of `group_<name>` columns. The report compares
outlets by each of them; an empty cell is unknown and stays unknown.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import InputDataError
from pipeline.io import display_path

COLUMNS = ("doc_id", "file", "source", "title", "author", "date", "url")
REQUIRED = ("doc_id", "file")
OUTLET_COLUMNS = ("country", "outlet_type")
GROUP_PREFIX = "group_"
MAX_OUTLET_CHARS = 100
_GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")
_DOC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class ManifestRow:
    """Metadata of one article as the manifest gives it."""

    doc_id: str
    file: str
    source: str = ""
    title: str = ""
    author: str = ""
    date: str = ""
    url: str = ""
    outlet: tuple[tuple[str, str], ...] = ()  # (column, value) of the outlet columns given


def is_outlet_column(column: str) -> bool:
    """Whether a column is outlet metadata (`country`, `outlet_type`, `group_<name>`)."""
    return column in OUTLET_COLUMNS or column.startswith(GROUP_PREFIX)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Parse and validate the manifest; errors name the file, line and column."""
    name = display_path(path)
    if b"\x00" in path.read_bytes()[:8192]:
        raise InputDataError(f"{name}: manifest is binary, not CSV text")
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            header = reader.fieldnames or []
            _check_header(header, name)
            rows = [parse_row(record, name, reader.line_num) for record in reader]
    except UnicodeDecodeError:
        raise InputDataError(f"{name}: manifest is not UTF-8 text") from None
    except csv.Error as error:
        raise InputDataError(f"{name}: malformed CSV ({error})") from None
    _check_unique(rows, name)
    return rows


def _check_header(header: list[str], name: str) -> None:
    if not header:
        raise InputDataError(f"{name}: manifest is empty (expected a header row)")
    unknown = [c for c in header if c not in COLUMNS and not is_outlet_column(c)]
    if unknown:
        raise InputDataError(
            f"{name}: unknown column {unknown[0]!r} (expected {', '.join(COLUMNS)}, "
            f"{', '.join(OUTLET_COLUMNS)} or {GROUP_PREFIX}<name>)"
        )
    repeated = [column for column in header if header.count(column) > 1]
    if repeated:
        raise InputDataError(f"{name}:1: column {repeated[0]!r} appears twice")
    for column in header:
        suffix = column.removeprefix(GROUP_PREFIX)
        if column.startswith(GROUP_PREFIX) and not _GROUP_NAME.fullmatch(suffix):
            raise InputDataError(
                f"{name}:1: column {column!r}: the name after {GROUP_PREFIX!r} must be 1-40 "
                "lowercase letters, digits or '_'"
            )
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InputDataError(f"{name}: missing required column {missing[0]!r}")


def parse_row(record: dict[str, str | None], name: str, line: int) -> ManifestRow:
    """One manifest record as a row, or an error naming `name:line` (also used for table rows)."""
    if None in record:
        raise InputDataError(f"{name}:{line}: more fields than columns")
    values = {key: " ".join((value or "").split()) for key, value in record.items()}
    where = f"{name}:{line}"
    if not _DOC_ID.fullmatch(values["doc_id"]):
        raise InputDataError(
            f"{where}: doc_id {values['doc_id']!r} must be letters, digits, '.', '_' or '-'"
        )
    file = values["file"]
    posix = PurePosixPath(file)
    if not file or posix.is_absolute() or ".." in posix.parts:
        raise InputDataError(f"{where}: file {file!r} must be a path inside the corpus folder")
    if values.get("date") and not _DATE.fullmatch(values["date"]):
        raise InputDataError(f"{where}: date {values['date']!r} is not YYYY-MM-DD")
    if values.get("url") and not _URL.fullmatch(values["url"]):
        raise InputDataError(f"{where}: url {values['url']!r} is not an http(s) address")
    outlet = tuple(
        (c, _outlet_value(values.pop(c), where, c)) for c in list(values) if is_outlet_column(c)
    )
    return ManifestRow(**values, outlet=outlet)


def _outlet_value(value: str, where: str, column: str) -> str:
    """An outlet metadata cell, checked: printable text of at most MAX_OUTLET_CHARS."""
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise InputDataError(f"{where}: {column} {value!r} contains a control character")
    if len(value) > MAX_OUTLET_CHARS:
        raise InputDataError(
            f"{where}: {column} is {len(value)} characters long (at most {MAX_OUTLET_CHARS})"
        )
    return value


def _check_unique(rows: list[ManifestRow], name: str) -> None:
    for attribute in ("doc_id", "file"):
        seen: set[str] = set()
        for row in rows:
            value = getattr(row, attribute)
            if value in seen:
                raise InputDataError(f"{name}: duplicate {attribute} {value!r}")
            seen.add(value)
