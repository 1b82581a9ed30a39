"""Text that is merely unusual is read, not rejected, by the segment stage and by `stance score`.

Each case writes the same article as different bytes; both readers must recover
the same Unicode paragraphs (a BOM never reaches the text), and bytes no
encoding explains are replaced with a warning naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.segment.stage import run_segment
from tests.reliability.conftest import MiniProject

TITLE = "Café Diplomacy"
PARAGRAPHS = [
    "“Moscow’s patience is wearing thin,” said one envoy — the pivot to Beijing "
    "has cost more than it bought.",
    "Señor Müller, a trade adviser, noted that Chinese buyers pay 30 % less for crude; "
    "the Kremlin’s ‘partner’ drives a hard bargain.",
    "The harbour café reopened after the storm, serving crème brûlée again.",
]
ARTICLE = "\n\n".join([TITLE, *PARAGRAPHS]) + "\n"


def _bytes(case: str) -> bytes:
    if case == "cp1252":
        return ARTICLE.encode("cp1252")
    if case == "latin-1":
        # Latin-1 has no curly quotes or dashes: the plain-ASCII spelling of the article.
        plain = ARTICLE.translate(str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'", "—": "-"}))
        return plain.encode("latin-1")
    if case == "utf-8-bom":
        return "\ufeff".encode() + ARTICLE.encode("utf-8")
    if case == "crlf":
        return ARTICLE.replace("\n", "\r\n").encode("utf-8")
    if case == "bom-crlf-cp1252":
        return ARTICLE.replace("\n", "\r\n").encode("cp1252")
    if case in ("utf-16", "utf-32"):  # Python writes the BOM, in this machine's byte order
        return ARTICLE.encode(case)
    if case in ("utf-16-be", "utf-32-be"):
        return ("\ufeff" + ARTICLE.replace("\n", "\r\n")).encode(case)
    raise AssertionError(case)


def _expected(case: str) -> list[str]:
    if case == "latin-1":
        table = str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'", "—": "-"})
        return [text.translate(table) for text in PARAGRAPHS]
    return PARAGRAPHS


CASES = ["cp1252", "latin-1", "utf-8-bom", "crlf", "bom-crlf-cp1252"]
# Newsroom exports with a byte-order mark (D9): half their bytes are NUL, yet they are text.
CASES += ["utf-16", "utf-32", "utf-16-be", "utf-32-be"]


def _score(paths: list[Path], model: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    with pytest.raises(SystemExit) as exit_info:
        main(["score", *map(str, paths), "--model", str(model), "--format", "jsonl"])
    assert exit_info.value.code in (0, None)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("case", CASES)
def test_segment_stage_reads_unusual_text(mini: MiniProject, case: str) -> None:
    (mini.root / "seeds" / "unusual.txt").write_bytes(_bytes(case))
    run_segment(mini.params)
    table = pd.read_parquet(mini.params.paths.paragraphs)
    texts = list(table[table.doc_id == "unusual"].sort_values("position").text)
    assert texts == _expected(case)
    assert not table.text.str.contains("\ufeff|\r|\ufffd").any()


@pytest.mark.parametrize("case", CASES)
def test_score_reads_unusual_text(
    case: str, tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "unusual.txt"
    path.write_bytes(_bytes(case))
    records = _score([path], tiny_model, capsys)
    texts = [r["text"] for r in records if r["type"] == "paragraph"]
    assert texts == _expected(case)
    document = next(r for r in records if r["type"] == "document")
    assert document["n_paragraphs"] == 3 and -1 <= document["stance_index"] <= 1


def _mixed() -> bytes:
    """UTF-8 text with one stray Windows-1252 apostrophe pasted into it."""
    return ARTICLE.encode("utf-8").replace("Kremlin’s".encode(), b"Kremlin\x92s")


def test_mixed_encodings_replace_bytes_with_a_warning_naming_the_file(
    mini: MiniProject, caplog: pytest.LogCaptureFixture
) -> None:
    (mini.root / "seeds" / "mixed.txt").write_bytes(_mixed())
    run_segment(mini.params)
    table = pd.read_parquet(mini.params.paths.paragraphs)
    texts = list(table[table.doc_id == "mixed"].sort_values("position").text)
    # The UTF-8 parts are intact; only the stray byte became U+FFFD.
    assert texts[0] == PARAGRAPHS[0] and texts[2] == PARAGRAPHS[2]
    assert texts[1] == PARAGRAPHS[1].replace("Kremlin’s", "Kremlin\ufffds")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("mixed.txt" in message and "replaced" in message for message in warnings)


def test_score_warns_about_replaced_bytes_and_still_scores(
    tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(_mixed())
    records = _score([path], tiny_model, capsys)
    assert sum(r["type"] == "paragraph" for r in records) == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("mixed.txt" in message and "replaced" in message for message in warnings)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Министр заявил, что партнёрство с Пекином «крепче союза». Кремль доволен.", "cp1251"),
    ],
)
def test_non_western_legacy_encodings_keep_their_letters(text: str, encoding: str) -> None:
    from pipeline.io import decode_text

    decoded = decode_text(text.encode(encoding), name="x.txt")
    assert decoded.text == text and not decoded.replaced
