"""Human annotations and written examples: strict readers and the staleness check.

Annotations are human data. This module only reads them; no stage writes to
`gold.jsonl` or `synthetic.jsonl` (`stance annotate` only ever appends lines to
`gold.jsonl`, see `pipeline/annotate/store.py`). Every malformed line is reported
with its line number, and an annotation whose paragraph changed or vanished is
reported by id and never applied.

`gold.jsonl` is an append-only log. A line is either a label (`paragraph_id`,
`text_sha256`, `label`, `annotator`, optional `note`, `timestamp` and
`adjudicated`) or a retraction (`paragraph_id`, `annotator`, `retracts_line`: the
line number of an earlier label of that paragraph; `stance annotate` writes one
on undo). A paragraph's labels that are not retracted settle it when they agree
(several annotators may label one paragraph); when they disagree it is a
conflict, reported and left out of training and evaluation until an adjudicated
label (the latest wins) or retractions settle it. Nothing is ever overwritten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.errors import InputDataError
from pipeline.io import display_path
from pipeline.text import sha256_hex

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Annotation:
    """One line of `gold.jsonl`: the label a person gave to one paragraph text."""

    paragraph_id: str
    text_sha256: str
    label: str
    note: str
    annotator: str
    line: int
    timestamp: str = ""
    adjudicated: bool = False


@dataclass(frozen=True)
class Retraction:
    """A line of `gold.jsonl` that withdraws an earlier label (an undo)."""

    paragraph_id: str
    annotator: str
    retracts_line: int
    line: int
    timestamp: str = ""


@dataclass(frozen=True)
class GoldLog:
    """Every line of `gold.jsonl`, in file order."""

    labels: tuple[Annotation, ...]
    retractions: tuple[Retraction, ...]

    def active(self) -> list[Annotation]:
        """Labels not retracted, in file order."""
        retracted = {r.retracts_line for r in self.retractions}
        return [a for a in self.labels if a.line not in retracted]


@dataclass(frozen=True)
class Conflict:
    """A paragraph whose active labels disagree and that no adjudicated label settles."""

    paragraph_id: str
    annotations: tuple[Annotation, ...]

    def describe(self, gold_path: Path) -> str:
        """One line naming the file, lines, labels and annotators."""
        parts = ", ".join(f"line {a.line} {a.label!r} by {a.annotator}" for a in self.annotations)
        return (
            f"{display_path(gold_path)}: paragraph {self.paragraph_id} has conflicting labels "
            f"({parts}); not used until an adjudicated label or an undo settles it"
        )


@dataclass(frozen=True)
class ResolvedGold:
    """One settled label per paragraph, and the paragraphs in conflict."""

    settled: tuple[Annotation, ...]
    conflicts: tuple[Conflict, ...]


def resolve_gold(log: GoldLog) -> ResolvedGold:
    """Settle each paragraph from its active labels (see the module docstring).

    Agreeing labels settle a paragraph as its first such label (so that stale
    reports name the earliest line); the latest adjudicated label overrides any
    disagreement; other disagreements are conflicts.
    """
    by_paragraph: dict[str, list[Annotation]] = {}
    for annotation in log.active():
        by_paragraph.setdefault(annotation.paragraph_id, []).append(annotation)
    settled, conflicts = [], []
    for paragraph_id, labels in by_paragraph.items():
        adjudicated = [a for a in labels if a.adjudicated]
        if adjudicated:
            settled.append(adjudicated[-1])
        elif len({a.label for a in labels}) == 1:
            settled.append(labels[0])
        else:
            conflicts.append(Conflict(paragraph_id, tuple(labels)))
    settled.sort(key=lambda a: a.line)
    return ResolvedGold(tuple(settled), tuple(conflicts))


@dataclass(frozen=True)
class SyntheticExample:
    """One line of `synthetic.jsonl`: a paragraph written by the team for one label."""

    example_id: str
    text: str
    label: str
    category: str
    note: str
    line: int


@dataclass(frozen=True)
class StaleAnnotation:
    """An annotation that no longer applies, and why."""

    paragraph_id: str
    line: int
    reason: str  # "changed" (text differs from what was annotated) or "vanished"
    now_at: str | None = None  # the id that now holds the annotated text, if any


@dataclass
class AnnotationMatch:
    """Annotations split into those that apply to the current paragraphs and stale ones."""

    current: dict[str, Annotation] = field(default_factory=dict)
    stale: list[StaleAnnotation] = field(default_factory=list)


def read_jsonl_records(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; malformed JSON names its line."""
    name = display_path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputDataError(f"{name}: not UTF-8 text") from None
    except OSError as error:
        raise InputDataError(f"{name}: cannot read ({error.strerror})") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputDataError(f"{name}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise InputDataError(f"{name}:{number}: expected a JSON object")
        records.append((number, record))
    return records


def _field(record: dict, key: str, where: str, *, required: bool = True) -> str:
    value = record.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problem = "is missing" if key not in record else "must be a non-empty string"
        raise InputDataError(f"{where}: {key!r} {problem}")
    return value


def _label(record: dict, where: str, labels: Sequence[str]) -> str:
    label = _field(record, "label", where)
    if label not in labels:
        raise InputDataError(f"{where}: label {label!r} is not one of {', '.join(labels)}")
    return label


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _timestamp(record: dict, where: str) -> str:
    value = record.get("timestamp")
    if value is None:
        return ""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise InputDataError(
            f"{where}: 'timestamp' must be an ISO 8601 time with its zone, "
            "e.g. 2026-12-02T17:05:00Z"
        )
    return value


def _paragraph_hash(record: dict, where: str) -> str:
    text_hash = _field(record, "text_sha256", where)
    if not _SHA256.fullmatch(text_hash):
        raise InputDataError(f"{where}: 'text_sha256' must be 64 lowercase hex digits")
    return text_hash


def read_gold_log(path: Path, labels: Sequence[str]) -> GoldLog:
    """Read and validate every line of `gold.jsonl` (labels and retractions)."""
    name = display_path(path)
    annotations: list[Annotation] = []
    retractions: list[Retraction] = []
    by_line: dict[int, Annotation] = {}
    retracted: dict[int, int] = {}
    for number, record in read_jsonl_records(path):
        where = f"{name}:{number}"
        paragraph_id = _field(record, "paragraph_id", where)
        if "retracts_line" in record:
            target = record["retracts_line"]
            if not isinstance(target, int) or isinstance(target, bool):
                raise InputDataError(f"{where}: 'retracts_line' must be a line number")
            undone = by_line.get(target)
            if undone is None or undone.paragraph_id != paragraph_id:
                raise InputDataError(
                    f"{where}: 'retracts_line' {target} is not an earlier label of "
                    f"paragraph {paragraph_id}"
                )
            if target in retracted:
                raise InputDataError(
                    f"{where}: line {target} is already retracted on line {retracted[target]}"
                )
            retracted[target] = number
            retractions.append(
                Retraction(
                    paragraph_id=paragraph_id,
                    annotator=_field(record, "annotator", where),
                    retracts_line=target,
                    line=number,
                    timestamp=_timestamp(record, where),
                )
            )
            continue
        adjudicated = record.get("adjudicated", False)
        if not isinstance(adjudicated, bool):
            raise InputDataError(f"{where}: 'adjudicated' must be true or false")
        annotation = Annotation(
            paragraph_id=paragraph_id,
            text_sha256=_paragraph_hash(record, where),
            label=_label(record, where, labels),
            note=_field(record, "note", where, required=False),
            annotator=_field(record, "annotator", where),
            line=number,
            timestamp=_timestamp(record, where),
            adjudicated=adjudicated,
        )
        by_line[number] = annotation
        annotations.append(annotation)
    return GoldLog(tuple(annotations), tuple(retractions))


def read_gold(path: Path, labels: Sequence[str]) -> list[Annotation]:
    """The settled annotations of `gold.jsonl`, one per paragraph, in file order
    (conflicting paragraphs are left out: `resolve_gold` lists them)."""
    return list(resolve_gold(read_gold_log(path, labels)).settled)


def read_synthetic(path: Path, labels: Sequence[str]) -> list[SyntheticExample]:
    """Read and validate `synthetic.jsonl`; ids and texts must be unique."""
    name = display_path(path)
    examples: list[SyntheticExample] = []
    seen_ids: dict[str, int] = {}
    seen_texts: dict[str, int] = {}
    for number, record in read_jsonl_records(path):
        where = f"{name}:{number}"
        example_id = _field(record, "id", where)
        text = _field(record, "text", where)
        if record.get("synthetic", True) is not True:
            raise InputDataError(f"{where}: 'synthetic' must be true in the synthetic file")
        for key, seen, what in ((example_id, seen_ids, "id"), (text, seen_texts, "text")):
            if key in seen:
                raise InputDataError(f"{where}: same {what} as line {seen[key]}")
            seen[key] = number
        examples.append(
            SyntheticExample(
                example_id=example_id,
                text=text,
                label=_label(record, where, labels),
                category=_field(record, "category", where, required=False),
                note=_field(record, "note", where, required=False),
                line=number,
            )
        )
    return examples


def match_annotations(
    annotations: Sequence[Annotation], paragraphs: pd.DataFrame
) -> AnnotationMatch:
    """Split annotations into current ones and stale ones (changed or vanished text).

    A current annotation has the paragraph's id and the hash of its exact text.
    A stale one is reported with the id that now holds the annotated text, if
    any (for example after a document was renamed), but is never re-applied.
    """
    text_by_id: Mapping[str, str] = dict(
        zip(paragraphs["paragraph_id"], paragraphs["text"], strict=True)
    )
    id_by_hash = {sha256_hex(text): pid for pid, text in text_by_id.items()}
    match = AnnotationMatch()
    for annotation in annotations:
        text = text_by_id.get(annotation.paragraph_id)
        if text is not None and sha256_hex(text) == annotation.text_sha256:
            match.current[annotation.paragraph_id] = annotation
            continue
        match.stale.append(
            StaleAnnotation(
                paragraph_id=annotation.paragraph_id,
                line=annotation.line,
                reason="vanished" if text is None else "changed",
                now_at=id_by_hash.get(annotation.text_sha256),
            )
        )
    return match


def describe_stale(stale: StaleAnnotation, gold_path: Path) -> str:
    """One line for a stale annotation, naming the file, line and paragraph id."""
    where = f"{display_path(gold_path)}:{stale.line}"
    if stale.reason == "changed":
        what = f"paragraph {stale.paragraph_id} changed since it was annotated"
    else:
        what = f"paragraph {stale.paragraph_id} is no longer in the corpus"
    hint = f" (the annotated text is now paragraph {stale.now_at})" if stale.now_at else ""
    return f"{where}: {what}{hint}; annotation not applied, re-annotate it"
