"""The parquet output of `stance score`: a folder with a paragraph table and a document table.

    DIR/paragraphs/part-<key>.parquet   one row per paragraph
    DIR/documents/part-<key>.parquet    one row per article
    DIR/run.json                        the model, labels, engine, counts and failed inputs

Both engines write it through `write_shard` (`--format parquet` on the local
engine, always on `--engine ray`), so their outputs compare row by row. A
shard holds whole articles in input order and is named after the sort key of
its first one (`input_order`, zero-padded), so a table's files in name order
give input order too; to be sure, sort by `input_order` (and `position`).

The folder is filled beside DIR and renamed into place, so DIR is whole or as
it was. A DIR that exists is replaced only when it is empty or a folder this
command wrote (it holds `run.json`); anything else is refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import ConfigError, OutputError
from pipeline.io import atomic_folder, display_path
from pipeline.score.core import ScoredDocument
from pipeline.score.formats import Totals
from pipeline.score.model import ModelInfo

PARAGRAPHS = "paragraphs"
DOCUMENTS = "documents"
RUN_FILE = "run.json"
# The local engine starts a new shard after this many paragraphs (a few MB each), so what
# it holds stays bounded; the Ray engine writes one shard per block it scores.
SHARD_PARAGRAPHS = 10_000
_EMPTY_KEY = 0  # the name of the empty shard written when no article was scored

KeyedDocument = tuple[int, ScoredDocument]  # (input_order, the scored article)


def paragraph_schema(labels: Sequence[str]) -> pa.Schema:
    """Columns of the paragraph table, in order."""
    return pa.schema(
        [
            ("input_order", pa.int64()),
            ("doc", pa.string()),
            ("doc_id", pa.string()),
            ("source", pa.string()),
            ("paragraph_id", pa.string()),
            ("position", pa.int32()),
            ("section", pa.string()),
            ("text", pa.string()),
            ("label", pa.string()),
            *((f"prob_{label}", pa.float64()) for label in labels),
            ("model", pa.string()),
            ("card_hash", pa.string()),
        ]
    )


def document_schema(labels: Sequence[str]) -> pa.Schema:
    """Columns of the document table, in order."""
    return pa.schema(
        [
            ("input_order", pa.int64()),
            ("doc", pa.string()),
            ("doc_id", pa.string()),
            ("source", pa.string()),
            ("title", pa.string()),
            ("n_paragraphs", pa.int32()),
            *((f"count_{label}", pa.int32()) for label in labels),
            ("stance_index", pa.float64()),
            ("ci_low", pa.float64()),
            ("ci_high", pa.float64()),
            ("model", pa.string()),
            ("card_hash", pa.string()),
        ]
    )


def shard_tables(
    documents: Sequence[KeyedDocument], info: ModelInfo, labels: Sequence[str]
) -> tuple[pa.Table, pa.Table]:
    """The paragraph rows and the document rows of some scored articles."""
    model = {"model": info.version or info.name, "card_hash": info.card_hash}
    paragraphs, articles = [], []
    for key, document in documents:
        article = {"input_order": key, "doc": document.doc, "doc_id": document.doc_id}
        article["source"] = document.source
        for paragraph in document.paragraphs:
            paragraphs.append(
                {
                    **article,
                    "paragraph_id": paragraph.paragraph_id,
                    "position": paragraph.position,
                    "section": paragraph.section,
                    "text": paragraph.text,
                    "label": paragraph.label,
                    **{f"prob_{label}": paragraph.probs[label] for label in labels},
                    **model,
                }
            )
        articles.append(
            {
                **article,
                "title": document.title,
                "n_paragraphs": document.n_paragraphs,
                **{f"count_{label}": document.counts[label] for label in labels},
                "stance_index": document.stance_index,
                "ci_low": document.ci_low,
                "ci_high": document.ci_high,
                **model,
            }
        )
    return (
        pa.Table.from_pylist(paragraphs, schema=paragraph_schema(labels)),
        pa.Table.from_pylist(articles, schema=document_schema(labels)),
    )


def write_shard(
    folder: Path, documents: Sequence[KeyedDocument], info: ModelInfo, labels: Sequence[str]
) -> None:
    """Write some scored articles, in key order, as one shard of each table under `folder`."""
    if not documents:
        return
    ordered = sorted(documents, key=lambda keyed: keyed[0])
    paragraphs, articles = shard_tables(ordered, info, labels)
    _write_tables(folder, ordered[0][0], paragraphs, articles)


def _write_tables(folder: Path, key: int, paragraphs: pa.Table, articles: pa.Table) -> None:
    name = f"part-{key:019d}.parquet"
    for table, subfolder in ((paragraphs, PARAGRAPHS), (articles, DOCUMENTS)):
        (folder / subfolder).mkdir(exist_ok=True)
        pq.write_table(table, folder / subfolder / name, compression="zstd")


def finish_folder(
    folder: Path,
    info: ModelInfo,
    labels: Sequence[str],
    *,
    engine: str,
    totals: Totals,
    failed: Sequence[str],
) -> None:
    """Write `run.json`, and an empty shard of each table when no article was scored (so
    that both tables read, with their columns)."""
    if totals.documents == 0:
        _write_tables(
            folder,
            _EMPTY_KEY,
            paragraph_schema(labels).empty_table(),
            document_schema(labels).empty_table(),
        )
    record = {
        "model": {key: value for key, value in info.record().items() if key != "type"},
        "labels": list(labels),
        "engine": engine,
        "documents": totals.documents,
        "paragraphs": totals.paragraphs,
        "failed": list(failed),
    }
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    (folder / RUN_FILE).write_text(text, encoding="utf-8")


def check_output_folder(output: Path | None) -> Path:
    """The --output of a parquet run, checked before any work: given, not a file, and not a
    folder of something else (which replacing would delete)."""
    if output is None:
        raise ConfigError("parquet output is a folder of tables; pass --output DIR")
    name = display_path(output)
    if output.exists() and not output.is_dir():
        raise OutputError(f"{name}: is a file; parquet output is a folder, pass a folder path")
    if output.is_dir() and any(output.iterdir()) and not (output / RUN_FILE).is_file():
        raise OutputError(
            f"{name}: a folder that `stance score` did not write (no {RUN_FILE}); "
            "choose a new or empty folder"
        )
    return output


@contextlib.contextmanager
def staged_folder(output: Path) -> Iterator[Path]:
    """A temporary folder beside `output` to fill; it replaces `output` only on success, as
    a model folder is replaced (`atomic_folder`: the old one aside, the new one in)."""
    check_output_folder(output)
    with atomic_folder(output) as staging:
        yield staging


class ShardWriter:
    """Scored articles collected into shards of about `SHARD_PARAGRAPHS` paragraphs."""

    def __init__(self, folder: Path, info: ModelInfo, labels: Sequence[str]) -> None:
        self.folder = folder
        self.info = info
        self.labels = labels
        self.totals = Totals(0, 0)
        self._pending: list[KeyedDocument] = []
        self._pending_paragraphs = 0

    def add(self, key: int, document: ScoredDocument) -> None:
        self._pending.append((key, document))
        self._pending_paragraphs += document.n_paragraphs
        self.totals = Totals(
            self.totals.documents + 1, self.totals.paragraphs + document.n_paragraphs
        )
        if self._pending_paragraphs >= SHARD_PARAGRAPHS:
            self.flush()

    def flush(self) -> None:
        write_shard(self.folder, self._pending, self.info, self.labels)
        self._pending, self._pending_paragraphs = [], 0


def write_score_folder(
    output: Path,
    info: ModelInfo,
    labels: Sequence[str],
    documents: Iterable[KeyedDocument],
    *,
    failed: Sequence[str],
    engine: str = "local",
) -> Totals:
    """Write scored articles as a parquet folder, atomically; `failed` is read at the end."""
    with staged_folder(output) as staging:
        writer = ShardWriter(staging, info, labels)
        for key, document in documents:
            writer.add(key, document)
        writer.flush()
        finish_folder(staging, info, labels, engine=engine, totals=writer.totals, failed=failed)
    return writer.totals


def read_score_folder(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables of a parquet output, in input order: (paragraphs, documents)."""
    paragraphs = pq.read_table(folder / PARAGRAPHS).to_pandas()
    documents = pq.read_table(folder / DOCUMENTS).to_pandas()
    paragraphs = paragraphs.sort_values(["input_order", "position"], kind="stable")
    documents = documents.sort_values("input_order", kind="stable")
    return paragraphs.reset_index(drop=True), documents.reset_index(drop=True)
