"""The I/O shell of the `label` stage: read paragraphs and annotations, vote, write.

Reads `paths.paragraphs`, `paths.gold`, `paths.synthetic` and `paths.rules`;
writes `paths.labels` (one row per corpus paragraph and per synthetic example),
`paths.votes` (every labeler's vote) and `paths.labeling_metrics`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.config import Params
from pipeline.encoder import EncodingOptions, TextEncoder, configure_encoding
from pipeline.errors import InputDataError
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
from pipeline.label.base import Vote
from pipeline.label.metrics import aggregate_quality, agreement, conflict_rate
from pipeline.label.registry import LabelerContext, build_labelers, labeler_weights

log = logging.getLogger(__name__)

SYNTHETIC_SOURCE = "synthetic"

LABEL_SCHEMA = pa.schema(
    [
        pa.field("paragraph_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string()),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("provenance", pa.string(), nullable=False),
    ]
)
PROVENANCE = ("gold", "weak", "unlabeled", "synthetic")

_PARAGRAPH_COLUMNS = ("paragraph_id", "doc_id", "source", "text")


@dataclass
class LabelingResult:
    """Everything the stage computed, before it is written."""

    labels: pd.DataFrame
    votes: pd.DataFrame
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
            "text": [e.text for e in examples],
        },
        columns=list(_PARAGRAPH_COLUMNS),
    )


def label_corpus(
    paragraphs: pd.DataFrame,
    match: AnnotationMatch,
    synthetic: Sequence[SyntheticExample],
    params: Params,
    *,
    encoder: TextEncoder | None = None,
) -> LabelingResult:
    """The pure core: votes, aggregates and metrics for a corpus, given its annotations
    already split into current and stale ones (`match_annotations`)."""
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
    labels = pd.concat(
        [_corpus_labels(paragraphs, match, weak), _synthetic_labels(synthetic_rows, synthetic)],
        ignore_index=True,
    )
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
    return LabelingResult(labels=labels, votes=votes, metrics=metrics)


def _corpus_labels(
    paragraphs: pd.DataFrame, match: AnnotationMatch, weak: Sequence[Aggregate]
) -> pd.DataFrame:
    rows = []
    for paragraph, aggregate in zip(
        paragraphs[list(_PARAGRAPH_COLUMNS)].itertuples(index=False), weak, strict=True
    ):
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
    corpus = labels[labels["provenance"] != SYNTHETIC_SOURCE]
    return {
        "paragraphs": len(paragraphs),
        "gold": {
            "current": len(match.current),
            "stale": len(match.stale),
            "stale_ids": sorted(s.paragraph_id for s in match.stale),
        },
        "synthetic_examples": len(synthetic),
        "provenance": {p: int((labels["provenance"] == p).sum()) for p in PROVENANCE},
        "label_counts": {label: int((corpus["label"] == label).sum()) for label in params.labels},
        "labelers": per_labeler,
        "conflict_rate": conflict_rate(corpus_votes, skip={"gold"}),
        "aggregate_without_gold": without_gold,
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
    configure_encoding(EncodingOptions.from_params(params.encoder))
    paths = params.paths
    paragraphs = read_paragraphs(paths.paragraphs)
    annotations = _read_optional(paths.gold, _settled_gold, "gold annotations", params.labels)
    synthetic = _read_optional(paths.synthetic, read_synthetic, "synthetic examples", params.labels)
    match = match_annotations(annotations, paragraphs)
    stale = match.stale
    for item in stale:
        log.warning("%s", describe_stale(item, paths.gold))
    if stale and params.label.on_stale == "error":
        raise InputDataError(
            f"{display_path(paths.gold)}: {len(stale)} stale annotation(s), first on line "
            f"{stale[0].line} (paragraph {stale[0].paragraph_id}); label.on_stale is 'error'"
        )
    result = label_corpus(paragraphs, match, synthetic, params, encoder=encoder)
    write_parquet(
        pa.Table.from_pandas(result.labels, schema=LABEL_SCHEMA, preserve_index=False), paths.labels
    )
    write_parquet(pa.Table.from_pandas(result.votes, preserve_index=False), paths.votes)
    with atomic_output(paths.labeling_metrics, "w") as stream:
        json.dump(result.metrics, stream, indent=2, sort_keys=False)
        stream.write("\n")
    counts = result.metrics["provenance"]
    log.info(
        "label: %d paragraphs (%d gold, %d weak, %d unlabeled) and %d synthetic -> %s",
        len(paragraphs),
        counts["gold"],
        counts["weak"],
        counts["unlabeled"],
        counts["synthetic"],
        display_path(paths.labels),
    )
    return result
