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
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from pipeline.annotate.labelstudio_results import (
    NOTE_CONTROL,
    STANCE_CONTROL,
    TEXT_OBJECT,
    AppendedImport,
    plan_import,
    read_export,
)
from pipeline.annotate.queue_file import QueueItem, read_queue
from pipeline.annotate.store import (
    add_label,
    default_annotator,
    label_record,
    read_log,
)
from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.io import atomic_output, display_path, refuse_overwriting_inputs
from pipeline.label.annotations import resolve_gold

log = logging.getLogger(__name__)

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


# --- import (the export's parsing is in labelstudio_results) ------------------------------


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
