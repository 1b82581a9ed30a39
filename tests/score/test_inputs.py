"""What `stance score` reads: the pipeline's segmentation, manifests, stdin and bad files."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest

from pipeline.config import load_params
from pipeline.errors import StanceError
from pipeline.score.core import segmented_document
from pipeline.score.inputs import (
    ReadOptions,
    looks_like_html,
    read_documents,
    segment_article,
)
from pipeline.segment.files import Document, discover_documents
from pipeline.segment.manifest import ManifestRow
from pipeline.segment.stage import segment_corpus, segment_document
from tests.conftest import REPO, SEEDS, article, write_manifest
from tests.score.conftest import ARTICLE
from tests.segment.test_html import PAGE

OPTIONS = ReadOptions()


def test_seed_articles_get_the_segment_stages_paragraph_ids() -> None:
    params = load_params(REPO / "params.yaml")
    documents = discover_documents(
        params.paths.corpus_dir, params.paths.manifest, params.segment.extensions
    )
    pipeline_rows = segment_corpus(documents, params.segment).rows
    expected = [(row["paragraph_id"], row["source"], row["text"]) for row in pipeline_rows]

    read = read_documents([SEEDS], ReadOptions(segment=params.segment))
    assert read.failed == []
    scored = [(p.paragraph_id, d.source, p.text) for d in read.documents for p in d.paragraphs]
    assert scored == expected

    one = SEEDS / "003_d7ee13c73e456a2f.txt"
    (alone,) = read_documents([one], OPTIONS).documents
    assert [(p.paragraph_id, alone.source, p.text) for p in alone.paragraphs] == [
        row for row in expected if row[0].startswith("003_d7ee13c73e456a2f:")
    ]
    assert alone.doc_id == "003_d7ee13c73e456a2f" and alone.source == "The Moscow Times"


def test_a_seed_file_without_its_manifest_keeps_its_ids(tmp_path: Path) -> None:
    copy = tmp_path / "000_975a2217d1868434.txt"
    shutil.copy2(SEEDS / copy.name, copy)
    (with_manifest,) = read_documents([SEEDS / copy.name], OPTIONS).documents
    (without,) = read_documents([copy], OPTIONS).documents
    assert [p.paragraph_id for p in without.paragraphs] == [
        p.paragraph_id for p in with_manifest.paragraphs
    ]
    assert without.source == "unknown:000_975a2217d1868434"
    (named,) = read_documents([copy], ReadOptions(source="Some Outlet")).documents
    assert named.source == "Some Outlet"


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_text_segmentation_is_the_file_segmentation(name: str) -> None:
    """`segment_article` (stdin, the Python API) mirrors `segment_document` (files)."""
    (from_file,) = read_documents([SEEDS / name], OPTIONS).documents
    row = ManifestRow(doc_id=from_file.doc_id, file=name, title=from_file.title)
    text = (SEEDS / name).read_text(encoding="utf-8")
    from_text = segment_article(text, row, OPTIONS, doc=from_file.doc, html=False)
    assert from_text.paragraphs == from_file.paragraphs


def test_html_from_text_is_the_html_from_a_file(tmp_path: Path) -> None:
    page = tmp_path / "leaf.html"
    page.write_text(PAGE, encoding="utf-8")
    (from_file,) = read_documents([page], OPTIONS).documents
    assert looks_like_html(PAGE) and not looks_like_html(ARTICLE)
    row = ManifestRow(doc_id="leaf", file="leaf.html")
    from_text = segment_article(PAGE, row, OPTIONS, doc=from_file.doc, html=True)
    assert from_text == from_file
    assert from_file.source == "The Daily Leaf"  # the page's site name, as the stage does


def test_a_folder_manifest_names_sources_and_ids(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.md").write_text(article("The bridge opened on Friday."), encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "notes.csv").write_text("not,an,article\n", encoding="utf-8")
    write_manifest(
        tmp_path / "sources.csv", [{"doc_id": "art-a", "file": "sub/a.txt", "source": "Outlet A"}]
    )
    read = read_documents([tmp_path], ReadOptions(source="Given"))
    assert [(d.doc_id, d.source) for d in read.documents] == [("b", "Given"), ("art-a", "Outlet A")]
    assert read.documents[1].paragraphs[0].paragraph_id.startswith("art-a:")


def test_stdin_is_one_article() -> None:
    read = read_documents(["-"], OPTIONS, stdin=io.BytesIO(ARTICLE.encode()))
    (document,) = read.documents
    assert (document.doc, document.doc_id, document.source) == ("-", "stdin", "unknown:stdin")
    assert document.title == "Old Friends" and len(document.paragraphs) == 3
    (page,) = read_documents(["-"], OPTIONS, stdin=io.BytesIO(PAGE.encode())).documents
    assert page.title == "Tea Markets Shift"


BAD = {
    "empty.txt": b"",
    "binary.txt": bytes(range(256)) * 4,
    "chrome.html": b"<html><body><nav>Home</nav></body></html>",
}


def test_bad_files_are_one_warning_each_and_the_rest_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    for name, content in BAD.items():
        (tmp_path / name).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        read = read_documents([tmp_path, tmp_path / "missing.txt"], OPTIONS)
    assert [document.doc_id for document in read.documents] == ["good"]
    assert len(read.failed) == 4
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4 and all(message.endswith("; skipped") for message in messages)
    for name, reason in [
        ("binary.txt", "binary file"),
        ("chrome.html", "no article text"),
        ("empty.txt", "empty file"),
        ("missing.txt", "no such file or folder"),
    ]:
        assert any(name in message and reason in message for message in messages), name


def test_strict_stops_at_the_first_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(StanceError, match=r"a\.txt: empty file; stopped \(--strict\)") as error:
        read_documents([tmp_path], OPTIONS, strict=True)
    assert error.value.exit_code == 1


def test_a_folder_without_articles_fails(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("a,b\n", encoding="utf-8")
    read = read_documents([tmp_path], OPTIONS)
    assert read.documents == [] and "no article files" in read.failed[0]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    read = read_documents([tmp_path / "a.txt", tmp_path], OPTIONS)
    assert len(read.documents) == 1


def test_segmented_document_carries_the_stage_source(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    described, segmentation = segment_document(
        Document(path, ManifestRow(doc_id="x", file="x.txt")), OPTIONS.segment
    )
    document = segmented_document(described, segmentation, doc="x.txt")
    assert document.source == "unknown:x" and document.title == "Old Friends"
