"""Bad input: clear one-line messages naming the file, and no half-written output."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.errors import InputDataError
from pipeline.segment.stage import run_segment
from tests.conftest import article, write_manifest

GOOD = article("The harbour reopened on Monday after repairs.", title="Harbour Reopens")
OTHER = article("The museum added a new wing for modern art.", title="Museum Grows")


def run(params: Params) -> pd.DataFrame:
    run_segment(params)
    return pd.read_parquet(params.paths.paragraphs)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\n  ", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file"),
        ("Site icon Example\n\nExit mobile version\n", "no article text"),
    ],
)
def test_unusable_file_is_skipped_with_warning_naming_it(
    corpus: Callable[..., Params],
    caplog: pytest.LogCaptureFixture,
    content: bytes | str,
    reason: str,
) -> None:
    params = corpus({"good.txt": GOOD, "bad.txt": content})
    table = run(params)
    assert set(table.doc_id) == {"good"}
    messages = warnings_of(caplog)
    assert any("bad.txt" in m and reason in m and "skipped" in m for m in messages), messages
    assert all("\n" not in m for m in messages)
    metrics = json.loads(params.paths.segment_metrics.read_text(encoding="utf-8"))
    assert metrics["documents"] == 1
    assert len(metrics["skipped_documents"]) == 1 and "bad.txt" in metrics["skipped_documents"][0]


def test_html_page_without_article_is_skipped(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    page = (
        "<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    )
    table = run(corpus({"good.txt": GOOD, "empty.html": page}))
    assert set(table.doc_id) == {"good"}
    assert any("empty.html" in m and "no article text" in m for m in warnings_of(caplog))


def test_legacy_encodings_bom_and_crlf_are_read(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    cp1252 = "Le café « Étoile » a rouvert ses portes après des années de travaux.\r\n"
    files = {
        "legacy.txt": cp1252.encode("cp1252"),
        "bom.txt": "\ufeff".encode() + b"The harbour reopened on Monday.\r\n",
    }
    table = run(corpus(files))
    texts = dict(zip(table.doc_id, table.text, strict=True))
    assert texts["bom.txt".removesuffix(".txt")] == "The harbour reopened on Monday."
    assert "café « Étoile »" in texts["legacy"]
    assert any("legacy.txt" in m and "not UTF-8" in m for m in warnings_of(caplog))


def test_undecodable_bytes_are_replaced_with_warning(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    mixed = b"Prices rose by a fifth this year, traders said." + b" \xff\xfe\xfa end.\n"
    mixed = mixed + "Another sentence with an em dash — here.".encode()
    table = run(corpus({"mixed.txt": mixed}))
    assert len(table) >= 1
    assert any("mixed.txt" in m for m in warnings_of(caplog))


def test_file_too_large_is_skipped(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    params = corpus({"good.txt": GOOD, "huge.txt": "word " * 300_000}, max_file_mb=1)
    assert set(run(params).doc_id) == {"good"}
    assert any("huge.txt" in m and "max_file_mb" in m for m in warnings_of(caplog))


def test_duplicate_document_is_skipped(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    table = run(corpus({"a.txt": GOOD, "b.txt": GOOD.replace("\n\n", "\r\n\r\n")}))
    assert set(table.doc_id) == {"a"}
    assert any("b.txt" in m and "same article text as" in m for m in warnings_of(caplog))


def test_file_without_manifest_row_is_included_with_unknown_source(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    params = corpus(
        {"listed.txt": GOOD, "extra/unlisted.md": OTHER},
        manifest=[{"doc_id": "listed", "file": "listed.txt", "source": "Daily"}],
    )
    table = run(params)
    sources = dict(zip(table.doc_id, table.source, strict=True))
    assert sources == {"listed": "Daily", "extra_unlisted": "unknown:extra_unlisted"}
    assert any("unlisted.md" in m and "no row" in m for m in warnings_of(caplog))


def test_missing_manifest_warns_and_goes_on(
    corpus: Callable[..., Params], caplog: pytest.LogCaptureFixture
) -> None:
    table = run(corpus({"a.txt": GOOD}, manifest=None))
    assert table.source.tolist() == ["unknown:a"]
    assert any("sources.csv" in m and "no manifest" in m for m in warnings_of(caplog))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"doc_id": "a", "file": "missing.txt"}], "lists 'missing.txt'"),
        (
            [{"doc_id": "a", "file": "a.txt"}, {"doc_id": "a", "file": "b.txt"}],
            "duplicate doc_id 'a'",
        ),
        ([{"doc_id": "a b", "file": "a.txt"}], "sources.csv:2: doc_id 'a b'"),
        ([{"doc_id": "a", "file": "../a.txt"}], "inside the corpus folder"),
        ([{"doc_id": "a", "file": "a.txt", "date": "03/02/2024"}], "sources.csv:2: date"),
        ([{"doc_id": "a", "file": "a.txt", "url": "ftp:x"}], "sources.csv:2: url"),
    ],
)
def test_manifest_errors_stop_the_stage(
    corpus: Callable[..., Params], rows: list[dict[str, str]], message: str
) -> None:
    params = corpus({"a.txt": GOOD, "b.txt": OTHER}, manifest=rows)
    with pytest.raises(InputDataError, match=re.escape(message)) as error:
        run_segment(params)
    assert "\n" not in str(error.value)
    assert not params.paths.paragraphs.exists()


def test_manifest_with_unknown_column(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": GOOD})
    params.paths.manifest.write_text("doc_id,file,sorce\na,a.txt,X\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="unknown column 'sorce'"):
        run_segment(params)


def test_binary_manifest(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": GOOD})
    params.paths.manifest.write_bytes(b"\x00\x01\x02 not csv")
    with pytest.raises(InputDataError, match="manifest is binary"):
        run_segment(params)


def test_no_article_at_all_is_an_error(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": b"", "b.txt": b"\x00\x01binary"})
    with pytest.raises(InputDataError, match="no readable article text"):
        run_segment(params)
    assert not params.paths.paragraphs.exists()


def test_empty_corpus_folder_is_an_error(corpus: Callable[..., Params]) -> None:
    params = corpus({}, manifest=[])
    with pytest.raises(InputDataError, match="no article files"):
        run_segment(params)


def test_failed_run_leaves_previous_output_intact(corpus: Callable[..., Params]) -> None:
    params = corpus({"a.txt": GOOD})
    run_segment(params)
    previous = params.paths.paragraphs.read_bytes()
    write_manifest(params.paths.manifest, [{"doc_id": "a", "file": "gone.txt"}])
    with pytest.raises(InputDataError):
        run_segment(params)
    assert params.paths.paragraphs.read_bytes() == previous
    leftovers = [p.name for p in params.paths.paragraphs.parent.iterdir()]
    assert leftovers == ["paragraphs.parquet"]


def test_interrupted_write_leaves_previous_output_intact(
    corpus: Callable[..., Params], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    params = corpus({"a.txt": GOOD})
    run_segment(params)
    previous = params.paths.paragraphs.read_bytes()

    def crash(table: object, where: object, **kwargs: object) -> None:
        where.write(b"PAR1 half a file")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        run_segment(params)
    assert params.paths.paragraphs.read_bytes() == previous
    assert [p.name for p in params.paths.paragraphs.parent.iterdir()] == ["paragraphs.parquet"]


def test_unwritable_output_is_one_line_error(corpus: Callable[..., Params]) -> None:
    from pipeline.errors import OutputError

    params = corpus({"a.txt": GOOD})
    params.paths.paragraphs.parent.parent.mkdir(parents=True, exist_ok=True)
    params.paths.paragraphs.parent.write_text("a file where the data folder should be")
    with pytest.raises(OutputError, match=r"paragraphs\.parquet: cannot write"):
        run_segment(params)
