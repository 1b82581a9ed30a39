"""The I/O shell of the `label` stage: read paragraphs and annotations, vote, write.

Reads `paths.paragraphs`, `paths.gold`, `paths.synthetic`, `paths.press`, `paths.dev`
and `paths.rules`; writes `paths.labels` (one row per corpus paragraph, per synthetic
example, per example written from real coverage and per development paragraph),
`paths.votes` (every labeler's vote), `paths.labeling_metrics` and `paths.dataset` (the
labelled rows as a Hugging Face dataset, `pipeline/label/dataset.py`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.config import Params, Paths
from pipeline.encoders.base import TextEncoder
from pipeline.errors import InputDataError
from pipeline.headline import labeling_headline, write_headlines
from pipeline.io import atomic_output, display_path, read_stage_table, write_parquet
from pipeline.label.aggregate import Aggregate, weighted_vote
from pipeline.label.annotations import (
    Annotation,
    AnnotationMatch,
    SyntheticExample,
    describe_stale,
    match_annotations,
    read_gold_log,
    read_synthetic,
    resolve_gold,
)
from pipeline.label.dataset import build_dataset, example_details, write_dataset
from pipeline.label.metrics import aggregate_quality, agreement, conflict_rate
from pipeline.label.registry import LabelerContext, build_labelers, labeler_weights
from pipeline.label.written import WrittenExample, read_written
from pipeline.lexicon.vote import Vote

log = logging.getLogger(__name__)

SYNTHETIC_SOURCE = "synthetic"

LABEL_SCHEMA = pa.schema(
    [
        pa.field("paragraph_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("title", pa.string()),  # where the paragraph sits: what a model may read
        pa.field("section", pa.string()),  # beside it (`pipeline.models.base.Context`)
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string()),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("provenance", pa.string(), nullable=False),
    ]
)
PROVENANCE = ("gold", "weak", "unlabeled", "synthetic", "press", "dev")
_CORPUS_PROVENANCE = ("gold", "weak", "unlabeled")

_PARAGRAPH_COLUMNS = ("paragraph_id", "doc_id", "source", "text")
_CONTEXT_COLUMNS = ("title", "section")  # kept when the paragraphs table has them


@dataclass
class LabelingResult:
    """Everything the stage computed, before it is written."""

    labels: pd.DataFrame
    votes: pd.DataFrame
    details: pd.DataFrame  # what the dataset keeps beside the labels (`example_details`)
    metrics: dict = field(default_factory=dict)


def read_paragraphs(path: Path) -> pd.DataFrame:
    """The segment stage's output, checked for the columns labelling needs."""
    return read_stage_table(path, _PARAGRAPH_COLUMNS, made_by="stance segment")


def _synthetic_frame(examples: Sequence[SyntheticExample]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "paragraph_id": [f"{SYNTHETIC_SOURCE}:{e.example_id}" for e in examples],
            "doc_id": [None] * len(examples),
            "source": [SYNTHETIC_SOURCE] * len(examples),
            "title": [None] * len(examples),
            "section": [None] * len(examples),
            "text": [e.text for e in examples],
        },
        columns=[*_PARAGRAPH_COLUMNS, *_CONTEXT_COLUMNS],
    )


def _written_labels(examples: Sequence[WrittenExample], provenance: str) -> pd.DataFrame:
    """Rows of paragraphs written from real pages: their outlet is the source, their
    page the document, and their label is the writer's (provenance `press` or `dev`)."""
    return pd.DataFrame(
        {
            "paragraph_id": [f"{provenance}:{e.example_id}" for e in examples],
            "doc_id": [f"{provenance}:{e.article_id}" for e in examples],
            "source": [e.outlet for e in examples],
            "title": [e.title for e in examples],
            "section": [None] * len(examples),
            "text": [e.text for e in examples],
            "label": [e.label for e in examples],
            "confidence": [1.0] * len(examples),
            "provenance": [provenance] * len(examples),
        },
        columns=list(LABEL_SCHEMA.names),
    )


def label_corpus(
    paragraphs: pd.DataFrame,
    match: AnnotationMatch,
    synthetic: Sequence[SyntheticExample],
    params: Params,
    *,
    encoder: TextEncoder | None = None,
    press: Sequence[WrittenExample] = (),
    dev: Sequence[WrittenExample] = (),
) -> LabelingResult:
    """The pure core: votes, aggregates and metrics for a corpus, given its annotations
    already split into current and stale ones (`match_annotations`). Written examples
    (`press`) and the development set (`dev`) carry their own labels: no labeler votes."""
    context = LabelerContext(params=params, annotations=match.current, encoder=encoder)
    labelers = build_labelers(context)
    weights = labeler_weights(params)
    synthetic_rows = _synthetic_frame(synthetic)
    score_synthetic = params.label.score_synthetic and len(synthetic_rows) > 0

    corpus_votes: dict[str, list[Vote]] = {}
    synthetic_votes: dict[str, list[Vote]] = {}
    for labeler in labelers:
        log.info("label: %s labeler voting", labeler.name)
        corpus_votes[labeler.name] = labeler.vote(paragraphs)
        if score_synthetic and labeler.name != "gold":
            synthetic_votes[labeler.name] = labeler.vote(synthetic_rows)

    weak_votes = {name: votes for name, votes in corpus_votes.items() if name != "gold"}
    weak = weighted_vote(weak_votes, weights, params.label.aggregate.prior)
    if not weak_votes:
        weak = [Aggregate(None, 0.0)] * len(paragraphs)
    parts = [_corpus_labels(paragraphs, match, weak), _synthetic_labels(synthetic_rows, synthetic)]
    parts += [
        _written_labels(rows, name) for name, rows in (("press", press), ("dev", dev)) if rows
    ]
    labels = pd.concat(parts, ignore_index=True)
    votes = pd.concat(
        [
            _vote_frame(paragraphs, corpus_votes, synthetic=False),
            _vote_frame(synthetic_rows, synthetic_votes, synthetic=True)
            if score_synthetic
            else None,
        ],
        ignore_index=True,
    )
    metrics = _metrics(
        paragraphs, match, synthetic, corpus_votes, synthetic_votes, weak, labels, params
    )
    details = example_details(paragraphs, match.current, synthetic, {"press": press, "dev": dev})
    return LabelingResult(labels=labels, votes=votes, metrics=metrics, details=details)


def _corpus_labels(
    paragraphs: pd.DataFrame, match: AnnotationMatch, weak: Sequence[Aggregate]
) -> pd.DataFrame:
    rows = []
    columns = paragraphs.reindex(columns=[*_PARAGRAPH_COLUMNS, *_CONTEXT_COLUMNS])
    for paragraph, aggregate in zip(columns.itertuples(index=False), weak, strict=True):
        annotation = match.current.get(paragraph.paragraph_id)
        if annotation is not None:  # gold always wins
            label, confidence, provenance = annotation.label, 1.0, "gold"
        elif aggregate.label is not None:
            label, confidence, provenance = aggregate.label, aggregate.confidence, "weak"
        else:
            label, confidence, provenance = None, 0.0, "unlabeled"
        rows.append(
            {
                **paragraph._asdict(),
                "label": label,
                "confidence": confidence,
                "provenance": provenance,
            }
        )
    return pd.DataFrame(rows, columns=LABEL_SCHEMA.names)


def _synthetic_labels(rows: pd.DataFrame, examples: Sequence[SyntheticExample]) -> pd.DataFrame:
    frame = rows.copy()
    frame["label"] = [e.label for e in examples]
    frame["confidence"] = 1.0
    frame["provenance"] = SYNTHETIC_SOURCE
    return frame[list(LABEL_SCHEMA.names)]


def _vote_frame(
    rows: pd.DataFrame, votes: Mapping[str, Sequence[Vote]], *, synthetic: bool
) -> pd.DataFrame:
    frame = pd.DataFrame({"paragraph_id": rows["paragraph_id"], "synthetic": synthetic})
    for name, column in votes.items():
        frame[name] = [vote.label for vote in column]
        frame[f"{name}_score"] = [vote.score for vote in column]
    return frame


def _metrics(
    paragraphs: pd.DataFrame,
    match: AnnotationMatch,
    synthetic: Sequence[SyntheticExample],
    corpus_votes: Mapping[str, Sequence[Vote]],
    synthetic_votes: Mapping[str, Sequence[Vote]],
    weak: Sequence[Aggregate],
    labels: pd.DataFrame,
    params: Params,
) -> dict:
    gold = [
        match.current[pid].label if pid in match.current else None
        for pid in paragraphs["paragraph_id"]
    ]
    synthetic_truth = [example.label for example in synthetic]
    per_labeler = {}
    for name, votes in corpus_votes.items():
        entry = {"on_gold": agreement([v.label for v in votes], gold, params.labels)}
        if name in synthetic_votes:
            entry["on_synthetic"] = agreement(
                [v.label for v in synthetic_votes[name]], synthetic_truth, params.labels
            )
        entry["votes"] = {label: sum(v.label == label for v in votes) for label in params.labels}
        per_labeler[name] = entry
    without_gold = {"on_gold": aggregate_quality(weak, gold, params.labels, params.neutral_label)}
    if synthetic_votes:
        weak_synthetic = weighted_vote(
            synthetic_votes, labeler_weights(params), params.label.aggregate.prior
        )
        without_gold["on_synthetic"] = aggregate_quality(
            weak_synthetic, synthetic_truth, params.labels, params.neutral_label
        )
    corpus = labels[labels["provenance"].isin(_CORPUS_PROVENANCE)]
    return {
        "paragraphs": len(paragraphs),
        "gold": {
            "current": len(match.current),
            "stale": len(match.stale),
            "stale_ids": sorted(s.paragraph_id for s in match.stale),
        },
        "synthetic_examples": len(synthetic),
        "written_from_press": _written_counts(labels, "press", params.labels),
        "development_set": _written_counts(labels, "dev", params.labels),
        "provenance": {p: int((labels["provenance"] == p).sum()) for p in PROVENANCE},
        "label_counts": {label: int((corpus["label"] == label).sum()) for label in params.labels},
        "labelers": per_labeler,
        "conflict_rate": conflict_rate(corpus_votes, skip={"gold"}),
        "aggregate_without_gold": without_gold,
    }


def _written_counts(labels: pd.DataFrame, provenance: str, names: Sequence[str]) -> dict:
    rows = labels[labels["provenance"] == provenance]
    return {
        "paragraphs": len(rows),
        "outlets": int(rows["source"].nunique()),
        "articles": int(rows["doc_id"].nunique()),
        "labels": {label: int((rows["label"] == label).sum()) for label in names},
    }


def _read_optional(path: Path, reader, what: str, labels: Sequence[str]) -> list:
    if not path.exists():
        log.warning("%s: not found; labelling without %s", display_path(path), what)
        return []
    return reader(path, labels)


def _settled_gold(path: Path, labels: Sequence[str]) -> list[Annotation]:
    """The settled annotations; each paragraph in conflict is one warning."""
    resolved = resolve_gold(read_gold_log(path, labels))
    for conflict in resolved.conflicts:
        log.warning("%s", conflict.describe(path))
    return list(resolved.settled)


def run_label(params: Params, *, encoder: TextEncoder | None = None) -> LabelingResult:
    """Run the stage end to end; the CLI and `dvc.yaml` call this."""
    paths = params.paths
    paragraphs = read_paragraphs(paths.paragraphs)
    annotations = _read_optional(paths.gold, _settled_gold, "gold annotations", params.labels)
    synthetic = _read_optional(paths.synthetic, read_synthetic, "synthetic examples", params.labels)
    press = _read_optional(
        paths.press, read_written, "examples written from the press", params.labels
    )
    dev = _read_optional(paths.dev, read_written, "a development set", params.labels)
    _check_disjoint(press, dev, paths)
    match = match_annotations(annotations, paragraphs)
    stale = match.stale
    for item in stale:
        log.warning("%s", describe_stale(item, paths.gold))
    if stale and params.label.on_stale == "error":
        raise InputDataError(
            f"{display_path(paths.gold)}: {len(stale)} stale annotation(s), first on line "
            f"{stale[0].line} (paragraph {stale[0].paragraph_id}); label.on_stale is 'error'"
        )
    result = label_corpus(
        paragraphs, match, synthetic, params, encoder=encoder, press=press, dev=dev
    )
    write_parquet(
        pa.Table.from_pandas(result.labels, schema=LABEL_SCHEMA, preserve_index=False), paths.labels
    )
    write_parquet(pa.Table.from_pandas(result.votes, preserve_index=False), paths.votes)
    with atomic_output(paths.labeling_metrics, "w") as stream:
        json.dump(result.metrics, stream, indent=2, sort_keys=False)
        stream.write("\n")
    write_headlines(paths.headline_metrics, {"labeling.json": labeling_headline(result.metrics)})
    write_dataset(build_dataset(result.labels, result.details, params.labels), paths.dataset)
    counts = result.metrics["provenance"]
    log.info(
        "label: %d paragraphs (%d gold, %d weak, %d unlabeled), %d synthetic, %d written from "
        "the press, %d development -> %s",
        len(paragraphs),
        counts["gold"],
        counts["weak"],
        counts["unlabeled"],
        counts["synthetic"],
        counts["press"],
        counts["dev"],
        display_path(paths.labels),
    )
    return result


def _check_disjoint(
    press: Sequence[WrittenExample], dev: Sequence[WrittenExample], paths: Paths
) -> None:
    """The development set shares no outlet with the training examples: it measures
    how a model does on outlets it has never seen."""
    shared = sorted({e.outlet for e in press} & {e.outlet for e in dev})
    if shared:
        raise InputDataError(
            f"{display_path(paths.dev)}: outlet {shared[0]!r} is also in "
            f"{display_path(paths.press)}; the development set must hold unseen outlets only"
        )
