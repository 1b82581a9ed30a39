"""`stance score --engine ray` gives the local engine's rows, on a local 2-CPU Ray instance.

One Ray instance serves the module (started once, shut down after). Blocks are cut to two
articles, so both actors get work. `assert_engines_agree` takes any model folder: add a
model fixture to `MODELS` to hold another model kind to the same standard.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.errors import ConfigError, StanceError
from pipeline.score import ray_cluster, ray_engine, ray_workers
from pipeline.score.folder import read_score_folder
from pipeline.score.inputs import ReadOptions
from pipeline.score.model import StanceModel
from pipeline.segment.files import Document
from pipeline.segment.manifest import ManifestRow
from tests.conftest import run_cli, write_manifest
from tests.score.conftest import ARTICLE

# Model fixtures the engines are compared on (fixture names of tests/score/conftest.py).
MODELS = ["tiny_model", "tiny_static_logreg", "tiny_cascade"]
PROBABILITY_TOLERANCE = 1e-6

HTML_PAGE = """<!doctype html><html><head><title>Harbour news</title>
<meta property="og:site_name" content="The Harbour Gazette"></head><body><article>
<h1>Harbour news</h1>
<p>The Kremlin distrusts Beijing and wants other options, officials in Moscow said.</p>
<p>The ferry timetable changes in May, and the harbour museum reopens on Thursday.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[object]:
    """A local Ray with 2 CPUs for the whole module, quiet, shut down at the end."""
    ray = pytest.importorskip("ray")
    ray_cluster.import_ray()  # its quiet settings, before Ray starts
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files (with a manifest, HTML, cp1252 text, an empty file) and two article tables."""
    root = tmp_path_factory.mktemp("ray-corpus")
    folder = root / "in"
    (folder / "world").mkdir(parents=True)
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "b.md").write_text(
        "# Bridge\n\nThe bridge opened on Friday.\n\nMoscow resents its junior partner role.\n"
    )
    (folder / "world" / "c.html").write_text(HTML_PAGE, encoding="utf-8")
    (folder / "latin.txt").write_bytes(
        "Caf\xe9 owners in Moscow say the bond with China is unbreakable.\n".encode("cp1252")
    )
    (folder / "empty.txt").write_bytes(b"")
    write_manifest(folder / "sources.csv", [{"doc_id": "alpha", "file": "a.txt", "source": "A"}])
    rows = [
        {"doc_id": f"t{i}", "source": f"Wire {i % 2}", "text": ARTICLE.replace("May", f"May {i}")}
        for i in range(6)
    ]
    rows += [
        {"doc_id": "t1", "source": "Copy", "text": "Russia and China stand together."},
        {"doc_id": None, "source": None, "text": "   "},
        {"doc_id": None, "source": None, "text": HTML_PAGE},
        {"doc_id": "t9", "source": None, "text": "Putin and Xi praised a friendship."},
    ]
    pd.DataFrame(rows).to_parquet(root / "table.parquet", index=False)
    lines = [
        json.dumps({"doc_id": "j1", "text": "The Kremlin distrusts Beijing."}),
        "{not json",
        json.dumps({"text": "Moscow depends on Chinese buyers and has no alternative."}),
    ]
    (root / "table.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def score_with(engine: str, model: Path, inputs: Sequence[str], out: Path, *extra: str) -> dict:
    """Run `stance score` on one engine into `out`; its exit code, run.json and warnings."""
    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("pipeline")
    logger.addHandler(handler)
    try:
        args = ["score", *inputs, "--model", str(model), "--output", str(out), *extra]
        engine_args = ["--format", "parquet"] if engine == "local" else ["--engine", "ray"]
        code, stdout, stderr = run_cli(*args, *engine_args)
    finally:
        logger.removeHandler(handler)
    sys.stderr.write(stderr)
    assert stdout == ""
    run = json.loads((out / "run.json").read_text(encoding="utf-8")) if out.is_dir() else {}
    return {"code": code, "run": run, "warnings": sorted(records)}


def assert_engines_agree(
    model: Path,
    inputs: Sequence[str],
    out: Path,
    *extra: str,
    workers: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score `inputs` with the model folder `model` on both engines and check every row:
    ids, text and labels equal, probabilities within 1e-6, indices and intervals equal,
    the same failures and warnings. Returns the Ray engine's (paragraphs, documents)."""
    local = score_with("local", model, inputs, out / "local", *extra)
    ray = score_with("ray", model, inputs, out / "ray", "--workers", str(workers), *extra)
    assert ray["code"] == local["code"]
    assert ray["warnings"] == local["warnings"]
    assert {**ray["run"], "engine": "local"} == local["run"]
    local_paragraphs, local_documents = read_score_folder(out / "local")
    ray_paragraphs, ray_documents = read_score_folder(out / "ray")
    probabilities = [column for column in local_paragraphs if column.startswith("prob_")]
    pd.testing.assert_frame_equal(
        ray_paragraphs.drop(columns=probabilities), local_paragraphs.drop(columns=probabilities)
    )
    np.testing.assert_allclose(
        ray_paragraphs[probabilities],
        local_paragraphs[probabilities],
        rtol=0,
        atol=PROBABILITY_TOLERANCE,
    )
    pd.testing.assert_frame_equal(ray_documents, local_documents, check_exact=True)
    return ray_paragraphs, ray_documents


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", MODELS)
def test_ray_gives_the_local_rows(
    model_fixture: str,
    request: pytest.FixtureRequest,
    ray_instance: object,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(corpus)
    monkeypatch.setattr(ray_engine, "ARTICLES_PER_BLOCK", 2)  # several blocks, both actors
    model = request.getfixturevalue(model_fixture)
    paragraphs, documents = assert_engines_agree(
        model, ["in", "table.parquet", "table.jsonl"], tmp_path
    )
    assert list(documents["doc"]) == [
        "in/a.txt",
        "in/b.md",
        "in/latin.txt",
        "in/world/c.html",
        *(f"table.parquet:{row}" for row in (1, 2, 3, 4, 5, 6, 9, 10)),
        "table.jsonl:1",
        "table.jsonl:3",
    ]
    assert documents.loc[0, "doc_id"] == "alpha" and documents.loc[0, "source"] == "A"
    assert documents.loc[3, "source"] == "The Harbour Gazette"
    assert paragraphs["input_order"].is_monotonic_increasing
    run = json.loads((tmp_path / "ray" / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "ray" and len(run["failed"]) == 4
    assert len(list((tmp_path / "ray" / "paragraphs").iterdir())) > 2  # a shard per block


@pytest.mark.slow
def test_strict_stops_and_writes_nothing(
    ray_instance: object, corpus: Path, tiny_model: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(corpus)
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "score", "in", "--model", str(tiny_model), "--engine", "ray", "-o", str(out), "--strict"
    )
    assert (code, stdout) == (1, "")
    assert err == "stance: error: in/empty.txt: empty file; stopped (--strict)\n"
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary one


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("extra", "message", "exit_code"),
    [
        ((), "--engine ray writes a folder of parquet tables; pass --output DIR", 2),
        (("-o", "out", "-f", "jsonl"), "--engine ray writes parquet only, not jsonl", 2),
        (("-o", "b.txt"), "b.txt: is a file; parquet output is a folder, pass a folder path", 4),
        (("-o", "a.txt"), "a.txt: is the input a.txt; choose another output", 4),
    ],
)
def test_bad_input_is_one_line(
    extra, message, exit_code, tiny_model, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")  # not an input (that is exit 4 too)
    code, out, err = run_cli("score", "a.txt", "-m", str(tiny_model), "--engine", "ray", *extra)
    assert (code, out, err) == (exit_code, "", f"stance: error: {message}\n")


def test_an_address_nobody_answers_is_one_line(tiny_model, tmp_path, monkeypatch) -> None:
    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    address = f"127.0.0.1:{closed_port()}"
    args = ("score", "a.txt", "-m", str(tiny_model), "--engine", "ray", "-o", "out")
    code, out, err = run_cli(*args, "--address", address)
    assert (code, out) == (2, "")
    assert err.startswith(f"stance: error: {address}: no Ray cluster answers there (")
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_without_ray_installed_it_says_how_to_get_it(tiny_model, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code, out, err = run_cli(
        "score", "a.txt", "-m", str(tiny_model), "--engine", "ray", "-o", "out"
    )
    assert (code, out) == (2, "")
    assert err == "stance: error: Ray is not installed; pip install '.[ray]'\n"


class FakeRay:
    """What `ray_session` calls on Ray, recorded."""

    def __init__(self, initialized: bool) -> None:
        self.initialized = initialized
        self.calls: list[tuple[str, dict]] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **options: object) -> None:
        self.calls.append(("init", options))

    def shutdown(self) -> None:
        self.calls.append(("shutdown", {}))

    def cluster_resources(self) -> dict:
        return {"CPU": 2.0}

    def nodes(self) -> list[dict]:
        return [{"Alive": True}, {"Alive": False}]


def test_a_local_instance_is_started_quiet_and_shut_down(monkeypatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray_cluster, "available_cores", lambda: 2)
    ray = FakeRay(initialized=False)
    with ray_cluster.ray_session(ray, None) as (cpus, nodes):
        assert (cpus, nodes) == (2.0, 1)
        assert ray.calls == [
            (
                "init",
                {
                    "num_cpus": 2,
                    "include_dashboard": False,
                    "log_to_driver": False,
                    "logging_level": logging.ERROR,
                },
            )
        ]
    assert ray.calls[-1] == ("shutdown", {})


def test_an_existing_connection_is_used_and_left_open(monkeypatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ray = FakeRay(initialized=True)
    with ray_cluster.ray_session(ray, None) as (cpus, _):
        assert cpus == 2.0
    assert ray.calls == []


def test_threads_per_actor_share_the_cores() -> None:
    assert ray_cluster.Cluster(cpus=2, workers=2).threads == 1
    assert ray_cluster.Cluster(cpus=2, workers=1).threads == 2
    assert ray_cluster.Cluster(cpus=16, workers=3).threads == 5
    more_actors_than_cores = ray_cluster.Cluster(cpus=2, workers=4)
    assert (more_actors_than_cores.threads, more_actors_than_cores.cpus_per_actor) == (1, 0.5)
    assert "max_restarts" not in ray_cluster.Cluster(cpus=8, workers=8, nodes=2).actor_options


def test_a_small_corpus_gets_small_blocks_so_every_actor_works() -> None:
    assert ray_engine.articles_per_block(10_000, workers=2) == ray_engine.ARTICLES_PER_BLOCK
    assert ray_engine.articles_per_block(17, workers=2) == 2
    assert ray_engine.articles_per_block(3, workers=2) == 1


def test_the_model_runs_on_one_thread_whoever_calls(tiny_model, tmp_path, monkeypatch) -> None:
    """Ray Data calls an actor from threads of its own; the model (and the encoder cache's
    SQLite connection) must stay on the thread it was loaded on."""
    threads: list[int] = []
    predict = StanceModel.predict_proba

    def recording(self, texts, contexts=None):
        threads.append(threading.get_ident())
        return predict(self, texts, contexts)

    monkeypatch.setattr(StanceModel, "predict_proba", recording)
    read = ReadOptions()
    job = ray_workers.ScoringJob(
        folder=tiny_model,
        params=None,
        read=read,
        batch_size=8,
        backend=None,
        cache=None,
        cwd=str(tmp_path),
        staging=str(tmp_path),
    )
    scorer = ray_workers.ArticleScorer(job)  # its warm-up predicts once
    document = Document(tmp_path / "a.txt", ManifestRow("a", "a.txt"))
    article = ray_workers.segment_unit(document, read)
    assert isinstance(article, str)  # no such file: a failure message, passed through
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    article = ray_workers.segment_unit(document, read)
    batch = {"key": np.array([7]), "article": np.array([article]), "notes": np.array([[]])}
    results = []
    for _ in range(2):
        caller = threading.Thread(target=lambda: results.append(scorer(batch)))
        caller.start()
        caller.join()
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
    assert scorer.model.encoding.threads == job.threads == 1  # cores // workers, not all
    assert [list(result["paragraphs"]) for result in results] == [[3], [3]]
    assert [p.name for p in (tmp_path / "paragraphs").iterdir()] == [
        "part-0000000000000000007.parquet"
    ]


def test_a_model_that_will_not_load_on_a_worker_is_one_line(tmp_path, monkeypatch) -> None:
    """Ray passes an actor's own error on as a traceback's text: the actor answers each
    block with the error instead, and the driver raises it again, class and message."""

    def failing(*args, **kwargs):
        raise ConfigError("encoder.path: /x is not a sentence-transformers folder")

    monkeypatch.setattr(StanceModel, "load", failing)
    job = ray_workers.ScoringJob(
        folder=tmp_path,
        params=None,
        read=ReadOptions(),
        batch_size=8,
        backend=None,
        cache=None,
        cwd=str(tmp_path),
        staging=str(tmp_path),
    )
    answer = ray_workers.ArticleScorer(job)(
        {"key": np.array([0, 1]), "article": np.array(["x", "y"]), "notes": np.array([[], []])}
    )

    class Dataset:
        def iter_batches(self, **options):
            yield answer

    with pytest.raises(ConfigError) as raised:
        ray_engine._gather(Dataset(), strict=False)
    assert str(raised.value) == "encoder.path: /x is not a sentence-transformers folder"
    assert type(ray_engine.user_error("NoSuchError", "m")) is StanceError
