"""Reading a Label Studio JSON export back: each completed annotation becomes an
`ImportedLabel`, checked before `stance annotate import` appends anything.

A task whose text no longer matches the corpus is stale; a cancelled annotation,
one without a stance or with an unknown label is skipped and counted. The control
names are the ones the exported labelling config declares.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.annotate.store import now_utc
from pipeline.errors import InputDataError
from pipeline.io import display_path
from pipeline.label.annotations import Annotation
from pipeline.text import sha256_hex

# Names of the controls in the labelling config; import looks results up by them.
STANCE_CONTROL = "stance"
NOTE_CONTROL = "note"
TEXT_OBJECT = "text"


@dataclass(frozen=True)
class ImportedLabel:
    """One completed Label Studio annotation, as a candidate line for `gold.jsonl`."""

    paragraph_id: str
    text: str
    text_sha256: str
    label: str
    note: str
    annotator: str
    adjudicated: bool
    timestamp: str


# An imported label, the gold line it went to, and the earlier labels it disagrees with.
AppendedImport = tuple[ImportedLabel, int, tuple[Annotation, ...]]


@dataclass
class ImportPlan:
    """What an export holds, sorted before anything is written."""

    labels: list[ImportedLabel]
    skipped: Counter[str]
    warnings: list[str]


def read_export(path: Path) -> list[dict]:
    """The tasks of a Label Studio export: a JSON list (the standard), a dict with
    "tasks", or JSON lines of tasks. Anything else is one error naming the file."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputDataError(f"{name}: file not found") from None
    except UnicodeDecodeError:
        raise InputDataError(f"{name}: not UTF-8 text") from None
    except OSError as error:
        raise InputDataError(f"{name}: cannot read ({error.strerror})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        document = _json_lines(text)
        if document is None:
            raise InputDataError(
                f"{name}: not a Label Studio JSON export (line {error.lineno}: {error.msg}); "
                "export the project as JSON"
            ) from None
    if isinstance(document, dict) and isinstance(document.get("tasks"), list):
        document = document["tasks"]
    if not isinstance(document, list) or not all(isinstance(t, dict) for t in document):
        raise InputDataError(
            f"{name}: not a Label Studio JSON export (expected a list of tasks); "
            "export the project as JSON"
        )
    return document


def _json_lines(text: str) -> list | None:
    """Tasks one per line, or None when the text is not JSON lines of objects either."""
    tasks = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            task = json.loads(line)
        except json.JSONDecodeError:
            return None
        if not isinstance(task, dict):
            return None
        tasks.append(task)
    return tasks or None


def plan_import(
    tasks: Sequence[dict],
    *,
    labels: Sequence[str],
    annotator: str | None,
    current_text: dict[str, str] | None,
    name: str,
) -> ImportPlan:
    """Check every task and annotation and list the labels to append (pure: writes nothing).

    `current_text` maps paragraph ids to today's text (None when the paragraphs
    table is not there); a task whose text differs from it, or from its own
    hash, is stale. A malformed task raises `InputDataError` naming it.
    """
    plan = ImportPlan([], Counter(), [])
    for index, task in enumerate(tasks, start=1):
        task_id = task.get("id")
        where = f"{name}: task {index}" + (f" (id {task_id})" if task_id is not None else "")
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
            raise InputDataError(f"{where}: 'annotations' must be a list of objects")
        if not annotations:
            continue
        data = task.get("data")
        if not isinstance(data, dict):
            raise InputDataError(f"{where}: 'data' is missing; is this an export of our tasks?")
        paragraph_id = _task_field(data, "paragraph_id", where)
        text = _task_field(data, "text", where)
        text_sha256 = _task_field(data, "text_sha256", where)
        stale = _staleness(paragraph_id, text, text_sha256, current_text)
        for annotation in annotations:
            outcome = _annotation_label(annotation, where, labels, annotator)
            if isinstance(outcome, str):
                plan.skipped[outcome] += 1
                if outcome == "unknown label":
                    chosen = _stance_choices(annotation.get("result"), where)
                    what = f"label {chosen[0]!r}" if len(chosen) == 1 else f"labels {chosen}"
                    plan.warnings.append(
                        f"{where}: paragraph {paragraph_id}: {what} is not one of "
                        f"{', '.join(labels)}; skipped"
                    )
                continue
            if stale:
                plan.skipped["stale"] += 1
                plan.warnings.append(f"{where}: paragraph {paragraph_id} {stale}; skipped")
                continue
            label, note, who, adjudicated, timestamp = outcome
            plan.labels.append(
                ImportedLabel(
                    paragraph_id=paragraph_id,
                    text=text,
                    text_sha256=text_sha256,
                    label=label,
                    note=note,
                    annotator=who,
                    adjudicated=adjudicated,
                    timestamp=timestamp,
                )
            )
    return plan


def _task_field(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InputDataError(
            f"{where}: 'data.{key}' is missing; import only exports of tasks made by "
            "`stance annotate export`"
        )
    return value


def _staleness(
    paragraph_id: str, text: str, text_sha256: str, current_text: dict[str, str] | None
) -> str:
    """Why a task no longer describes the corpus ("" when it still does)."""
    if sha256_hex(text) != text_sha256:
        return "has a text that does not match its hash (edited in Label Studio?)"
    if current_text is None:
        return ""
    current = current_text.get(paragraph_id)
    if current is None:
        return "is no longer in the corpus"
    if sha256_hex(current) != text_sha256:
        return "changed since it was exported"
    return ""


def _annotation_label(
    annotation: dict, where: str, labels: Sequence[str], annotator: str | None
) -> tuple[str, str, str, bool, str] | str:
    """(label, note, annotator, adjudicated, timestamp), or the reason it is skipped."""
    if annotation.get("was_cancelled"):
        return "cancelled"
    result = annotation.get("result") or []
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise InputDataError(f"{where}: an annotation's 'result' must be a list of objects")
    choices = _stance_choices(result, where)
    if not choices:
        return "without a stance"
    if len(choices) != 1 or choices[0] not in labels:
        return "unknown label"
    who = annotator if annotator is not None else _completed_by(annotation, where)
    timestamp = _iso_utc(annotation.get("created_at")) or _iso_utc(annotation.get("updated_at"))
    return (
        choices[0],
        _note(result, where),
        who,
        bool(annotation.get("ground_truth")),
        timestamp or now_utc(),
    )


def _result_items(result: object, where: str) -> list[dict]:
    """A result's regions, each a JSON object (Label Studio's shape), else one clear error."""
    items = result if isinstance(result, list) else []
    if not all(isinstance(item, dict) for item in items):
        raise InputDataError(f"{where}: each item of an annotation's 'result' must be an object")
    return items


def _value(item: dict, where: str) -> dict:
    value = item.get("value") or {}
    if not isinstance(value, dict):
        raise InputDataError(
            f"{where}: the {item.get('from_name')!r} result's 'value' must be an object, "
            f"not {type(value).__name__}"
        )
    return value


def _stance_choices(result: object, where: str) -> list[str]:
    for item in _result_items(result, where):
        if item.get("from_name") == STANCE_CONTROL and item.get("type") == "choices":
            choices = _value(item, where).get("choices")
            if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                raise InputDataError(f"{where}: the stance result's 'choices' must be a list")
            return choices
    return []


def _note(result: list[dict], where: str) -> str:
    for item in _result_items(result, where):
        if item.get("from_name") == NOTE_CONTROL and item.get("type") == "textarea":
            lines = _value(item, where).get("text") or []
            if isinstance(lines, str):
                lines = [lines]
            if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
                raise InputDataError(f"{where}: the note's 'text' must be a list of strings")
            return " ".join(line.strip() for line in lines if line.strip())
    return ""


def _completed_by(annotation: dict, where: str) -> str:
    """Who annotated, as Label Studio says it: an email, a name, or only a user id."""
    user = annotation.get("completed_by")
    if isinstance(user, dict):
        name = " ".join(
            part for part in (user.get("first_name"), user.get("last_name")) if part
        ).strip()
        for found in (user.get("email"), name, user.get("username")):
            if isinstance(found, str) and found.strip():
                return found.strip()
        user = user.get("id")
    if isinstance(user, str) and user.strip():
        return user.strip()
    if isinstance(user, int) and not isinstance(user, bool):
        return f"label-studio:{user}"
    raise InputDataError(f"{where}: an annotation has no 'completed_by'; pass --annotator NAME")


def _iso_utc(value: object) -> str:
    """Label Studio's time (microseconds, 'Z' or an offset) as gold.jsonl writes it."""
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:  # Label Studio stores UTC; a bare time is taken as UTC
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
