"""`stance annotate queue`: the unlabelled paragraphs worth labelling next.

Candidates are the corpus paragraphs (`paths.paragraphs`, scored here with the
trained model) or a `stance score` output that already holds probabilities
(`--from`: jsonl, csv, a parquet folder or a parquet table). A paragraph with an
active gold label for its current text is not a candidate. The rest are ranked:

  uncertainty   the model's entropy (scaled to 0..1) or 1 - (p1 - p2), the gap between
                its two most probable labels (`annotate.uncertainty`)
  disagreement  the share of voters (the weak labelers of `paths.votes` and the
                model) that differ from the majority; ties go to the higher entropy
  random        a hash of `annotate.seed` and the paragraph id: a seeded shuffle
                that does not change when other paragraphs come or go

The queue fills in rounds: in each round every source that has candidates left
gives its best one, so one outlet cannot fill the queue; a round's picks are
written best first. A candidate that repeats a queued or labelled paragraph (the
same normalised text, or a word 5-gram Jaccard of at least `annotate.near_duplicate`)
is skipped and counted. Same inputs, same bytes.

Each line: rank, paragraph_id, doc_id, source, title, section, position, text,
text_sha256, model, probs, guess, score, strategy, context {before, after}; the
session (`stance annotate`) and the Label Studio export read these keys.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.annotate.store import read_log
from pipeline.config import Params
from pipeline.console import progress
from pipeline.errors import ConfigError, InputDataError
from pipeline.io import (
    atomic_output,
    display_path,
    read_stage_table,
    refuse_overwriting_inputs,
)
from pipeline.label.annotations import Annotation, read_jsonl_records
from pipeline.text import sha256_hex, text_key

log = logging.getLogger(__name__)

STRATEGIES = ("uncertainty", "disagreement", "random")
SHINGLE_WORDS = 5
DIGITS = 4
# Labelers of `paths.votes` that are not weak: the gold labeler repeats human labels.
_NOT_WEAK = ("gold",)
_REQUIRED = ("paragraph_id", "text", "position")
_KNOWN_SOURCES_SHOWN = 20
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QueueSettings:
    """How to rank and how many to queue (`annotate.*` with the command line's overrides)."""

    n: int
    strategy: str
    uncertainty: str = "entropy"
    near_duplicate: float = 0.8
    seed: int = 0

    def describe(self) -> str:
        """The strategy as the summary line names it."""
        if self.strategy == "uncertainty":
            return f"uncertainty ({self.uncertainty})"
        if self.strategy == "random":
            return f"random (seed {self.seed})"
        return self.strategy


@dataclass(frozen=True)
class QueueResult:
    """The queued paragraphs in order, and what the summary line reports."""

    records: list[dict]
    unlabelled: int
    collapsed: int

    @property
    def sources(self) -> int:
        """How many outlets the queue draws on."""
        return len({record["source"] for record in self.records})


# ---- the shell -------------------------------------------------------------------------


def run_queue(
    params: Params,
    *,
    n: int | None = None,
    strategy: str | None = None,
    sources: Sequence[str] = (),
    scores: Path | None = None,
    output: Path | None = None,
) -> QueueResult:
    """Pick unlabelled paragraphs and write the queue; None means "as params say"."""
    settings = queue_settings(params, n=n, strategy=strategy)
    path = output if output is not None else params.annotate.queue
    refuse_overwriting_inputs(path, [scores or params.paths.paragraphs, params.paths.gold])
    labels = params.labels
    gold = read_log(params.paths.gold, labels).active()
    pool = unlabelled_candidates(params, scores, sources, gold)
    candidates, model_id = pool.candidates, pool.model_id
    votes = read_votes(params.paths.votes) if settings.strategy == "disagreement" else {}
    if settings.strategy != "random" and len(candidates) and not has_probs(candidates, labels):
        probs, model_id = score_texts(params, candidates["text"].tolist())
        candidates = with_probs(candidates, probs, labels)
    duplicates = NearDuplicateIndex(settings.near_duplicate)
    for text in pool.labelled_texts:
        duplicates.add(text)
    duplicates.add_hashes(annotation.text_sha256 for annotation in gold)
    result = build_queue(candidates, labels, settings, votes, duplicates, model_id)
    if result.records and result.records[0]["probs"] is None and model_folder(params).is_dir():
        result = _add_guesses(result, params, labels)  # random: the model's guess, if any
    write_queue(path, result.records)
    _report(result, settings, path, scores or params.paths.paragraphs)
    return result


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
        labelled_texts += _labelled_corpus_texts(params, labels, labelled_pairs)
    known = sorted(set(frame["source"]))
    candidates = only_sources(frame.loc[~labelled], sources, known)
    return CandidatePool(candidates.reset_index(drop=True), labelled_texts, model_id)


def queue_settings(params: Params, *, n: int | None, strategy: str | None) -> QueueSettings:
    """`annotate.*` with the command line's overrides, checked."""
    chosen = strategy if strategy is not None else params.annotate.strategy
    if chosen not in STRATEGIES:
        raise ConfigError(f"--strategy: {chosen!r} is not one of {', '.join(STRATEGIES)}")
    count = n if n is not None else params.annotate.n
    if count < 1:
        raise ConfigError(f"--n: {count} paragraphs; queue at least one")
    return QueueSettings(
        n=count,
        strategy=chosen,
        uncertainty=params.annotate.uncertainty,
        near_duplicate=params.annotate.near_duplicate,
        seed=params.annotate.seed,
    )


def _report(result: QueueResult, settings: QueueSettings, path: Path, origin: Path) -> None:
    if not result.unlabelled:
        log.warning(
            "queue: no unlabelled paragraphs in %s; wrote an empty queue to %s",
            display_path(origin),
            display_path(path),
        )
        return
    log.info(
        "queue: %d of %d unlabelled paragraphs by %s, %s, %s collapsed -> %s",
        len(result.records),
        result.unlabelled,
        settings.describe(),
        _plural(result.sources, "source"),
        _plural(result.collapsed, "near-duplicate"),
        display_path(path),
    )


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


# ---- reading candidates ----------------------------------------------------------------


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
        raise InputDataError(f"{name}: not a readable table ({_one_line(error)})") from None
    return frame, _model_column(frame)


def _read_score_folder(path: Path, name: str) -> tuple[pd.DataFrame, str | None]:
    """The paragraph table of a `--format parquet` output, with its articles' titles."""
    from pipeline.score.folder import DOCUMENTS, PARAGRAPHS

    if not (path / PARAGRAPHS).is_dir():
        raise InputDataError(
            f"{name}: a folder, but not a `stance score` parquet output (no {PARAGRAPHS}/)"
        )
    try:
        frame = pd.read_parquet(path / PARAGRAPHS)
        documents = (
            pd.read_parquet(path / DOCUMENTS, columns=["input_order", "title"])
            if (path / DOCUMENTS).is_dir()
            else None
        )
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(
            f"{name}: not a readable parquet folder ({_one_line(error)})"
        ) from None
    if documents is not None and "input_order" in frame.columns and "title" not in frame.columns:
        titles = documents.drop_duplicates("input_order").set_index("input_order")["title"]
        frame["title"] = frame["input_order"].map(titles)
    if "input_order" in frame.columns:
        frame = frame.sort_values(["input_order", "position"], kind="stable")
    return frame, _model_column(frame)


def _one_line(error: Exception) -> str:
    """A library's error message squashed onto one line (the CLI prints one line)."""
    return " ".join(str(error).split())


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
    return pd.DataFrame(rows, columns=[*columns, *_prob_columns(labels)]), model_id


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
    present = [column for column in _prob_columns(labels) if column in frame.columns]
    if present and len(present) < len(labels):
        absent = next(c for c in _prob_columns(labels) if c not in frame.columns)
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


def _prob_columns(labels: Sequence[str]) -> list[str]:
    return [f"prob_{label}" for label in labels]


def has_probs(frame: pd.DataFrame, labels: Sequence[str]) -> bool:
    """Whether every row has the model's probabilities."""
    columns = _prob_columns(labels)
    return all(c in frame.columns for c in columns) and not frame[columns].isna().any().any()


def with_probs(frame: pd.DataFrame, probs: np.ndarray, labels: Sequence[str]) -> pd.DataFrame:
    """`frame` with `prob_<label>` columns from an (n, k) array in `labels` order."""
    frame = frame.copy()
    for column, values in zip(_prob_columns(labels), np.asarray(probs).T, strict=True):
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


def _labelled_corpus_texts(
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


# ---- probabilities and votes -----------------------------------------------------------


def model_folder(params: Params) -> Path:
    """The model `dvc repro` trains (`train.model` under `paths.models`)."""
    return params.paths.models / params.train.model


def score_texts(params: Params, texts: Sequence[str]) -> tuple[np.ndarray, str]:
    """Probabilities of `texts` by the trained default model, columns in `params.labels`
    order, and the model's id. A progress bar shows on a terminal."""
    from pipeline.score.model import StanceModel  # loads the encoder stack: only when needed

    folder = model_folder(params)
    if not folder.is_dir():
        raise ConfigError(
            f"{display_path(folder)}: no trained model; run `dvc repro` first "
            "(or queue with --strategy random, or --from a scored file)"
        )
    model = StanceModel.load(folder, params=params)
    if sorted(model.labels) != sorted(params.labels):
        raise InputDataError(
            f"{display_path(folder)}: the model's labels {list(model.labels)} are not "
            f"params' labels {list(params.labels)}; run `dvc repro`"
        )
    order = [model.labels.index(label) for label in params.labels]
    size = model.batch_size
    batches = [texts[start : start + size] for start in range(0, len(texts), size)]
    parts = [
        model.predict_proba(batch)
        for batch in progress(batches, "queue: scoring", total=len(batches), min_items=2)
    ]
    probs = np.vstack(parts) if parts else np.zeros((0, len(params.labels)))
    return probs[:, order], model.info.version or model.info.name


def _add_guesses(result: QueueResult, params: Params, labels: Sequence[str]) -> QueueResult:
    """The model's probabilities for the queued paragraphs only (n texts, not the corpus):
    a random queue still shows the model's guess when a trained model is at hand."""
    probs, model_id = score_texts(params, [record["text"] for record in result.records])
    records = []
    for record, row in zip(result.records, probs, strict=True):
        records.append({**record, **_model_fields(row, labels, model_id)})
    return QueueResult(records, result.unlabelled, result.collapsed)


def read_votes(path: Path) -> dict[str, list[str]]:
    """Each corpus paragraph's weak votes (abstentions left out), from `paths.votes`."""
    frame = read_stage_table(path, ["paragraph_id"], made_by="stance label")
    if "synthetic" in frame.columns:
        frame = frame.loc[~frame["synthetic"].astype(bool)]
    frame = frame.drop_duplicates("paragraph_id")
    labelers = [
        column
        for column in frame.columns
        if f"{column}_score" in frame.columns and column not in _NOT_WEAK
    ]
    votes: dict[str, list[str]] = {}
    for row in frame[["paragraph_id", *labelers]].itertuples(index=False):
        votes[row[0]] = [str(vote) for vote in row[1:] if not pd.isna(vote)]
    return votes


# ---- the core: rank, stratify, collapse ------------------------------------------------


def entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy of each row, divided by its largest possible value (so 0..1)."""
    clipped = np.clip(probs, 1e-12, 1.0)
    return -(probs * np.log(clipped)).sum(axis=1) / math.log(probs.shape[1])


def margin_uncertainty(probs: np.ndarray) -> np.ndarray:
    """1 - (p1 - p2): near 1 when the two most probable labels are close."""
    top = np.sort(probs, axis=1)[:, ::-1]
    return 1.0 - (top[:, 0] - top[:, 1])


def disagreement(voters: Sequence[str]) -> float:
    """The share of voters that differ from the most common vote."""
    if not voters:
        return 0.0
    return 1.0 - max(Counter(voters).values()) / len(voters)


def seeded_draw(seed: int, paragraph_id: str) -> float:
    """A number in [0, 1) fixed by the seed and the paragraph: the random order."""
    digest = hashlib.blake2b(f"{seed}\n{paragraph_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def priorities(
    frame: pd.DataFrame,
    labels: Sequence[str],
    settings: QueueSettings,
    votes: dict[str, list[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's priority under the strategy (higher first) and its tie-breaker."""
    if settings.strategy == "random":
        draws = [seeded_draw(settings.seed, pid) for pid in frame["paragraph_id"]]
        return np.array(draws, dtype=float), np.zeros(len(frame))
    probs = frame[_prob_columns(labels)].to_numpy(dtype=float)
    spread = entropy(probs)
    if settings.strategy == "uncertainty":
        scores = spread if settings.uncertainty == "entropy" else margin_uncertainty(probs)
        return scores, np.zeros(len(frame))
    guesses = [labels[index] for index in probs.argmax(axis=1)]
    shares = [
        disagreement([*votes.get(pid, []), guess])
        for pid, guess in zip(frame["paragraph_id"], guesses, strict=True)
    ]
    return np.array(shares, dtype=float), spread


@dataclass
class NearDuplicateIndex:
    """Paragraphs already queued or labelled, to spot a candidate that repeats one.

    Two texts are the same when their normalised keys are equal, or when both have
    at least five words and the Jaccard similarity of their word 5-gram sets reaches
    `threshold`. An inverted index from 5-gram to text keeps each check to the texts
    that share one.
    """

    threshold: float
    _keys: set[str] = field(default_factory=set)
    _hashes: set[str] = field(default_factory=set)
    _sizes: list[int] = field(default_factory=list)
    _postings: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def add(self, text: str) -> None:
        key = text_key(text)
        self._keys.add(key)
        grams = shingles(key)
        if not grams:
            return
        number = len(self._sizes)
        self._sizes.append(len(grams))
        for gram in grams:
            self._postings.setdefault(gram, []).append(number)

    def add_hashes(self, hashes: Iterable[str]) -> None:
        """Exact texts known only by their SHA-256 (labels of paragraphs not at hand)."""
        self._hashes.update(hashes)

    def contains(self, text: str) -> bool:
        key = text_key(text)
        if key in self._keys or sha256_hex(text) in self._hashes:
            return True
        grams = shingles(key)
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        return any(
            count / (len(grams) + self._sizes[number] - count) >= self.threshold
            for number, count in shared.items()
        )


def shingles(key: str) -> set[tuple[str, ...]]:
    """The word 5-grams of a normalised text; none for a text under five words."""
    words = _WORD.findall(key)
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def build_queue(
    candidates: pd.DataFrame,
    labels: Sequence[str],
    settings: QueueSettings,
    votes: dict[str, list[str]],
    duplicates: NearDuplicateIndex,
    model_id: str | None,
) -> QueueResult:
    """The pure core: rank the unlabelled candidates, stratify by source, collapse
    near-duplicates, and return the queue's records in order."""
    if candidates.empty:
        return QueueResult([], 0, 0)
    primary, secondary = priorities(candidates, labels, settings, votes)
    ids, hashes = candidates["paragraph_id"].tolist(), candidates["text_sha256"].tolist()
    ranking = sorted(
        range(len(candidates)),
        key=lambda row: (-primary[row], -secondary[row], ids[row], hashes[row]),
    )
    chosen, collapsed = stratified_picks(
        [candidates["source"].iat[row] for row in ranking],
        [candidates["text"].iat[row] for row in ranking],
        settings.n,
        duplicates,
    )
    with_model = has_probs(candidates, labels)
    records = []
    for rank, place in enumerate(chosen, start=1):
        row = candidates.iloc[ranking[place]]
        score = float(primary[ranking[place]])
        probs = row[_prob_columns(labels)].to_numpy(dtype=float) if with_model else None
        records.append(queue_record(rank, row, labels, probs, model_id, score, settings.strategy))
    return QueueResult(records, len(candidates), collapsed)


def stratified_picks(
    sources: Sequence[str], texts: Sequence[str], n: int, duplicates: NearDuplicateIndex
) -> tuple[list[int], int]:
    """Positions in the ranking to queue, in queue order, and how many were collapsed.

    Rounds: each source, in the order of its best candidate, takes its next candidate
    that repeats nothing already queued or labelled. A source that runs out drops out,
    so the others fill its share. A round's picks keep their ranking order.
    """
    by_source: dict[str, deque[int]] = {}
    for place, source in enumerate(sources):  # ranked, so a source's first is its best
        by_source.setdefault(source, deque()).append(place)
    chosen: list[int] = []
    collapsed = 0
    while by_source and len(chosen) < n:
        picks: list[int] = []
        for source in list(by_source):
            if len(chosen) + len(picks) >= n:
                break
            waiting = by_source[source]
            while waiting:
                place = waiting.popleft()
                if duplicates.contains(texts[place]):
                    collapsed += 1
                    continue
                duplicates.add(texts[place])
                picks.append(place)
                break
            if not waiting:
                del by_source[source]
        chosen.extend(sorted(picks))
    return chosen, collapsed


def queue_record(
    rank: int,
    row: pd.Series,
    labels: Sequence[str],
    probs: np.ndarray | None,
    model_id: str | None,
    score: float,
    strategy: str,
) -> dict:
    """One line of the queue, with exactly the keys its readers expect."""
    return {
        "rank": rank,
        "paragraph_id": row["paragraph_id"],
        "doc_id": row["doc_id"],
        "source": row["source"],
        "title": _text_or_none(row["title"]),
        "section": _text_or_none(row["section"]),
        "position": int(row["position"]),
        "text": row["text"],
        "text_sha256": row["text_sha256"],
        **_model_fields(probs, labels, model_id),
        "score": round(score, DIGITS),
        "strategy": strategy,
        "context": {"before": _text_or_none(row["before"]), "after": _text_or_none(row["after"])},
    }


def _text_or_none(value: object) -> str | None:
    """A text field as JSON writes it: null when unknown (pandas holds that as NaN)."""
    return None if value is None or pd.isna(value) or value == "" else str(value)


def _model_fields(probs: np.ndarray | None, labels: Sequence[str], model_id: str | None) -> dict:
    if probs is None:
        return {"model": None, "probs": None, "guess": None}
    return {
        "model": model_id,
        "probs": {label: round(float(p), DIGITS) for label, p in zip(labels, probs, strict=True)},
        "guess": labels[int(np.argmax(probs))],
    }


def write_queue(path: Path, records: Sequence[dict]) -> None:
    """The queue as JSON lines, written atomically."""
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    with atomic_output(path) as stream:
        stream.write(text.encode("utf-8"))
