"""Label Studio export and import: the round trip, and every way an import refuses a label."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from pipeline.annotate.labelstudio import label_config_path, run_export
from pipeline.annotate.store import add_label, label_record
from pipeline.config import Params, load_params
from pipeline.errors import InputDataError
from pipeline.text import sha256_hex
from tests.conftest import run_cli, write_params

LABELS = ("favor", "against", "none")

# Paragraph id, document id, source, text: written for these tests.
PARAGRAPHS = [
    (
        "harbour:0001",
        "harbour",
        "Coastal Herald",
        "Officials in both capitals now admit the trade corridor has stalled, and "
        "each side blames the other for the empty warehouses.",
    ),
    (
        "harbour:0002",
        "harbour",
        "Coastal Herald",
        "Diplomats toasted a partnership they described as steadier than ever.",
    ),
    (
        "valley:0001",
        "valley",
        "Valley Times",
        "The regional choir will rehearse in the old mill every Tuesday this spring.",
    ),
]


def _queue_line(rank: int, paragraph: tuple[str, str, str, str], guess: str | None) -> dict:
    paragraph_id, doc_id, source, text = paragraph
    probs = {"favor": 0.5, "against": 0.3, "none": 0.2} if guess else None
    return {
        "rank": rank,
        "paragraph_id": paragraph_id,
        "doc_id": doc_id,
        "source": source,
        "title": f"A headline for {doc_id}",
        "section": "",
        "position": rank,
        "text": text,
        "text_sha256": sha256_hex(text),
        "model": "tfidf_logreg@abc123" if guess else None,
        "probs": probs,
        "guess": guess,
        "score": 0.9,
        "strategy": "uncertainty",
        "context": {"before": "The paragraph before.", "after": "The paragraph after."},
    }


@pytest.fixture
def project(tmp_path: Path) -> tuple[Params, Path]:
    """Params in `tmp_path`, the paragraphs table, and a queue of the three paragraphs."""
    params_path = write_params(tmp_path)
    params = load_params(params_path)
    params.paths.paragraphs.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(PARAGRAPHS, columns=["paragraph_id", "doc_id", "source", "text"]).to_parquet(
        params.paths.paragraphs
    )
    queue = tmp_path / "queue.jsonl"
    lines = [_queue_line(1, PARAGRAPHS[0], "favor"), _queue_line(2, PARAGRAPHS[1], "against")]
    lines.append(_queue_line(3, PARAGRAPHS[2], None))
    queue.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return params, params_path


def _exported_tasks(params: Params, tmp_path: Path) -> list[dict]:
    output = tmp_path / "ls" / "tasks.json"
    run_export(params, output=output, queue=tmp_path / "queue.jsonl")
    return json.loads(output.read_text(encoding="utf-8"))


def _annotation(choice: str | None, *, user: object = 7, note: str = "", **extra: object) -> dict:
    """An annotation as Label Studio exports it."""
    result = []
    if choice is not None:
        result.append(
            {
                "id": "r1",
                "from_name": "stance",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": [choice]},
            }
        )
    if note:
        result.append(
            {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": [note]}}
        )
    return {
        "id": 100,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": "2026-03-04T10:15:30.123456Z",
        "updated_at": "2026-03-04T10:16:00.000000Z",
        "lead_time": 12.5,
        "completed_by": user,
        **extra,
    }


def _label_studio_export(tasks: list[dict], annotations: dict[str, list[dict]]) -> list[dict]:
    """What Label Studio hands back: our tasks with ids and the annotations made on them."""
    return [
        {
            "id": number,
            "project": 1,
            **task,
            "annotations": annotations.get(task["data"]["paragraph_id"], []),
        }
        for number, task in enumerate(tasks, start=1)
    ]


def _write(path: Path, export: list[dict]) -> Path:
    path.write_text(json.dumps(export), encoding="utf-8")
    return path


def _gold(params: Params) -> list[dict]:
    text = params.paths.gold.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_export_writes_tasks_with_the_guess_as_prediction_and_a_labelling_config(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, _ = project
    tasks = _exported_tasks(params, tmp_path)
    assert [t["data"]["paragraph_id"] for t in tasks] == [p[0] for p in PARAGRAPHS]
    first = tasks[0]
    assert first["data"]["text"] == PARAGRAPHS[0][3]
    assert first["data"]["text_sha256"] == sha256_hex(PARAGRAPHS[0][3])
    assert first["data"]["source"] == "Coastal Herald"
    assert (first["data"]["before"], first["data"]["after"]) == (
        "The paragraph before.",
        "The paragraph after.",
    )
    assert first["predictions"] == [
        {
            "model_version": "tfidf_logreg@abc123",
            "score": 0.5,
            "result": [
                {
                    "from_name": "stance",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["favor"]},
                }
            ],
        }
    ]
    assert tasks[2]["predictions"] == []  # no guess, no pre-annotation

    config = ET.fromstring(label_config_path(tmp_path / "ls" / "tasks.json").read_text("utf-8"))
    texts = {t.get("name"): t.get("value") for t in config.iter("Text")}
    assert texts["text"] == "$text" and texts["before"] == "$before" and texts["after"] == "$after"
    (choices,) = config.iter("Choices")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == (
        "stance",
        "text",
        "single",
    )
    assert [c.get("value") for c in choices.iter("Choice")] == list(LABELS)
    (note,) = config.iter("TextArea")
    assert note.get("name") == "note"
    assert not list((tmp_path / "ls").glob(".*.tmp"))  # written through temp files


def test_round_trip_appends_each_completed_annotation_once(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    export = _label_studio_export(
        tasks,
        {
            "harbour:0001": [_annotation("favor", note=" blames the partner ")],
            "harbour:0002": [
                _annotation(
                    "against",
                    user={"id": 3, "email": "rui@example.org", "first_name": "Rui"},
                    ground_truth=True,
                    created_at="2026-03-05T12:00:00+02:00",
                )
            ],
            "valley:0001": [_annotation("none", user={"id": 9}, created_at=None)],
        },
    )
    path = _write(tmp_path / "export.json", export)

    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == 0, stderr
    assert "import: 3 added, 0 skipped" in stderr
    assert "0 in conflict -> " in stderr and "gold.jsonl" in stderr
    gold = _gold(params)
    assert [(g["paragraph_id"], g["label"], g["annotator"]) for g in gold] == [
        ("harbour:0001", "favor", "label-studio:7"),
        ("harbour:0002", "against", "rui@example.org"),
        ("valley:0001", "none", "label-studio:9"),
    ]
    assert [g["text_sha256"] for g in gold] == [sha256_hex(p[3]) for p in PARAGRAPHS]
    assert gold[0]["timestamp"] == "2026-03-04T10:15:30Z"  # microseconds dropped
    assert gold[1]["timestamp"] == "2026-03-05T10:00:00Z"  # offset turned into UTC
    assert gold[2]["timestamp"] == "2026-03-04T10:16:00Z"  # updated_at when created_at is null
    assert gold[0]["note"] == "blames the partner"
    assert gold[1].get("adjudicated") is True
    assert "adjudicated" not in gold[0]

    before = params.paths.gold.read_bytes()
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == 0, stderr
    assert "import: 0 added, 3 skipped (3 already there, 0 stale" in stderr
    assert params.paths.gold.read_bytes() == before


def test_a_disagreeing_label_is_appended_and_reported_as_a_conflict(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    text = PARAGRAPHS[0][3]
    add_label(params.paths.gold, label_record("harbour:0001", text, "favor", "ana"), LABELS)
    tasks = _exported_tasks(params, tmp_path)
    path = _write(
        tmp_path / "export.json",
        _label_studio_export(tasks, {"harbour:0001": [_annotation("against")]}),
    )
    code, _, stderr = run_cli(
        "annotate", "import", str(path), "--annotator", "ben", "--params", str(params_path)
    )
    assert code == 0, stderr
    assert "import: 1 added, 0 skipped" in stderr and "1 in conflict" in stderr
    (warning,) = [line for line in stderr.splitlines() if "warning" in line]
    assert "paragraph harbour:0001" in warning
    assert "line 2 'against' by ben" in warning and "line 1 'favor' by ana" in warning
    gold = _gold(params)
    assert [(g["label"], g["annotator"]) for g in gold] == [("favor", "ana"), ("against", "ben")]


def test_stale_cancelled_and_unknown_annotations_are_skipped_and_counted(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    # The corpus moved on: the second paragraph was re-worded after the export.
    changed = [list(p) for p in PARAGRAPHS]
    changed[1][3] = "Diplomats toasted a partnership they called steadier than before."
    pd.DataFrame(changed, columns=["paragraph_id", "doc_id", "source", "text"]).to_parquet(
        params.paths.paragraphs
    )
    tasks[2]["data"]["text"] += " Edited in the tool."  # no longer matches its own hash
    export = _label_studio_export(
        tasks,
        {
            "harbour:0001": [
                _annotation("favor", was_cancelled=True),
                _annotation("maybe"),
                _annotation("against", user=8),
            ],
            "harbour:0002": [_annotation("favor")],
            "valley:0001": [_annotation("none")],
        },
    )
    path = _write(tmp_path / "export.json", export)
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == 0, stderr
    assert (
        "import: 1 added, 4 skipped (0 already there, 2 stale, 1 cancelled, 1 unknown label), "
        "0 in conflict" in stderr
    )
    assert "label 'maybe' is not one of favor, against, none" in stderr
    assert "paragraph harbour:0002 changed since it was exported" in stderr
    assert "paragraph valley:0001 has a text that does not match its hash" in stderr
    assert [(g["paragraph_id"], g["annotator"]) for g in _gold(params)] == [
        ("harbour:0001", "label-studio:8")
    ]


def test_a_paragraph_gone_from_the_corpus_is_stale(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    pd.DataFrame(PARAGRAPHS[:2], columns=["paragraph_id", "doc_id", "source", "text"]).to_parquet(
        params.paths.paragraphs
    )
    path = _write(
        tmp_path / "export.json",
        _label_studio_export(tasks, {"valley:0001": [_annotation("none")]}),
    )
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == 0 and "paragraph valley:0001 is no longer in the corpus" in stderr
    assert not params.paths.gold.exists()


@pytest.mark.parametrize(
    "content",
    [
        '[{"data": {"text": "half a file"',  # truncated download
        '{"not": "tasks"}',
        "[1, 2, 3]",
    ],
)
def test_an_unreadable_export_is_one_error_and_leaves_gold_untouched(
    project: tuple[Params, Path], tmp_path: Path, content: str
) -> None:
    params, params_path = project
    add_label(params.paths.gold, label_record("harbour:0001", "Some text.", "none", "ana"), LABELS)
    before = params.paths.gold.read_bytes()
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == InputDataError.exit_code
    assert stderr.count("\n") == 1 and "export.json: not a Label Studio JSON export" in stderr
    assert params.paths.gold.read_bytes() == before


def test_a_bad_task_late_in_the_file_stops_the_import_before_any_line_is_written(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    export = _label_studio_export(
        tasks, {"harbour:0001": [_annotation("favor")], "valley:0001": [_annotation("none")]}
    )
    del export[2]["data"]["paragraph_id"]
    path = _write(tmp_path / "export.json", export)
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == InputDataError.exit_code
    assert "task 3 (id 3): 'data.paragraph_id' is missing" in stderr
    assert not params.paths.gold.exists()


def test_json_lines_and_a_tasks_object_are_read_too(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    export = _label_studio_export(tasks, {"harbour:0001": [_annotation("favor")]})
    lines = tmp_path / "export.jsonl"
    lines.write_text("".join(json.dumps(task) + "\n" for task in export), encoding="utf-8")
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"tasks": export}), encoding="utf-8")
    code, _, stderr = run_cli("annotate", "import", str(lines), "--params", str(params_path))
    assert code == 0 and "import: 1 added" in stderr
    code, _, stderr = run_cli("annotate", "import", str(wrapped), "--params", str(params_path))
    assert code == 0 and "import: 0 added, 1 skipped (1 already there" in stderr


def test_export_needs_a_queue_and_names_a_bad_line(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    output = tmp_path / "tasks.json"
    code, _, stderr = run_cli(
        "annotate",
        "export",
        "-o",
        str(output),
        "--queue",
        str(tmp_path / "missing.jsonl"),
        "--params",
        str(params_path),
    )
    assert code == InputDataError.exit_code and "run `stance annotate queue`" in stderr
    queue = tmp_path / "queue.jsonl"
    queue.write_text(queue.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"queue\.jsonl:4: not valid JSON"):
        run_export(params, output=output, queue=queue)
    assert not output.exists()

    code, _, stderr = run_cli(
        "annotate", "export", "-o", str(output), "--queue", str(queue), "--params", str(params_path)
    )
    assert code == InputDataError.exit_code and "queue.jsonl:4" in stderr


def test_a_ground_truth_annotation_settles_the_disagreement_instead_of_conflicting(
    project: tuple[Params, Path], tmp_path: Path
) -> None:
    params, params_path = project
    text = PARAGRAPHS[1][3]
    add_label(params.paths.gold, label_record("harbour:0002", text, "favor", "ana"), LABELS)
    tasks = _exported_tasks(params, tmp_path)
    export = _label_studio_export(
        tasks, {"harbour:0002": [_annotation("against", ground_truth=True)]}
    )
    path = _write(tmp_path / "export.json", export)
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == 0, stderr
    assert "import: 1 added, 0 skipped" in stderr and "0 in conflict" in stderr
    assert "warning" not in stderr
    assert "disagrees with line 1 'favor' by ana; an adjudicated label settles it" in stderr
    assert _gold(params)[-1]["adjudicated"] is True


@pytest.mark.parametrize(
    ("region", "value", "words"),
    [
        (0, "favor", "'value' must be an object, not str"),  # D6: a string where {choices}
        (1, ["a note"], "'value' must be an object, not list"),  # a list where {text}
        (1, {"text": [3]}, "the note's 'text' must be a list of strings"),
    ],
)
def test_a_result_of_the_wrong_shape_is_one_error_and_writes_nothing(
    project: tuple[Params, Path], tmp_path: Path, region: int, value: object, words: str
) -> None:
    params, params_path = project
    tasks = _exported_tasks(params, tmp_path)
    annotation = _annotation("favor", note="why")
    annotation["result"][region]["value"] = value
    export = _label_studio_export(tasks, {"harbour:0001": [annotation]})
    path = _write(tmp_path / "export.json", export)
    code, _, stderr = run_cli("annotate", "import", str(path), "--params", str(params_path))
    assert code == InputDataError.exit_code, stderr
    assert stderr.count("\n") == 1 and words in stderr and "Traceback" not in stderr
    assert not params.paths.gold.exists()
