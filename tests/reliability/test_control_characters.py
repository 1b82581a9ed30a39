"""Control characters never reach paragraphs, CSV cells, terminals or log lines (S4, D8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.segment.core import segment_text
from pipeline.text import clean_text, one_line, quote_odd
from tests.conftest import run_module
from tests.reliability.conftest import score_to_csv

FILLER = "Moscow and Beijing signed another agreement on grain. " * 200  # past 8 KB


def test_cleaning_drops_c0_and_c1_controls_but_keeps_tabs_and_lines() -> None:
    assert clean_text("a\x00b\x07c\x1b[31md\x9b2Je\x7f") == "abc[31md2Je"
    assert clean_text("one\ttwo\nthree") == "one two\nthree"


def test_a_nul_past_the_first_8_kb_does_not_reach_the_paragraphs() -> None:
    paragraphs = segment_text(FILLER + "\x00 A NUL byte sits here.\n").paragraphs
    assert paragraphs and not any("\x00" in p.text for p in paragraphs)


def test_one_line_escapes_every_control() -> None:
    assert one_line("a.txt\nstance: error: forged") == "a.txt\\nstance: error: forged"
    assert one_line("\x1b[2J") == "\\x1b[2J"
    assert quote_odd("plain name.txt") == "plain name.txt"
    assert quote_odd("odd\nname.txt") == '"odd\\nname.txt"'


@pytest.mark.slow
def test_a_nul_in_a_table_row_does_not_reach_the_csv(tiny_model: Path, tmp_path: Path) -> None:
    table = tmp_path / "articles.jsonl"
    text = (
        "Officials in Moscow say in private that the Kremlin resents\x00 playing the junior "
        "partner to Beijing.\x1b[31m\n\nThe harbour reopened after the storm on Tuesday."
    )
    row = {"doc_id": "a", "source": "Wire", "text": text}
    table.write_text(json.dumps(row) + "\n", encoding="utf-8")
    rows = score_to_csv(tiny_model, table, tmp_path)
    first, _ = rows
    assert first["text"].endswith("the Kremlin resents playing the junior partner to Beijing.[31m")


@pytest.mark.slow
def test_escape_sequences_do_not_reach_the_table(tiny_model: Path, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(
        "Officials in Moscow say \x1b]0;owned\x07the Kremlin resents \x1b[2Jthe junior role.\n\n"
        "The harbour reopened after the storm on Tuesday.\n",
        encoding="utf-8",
    )
    result = run_module(
        "pipeline",
        "score",
        str(article),
        "--model",
        str(tiny_model),
        "--format",
        "table",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


@pytest.mark.slow
def test_a_file_name_with_a_newline_cannot_forge_a_log_line(tmp_path: Path) -> None:
    odd = tmp_path / "x\nstance: error: forged.txt"
    odd.write_bytes(b"")  # empty: skipped with a warning that names the file
    result = run_module("pipeline", "score", str(odd), "--model", str(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert not any(line.startswith("stance: error: forged") for line in lines), lines
    assert all(line.startswith("stance:") for line in lines), lines
