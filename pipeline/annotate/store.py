"""Appending to `gold.jsonl`: the only writes any command makes to human annotations.

Every label or retraction is one line, written with one `write` to a file opened
for appending and flushed to disk (`fsync`) before the call returns, so a crash
or a killed terminal loses at most the paragraph on screen. Nothing is ever
rewritten: an undo appends a retraction (see `pipeline/label/annotations.py` for
how lines settle a paragraph), and a label that disagrees with an earlier one is
appended and reported as a conflict.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import ConfigError, InputDataError
from pipeline.io import display_path
from pipeline.label.annotations import Annotation, GoldLog, read_gold_log
from pipeline.text import sha256_hex


def now_utc() -> str:
    """The current time as the `timestamp` field writes it (UTC, seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_annotator(explicit: str | None) -> str:
    """`--annotator` if given, else git's `user.name`, else one clear error."""
    if explicit is not None:
        if not explicit.strip():
            raise ConfigError("--annotator: must not be empty")
        return explicit.strip()
    try:
        found = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found:
        raise ConfigError(
            "no annotator: pass --annotator NAME (or set git's user.name) so that "
            "every label says who gave it"
        )
    return found


def label_record(
    paragraph_id: str,
    text: str,
    label: str,
    annotator: str,
    *,
    note: str = "",
    adjudicated: bool = False,
    timestamp: str | None = None,
) -> dict:
    """A label line for `gold.jsonl` (the hash is of the exact paragraph text)."""
    record = {
        "paragraph_id": paragraph_id,
        "text_sha256": sha256_hex(text),
        "label": label,
        "note": note.strip(),
        "annotator": annotator,
        "timestamp": timestamp or now_utc(),
    }
    if adjudicated:
        record["adjudicated"] = True
    return record


def retraction_record(
    annotation: Annotation, annotator: str, *, timestamp: str | None = None
) -> dict:
    """A line that withdraws `annotation` (an undo)."""
    return {
        "paragraph_id": annotation.paragraph_id,
        "retracts_line": annotation.line,
        "annotator": annotator,
        "timestamp": timestamp or now_utc(),
    }


def _line_count(path: Path) -> tuple[int, bool]:
    """Lines in the file as the reader numbers them, and whether it ends in a newline."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, True
    except OSError as error:
        raise InputDataError(f"{display_path(path)}: cannot read ({error.strerror})") from None
    if not data:
        return 0, True
    return len(data.decode("utf-8", errors="replace").splitlines()), data.endswith(b"\n")


def append_record(path: Path, record: dict) -> int:
    """Append one JSON line to `path` (created if missing) and return its line number.

    One `write` of the whole line on a descriptor opened with O_APPEND, then
    `fsync`: the line is on disk, whole, when this returns. If the file does not
    end with a newline (edited by hand), one is written first so that no line
    is ever joined to another.
    """
    count, ends_with_newline = _line_count(path)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    if not ends_with_newline:
        line = "\n" + line
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as error:
        raise InputDataError(f"{display_path(path)}: cannot write ({error.strerror})") from None
    try:
        os.write(descriptor, line.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return count + 1


@dataclass(frozen=True)
class Appended:
    """What `add_label` did: the line written and the earlier labels it disagrees with."""

    line: int
    conflicts_with: tuple[Annotation, ...]


def read_log(path: Path, labels: Sequence[str]) -> GoldLog:
    """The gold log, or an empty one when the file does not exist yet."""
    if not path.exists():
        return GoldLog((), ())
    return read_gold_log(path, labels)


def add_label(path: Path, record: dict, labels: Sequence[str]) -> Appended:
    """Append a label line; report (never remove) earlier active labels of the same
    paragraph that disagree with it."""
    if record.get("label") not in labels:
        raise ConfigError(f"label {record.get('label')!r} is not one of {', '.join(labels)}")
    earlier = [
        a
        for a in read_log(path, labels).active()
        if a.paragraph_id == record["paragraph_id"] and a.label != record["label"]
    ]
    return Appended(append_record(path, record), tuple(earlier))


def undo_label(path: Path, line: int, annotator: str, labels: Sequence[str]) -> Annotation:
    """Append a retraction of the label on `line` (it must be active) and return it."""
    log = read_log(path, labels)
    target = next((a for a in log.active() if a.line == line), None)
    if target is None:
        raise InputDataError(f"{display_path(path)}:{line}: no active label to undo there")
    append_record(path, retraction_record(target, annotator))
    return target
