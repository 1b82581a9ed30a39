"""The candidates of `stance annotate queue`: unlabelled paragraphs in one schema.

They come from the corpus (`paths.paragraphs`) or from a `stance score` output
(jsonl, csv, a parquet folder read by `pipeline.score.folder`, or any parquet
table). Every input becomes the same columns: ids, source, title, section,
position, text, the neighbours' text (`before`, `after`) and, when the input
has them, `prob_<label>` columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.errors import ConfigError, InputDataError, error_line
from pipeline.io import display_path, read_stage_table
from pipeline.label.annotations import Annotation, read_jsonl_records
from pipeline.text import sha256_hex

_REQUIRED = ("paragraph_id", "text", "position")
_KNOWN_SOURCES_SHOWN = 20


@dataclass(frozen=True)
class CandidatePool:
    """The unlabelled paragraphs to rank, and the labelled texts they must not repeat."""

    candidates: pd.DataFrame
    labelled_texts: list[str]
    model_id: str | None


def unlabelled_candidates(
    params: Params, scores: Path | None, sources: Sequence[str], gold: Sequence[Annotation]
) -> CandidatePool:
    """Read the candidates (with their neighbours' text), keep the named sources and
    drop the paragraphs whose current text has an active label."""
    labels = params.labels
    if scores is None:
        frame, model_id = read_paragraph_table(params, labels)
    else:
        frame, model_id = read_candidates(scores, labels)
    frame = add_context(frame)
    frame["text_sha256"] = [sha256_hex(text) for text in frame["text"]]
    labelled_pairs = {(a.paragraph_id, a.text_sha256) for a in gold}
    pairs = zip(frame["paragraph_id"], frame["text_sha256"], strict=True)
    labelled = np.array([pair in labelled_pairs for pair in pairs], dtype=bool)
    # Labelled texts of every source: a wire story labelled in one outlet is not queued
    # again from another.
    labelled_texts = frame.loc[labelled, "text"].tolist()
    if scores is not None and params.paths.paragraphs.is_file():
        labelled_texts += labelled_corpus_texts(params, labels, labelled_pairs)
    known = sorted(set(frame["source"]))
    candidates = only_sources(frame.loc[~labelled], sources, known)
    return CandidatePool(candidates.reset_index(drop=True), labelled_texts, model_id)


def read_paragraph_table(params: Params, labels: Sequence[str]) -> tuple[pd.DataFrame, None]:
    """The corpus paragraphs of the segment stage, without probabilities."""
    path = params.paths.paragraphs
    frame = read_stage_table(path, _REQUIRED, made_by="stance segment")
    return normalise_candidates(frame, labels, display_path(path)), None


def read_candidates(path: Path, labels: Sequence[str]) -> tuple[pd.DataFrame, str | None]:
    """Paragraphs of a `stance score` output (or any paragraph table) and the model id."""
    name = display_path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        frame, model_id = _read_score_folder(path, name)
    elif not path.is_file():
        raise InputDataError(f"{name}: not found")
    elif suffix == ".jsonl":
        frame, model_id = _read_scored_jsonl(path, name, labels)
    elif suffix == ".csv":
        frame, model_id = _read_table(path, name, _read_csv)
    elif suffix == ".parquet":
        frame, model_id = _read_table(path, name, pd.read_parquet)
    else:
        raise InputDataError(
            f"{name}: cannot read paragraphs from a {suffix or 'suffix-less'} file; "
            "pass a `stance score` output (.jsonl, .csv, a parquet folder) or a .parquet table"
        )
    return normalise_candidates(frame, labels, name), model_id


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"paragraph_id": str, "doc": str, "text": str})


def _read_table(
    path: Path, name: str, reader: Callable[[Path], pd.DataFrame]
) -> tuple[pd.DataFrame, str | None]:
    """A csv or parquet table, with every way it can fail as one error naming it."""
    try:
        frame = reader(path)
    except Exception as error:  # pandas and pyarrow raise many types for a damaged file
        raise InputDataError(f"{name}: not a readable table ({error_line(error)})") from None
    return frame, _model_column(frame)


def _read_score_folder(path: Path, name: str) -> tuple[pd.DataFrame, str | None]:
    """The paragraph table of a `--format parquet` output, with its articles' titles."""
    from pipeline.score.folder import PARAGRAPHS, read_score_folder  # the score stack: lazily

    if not (path / PARAGRAPHS).is_dir():
        raise InputDataError(
            f"{name}: a folder, but not a `stance score` parquet output (no {PARAGRAPHS}/)"
        )
    try:
        frame, documents = read_score_folder(path)
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(
            f"{name}: not a readable parquet folder ({error_line(error)})"
        ) from None
    if "title" not in frame.columns:
        titles = documents.drop_duplicates("input_order").set_index("input_order")["title"]
        frame["title"] = frame["input_order"].map(titles)
    return frame, _model_column(frame)


def _model_column(frame: pd.DataFrame) -> str | None:
    if "model" not in frame.columns:
        return None
    known = frame["model"].dropna()
    return str(known.iloc[0]) if len(known) else None


def _read_scored_jsonl(
    path: Path, name: str, labels: Sequence[str]
) -> tuple[pd.DataFrame, str | None]:
    """The paragraph lines of a `--format jsonl` output; each takes its article's source
    from the document line before it, and the model id comes from the model line."""
    model_id: str | None = None
    source_of: dict[str, str] = {}
    rows: list[dict] = []
    for number, record in read_jsonl_records(path):
        where = f"{name}:{number}"
        kind = record.get("type")
        if kind == "model":
            model_id = record.get("version") or record.get("name")
        elif kind == "document":
            source_of[str(record.get("doc"))] = str(record.get("source") or "")
        elif kind == "paragraph":
            rows.append(_jsonl_paragraph(record, where, labels, source_of))
    columns = ["doc", "source", "paragraph_id", "position", "text"]
    return pd.DataFrame(rows, columns=[*columns, *prob_columns(labels)]), model_id


def _jsonl_paragraph(
    record: dict, where: str, labels: Sequence[str], source_of: dict[str, str]
) -> dict:
    probs = record.get("probs")
    if not isinstance(probs, dict):
        raise InputDataError(f"{where}: a paragraph line needs 'probs'")
    missing = [label for label in labels if not isinstance(probs.get(label), int | float)]
    if missing:
        raise InputDataError(f"{where}: 'probs' has no number for label {missing[0]!r}")
    doc = str(record.get("doc", ""))
    return {
        "doc": doc,
        "source": source_of.get(doc, ""),
        "paragraph_id": record.get("paragraph_id"),
        "position": record.get("position"),
        "text": record.get("text"),
        **{f"prob_{label}": float(probs[label]) for label in labels},
    }


def normalise_candidates(frame: pd.DataFrame, labels: Sequence[str], name: str) -> pd.DataFrame:
    """One schema for every input: ids, source, title, section, position, text and,
    when the input has them, `prob_<label>` columns. Unknown titles and sections are
    None; an article without a source is its own group, as the segment stage does."""
    missing = [column for column in _REQUIRED if column not in frame.columns]
    if missing:
        raise InputDataError(f"{name}: missing column {missing[0]!r}")
    if frame["paragraph_id"].isna().any() or frame["text"].isna().any():
        raise InputDataError(f"{name}: a paragraph without its paragraph_id or text")
    try:
        positions = frame["position"].astype("int64")
    except (TypeError, ValueError):
        raise InputDataError(f"{name}: column 'position' must hold whole numbers") from None
    ids = frame["paragraph_id"].astype(str)
    doc_ids = _column(frame, "doc_id")
    # The pipeline's paragraph ids are "<doc_id>:<hash>": the jsonl and csv outputs
    # name only the article's file, so its id is read back from its paragraphs'.
    doc_ids = [d or _doc_id_of(pid) for d, pid in zip(doc_ids, ids, strict=True)]
    sources = [s or f"unknown:{d}" for s, d in zip(_column(frame, "source"), doc_ids, strict=True)]
    result = pd.DataFrame(
        {
            "paragraph_id": ids.tolist(),
            "doc_id": doc_ids,
            "source": sources,
            "title": [value or None for value in _column(frame, "title")],
            "section": [value or None for value in _column(frame, "section")],
            "position": positions.tolist(),
            "text": frame["text"].astype(str).tolist(),
        }
    )
    present = [column for column in prob_columns(labels) if column in frame.columns]
    if present and len(present) < len(labels):
        absent = next(c for c in prob_columns(labels) if c not in frame.columns)
        raise InputDataError(f"{name}: missing column {absent!r}")
    if present:
        probs = frame[present].to_numpy(dtype=float)
        if not np.isfinite(probs).all() or (probs < 0).any() or (probs > 1).any():
            raise InputDataError(f"{name}: probabilities must be numbers between 0 and 1")
        return with_probs(result, probs, labels)
    return result


def _column(frame: pd.DataFrame, column: str) -> list[str]:
    """A text column as strings, "" where it is missing or null."""
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if pd.isna(value) else str(value) for value in frame[column]]


def _doc_id_of(paragraph_id: str) -> str:
    return paragraph_id.rsplit(":", 1)[0]


def prob_columns(labels: Sequence[str]) -> list[str]:
    return [f"prob_{label}" for label in labels]


def has_probs(frame: pd.DataFrame, labels: Sequence[str]) -> bool:
    """Whether every row has the model's probabilities."""
    columns = prob_columns(labels)
    return all(c in frame.columns for c in columns) and not frame[columns].isna().any().any()


def with_probs(frame: pd.DataFrame, probs: np.ndarray, labels: Sequence[str]) -> pd.DataFrame:
    """`frame` with `prob_<label>` columns from an (n, k) array in `labels` order."""
    frame = frame.copy()
    for column, values in zip(prob_columns(labels), np.asarray(probs).T, strict=True):
        frame[column] = values
    return frame


def add_context(frame: pd.DataFrame) -> pd.DataFrame:
    """Each paragraph's neighbours in its article (by position): the text before and after."""
    frame = frame.sort_values(["doc_id", "position", "paragraph_id"], kind="stable")
    by_doc = frame.groupby("doc_id", sort=False)["text"]
    frame = frame.assign(before=by_doc.shift(1), after=by_doc.shift(-1))
    for column in ("before", "after"):
        frame[column] = [None if pd.isna(value) else value for value in frame[column]]
    return frame.reset_index(drop=True)


def labelled_corpus_texts(
    params: Params, labels: Sequence[str], labelled: set[tuple[str, str]]
) -> list[str]:
    """Texts of the labelled corpus paragraphs, so that a scored file's copies of them
    are recognised as near-duplicates too."""
    frame, _ = read_paragraph_table(params, labels)
    hashes = [sha256_hex(text) for text in frame["text"]]
    keep = [pair in labelled for pair in zip(frame["paragraph_id"], hashes, strict=True)]
    return frame.loc[keep, "text"].tolist()


def only_sources(frame: pd.DataFrame, sources: Sequence[str], known: Sequence[str]) -> pd.DataFrame:
    """The rows of the named sources; a name not among `known` is a usage error."""
    if not sources:
        return frame
    unknown = [source for source in sources if source not in known]
    if unknown:
        hidden = len(known) - _KNOWN_SOURCES_SHOWN
        shown = ", ".join(known[:_KNOWN_SOURCES_SHOWN]) + (
            f" and {hidden} more" if hidden > 0 else ""
        )
        raise ConfigError(f"--source: unknown source {unknown[0]!r}; known: {shown}")
    return frame.loc[frame["source"].isin(list(sources))].reset_index(drop=True)
