"""The output formats of `stance score`: a table for people, jsonl/json/csv for programs.

jsonl (stable; every line has "type"):
  {"type": "model", "name", "version", "card_hash"}                      first line
  {"type": "document", "doc", "source", "n_paragraphs", "counts",
   "stance_index", "ci_low", "ci_high"}                                 per article
  {"type": "paragraph", "doc", "paragraph_id", "position", "text",
   "label", "probs": {<label>: p}}                                      after its document
json: the same content as one object, {"model": {...}, "documents": [{..., "paragraphs": [...]}]},
  written article by article (the layout of `json.dump(..., indent=2)`).
csv: one row per paragraph, probabilities as prob_<label> columns and the model's version.
parquet: a folder of a paragraph table and a document table (`pipeline.score.folder`);
  the only format of `--engine ray`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipeline.csvfile import write_csv
from pipeline.output_format import pick_format
from pipeline.text import one_line

if TYPE_CHECKING:  # the CLI imports this module for OutputFormat; keep it light
    from rich.table import Table

    from pipeline.score.core import ScoredDocument
    from pipeline.score.model import ModelInfo

_TABLE_TEXT_CHARS = 240
_LABEL_STYLES = ("green", "red", "dim")  # favor, against, none


class OutputFormat(StrEnum):
    """How scores are written."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


_SUFFIXES = {
    ".json": OutputFormat.json,
    ".jsonl": OutputFormat.jsonl,
    ".csv": OutputFormat.csv,
    ".txt": OutputFormat.table,
}


def choose_format(
    requested: OutputFormat | None, output: Path | None, *, stdout_is_terminal: bool
) -> OutputFormat:
    """The format asked for; else the suffix of --output; else table on a terminal, else jsonl."""
    return pick_format(
        requested,
        output,
        by_suffix=_SUFFIXES,
        terminal=OutputFormat.table,
        piped=OutputFormat.jsonl,
        stdout_is_terminal=stdout_is_terminal,
    )


@dataclass(frozen=True)
class Totals:
    """How much was written: articles and paragraphs."""

    documents: int
    paragraphs: int


def write_scores(
    stream: TextIO,
    output_format: OutputFormat,
    info: ModelInfo,
    documents: Iterable[ScoredDocument],
    *,
    labels: Sequence[str],
    failed: Sequence[str] = (),
) -> Totals:
    """Write scored articles to `stream` in `output_format`, each as it arrives.

    Nothing is written before the first article is scored (or the input ends),
    so an input that stops the run early leaves the output empty. `failed` is
    read only after the last article: a list that fills while the articles are
    read is counted whole.
    """
    if output_format is OutputFormat.parquet:
        raise ValueError("parquet output is a folder, not a stream; see pipeline.score.folder")
    writer = {
        OutputFormat.jsonl: _write_jsonl,
        OutputFormat.json: _write_json,
        OutputFormat.csv: _write_csv,
        OutputFormat.table: _write_table,
    }[output_format]
    return writer(stream, info, _first_scored(documents), labels, failed)


def _first_scored(documents: Iterable[ScoredDocument]) -> Iterator[ScoredDocument]:
    """The same articles, with the first one already scored."""
    articles = iter(documents)
    first = next(articles, None)
    return iter(()) if first is None else itertools.chain([first], articles)


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


def _write_jsonl(
    stream: TextIO,
    info: ModelInfo,
    documents: Iterable[ScoredDocument],
    labels: Sequence[str],
    failed: Sequence[str],
) -> Totals:
    stream.write(_dumps(info.record()) + "\n")
    n_documents = n_paragraphs = 0
    for document in documents:
        lines = [document.record()] + [p.record(document.doc) for p in document.paragraphs]
        stream.write("".join(_dumps(line) + "\n" for line in lines))
        stream.flush()  # a reader downstream sees each article as soon as it is scored
        n_documents, n_paragraphs = n_documents + 1, n_paragraphs + document.n_paragraphs
    return Totals(n_documents, n_paragraphs)


def _untyped(record: dict, *drop: str) -> dict:
    return {key: value for key, value in record.items() if key not in ("type", *drop)}


def _write_json(
    stream: TextIO,
    info: ModelInfo,
    documents: Iterable[ScoredDocument],
    labels: Sequence[str],
    failed: Sequence[str],
) -> Totals:
    """One object, written piece by piece as `json.dump(..., indent=2)` would lay it out."""
    opening = json.dumps({"model": _untyped(info.record())}, indent=2)
    stream.write(opening.removesuffix("\n}") + ',\n  "documents": [')
    n_documents = n_paragraphs = 0
    for document in documents:
        article = {
            **_untyped(document.record()),
            "paragraphs": [_untyped(p.record(document.doc), "doc") for p in document.paragraphs],
        }
        # JSON escapes newlines inside strings, so every newline here is layout.
        nested = json.dumps(article, indent=2).replace("\n", "\n    ")
        stream.write(("\n    " if n_documents == 0 else ",\n    ") + nested)
        n_documents, n_paragraphs = n_documents + 1, n_paragraphs + document.n_paragraphs
    stream.write("\n  ]\n}\n" if n_documents else "]\n}\n")
    return Totals(n_documents, n_paragraphs)


def csv_columns(labels: Sequence[str]) -> list[str]:
    """Columns of the csv output, in order."""
    return [
        "doc",
        "paragraph_id",
        "position",
        "label",
        *(f"prob_{label}" for label in labels),
        "text",
        "model",
    ]


def _write_csv(
    stream: TextIO,
    info: ModelInfo,
    documents: Iterable[ScoredDocument],
    labels: Sequence[str],
    failed: Sequence[str],
) -> Totals:
    counted = _Counted(documents)
    write_csv(stream, _csv_rows(info, counted, labels), csv_columns(labels))
    return Totals(counted.n_documents, counted.n_paragraphs)


class _Counted:
    """Documents passed through, counted (the CSV writer consumes them lazily)."""

    def __init__(self, documents: Iterable[ScoredDocument]) -> None:
        self._documents = documents
        self.n_documents = self.n_paragraphs = 0

    def __iter__(self) -> Iterator[ScoredDocument]:
        for document in self._documents:
            yield document
            self.n_documents += 1
            self.n_paragraphs += document.n_paragraphs


def _csv_rows(
    info: ModelInfo, documents: Iterable[ScoredDocument], labels: Sequence[str]
) -> Iterator[dict]:
    for document in documents:
        for paragraph in document.paragraphs:
            row = _untyped(paragraph.record(document.doc), "probs")
            row.update({f"prob_{label}": paragraph.probs[label] for label in labels})
            yield {**row, "model": info.version or info.name}


def _write_table(
    stream: TextIO,
    info: ModelInfo,
    documents: Iterable[ScoredDocument],
    labels: Sequence[str],
    failed: Sequence[str],
) -> Totals:
    from rich.console import Console

    terminal = stream.isatty()
    console = Console(file=stream, width=None if terminal else 120, highlight=False)
    n_documents = n_paragraphs = 0
    for document in documents:
        console.print(_article_table(document, labels))
        console.print()
        n_documents, n_paragraphs = n_documents + 1, n_paragraphs + document.n_paragraphs
    model = info.name if info.version is None else f"{info.name} ({info.version})"
    summary = f"{_count(n_documents, 'article')}, {_count(n_paragraphs, 'paragraph')} scored by "
    summary += model + (f"; {_count(len(failed), 'input')} failed" if failed else "")
    console.print(summary, markup=False)
    return Totals(n_documents, n_paragraphs)


def _article_table(document: ScoredDocument, labels: Sequence[str]) -> Table:
    from rich.table import Table
    from rich.text import Text

    counts = ", ".join(f"{document.counts[label]} {label}" for label in labels)
    caption = (
        f"stance index {document.stance_index:+.2f} "
        f"[{document.ci_low:+.2f}, {document.ci_high:+.2f}] · {counts}"
    )
    table = Table(
        title=Text(one_line(f"{document.doc} · {document.source}"), style="bold"),
        title_justify="left",
        caption=Text(caption),
        caption_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("label")
    for label in labels:
        table.add_column(f"P({label})", justify="right")
    table.add_column("paragraph", ratio=1)
    styles = dict(zip(labels, _LABEL_STYLES, strict=True))
    for paragraph in document.paragraphs:
        text = paragraph.text
        if len(text) > _TABLE_TEXT_CHARS:
            text = text[:_TABLE_TEXT_CHARS].rstrip() + "…"
        table.add_row(
            str(paragraph.position),
            Text(paragraph.label, style=styles.get(paragraph.label, "")),
            *(f"{paragraph.probs[label]:.2f}" for label in labels),
            Text(one_line(text)),
        )
    return table


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
