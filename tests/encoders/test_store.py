"""The embedding cache: exact, bounded, shared between processes, and never fatal."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.encoders.store import EmbeddingStore, default_cache_dir, embedding_key

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
LOGGER = "pipeline.encoders.store"


def vectors_for(texts: list[str], dim: int = 8) -> np.ndarray:
    """Unit vectors that depend only on each text, so any writer stores the same row."""
    rows = []
    for text in texts:
        seed = int.from_bytes(embedding_key("seed", text)[:8], "little")
        row = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
        rows.append(row / np.linalg.norm(row))
    return np.array(rows, dtype=np.float32).reshape(len(texts), dim)


def same_bits(left: np.ndarray, right: np.ndarray) -> bool:
    return left.shape == right.shape and np.array_equal(left.view(np.uint32), right.view(np.uint32))


def warnings_from_store(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddingStore]:
    with EmbeddingStore(tmp_path / "cache" / "embeddings.sqlite3") as opened:
        yield opened


# -- exactness and order ------------------------------------------------------------------------


def test_round_trip_is_bit_exact(store: EmbeddingStore) -> None:
    special = np.array(
        [[np.nan, -0.0, np.inf, -np.inf], [1e-45, -1e-45, np.finfo(np.float32).max, 0.1]],
        dtype=np.float32,
    )
    special[0, 0] = np.frombuffer(np.uint32(0x7FC0_1234).tobytes(), dtype=np.float32)[0]
    texts = ["nan payload, signed zero, infinities", "denormals and extremes"]
    store.store(MODEL, texts, special)
    found, vectors = store.lookup(MODEL, texts)
    assert found.tolist() == [True, True]
    assert vectors.dtype == np.float32
    assert same_bits(vectors, special)


def test_hits_and_misses_keep_input_order(store: EmbeddingStore) -> None:
    stored = ["alpha", "gamma", "epsilon"]
    store.store(MODEL, stored, vectors_for(stored))
    asked = ["beta", "gamma", "alpha", "delta", "epsilon"]
    found, vectors = store.lookup(MODEL, asked)
    assert found.tolist() == [False, True, True, False, True]
    assert same_bits(vectors[found], vectors_for(["gamma", "alpha", "epsilon"]))
    assert not vectors[~found].any()


def test_duplicate_texts_in_a_lookup_all_get_the_vector(store: EmbeddingStore) -> None:
    store.store(MODEL, ["same"], vectors_for(["same"]))
    found, vectors = store.lookup(MODEL, ["same", "other", "same"])
    assert found.tolist() == [True, False, True]
    assert same_bits(vectors[0], vectors[2])
    assert same_bits(vectors[[0]], vectors_for(["same"]))


def test_an_existing_key_keeps_its_first_vector(store: EmbeddingStore) -> None:
    first, second = vectors_for(["one"]), vectors_for(["two"])
    store.store(MODEL, ["text", "text"], np.vstack([first, second]))
    store.store(MODEL, ["text"], second)
    found, vectors = store.lookup(MODEL, ["text"])
    assert found.tolist() == [True]
    assert same_bits(vectors, first)
    assert store.stats()["rows"] == 1


def test_empty_input_and_an_empty_store(store: EmbeddingStore) -> None:
    found, vectors = store.lookup(MODEL, [])
    assert found.shape == (0,) and found.dtype == bool
    assert vectors.shape == (0, 0) and vectors.dtype == np.float32
    store.store(MODEL, [], np.empty((0, 8), dtype=np.float32))
    found, vectors = store.lookup(MODEL, ["never stored", "nor this"])
    assert found.tolist() == [False, False]
    assert vectors.shape == (2, 0)


def test_more_texts_than_one_query_can_bind(store: EmbeddingStore) -> None:
    stored = [f"paragraph {i}" for i in range(1500)]
    store.store(MODEL, stored, vectors_for(stored))
    asked = [f"paragraph {i}" for i in range(1799, -1, -1)]  # 300 unknown, reversed order
    found, vectors = store.lookup(MODEL, asked)
    assert found.tolist() == [i < 1500 for i in range(1799, -1, -1)]
    assert same_bits(
        vectors[found], vectors_for([t for t, f in zip(asked, found, strict=True) if f])
    )
    assert store.stats()["rows"] == 1500


def test_unicode_and_lone_surrogates_have_keys(store: EmbeddingStore) -> None:
    texts = ["Zürich — «déjà vu» 東京 🙂", "broken \udcff byte"]
    store.store(MODEL, texts, vectors_for(texts))
    found, _ = store.lookup(MODEL, texts)
    assert found.all()


# -- keys ---------------------------------------------------------------------------------------


def test_another_model_id_misses(store: EmbeddingStore) -> None:
    store.store(MODEL, ["text"], vectors_for(["text"]))
    found, _ = store.lookup("another-encoder", ["text"])
    assert found.tolist() == [False]


def test_the_same_text_under_two_model_ids_is_kept_apart(store: EmbeddingStore) -> None:
    store.store("encoder-a", ["text"], vectors_for(["a"]))
    store.store("encoder-b", ["text"], vectors_for(["b"], dim=4))
    _, from_a = store.lookup("encoder-a", ["text"])
    _, from_b = store.lookup("encoder-b", ["text"])
    assert same_bits(from_a, vectors_for(["a"]))
    assert same_bits(from_b, vectors_for(["b"], dim=4))


def test_the_key_does_not_run_model_id_and_text_together() -> None:
    assert embedding_key("ab", "c") != embedding_key("a", "bc")
    assert len(embedding_key(MODEL, "text")) == 32
    with pytest.raises(ValueError, match="NUL"):
        embedding_key("a\0b", "c")


def test_a_row_whose_bytes_do_not_match_its_dimension_is_a_miss(store: EmbeddingStore) -> None:
    store.store(MODEL, ["good"], vectors_for(["good"]))
    store.close()
    with sqlite3.connect(store.path) as connection:
        connection.execute(
            "INSERT INTO embeddings (key, model_id, dim, vector, last_used) VALUES (?, ?, ?, ?, 0)",
            (embedding_key(MODEL, "truncated"), MODEL, 8, b"\0" * 12),
        )
    connection.close()
    found, vectors = store.lookup(MODEL, ["truncated", "good"])
    assert found.tolist() == [False, True]
    assert vectors.shape == (2, 8)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "vectors", "message"),
    [
        (["a", "b"], np.zeros((3, 4), np.float32), "3 rows but 2 texts"),
        (["a"], np.zeros(4, np.float32), "2-D"),
        (["a"], np.zeros((1, 2, 2), np.float32), "2-D"),
        (["a"], np.zeros((1, 0), np.float32), "at least one dimension"),
    ],
)
def test_store_rejects_wrong_shapes(
    store: EmbeddingStore, texts: list[str], vectors: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.store(MODEL, texts, vectors)
    assert store.stats()["rows"] == 0


def test_a_bound_that_is_not_positive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_mb"):
        EmbeddingStore(tmp_path / "e.sqlite3", max_mb=0).lookup(MODEL, ["text"])


def test_the_constructor_only_stores_its_arguments(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "embeddings.sqlite3"
    store = EmbeddingStore(path, max_mb=5)
    assert (store.path, store.max_mb) == (path, 5)
    assert not path.parent.exists()
    store.lookup(MODEL, ["text"])
    assert path.is_file()
    store.close()


# -- the bound ----------------------------------------------------------------------------------


def test_the_bound_holds_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite3"
    max_mb = 0.5
    with EmbeddingStore(path, max_mb=max_mb) as store:
        store.store(MODEL, ["old", "kept"], vectors_for(["old", "kept"], dim=64))
        for batch in range(40):
            fillers = [f"filler {batch} {i}" for i in range(100)]
            store.store(MODEL, fillers, vectors_for(fillers, dim=64))
            assert store.lookup(MODEL, ["kept"])[0].all()
            assert store.stats()["mb"] <= max_mb
        found, vectors = store.lookup(MODEL, ["kept", "old", "filler 0 0", "filler 39 99"])
        assert found.tolist() == [True, False, False, True]
        assert same_bits(vectors[[0]], vectors_for(["kept"], dim=64))
        stats = store.stats()
    # Eviction stops near 90% of the bound instead of emptying the cache.
    assert 0.7 * max_mb <= stats["mb"] <= max_mb
    assert 800 <= stats["rows"] < 4002
    # The estimate is what the file really takes, give or take the schema pages.
    assert path.stat().st_size <= max_mb * 1024 * 1024 + 8 * 16384


def test_one_store_larger_than_the_bound_still_ends_within_it(tmp_path: Path) -> None:
    texts = [f"t{i}" for i in range(1200)]
    with EmbeddingStore(tmp_path / "embeddings.sqlite3", max_mb=0.25) as store:
        store.store(MODEL, texts, vectors_for(texts, dim=384))
        stats = store.stats()
        found, _ = store.lookup(MODEL, texts)
    assert 0 < stats["rows"] < 1200
    assert stats["mb"] <= 0.25
    assert found.sum() == stats["rows"]


def test_clear_by_model_and_clear_all(store: EmbeddingStore) -> None:
    store.store("encoder-a", ["x", "y"], vectors_for(["x", "y"]))
    store.store("encoder-b", ["x"], vectors_for(["x"]))
    store.clear("encoder-a")
    assert store.lookup("encoder-a", ["x", "y"])[0].tolist() == [False, False]
    assert store.lookup("encoder-b", ["x"])[0].tolist() == [True]
    assert store.stats()["rows"] == 1
    store.clear()
    assert store.stats()["rows"] == 0
    assert store.stats()["mb"] == 0


def test_stats_reports_rows_and_sizes(store: EmbeddingStore) -> None:
    texts = [f"t{i}" for i in range(100)]
    store.store(MODEL, texts, vectors_for(texts, dim=384))
    stats = store.stats()
    assert stats["enabled"] is True
    assert stats["rows"] == 100
    assert 100 * 384 * 4 / 2**20 < stats["mb"] < 2 * 100 * 384 * 4 / 2**20
    assert stats["file_mb"] > 0
    assert stats["path"] == str(store.path)


# -- concurrency --------------------------------------------------------------------------------


def write_and_read(path: str, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One `stance score` run: small stores overlapping the other workers', then reads."""
    texts = [f"shared paragraph {i}" for i in range(worker * 50, worker * 50 + 200)]
    with EmbeddingStore(Path(path)) as store:
        start.wait(timeout=60)
        for offset in range(0, len(texts), 20):
            batch = texts[offset : offset + 20]
            store.store(MODEL, batch, vectors_for(batch))
            store.lookup(MODEL, texts[:offset])
        found, vectors = store.lookup(MODEL, texts)
        if not found.all() or not same_bits(vectors, vectors_for(texts)):
            raise AssertionError(f"worker {worker} read back wrong vectors")
        if not store.stats()["enabled"]:
            raise AssertionError(f"worker {worker} disabled its cache")


def test_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "embeddings.sqlite3"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    workers = [
        context.Process(target=write_and_read, args=(str(path), worker, start))
        for worker in range(4)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=300)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    everything = [f"shared paragraph {i}" for i in range(350)]
    with EmbeddingStore(path) as store:
        found, vectors = store.lookup(MODEL, everything)
        assert found.all()
        assert same_bits(vectors, vectors_for(everything))
        assert store.stats()["rows"] == 350


def test_another_thread_is_told_it_cannot_share_the_connection(store: EmbeddingStore) -> None:
    store.lookup(MODEL, ["opens the connection in this thread"])
    errors: list[BaseException] = []

    def use() -> None:
        try:
            store.lookup(MODEL, ["text"])
        except sqlite3.ProgrammingError as error:
            errors.append(error)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert store.stats()["enabled"] is True


# -- failures never reach the caller ------------------------------------------------------------


def test_a_garbage_file_is_moved_aside_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "embeddings.sqlite3"
    path.write_bytes(b"this is not an SQLite database\n" * 200)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    broken = EmbeddingStore(path)
    assert broken.lookup(MODEL, ["a", "b"])[0].tolist() == [False, False]
    broken.store(MODEL, ["a"], vectors_for(["a"]))
    assert broken.lookup(MODEL, ["a"])[0].tolist() == [False]
    assert broken.stats()["enabled"] is False
    broken.clear()
    records = warnings_from_store(caplog)
    assert len(records) == 1
    assert str(path) in records[0].getMessage()
    assert "corrupt" in records[0].getMessage()
    assert (tmp_path / "embeddings.sqlite3.corrupt").read_bytes().startswith(b"this is not")

    with EmbeddingStore(path) as fresh:
        fresh.store(MODEL, ["a"], vectors_for(["a"]))
        assert fresh.lookup(MODEL, ["a"])[0].tolist() == [True]
    assert len(warnings_from_store(caplog)) == 1


def test_a_malformed_database_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "embeddings.sqlite3"
    texts = [f"t{i}" for i in range(500)]
    with EmbeddingStore(path) as store:
        store.store(MODEL, texts, vectors_for(texts, dim=64))
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size:] = b"\xa5" * (len(data) - page_size)  # keep the header, ruin every other page
    path.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with EmbeddingStore(path) as store:
        assert not store.lookup(MODEL, texts)[0].any()
        store.store(MODEL, texts, vectors_for(texts, dim=64))
    assert len(warnings_from_store(caplog)) == 1
    assert (tmp_path / "embeddings.sqlite3.corrupt").is_file()
    with EmbeddingStore(path) as fresh:
        assert fresh.stats()["enabled"] is True
        assert fresh.stats()["rows"] == 0


@pytest.mark.parametrize("where", ["under a regular file", "a folder at the file's path"])
def test_an_unusable_location_disables_the_cache(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    if where == "under a regular file":
        (tmp_path / "plain.txt").write_text("not a folder", encoding="utf-8")
        path = tmp_path / "plain.txt" / "cache" / "embeddings.sqlite3"
    else:
        path = tmp_path / "embeddings.sqlite3"
        path.mkdir()
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with EmbeddingStore(path) as store:
        store.store(MODEL, ["a"], vectors_for(["a"]))
        found, vectors = store.lookup(MODEL, ["a"])
        assert found.tolist() == [False]
        assert vectors.shape == (1, 0)
        assert store.stats() | {"file_mb": 0} == {
            "path": str(path),
            "enabled": False,
            "rows": 0,
            "mb": 0,
            "file_mb": 0,
            "max_mb": 1024.0,
        }
    records = warnings_from_store(caplog)
    assert len(records) == 1
    assert str(path) in records[0].getMessage()
    assert not list(tmp_path.glob("**/*.corrupt"))


def test_a_full_disk_disables_the_cache_without_an_error(
    store: EmbeddingStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.store(MODEL, ["before"], vectors_for(["before"]))
    # SQLite reports a database that may not grow as full, exactly like a full disk.
    connection = store._connection
    assert connection is not None
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}").fetchall()
    caplog.set_level(logging.WARNING, logger=LOGGER)
    texts = [f"t{i}" for i in range(2000)]
    store.store(MODEL, texts, vectors_for(texts, dim=384))
    store.store(MODEL, texts, vectors_for(texts, dim=384))
    assert store.lookup(MODEL, ["before"])[0].tolist() == [False]
    records = warnings_from_store(caplog)
    assert len(records) == 1
    assert "full" in records[0].getMessage()
    assert not Path(f"{store.path}.corrupt").exists()


# -- where the cache lives ----------------------------------------------------------------------


def test_default_cache_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STANCE_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "stance"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "stance"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "stance"
    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
