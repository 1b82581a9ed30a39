"""`stance annotate export` / `import`: a round trip through Label Studio.

Export turns the queue into a Label Studio task list (the model's guess rides
along as a pre-annotation, so the annotator confirms or corrects instead of
starting blank) plus the labelling config to create the project with. Import
reads Label Studio's JSON export back and appends each completed annotation to
`gold.jsonl` through `pipeline.annotate.store`, the only writer of that file.

Import is careful because it touches human data: the whole export is read and
checked before the first line is appended; a task whose text no longer matches
the corpus is skipped as stale; an annotation already in the log (same
paragraph, text, annotator and label) is skipped, so importing a file twice adds
nothing; a label that disagrees with an earlier one is appended and reported as
a conflict, never written over.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from pipeline.annotate.queue_file import QueueItem, read_queue
from pipeline.annotate.store import (
    add_label,
    default_annotator,
    label_record,
    now_utc,
    read_log,
)
from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path, refuse_overwriting_inputs
from pipeline.label.annotations import Annotation, resolve_gold
from pipeline.text import sha256_hex

log = logging.getLogger(__name__)

# Names of the controls in the labelling config; import looks results up by them.
STANCE_CONTROL = "stance"
NOTE_CONTROL = "note"
TEXT_OBJECT = "text"

# --- export ----------------------------------------------------------------------------------


def label_studio_task(item: QueueItem) -> dict[str, Any]:
    """One Label Studio task: the paragraph with its context, and the guess as a prediction.

    `paragraph_id` and `text_sha256` travel in `data` so that the export comes
    back with what import needs to find the paragraph and check it is unchanged.
    """
    task: dict[str, Any] = {
        "data": {
            "text": item.text,
            "paragraph_id": item.paragraph_id,
            "text_sha256": item.text_sha256,
            "source": item.source,
            "title": item.title,
            "section": item.section,
            "before": item.before,
            "after": item.after,
        },
        "predictions": [],
    }
    if item.guess is not None:
        prediction: dict[str, Any] = {"model_version": item.model or "unknown"}
        if item.top_probability is not None:
            prediction["score"] = round(item.top_probability, 6)
        prediction["result"] = [
            {
                "from_name": STANCE_CONTROL,
                "to_name": TEXT_OBJECT,
                "type": "choices",
                "value": {"choices": [item.guess]},
            }
        ]
        task["predictions"].append(prediction)
    return task


def label_config(params: Params) -> str:
    """The Label Studio labelling config for these tasks (paste it when creating the project).

    The paragraph sits between its neighbours so the annotator reads it in
    context; one stance choice per label in `params.labels`, plus a free note.
    """
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in params.labels)
    proposition = quoteattr(f"Proposition: {params.proposition.text}")
    return f"""<View>
  <Header value={proposition}/>
  <Text name="title" value="$title"/>
  <View style="color: #777">
    <Text name="before" value="$before"/>
  </View>
  <View style="border-left: 4px solid #48c; padding-left: 8px">
    <Text name="{TEXT_OBJECT}" value="$text"/>
  </View>
  <View style="color: #777">
    <Text name="after" value="$after"/>
  </View>
  <Header value="Stance of the highlighted paragraph"/>
  <Choices name="{STANCE_CONTROL}" toName="{TEXT_OBJECT}" choice="single" required="true"
           showInline="true">
{choices}
  </Choices>
  <TextArea name="{NOTE_CONTROL}" toName="{TEXT_OBJECT}" placeholder="Optional note: why?"
            rows="2" maxSubmissions="1"/>
</View>
"""


def label_config_path(output: Path) -> Path:
    """Where the labelling config goes: beside the tasks file, `<stem>.label_config.xml`."""
    return output.with_name(f"{output.stem}.label_config.xml")


def run_export(params: Params, *, output: Path, queue: Path | None = None) -> Path:
    """Write the queue as a Label Studio task list and its labelling config; return the list."""
    path = queue or params.annotate.queue
    config = label_config_path(output)
    for written in (output, config):
        refuse_overwriting_inputs(written, [path, params.paths.gold])
    items = read_queue(path, params.labels)
    for item in items:
        if not item.hash_ok:
            # The import trusts this hash to tell stale tasks apart, so it must be right here.
            raise InputDataError(
                f"{display_path(path)}:{item.line}: 'text_sha256' is not the hash of 'text'; "
                "re-run the queue"
            )
    tasks = [label_studio_task(item) for item in items]
    # Bytes, not text mode: the files are UTF-8 whatever the locale says.
    with atomic_output(output) as stream:
        stream.write((json.dumps(tasks, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    with atomic_output(config) as stream:
        stream.write(label_config(params).encode("utf-8"))
    guessed = sum(1 for task in tasks if task["predictions"])
    log.info(
        "export: %d tasks (%d with the model's guess) -> %s; labelling config -> %s",
        len(tasks),
        guessed,
        display_path(output),
        display_path(config),
    )
    return output


# --- import ----------------------------------------------------------------------------------


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


def _current_paragraphs(path: Path) -> dict[str, str] | None:
    """paragraph_id -> text of the segmented corpus, or None when it is not there."""
    if not path.is_file():
        return None
    try:
        frame = pd.read_parquet(path, columns=["paragraph_id", "text"])
    except Exception as error:  # pyarrow raises several types for a damaged file
        raise InputDataError(
            f"{display_path(path)}: not a readable paragraphs table ({error})"
        ) from None
    return dict(zip(frame["paragraph_id"], frame["text"], strict=True))


def run_import(params: Params, file: Path, *, annotator: str | None = None) -> int:
    """Append the completed annotations of a Label Studio export to `gold.jsonl`;
    return how many lines were added."""
    gold = params.paths.gold
    who = default_annotator(annotator) if annotator is not None else None
    plan = plan_import(
        read_export(file),
        labels=params.labels,
        annotator=who,
        current_text=_current_paragraphs(params.paths.paragraphs),
        name=display_path(file),
    )
    log_before = read_log(gold, params.labels)  # validates gold.jsonl before we append
    present = {(a.paragraph_id, a.text_sha256, a.annotator, a.label) for a in log_before.active()}
    added: list[AppendedImport] = []
    for item in plan.labels:
        key = (item.paragraph_id, item.text_sha256, item.annotator, item.label)
        if key in present:
            plan.skipped["already there"] += 1
            continue
        record = label_record(
            item.paragraph_id,
            item.text,
            item.label,
            item.annotator,
            note=item.note,
            adjudicated=item.adjudicated,
            timestamp=item.timestamp,
        )
        appended = add_label(gold, record, params.labels)
        present.add(key)
        added.append((item, appended.line, appended.conflicts_with))
    for warning in plan.warnings:
        log.warning("%s", warning)
    conflicts = _report_conflicts(params, added)
    _log_summary(len(added), plan.skipped, conflicts, gold)
    return len(added)


def _report_conflicts(params: Params, added: list[AppendedImport]) -> int:
    """Warn once per appended label that disagrees with an earlier one and leaves its
    paragraph in conflict (an adjudicated label settles it instead); return the count."""
    gold = params.paths.gold
    if not any(earlier for _, _, earlier in added):
        return 0
    in_conflict = {c.paragraph_id for c in resolve_gold(read_log(gold, params.labels)).conflicts}
    count = 0
    for item, line, earlier in added:
        if not earlier:
            continue
        others = ", ".join(f"line {a.line} {a.label!r} by {a.annotator}" for a in earlier)
        if item.paragraph_id in in_conflict:
            count += 1
            log.warning(
                "%s: paragraph %s: line %d %r by %s conflicts with %s; both kept, "
                "settle it with an adjudicated label or an undo",
                display_path(gold),
                item.paragraph_id,
                line,
                item.label,
                item.annotator,
                others,
            )
        else:
            log.info(
                "%s: paragraph %s: line %d %r by %s disagrees with %s; "
                "an adjudicated label settles it",
                display_path(gold),
                item.paragraph_id,
                line,
                item.label,
                item.annotator,
                others,
            )
    return count


_SKIP_REASONS = ("already there", "stale", "cancelled", "unknown label")


def _log_summary(added: int, skipped: Counter[str], conflicts: int, gold: Path) -> None:
    reasons = [f"{skipped[reason]} {reason}" for reason in _SKIP_REASONS]
    if skipped["without a stance"]:
        reasons.append(f"{skipped['without a stance']} without a stance")
    log.info(
        "import: %d added, %d skipped (%s), %d in conflict -> %s",
        added,
        sum(skipped.values()),
        ", ".join(reasons),
        conflicts,
        display_path(gold),
    )
