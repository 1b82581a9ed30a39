"""The I/O shell of `segment`: corpus folder + manifest in, `paragraphs.parquet` out.

Documents that cannot be read (empty, binary, no article text) are skipped with
a warning naming the file; a manifest that contradicts the folder stops the
stage, because going on would silently change the corpus.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from pipeline.config import Params, SegmentParams
from pipeline.console import progress
from pipeline.errors import DocumentError, InputDataError
from pipeline.io import (
    atomic_output,
    display_path,
    read_text_file,
    write_parquet,
)
from pipeline.segment.core import Segmentation, paragraph_id, segment_text
from pipeline.segment.files import Document, discover_documents
from pipeline.segment.manifest import (
    OUTLET_COLUMNS,
    ManifestRow,
    is_outlet_column,
)
from pipeline.segment.markup import html_metadata, html_to_markdown
from pipeline.text import count_words, sha256_hex, text_key

log = logging.getLogger(__name__)

PARAGRAPH_SCHEMA = pa.schema(
    [
        pa.field("paragraph_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("date", pa.string(), nullable=True),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("section", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("n_words", pa.int32(), nullable=False),
    ]
)
_HTML_SUFFIXES = (".html", ".htm")


@dataclass
class CorpusSegmentation:
    """Paragraph rows of a whole corpus, with what was skipped or dropped."""

    rows: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "file: reason", one per document
    dropped: Counter = field(default_factory=Counter)  # chrome rule -> lines
    n_documents: int = 0


def segment_document(document: Document, settings: SegmentParams) -> tuple[Document, Segmentation]:
    """Read, decode and segment one article file.

    For HTML, manifest fields left empty are filled from the page's own metadata
    (title, date, site name), so the returned document may carry more than it got.
    """
    name = display_path(document.path)
    decoded = read_text_file(document.path, max_bytes=int(settings.max_file_mb * 1e6))
    if decoded.replaced:
        log.warning("%s: undecodable bytes replaced with U+FFFD", name)
    elif decoded.encoding != "utf-8":
        log.warning("%s: not UTF-8; read as %s", name, decoded.encoding)
    html = document.path.suffix.lower() in _HTML_SUFFIXES
    meta, segmentation = segment_article_text(
        decoded.text, document.meta, settings, name=name, html=html
    )
    return replace(document, meta=meta), segmentation


def segment_article_text(
    text: str, meta: ManifestRow, settings: SegmentParams, *, name: str, html: bool
) -> tuple[ManifestRow, Segmentation]:
    """Segment one article's text (a file's, or standard input's for `stance score`).

    For HTML, manifest fields left empty are filled from the page's own metadata
    (title, date, site name), then trafilatura extracts the article.
    """
    if html:
        page = html_metadata(text)
        meta = replace(
            meta,
            title=meta.title or page["title"],
            date=meta.date or page["date"],
            source=meta.source or page["source"],
        )
        text = html_to_markdown(text, name=name)
    segmentation = segment_text(
        text,
        title=meta.title,
        min_words=settings.min_words,
        extra_chrome=[re.compile(p, re.IGNORECASE) for p in settings.extra_chrome_patterns],
    )
    if not segmentation.paragraphs:
        raise DocumentError(f"{name}: no article text left after removing site chrome")
    return meta, segmentation


def segment_corpus(documents: list[Document], settings: SegmentParams) -> CorpusSegmentation:
    """Segment every document; skip (with a warning) those that cannot be used."""
    result = CorpusSegmentation()
    seen_content: dict[str, str] = {}
    for document in progress(documents, "segment", total=len(documents)):
        name = display_path(document.path)
        try:
            described, segmentation = segment_document(document, settings)
        except DocumentError as error:
            log.warning("%s; skipped", error)
            result.skipped.append(str(error))
            continue
        fingerprint = sha256_hex("\n".join(text_key(p.text) for p in segmentation.paragraphs))
        if fingerprint in seen_content:
            message = f"{name}: same article text as {seen_content[fingerprint]}"
            log.warning("%s; skipped", message)
            result.skipped.append(message)
            continue
        seen_content[fingerprint] = name
        result.n_documents += 1
        result.dropped.update(reason for reason, _ in segmentation.dropped)
        result.rows.extend(_rows(described, segmentation))
    return result


def _rows(document: Document, segmentation: Segmentation) -> list[dict]:
    meta = document.meta
    return [
        {
            "paragraph_id": paragraph_id(meta.doc_id, paragraph.text),
            "doc_id": meta.doc_id,
            "source": document.source,
            "title": segmentation.title,
            "date": meta.date or None,
            "position": paragraph.position,
            "section": paragraph.section,
            "text": paragraph.text,
            "n_words": count_words(paragraph.text),
            **{column: value or None for column, value in meta.outlet},
        }
        for paragraph in segmentation.paragraphs
    ]


def paragraph_schema(rows: list[dict]) -> pa.Schema:
    """PARAGRAPH_SCHEMA plus a nullable column per outlet metadata column some article fills.

    A corpus without outlet metadata gets exactly PARAGRAPH_SCHEMA, so its table's bytes
    do not change with this feature.
    """
    filled = {c for row in rows for c, v in row.items() if v and is_outlet_column(c)}
    groups = sorted(filled - set(OUTLET_COLUMNS))
    ordered = [c for c in OUTLET_COLUMNS if c in filled] + groups
    extra = [pa.field(column, pa.string(), nullable=True) for column in ordered]
    return pa.schema([*PARAGRAPH_SCHEMA, *extra])


def run_segment(params: Params) -> CorpusSegmentation:
    """The stage: segment the corpus and write the paragraphs table and its metrics."""
    paths = params.paths
    documents = discover_documents(paths.corpus_dir, paths.manifest, params.segment.extensions)
    result = segment_corpus(documents, params.segment)
    if not result.rows:
        raise InputDataError(f"{display_path(paths.corpus_dir)}: no readable article text")
    schema = paragraph_schema(result.rows)
    write_parquet(pa.Table.from_pylist(result.rows, schema=schema), paths.paragraphs)
    _write_metrics(result, paths.segment_metrics)
    log.info(
        "segment: %s from %s (%d skipped) -> %s",
        _count(len(result.rows), "paragraph"),
        _count(result.n_documents, "document"),
        len(result.skipped),
        display_path(paths.paragraphs),
    )
    return result


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _write_metrics(result: CorpusSegmentation, path: Path) -> None:
    per_source = Counter(row["source"] for row in result.rows)
    metrics = {
        "documents": result.n_documents,
        "paragraphs": len(result.rows),
        "skipped_documents": result.skipped,
        "paragraphs_per_source": dict(sorted(per_source.items())),
        "dropped_lines": dict(sorted(result.dropped.items())),
    }
    with atomic_output(path, "w") as stream:
        json.dump(metrics, stream, indent=2, sort_keys=False)
        stream.write("\n")
