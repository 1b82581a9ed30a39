"""The queue file `stance annotate queue` writes and the session and the Label Studio
export read: one JSON object per line, in queue order (keys in `queue.py`'s docstring).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path
from pipeline.label.annotations import read_jsonl_records
from pipeline.text import sha256_hex


@dataclass(frozen=True)
class QueueItem:
    """One line of the queue: a paragraph to label, its context and the model's view."""

    paragraph_id: str
    text: str
    text_sha256: str
    line: int
    source: str = ""
    title: str = ""
    section: str = ""
    model: str = ""
    probs: dict[str, float] | None = None
    guess: str | None = None
    before: str = ""
    after: str = ""

    @property
    def hash_ok(self) -> bool:
        """Whether the text is still the one the queue hashed (a hand-edited queue is not)."""
        return sha256_hex(self.text) == self.text_sha256

    @property
    def top_probability(self) -> float | None:
        """The model's probability of its guess, when the queue has probabilities."""
        return max(self.probs.values()) if self.probs else None


def _optional_text(record: dict, key: str, where: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputDataError(f"{where}: {key!r} must be a string or null")
    return value


def _required_text(record: dict, key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        problem = "is missing" if key not in record else "must be a non-empty string"
        raise InputDataError(f"{where}: {key!r} {problem}")
    return value


def _probs(record: dict, where: str, labels: Sequence[str]) -> dict[str, float] | None:
    value = record.get("probs")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputDataError(f"{where}: 'probs' must be an object of label: probability")
    probs = {}
    for label, probability in value.items():
        if label not in labels:
            raise InputDataError(f"{where}: probs: {label!r} is not one of {', '.join(labels)}")
        if not isinstance(probability, int | float) or isinstance(probability, bool):
            raise InputDataError(f"{where}: probs: {label!r} must be a number")
        probs[label] = float(probability)
    return probs


def _queue_item(record: dict, where: str, line: int, labels: Sequence[str]) -> QueueItem:
    guess = record.get("guess")
    if guess is not None and guess not in labels:
        raise InputDataError(f"{where}: guess {guess!r} is not one of {', '.join(labels)}")
    context = record.get("context") or {}
    if not isinstance(context, dict):
        raise InputDataError(f"{where}: 'context' must be an object with 'before' and 'after'")
    return QueueItem(
        paragraph_id=_required_text(record, "paragraph_id", where),
        text=_required_text(record, "text", where),
        text_sha256=_required_text(record, "text_sha256", where),
        line=line,
        source=_optional_text(record, "source", where),
        title=_optional_text(record, "title", where),
        section=_optional_text(record, "section", where),
        model=_optional_text(record, "model", where),
        probs=_probs(record, where, labels),
        guess=guess,
        before=_optional_text(context, "before", f"{where}: context"),
        after=_optional_text(context, "after", f"{where}: context"),
    )


def read_queue(path: Path, labels: Sequence[str]) -> list[QueueItem]:
    """Read and validate the queue, in its order; a bad line is named by file:line."""
    if not path.is_file():
        raise InputDataError(
            f"{display_path(path)}: no queue here; run `stance annotate queue` first"
        )
    name = display_path(path)
    return [
        _queue_item(record, f"{name}:{number}", number, labels)
        for number, record in read_jsonl_records(path)
    ]


def write_queue(path: Path, records: Sequence[dict]) -> None:
    """The queue as JSON lines, written atomically."""
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    with atomic_output(path) as stream:
        stream.write(text.encode("utf-8"))
