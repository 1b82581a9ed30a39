"""Links stay inside the corpus: a symbolic link (or a manifest row) in the corpus folder, or
in a folder given to `stance score`, that resolves outside that folder is one warning naming
it and is never read. A file named on the command line is read wherever it lives."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.segment.stage import run_segment
from tests.conftest import article, run_cli
from tests.score.conftest import ARTICLE, read_jsonl

GOOD = article("The harbour reopened on Monday after repairs.", title="Harbour Reopens")
SECRET = article("The vault code is 0451 and must never leave this machine.", title="Vault")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A private file outside every folder the tests read."""
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


def test_segment_refuses_a_link_out_of_the_corpus(
    corpus: Callable[..., Params], secret: Path, caplog: pytest.LogCaptureFixture
) -> None:
    params = corpus({"good.txt": GOOD})
    (params.paths.corpus_dir / "leak.txt").symlink_to(secret)
    (params.paths.corpus_dir / "nested").mkdir()
    (params.paths.corpus_dir / "nested" / "leak.md").symlink_to(secret)
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    assert set(table.doc_id) == {"good"}
    assert not any("vault" in text for text in table.text)
    folder = params.paths.corpus_dir
    assert [m for m in warnings_of(caplog) if "leak" in m] == [
        f"{folder}/leak.txt: a link to {secret}, outside {folder}; skipped",
        f"{folder}/nested/leak.md: a link to {secret}, outside {folder}; skipped",
    ]


def test_segment_refuses_a_manifest_row_that_leaves_the_corpus(
    corpus: Callable[..., Params], secret: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        {"doc_id": "good", "file": "good.txt", "source": "Outlet"},
        {"doc_id": "leak", "file": "leak.txt", "source": "Outlet"},  # a link to the secret
        {"doc_id": "deep", "file": "linked/secret.txt", "source": "Outlet"},  # a linked folder
    ]
    params = corpus({"good.txt": GOOD}, manifest=rows)
    folder = params.paths.corpus_dir
    (folder / "leak.txt").symlink_to(secret)
    (folder / "linked").symlink_to(secret.parent)
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    assert set(table.doc_id) == {"good"}
    assert warnings_of(caplog) == [
        f"{folder}/leak.txt: a link to {secret}, outside {folder}; skipped",
        f"{folder}/linked/secret.txt: resolves to {secret}, outside {folder}; skipped",
    ]


def test_links_inside_the_corpus_and_a_linked_corpus_still_work(
    corpus: Callable[..., Params], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = article("The museum added a new wing for modern art.", title="Museum Grows")
    params = corpus({"good.txt": GOOD, "archive/museum.txt": other}, manifest=None)
    (params.paths.corpus_dir / "museum.txt").symlink_to(Path("archive") / "museum.txt")
    real = tmp_path / "real-corpus"
    params.paths.corpus_dir.rename(real)
    (tmp_path / "corpus").symlink_to(real)  # the corpus folder itself is a link
    run_segment(params)
    table = pd.read_parquet(params.paths.paragraphs)
    assert set(table.doc_id) == {"good", "archive_museum"}  # the inner link is a duplicate
    assert not any("outside" in m for m in warnings_of(caplog))


def test_score_refuses_a_link_out_of_a_folder_but_reads_a_file_named(
    tmp_path: Path,
    secret: Path,
    tiny_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "leak.txt").symlink_to(secret)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("score", "in", "-m", str(tiny_model), "-f", "jsonl")
    sys.stderr.write(err)
    assert code == 1
    documents = [line for line in read_jsonl(out) if line["type"] == "document"]
    assert [d["doc"] for d in documents] == ["in/a.txt"]
    assert "vault" not in out
    assert warnings_of(caplog) == ["in/leak.txt: a link to private/secret.txt, outside in; skipped"]

    caplog.clear()
    code, out, _ = run_cli("score", "in/leak.txt", "-m", str(tiny_model), "-f", "jsonl")
    assert code == 0 and warnings_of(caplog) == []
    assert [line["type"] for line in read_jsonl(out)].count("document") == 1
