"""Appending to gold.jsonl: whole lines, numbered as the reader numbers them, never a rewrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.annotate.store import (
    add_label,
    append_record,
    default_annotator,
    label_record,
    read_log,
    undo_label,
)
from pipeline.errors import ConfigError, InputDataError
from pipeline.label.annotations import read_gold_log, resolve_gold
from pipeline.text import sha256_hex

LABELS = ("favor", "against", "none")


def test_labels_append_as_whole_lines_with_hash_annotator_and_time(tmp_path: Path) -> None:
    gold = tmp_path / "annotations" / "gold.jsonl"
    first = add_label(gold, label_record("d:1", "A first text.", "favor", "ana"), LABELS)
    second = add_label(gold, label_record("d:2", "Another.", "none", "ana", note=" why "), LABELS)
    assert (first.line, second.line) == (1, 2)
    assert first.conflicts_with == second.conflicts_with == ()
    records = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    assert records[0]["text_sha256"] == sha256_hex("A first text.")
    assert records[0]["annotator"] == "ana" and records[0]["timestamp"].endswith("Z")
    assert records[1]["note"] == "why"
    assert [a.line for a in read_gold_log(gold, LABELS).labels] == [1, 2]


def test_a_disagreeing_label_is_kept_and_reported_and_undo_appends_a_retraction(
    tmp_path: Path,
) -> None:
    gold = tmp_path / "gold.jsonl"
    add_label(gold, label_record("d:1", "Text.", "favor", "ana"), LABELS)
    clash = add_label(gold, label_record("d:1", "Text.", "against", "ben"), LABELS)
    assert [(a.line, a.label, a.annotator) for a in clash.conflicts_with] == [(1, "favor", "ana")]
    before = gold.read_bytes()
    assert [c.paragraph_id for c in resolve_gold(read_log(gold, LABELS)).conflicts] == ["d:1"]

    undone = undo_label(gold, clash.line, "ben", LABELS)
    assert undone.label == "against"
    assert gold.read_bytes().startswith(before)  # appended, never rewritten
    assert json.loads(gold.read_text().splitlines()[-1])["retracts_line"] == 2
    settled = resolve_gold(read_log(gold, LABELS))
    assert [(a.paragraph_id, a.label) for a in settled.settled] == [("d:1", "favor")]
    with pytest.raises(InputDataError, match=r"gold.jsonl:2: no active label to undo"):
        undo_label(gold, 2, "ben", LABELS)


def test_a_file_without_a_final_newline_gets_one_before_the_new_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    first = json.dumps(label_record("d:1", "Text.", "none", "ana"))
    gold.write_text(first, encoding="utf-8")  # edited by hand, no final newline
    line = append_record(gold, label_record("d:2", "More.", "favor", "ana"))
    assert line == 2
    assert gold.read_text(encoding="utf-8").splitlines()[0] == first
    assert len(read_gold_log(gold, LABELS).labels) == 2


def test_unknown_label_and_missing_annotator_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="label 'maybe' is not one of favor, against, none"):
        add_label(tmp_path / "gold.jsonl", label_record("d:1", "T.", "maybe", "ana"), LABELS)
    assert not (tmp_path / "gold.jsonl").exists()
    assert default_annotator(" ana ") == "ana"
    with pytest.raises(ConfigError, match="--annotator"):
        default_annotator("  ")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "none"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no annotator"):
        default_annotator(None)
