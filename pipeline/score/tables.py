"""Article tables for `stance score`: a parquet or jsonl file holding one article per row.

Columns: `text` (required; the article body as text, markdown or HTML) and,
optionally, `doc_id`, `source` and `title` with the manifest's meaning and
rules, and `html` (true or false; missing or null: detected from the text).
Other columns are ignored. Rows are numbered from 1; in a jsonl file a row's
number is its line number. A row without a doc_id gets `<file stem>-<row>`.

Tables are read a few hundred rows at a time (parquet record batches, jsonl
lines), so a large file never sits in memory. Each row that cannot be used is
one message, `<file>:<row>: <reason>`; a file that cannot be read at all is one
message naming the file. A doc_id seen earlier in the same table fails the
later row, since the ids of its paragraphs would collide.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputDataError, error_line
from pipeline.io import display_path
from pipeline.segment.files import doc_id_from_path
from pipeline.segment.manifest import ManifestRow

# The manifest's own row check (doc_id rule, whitespace), so a table row obeys what a
# manifest row obeys.
from pipeline.segment.manifest import parse_row as parse_manifest_row

TABLE_SUFFIXES = (".parquet", ".jsonl")
TEXT = "text"
METADATA = ("doc_id", "source", "title")
HTML = "html"
# Rows decoded per parquet batch: a few hundred articles, whatever the file's row groups.
PARQUET_BATCH_ROWS = 256
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class TableRow:
    """One usable row of an article table: where it is, its text and its metadata."""

    doc: str  # "<file>:<row>", how outputs and messages name it
    text: str
    meta: ManifestRow
    html: bool | None  # None: detect from the text


@dataclass(frozen=True)
class _Undecodable:
    """A jsonl line that is not JSON: why, to report in place of the row."""

    message: str


def is_table(path: Path) -> bool:
    """Whether a file is read as an article table (by its suffix)."""
    return path.suffix.lower() in TABLE_SUFFIXES


def count_rows(path: Path) -> int:
    """How many articles a table holds, for a progress bar: the parquet metadata's row
    count, or a jsonl file's lines (blank ones included); 0 when it cannot be read."""
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_metadata(path).num_rows
        return _count_lines(path)
    except (pa.ArrowException, OSError):
        return 0


def _count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 18):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


def read_table(path: Path, *, max_mb: float) -> Iterator[TableRow | str]:
    """Each row of a table as an article, or a message for each one that cannot be used."""
    name = display_path(path)
    records = _parquet_records if path.suffix.lower() == ".parquet" else _jsonl_records
    stem = doc_id_from_path(path.name)[:100]  # room for "-<row>" within a doc_id's 128
    first_row: dict[str, int] = {}  # doc_id -> row: one short string per row, not the text
    rows = 0
    try:
        for number, record in records(path, name):
            rows += 1
            try:
                row = _table_row(record, name, number, default_doc_id=f"{stem}-{number}")
            except InputDataError as error:
                yield str(error)
                continue
            # A character is at most 4 bytes: encode only texts that may be over the limit.
            if len(row.text) * 4 > max_mb * 1e6 and len(row.text.encode()) > max_mb * 1e6:
                yield f"{row.doc}: text over the limit of {max_mb:g} MB (segment.max_file_mb)"
                continue
            doc_id = row.meta.doc_id
            if doc_id in first_row:
                yield f"{row.doc}: duplicate doc_id {doc_id!r} (row {first_row[doc_id]} has it)"
                continue
            first_row[doc_id] = number
            yield row
    except InputDataError as error:  # the file as a whole: unreadable, wrong columns
        yield str(error)
        return
    if rows == 0:
        yield f"{name}: no articles (an empty table)"


def _table_row(record: object, name: str, number: int, *, default_doc_id: str) -> TableRow:
    """Check one row's values and turn its metadata into a manifest row."""
    where = f"{name}:{number}"
    if isinstance(record, _Undecodable):
        raise InputDataError(record.message)
    if not isinstance(record, dict):
        raise InputDataError(f"{where}: not a JSON object")
    text = record.get(TEXT)
    if text is None:
        raise InputDataError(f"{where}: no {TEXT!r}")
    if not isinstance(text, str):
        raise InputDataError(f"{where}: {TEXT!r} is not a string")
    if not text.strip():
        raise InputDataError(f"{where}: empty {TEXT!r}")
    html = record.get(HTML)
    if html is not None and not isinstance(html, bool):
        raise InputDataError(f"{where}: {HTML!r} must be true or false")
    values = {}
    for column in METADATA:
        value = record.get(column)
        if value is not None and not isinstance(value, str):
            raise InputDataError(f"{where}: {column!r} is not a string")
        values[column] = value or ""
    values["doc_id"] = values["doc_id"].strip() or default_doc_id
    meta = parse_manifest_row({**values, "file": Path(name).name}, name, number)
    return TableRow(doc=where, text=text, meta=meta, html=html)


def _jsonl_records(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """Each non-blank line's JSON value, or a message for a line that is not JSON."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise InputDataError(f"{name}: cannot be read ({error.strerror})") from None
    with stream:
        if b"\x00" in stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]:
            raise InputDataError(f"{name}: binary file, not jsonl text")
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, _Undecodable(f"{name}:{number}: not JSON ({error.msg})")
            except UnicodeDecodeError:
                yield number, _Undecodable(f"{name}:{number}: not UTF-8 text")


def _parquet_records(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """Each row as a dict of the columns read, a batch of rows decoded at a time."""
    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise InputDataError(f"{name}: not a readable parquet file ({error_line(error)})") from None
    with table:
        columns = _parquet_columns(table.schema_arrow, name)
        number = 0
        try:
            for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
                for record in batch.to_pylist():
                    number += 1
                    yield number, record
        except (pa.ArrowException, OSError) as error:
            message = f"{name}: unreadable after row {number} ({error_line(error)})"
            raise InputDataError(message) from None


def _parquet_columns(schema: pa.Schema, name: str) -> list[str]:
    """The columns to read, checked: a text column, strings for metadata, booleans for html."""
    if TEXT not in schema.names:
        raise InputDataError(f"{name}: no {TEXT!r} column (the article text)")
    wanted = [column for column in (TEXT, *METADATA, HTML) if column in schema.names]
    for column in wanted:
        kind = schema.field(column).type
        fits = pa.types.is_boolean(kind) if column == HTML else _holds_strings(kind)
        if not (fits or pa.types.is_null(kind)):
            expected = "true/false" if column == HTML else "strings"
            raise InputDataError(f"{name}: column {column!r} holds {kind}, not {expected}")
    return wanted


def _holds_strings(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )
