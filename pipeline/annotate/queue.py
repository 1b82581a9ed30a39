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

This module is the shell (settings, the model's probabilities, the weak votes,
the summary line); `candidates` reads the inputs, `ranking` is the pure core,
`duplicates` spots repeats and `queue_file` writes and reads the file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd

from pipeline.annotate.candidates import has_probs, unlabelled_candidates, with_probs
from pipeline.annotate.duplicates import NearDuplicateIndex
from pipeline.annotate.queue_file import write_queue
from pipeline.annotate.ranking import QueueResult, QueueSettings, build_queue, model_fields
from pipeline.annotate.store import read_log
from pipeline.artifacts import model_folder
from pipeline.config import Params, QueueStrategy
from pipeline.console import progress
from pipeline.errors import ConfigError, InputDataError
from pipeline.io import display_path, read_stage_table, refuse_overwriting_inputs
from pipeline.models.base import Context, frame_contexts

log = logging.getLogger(__name__)

STRATEGIES = get_args(QueueStrategy)
# Labelers of `paths.votes` that are not weak: the gold labeler repeats human labels.
_NOT_WEAK = ("gold",)


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
        probs, model_id = score_texts(
            params, candidates["text"].tolist(), frame_contexts(candidates)
        )
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


def score_texts(
    params: Params, texts: Sequence[str], contexts: Sequence[Context]
) -> tuple[np.ndarray, str]:
    """Probabilities of `texts` (in `contexts`: their titles and sections, for a model
    that reads them) by the trained default model, columns in `params.labels` order,
    and the model's id. A progress bar shows on a terminal."""
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
    starts = range(0, len(texts), size)
    parts = [
        model.predict_proba(texts[start : start + size], contexts[start : start + size])
        for start in progress(starts, "queue: scoring", total=len(starts), min_items=2)
    ]
    probs = np.vstack(parts) if parts else np.zeros((0, len(params.labels)))
    return probs[:, order], model.info.version or model.info.name


def _add_guesses(result: QueueResult, params: Params, labels: Sequence[str]) -> QueueResult:
    """The model's probabilities for the queued paragraphs only (n texts, not the corpus):
    a random queue still shows the model's guess when a trained model is at hand."""
    queued = pd.DataFrame(result.records, columns=["text", "title", "section"])
    probs, model_id = score_texts(params, queued["text"].tolist(), frame_contexts(queued))
    records = []
    for record, row in zip(result.records, probs, strict=True):
        records.append({**record, **model_fields(row, labels, model_id)})
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
