"""What `stance score` reads: files, folders, article tables and standard input, segmented
as the pipeline does, one article at a time.

Files go through the segment stage's own `segment_document`, so cleaning,
paragraph ids and HTML extraction are the pipeline's. Metadata comes from a
manifest (`sources.csv`, as named by `paths.manifest`) in the folder given, or
in a file's own folder; a file with no manifest row gets its doc_id from its
path (as the segment stage derives it) and `--source` as its source, else what
the segmenter assigns by default (an HTML page's site name, else
`unknown:<doc_id>`). A `.parquet` or `.jsonl` file is a table of articles, one
per row (`pipeline.score.tables`); its rows go through `segment_article`.

Arguments are listed first (folders searched, manifests read); then each file
or table row is read and segmented only when the scorer asks for the next
article, so memory does not grow with the corpus. An input that cannot be used
is a one-line warning and the others are still scored; `strict` turns the
first one into an error.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from pipeline.config import SegmentParams
from pipeline.errors import DocumentError, InputDataError, StanceError
from pipeline.io import decode_text, display_path
from pipeline.score.core import SegmentedDocument, segmented_document
from pipeline.score.tables import TableRow, count_rows, is_table, read_table

# The segment stage's file search and rule for files without a manifest row; ids depend on it.
from pipeline.segment.files import Document, documents_at
from pipeline.segment.manifest import ManifestRow
from pipeline.segment.stage import segment_article_text, segment_document

log = logging.getLogger(__name__)

STDIN = "-"
STDIN_DOC_ID = "stdin"
# Bits of an article key that number the outcomes within one input (a table's rows).
_OUTCOME_BITS = 32
_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ReadOptions:
    """How PATH arguments become articles: the segment settings and what fills missing metadata."""

    segment: SegmentParams = field(default_factory=SegmentParams)
    manifest_name: str = "sources.csv"
    source: str | None = None  # the outlet of files without a manifest row


@dataclass
class ReadResult:
    """The articles that could be segmented, and one message per input that could not."""

    documents: list[SegmentedDocument] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StandardInput:
    """The `-` argument: one article on standard input."""


@dataclass(frozen=True)
class ArticleTable:
    """A `.parquet` or `.jsonl` file of articles, one per row."""

    path: Path


@dataclass(frozen=True)
class UnusableArgument:
    """An argument that names nothing to read (a missing path, a folder without articles)."""

    message: str


Input = Document | ArticleTable | StandardInput | UnusableArgument


class DocumentStream:
    """The articles the PATH arguments name, each read and segmented when it is reached.

    The arguments are listed on creation; iterating reads the inputs in
    argument order (folders sorted). Each input that cannot be used is logged
    as one warning naming it and appended to `failed`, which is complete once
    the iteration ends; with `strict` the first one raises a `StanceError`
    (exit code 1) instead. Iterate once.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        options: ReadOptions,
        *,
        strict: bool = False,
        stdin: BinaryIO | None = None,
    ) -> None:
        self.options = options
        self.strict = strict
        self.stdin = stdin
        self.inputs = list_inputs(paths, options)
        self.failed: list[str] = []

    def expected_count(self) -> int:
        """Articles to expect, for a progress bar: one per file, a table's rows (a jsonl
        file's lines), one for standard input."""
        return expected_articles(self.inputs)

    def __iter__(self) -> Iterator[SegmentedDocument]:
        for _, document in self.keyed():
            yield document

    def keyed(self) -> Iterator[tuple[int, SegmentedDocument]]:
        """The articles, each with its `article_key` (what the parquet output sorts by)."""
        for index, item in enumerate(self.inputs):
            for number, outcome in enumerate(read_input(item, self.options, self.stdin)):
                if isinstance(outcome, SegmentedDocument):
                    yield article_key(index, number), outcome
                elif self.strict:
                    raise StanceError(f"{outcome}; stopped (--strict)")
                else:
                    log.warning("%s; skipped", outcome)
                    self.failed.append(outcome)


def article_key(input_index: int, outcome: int) -> int:
    """A sort key in input order, the same in every engine: the input's place in the listing
    (`list_inputs`), then the outcome's place among that input's (a table's rows, skipped
    ones included, in file order; 0 for a file)."""
    return (input_index << _OUTCOME_BITS) | outcome


def read_documents(
    paths: Sequence[Path | str],
    options: ReadOptions,
    *,
    strict: bool = False,
    stdin: BinaryIO | None = None,
) -> ReadResult:
    """Every article the arguments name, segmented, as one list (see `DocumentStream`)."""
    stream = DocumentStream(paths, options, strict=strict, stdin=stdin)
    return ReadResult(list(stream), stream.failed)


def list_inputs(paths: Sequence[Path | str], options: ReadOptions) -> list[Input]:
    """What each argument names, in order, without reading an article: folders are
    searched (and their manifests read); a file named twice (a file and its folder) is
    kept once."""
    inputs: list[Input] = []
    seen: set[Path] = set()
    for argument in paths:
        if str(argument) == STDIN:
            inputs.append(StandardInput())
            continue
        try:
            documents, refused = documents_at(
                Path(argument),
                extensions=options.segment.extensions,
                manifest_name=options.manifest_name,
                source=options.source or "",
            )
        except InputDataError as error:
            inputs.append(UnusableArgument(str(error)))
            continue
        inputs.extend(UnusableArgument(message) for message in refused)
        for document in documents:
            key = document.path.resolve()
            if key not in seen:
                seen.add(key)
                inputs.append(ArticleTable(document.path) if is_table(document.path) else document)
    return inputs


def expected_articles(inputs: Sequence[Input]) -> int:
    """Articles the listed inputs should give, read from no article: one per file, a
    table's rows (a jsonl file's lines), one for standard input."""
    return sum(_expected_articles(item) for item in inputs)


def _expected_articles(item: Input) -> int:
    if isinstance(item, ArticleTable):
        return count_rows(item.path)
    return 0 if isinstance(item, UnusableArgument) else 1


def read_input(
    item: Input, options: ReadOptions, stdin: BinaryIO | None
) -> Iterator[SegmentedDocument | str]:
    """The articles of one input, or a message for each one that cannot be used."""
    if isinstance(item, UnusableArgument):
        yield item.message
    elif isinstance(item, ArticleTable):
        yield from _read_table_articles(item.path, options)
    elif isinstance(item, StandardInput):
        try:
            document = read_stdin(stdin, options)
        except DocumentError as error:
            yield str(error)
        else:
            yield document
    else:
        try:
            described, segmentation = segment_document(item, options.segment)
        except InputDataError as error:  # DocumentError, or a file gone since listing
            yield str(error)
            return
        yield segmented_document(described, segmentation, doc=display_path(item.path))


def _read_table_articles(path: Path, options: ReadOptions) -> Iterator[SegmentedDocument | str]:
    """A table's rows segmented one by one; a row's own source wins over `--source`."""
    for row in read_table(path, max_mb=options.segment.max_file_mb):
        if isinstance(row, str):
            yield row
            continue
        try:
            document = table_article(row, options)
        except DocumentError as error:
            yield str(error)
        else:
            yield document


def table_article(row: TableRow, options: ReadOptions) -> SegmentedDocument:
    """Segment one table row as a file with that text and manifest row would be."""
    meta = row.meta if row.meta.source else replace(row.meta, source=options.source or "")
    html = looks_like_html(row.text) if row.html is None else row.html
    return segment_article(row.text, meta, options, doc=row.doc, html=html)


def read_stdin(stdin: BinaryIO | None, options: ReadOptions) -> SegmentedDocument:
    """Standard input as one article (HTML when it starts like a page; else text or markdown)."""
    stream = stdin if stdin is not None else sys.stdin.buffer
    data = stream.read(int(options.segment.max_file_mb * 1e6) + 1)
    if len(data) > options.segment.max_file_mb * 1e6:
        raise DocumentError(
            f"{STDIN}: over the limit of {options.segment.max_file_mb:g} MB (segment.max_file_mb)"
        )
    decoded = decode_text(data, name=STDIN)
    if decoded.replaced:
        log.warning("%s: undecodable bytes replaced with U+FFFD", STDIN)
    meta = ManifestRow(doc_id=STDIN_DOC_ID, file=STDIN, source=options.source or "")
    html = looks_like_html(decoded.text)
    return segment_article(decoded.text, meta, options, doc=STDIN, html=html)


def looks_like_html(text: str) -> bool:
    """Whether text is an HTML page rather than an article in text or markdown."""
    return _HTML_START.match(text) is not None


def segment_article(
    text: str, meta: ManifestRow, options: ReadOptions, *, doc: str, html: bool
) -> SegmentedDocument:
    """Segment article text that is not in a file (standard input, the Python API),
    with the segment stage's own function, so ids and cleaning are the pipeline's."""
    meta, segmentation = segment_article_text(text, meta, options.segment, name=doc, html=html)
    return segmented_document(Document(Path(doc), meta), segmentation, doc=doc)
