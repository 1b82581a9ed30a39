"""The bad-input matrix, run as a user runs it: the `stance` command in a subprocess.

Every case starts from a small project whose pipeline has run once. It breaks one
thing, runs the command that reads it, and checks the documented exit code, one
clear line naming the file or key, no traceback, and that the outputs of the
earlier run are still there, byte for byte, with no temporary file left behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_module
from tests.reliability.conftest import MiniProject, tree_bytes

pytestmark = pytest.mark.slow

OUTPUTS = ("data", "metrics", "models", "reports")


def stance(project: MiniProject, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module("pipeline", *args, cwd=project.root)


def outputs(project: MiniProject) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for folder in OUTPUTS:
        found |= {f"{folder}/{k}": v for k, v in tree_bytes(project.root / folder).items()}
    return found


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *names: str):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("stance: error:")]
    assert len(errors) == 1, result.stderr
    for name in names:
        assert name in errors[0], errors[0]


def assert_warning(result: subprocess.CompletedProcess[str], *names: str) -> None:
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert any(all(name in line for name in names) for line in warnings), result.stderr


def no_temporary_files(project: MiniProject) -> None:
    leftovers = [p for p in project.root.rglob(".*") if p.name.endswith(".tmp") or p.is_dir()]
    assert not [p for p in leftovers if p.name not in (".hypothesis",)], leftovers


# --- The corpus: segment skips what it cannot read, says so, and goes on. -----------------


@dataclass(frozen=True)
class CorpusCase:
    name: str
    make: Callable[[Path], None]  # given the corpus folder
    words: tuple[str, ...]  # what the warning must say


def _write(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(content)


def _large(folder: Path) -> None:
    line = b"The committee met again and adjourned without a decision on the budget.\n"
    with (folder / "large.txt").open("wb") as stream:
        for _ in range(50_000_000 // len(line) + 1):
            stream.write(line)


def _duplicate(folder: Path) -> None:
    shutil.copy2(folder / "north.txt", folder / "north-copy.txt")


PAGE_WITHOUT_ARTICLE = (
    b"<html><head><title>Home</title></head><body><nav><a href='/'>Home</a> "
    b"<a href='/news'>News</a></nav><footer>Subscribe</footer></body></html>"
)

CORPUS_CASES = [
    CorpusCase("empty file", _write("empty.txt", b""), ("empty.txt", "empty file")),
    CorpusCase(
        "binary file",
        _write("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))),
        ("image.txt", "binary"),
    ),
    CorpusCase("50 MB text file", _large, ("large.txt", "MB")),
    CorpusCase("HTML page without article", _write("home.html", PAGE_WITHOUT_ARTICLE), ("home",)),
    CorpusCase("two identical articles", _duplicate, ("north-copy.txt", "north.txt")),
    CorpusCase(
        "file with no manifest row",
        _write("stray.txt", b"Stray Piece\n\nA paragraph from an unlisted file.\n"),
        ("stray.txt", "no row"),
    ),
]


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda case: case.name)
def test_segment_skips_and_warns(built: MiniProject, case: CorpusCase) -> None:
    case.make(built.root / "seeds")
    result = stance(built, "segment")
    assert result.returncode == 0, result.stderr
    assert_warning(result, *case.words)
    no_temporary_files(built)


def test_manifest_row_for_a_missing_file(built: MiniProject) -> None:
    before = outputs(built)
    with (built.root / "seeds" / "sources.csv").open("a", encoding="utf-8") as stream:
        stream.write("gone,gone.txt,Lost Outlet,,,,\n")
    result = stance(built, "segment")
    assert_one_line_error(result, 3, "sources.csv", "gone.txt")
    assert outputs(built) == before
    no_temporary_files(built)


# --- Annotations: malformed or stale lines are named by line and id; nothing is rewritten. ---


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{not json", ("gold.jsonl:4",)),
        ('{"paragraph_id": "x", "label": "favor"}', ("gold.jsonl:4", "text_sha256")),
        (
            json.dumps({"paragraph_id": "x", "text_sha256": "0" * 64, "label": "maybe"}),
            ("gold.jsonl:4", "maybe"),
        ),
    ],
    ids=["not JSON", "missing field", "unknown label"],
)
def test_malformed_gold_line(built: MiniProject, line: str, words: tuple[str, ...]) -> None:
    lines = built.gold.read_text(encoding="utf-8").splitlines()
    built.gold.write_text("\n".join([*lines[:3], line, *lines[3:]]) + "\n", encoding="utf-8")
    gold = built.gold.read_bytes()
    before = outputs(built)
    result = stance(built, "label")
    assert_one_line_error(result, 3, *words)
    assert outputs(built) == before and built.gold.read_bytes() == gold
    no_temporary_files(built)


def _stale_gold(project: MiniProject) -> str:
    """Point the first annotation at a paragraph id that no longer exists."""
    lines = project.gold.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["paragraph_id"] = record["paragraph_id"].split(":")[0] + ":000000000000"
    lines[0] = json.dumps(record)
    project.gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return record["paragraph_id"]


def test_stale_annotation_warns_by_default(built: MiniProject) -> None:
    stale = _stale_gold(built)
    gold = built.gold.read_bytes()
    result = stance(built, "label")
    assert result.returncode == 0, result.stderr
    assert_warning(result, stale)
    assert built.gold.read_bytes() == gold


def test_stale_annotation_is_an_error_when_asked(built: MiniProject) -> None:
    stale = _stale_gold(built)
    built.edit_params(lambda p: p["label"].update(on_stale="error"))
    before = outputs(built)
    result = stance(built, "label")
    assert_one_line_error(result, 3, stale)
    assert outputs(built) == before


# --- Models and params. ---------------------------------------------------------------------


def _corrupt_model(project: MiniProject) -> None:
    folder = project.root / "models" / "tfidf_logreg"
    for path in folder.glob("*.skops"):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("command", ["report", "score"])
@pytest.mark.parametrize("fault", ["missing", "corrupted"])
def test_missing_or_corrupted_model(built: MiniProject, command: str, fault: str) -> None:
    folder = built.root / "models" / "tfidf_logreg"
    if fault == "missing":
        shutil.rmtree(folder)
    else:
        _corrupt_model(built)
    before = outputs(built)
    args = ["score", "seeds/north.txt"] if command == "score" else ["report"]
    result = stance(built, *args)
    assert_one_line_error(result, 3, "models/tfidf_logreg")
    assert outputs(built) == before
    assert result.stdout == ""
    no_temporary_files(built)


@pytest.mark.parametrize("command", ["evaluate", "train", "report", "score"])
def test_unknown_model_name_in_params(built: MiniProject, command: str) -> None:
    built.edit_params(lambda p: p["train"].update(model="bert_magic"))
    before = outputs(built)
    args = ["score", "seeds/north.txt"] if command == "score" else [command]
    result = stance(built, *args)
    assert_one_line_error(result, 2, "train.model", "bert_magic")
    assert outputs(built) == before


# --- `stance score` on the same bad files: a warning each, the rest scored, exit 1. ---------


@pytest.mark.parametrize(
    "case",
    [c for c in CORPUS_CASES if "manifest" not in c.name and "identical" not in c.name],
    ids=lambda case: case.name,
)
def test_score_skips_a_bad_file_and_scores_the_rest(
    built: MiniProject, case: CorpusCase, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(built.root / "seeds" / "east.txt", inbox / "east.txt")
    case.make(inbox)
    out = tmp_path / "scores.jsonl"
    result = stance(built, "score", str(inbox), "--output", str(out))
    assert result.returncode == 1, result.stderr
    assert_warning(result, *case.words[:1])
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["doc"] for r in records if r["type"] == "document"] == [str(inbox / "east.txt")]


def test_score_two_identical_articles_scores_both_the_same(
    built: MiniProject, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a.txt", "b.txt"):
        shutil.copy2(built.root / "seeds" / "east.txt", inbox / name)
    result = stance(built, "score", str(inbox), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    documents = [d for d in documents if d["type"] == "document"]
    assert len(documents) == 2
    assert documents[0]["stance_index"] == documents[1]["stance_index"]
