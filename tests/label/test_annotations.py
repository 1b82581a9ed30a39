"""Gold and synthetic files: strict reading, line-numbered errors, staleness by id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import InputDataError
from pipeline.label.annotations import (
    describe_stale,
    match_annotations,
    read_gold,
    read_gold_log,
    read_synthetic,
    resolve_gold,
)
from pipeline.text import sha256_hex
from tests.label.conftest import gold_line, paragraphs_frame, write_lines

LABELS = ("favor", "against", "none")


def test_reads_valid_gold_skipping_blank_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "gold.jsonl",
        [gold_line("d:1", "one", "favor"), "", gold_line("d:2", "two", "none")],
    )
    annotations = read_gold(path, LABELS)
    assert [(a.paragraph_id, a.label, a.line) for a in annotations] == [
        ("d:1", "favor", 1),
        ("d:2", "none", 3),
    ]
    assert annotations[0].text_sha256 == sha256_hex("one")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"gold.jsonl:2: not valid JSON"),
        ("[1, 2]", r"gold.jsonl:2: expected a JSON object"),
        (gold_line("d:2", "two", "favour"), r"gold.jsonl:2: label 'favour' is not one of favor"),
        (
            json.dumps({"paragraph_id": "d:2", "label": "none", "note": "n", "annotator": "a"}),
            r"gold.jsonl:2: 'text_sha256' is missing",
        ),
        (
            gold_line("d:2", "two", "none", text_sha256="abc"),
            r"gold.jsonl:2: 'text_sha256' must be 64 lowercase hex digits",
        ),
        (gold_line("d:2", "two", "none", note=3), r"gold.jsonl:2: 'note' must be a non-empty"),
        (gold_line("d:2", "two", "none", annotator=7), r"gold.jsonl:2: 'annotator' must be"),
        (
            gold_line("d:2", "two", "none", timestamp="yesterday"),
            r"gold.jsonl:2: 'timestamp' must be an ISO 8601 time",
        ),
        (
            gold_line("d:2", "two", "none", adjudicated="yes"),
            r"gold.jsonl:2: 'adjudicated' must be true or false",
        ),
        (
            json.dumps({"paragraph_id": "d:2", "annotator": "a", "retracts_line": 1}),
            r"gold.jsonl:2: 'retracts_line' 1 is not an earlier label of paragraph d:2",
        ),
        (
            json.dumps({"paragraph_id": "d:1", "annotator": "a", "retracts_line": "1"}),
            r"gold.jsonl:2: 'retracts_line' must be a line number",
        ),
    ],
)
def test_malformed_gold_line_names_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(tmp_path / "gold.jsonl", [gold_line("d:1", "one", "favor"), line])
    with pytest.raises(InputDataError, match=message):
        read_gold(path, LABELS)


def test_a_paragraph_settles_on_agreement_adjudication_or_undo_and_conflicts_otherwise(
    tmp_path: Path,
) -> None:
    undo = {"annotator": "bo", "timestamp": "2026-12-02T17:00:00Z"}
    path = write_lines(
        tmp_path / "gold.jsonl",
        [
            gold_line("agree:1", "a", "favor", annotator="al", note=""),  # 1
            gold_line("agree:1", "a", "favor", annotator="bo"),  # 2
            gold_line("clash:1", "c", "favor", annotator="al"),  # 3
            gold_line("clash:1", "c", "against", annotator="bo"),  # 4
            gold_line("judged:1", "j", "favor", annotator="al"),  # 5
            gold_line("judged:1", "j", "none", annotator="bo"),  # 6
            gold_line("judged:1", "j", "against", annotator="cy", adjudicated=True),  # 7
            gold_line("undone:1", "u", "favor", annotator="al"),  # 8
            gold_line("undone:1", "u", "none", annotator="bo"),  # 9
            json.dumps({"paragraph_id": "undone:1", "retracts_line": 9, **undo}),  # 10
        ],
    )
    resolved = resolve_gold(read_gold_log(path, LABELS))
    assert [(a.paragraph_id, a.label, a.line) for a in resolved.settled] == [
        ("agree:1", "favor", 1),
        ("judged:1", "against", 7),
        ("undone:1", "favor", 8),
    ]
    assert [c.paragraph_id for c in resolved.conflicts] == ["clash:1"]
    message = resolved.conflicts[0].describe(path)
    assert "line 3 'favor' by al, line 4 'against' by bo" in message
    assert [a.paragraph_id for a in read_gold(path, LABELS)] == ["agree:1", "judged:1", "undone:1"]
    with pytest.raises(InputDataError, match=r"gold.jsonl:11: line 9 is already retracted"):
        write_lines(
            path,
            [
                *path.read_text().splitlines(),
                json.dumps({"paragraph_id": "undone:1", "retracts_line": 9, **undo}),
            ],
        )
        read_gold(path, LABELS)


def test_gold_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(InputDataError, match=r"gold.jsonl: not UTF-8"):
        read_gold(path, LABELS)


def test_stale_annotations_are_reported_by_id_and_not_applied(tmp_path: Path) -> None:
    paragraphs = paragraphs_frame("kept text", "edited text", "moved text")
    ids = list(paragraphs.paragraph_id)
    gold = write_lines(
        tmp_path / "gold.jsonl",
        [
            gold_line(ids[0], "kept text", "favor"),
            gold_line(ids[1], "original text", "against"),  # text changed since annotation
            gold_line("gone:000000000000", "deleted text", "none"),  # paragraph vanished
            gold_line("old:000000000000", "moved text", "favor"),  # text now under another id
        ],
    )
    match = match_annotations(read_gold(gold, LABELS), paragraphs)
    assert list(match.current) == [ids[0]]
    stale = {item.paragraph_id: item for item in match.stale}
    assert stale[ids[1]].reason == "changed" and stale[ids[1]].now_at is None
    assert stale["gone:000000000000"].reason == "vanished"
    assert stale["old:000000000000"].now_at == ids[2]
    message = describe_stale(stale["old:000000000000"], Path("gold.jsonl"))
    assert message.startswith("gold.jsonl:4: paragraph old:000000000000 is no longer in the corpus")
    assert f"now paragraph {ids[2]}" in message and "not applied" in message


def synthetic_line(example_id: str, text: str, label: str, **extra: object) -> str:
    return json.dumps({"id": example_id, "text": text, "label": label, "synthetic": True, **extra})


def test_reads_synthetic_examples(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "synthetic.jsonl",
        [
            synthetic_line("s1", "A text.", "favor", category="hedged"),
            synthetic_line("s2", "B.", "none"),
        ],
    )
    examples = read_synthetic(path, LABELS)
    assert [(e.example_id, e.label, e.category) for e in examples] == [
        ("s1", "favor", "hedged"),
        ("s2", "none", ""),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (synthetic_line("s1", "Other.", "none"), r"synthetic.jsonl:2: same id as line 1"),
        (synthetic_line("s2", "A text.", "none"), r"synthetic.jsonl:2: same text as line 1"),
        (synthetic_line("s2", "B.", "none", synthetic=False), r"'synthetic' must be true"),
        (synthetic_line("s2", "", "none"), r"synthetic.jsonl:2: 'text' must be a non-empty"),
        (synthetic_line("s2", "B.", "maybe"), r"synthetic.jsonl:2: label 'maybe'"),
    ],
)
def test_malformed_synthetic_line_names_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(
        tmp_path / "synthetic.jsonl", [synthetic_line("s1", "A text.", "favor"), line]
    )
    with pytest.raises(InputDataError, match=message):
        read_synthetic(path, LABELS)
