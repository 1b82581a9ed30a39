"""`stance score` on Ray against the local engine, on one machine: 1 and 2 workers.

The corpus is one parquet table of articles made from the segmented seed paragraphs
(data/paragraphs.parquet): articles of 5 to 35 paragraphs, each paragraph drawn at
random, sometimes with a sentence of another appended, and made unique by a dispatch
note so no cache can serve it twice. Measured, on the default model (`--model`) with
`--backend` (default onnx-int8) and the persistent encoder cache off:

- local: `StanceModel.load` (timed apart), then `score_paths` into a parquet folder;
- Ray: starting a local Ray instance with this machine's cores (timed apart), then per
  worker count a tiny run (two articles: actors started, models loaded, pipeline set up;
  the fixed cost of a run) and the full run. paragraphs/s is the full run's; the steady
  rate is (full - tiny paragraphs) / (full - tiny seconds), the fixed cost taken out.

Each Ray run's rows are compared with the local engine's: the largest probability
difference, the share of equal labels and the largest index difference (onnx-int8
quantises activations per batch, so a paragraph's probabilities depend a little on
the batch it shares; torch and onnx give the local rows exactly).
Writes <results-dir>/ray_scaling.json and prints it.
"""

from __future__ import annotations

import argparse
import gc
import logging
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from harness import (
    BACKENDS,
    REPO,
    RESULTS_DIR,
    default_model_folder,
    isolate_stance_cache,
    load_average,
    machine_facts,
    rate,
    relative,
    seed_paragraphs,
    write_result,
)

from pipeline.score import DEFAULT_BATCH_SIZE

SEED = 7
MIN_PARAGRAPHS, MAX_PARAGRAPHS = 5, 35  # per article
QUICK_PARAGRAPHS = 300
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def source_paragraphs() -> list[str]:
    """The segmented seed paragraphs: data/paragraphs.parquet, else the seeds segmented now."""
    path = REPO / "data" / "paragraphs.parquet"
    if path.is_file():
        return pq.read_table(path, columns=["text"]).column("text").to_pylist()
    return seed_paragraphs()


def varied_articles(sources: list[str], count: int, tag: str) -> list[dict[str, str]]:
    """Article rows (doc_id, source, title, text) holding about `count` unique paragraphs."""
    rng = random.Random(f"{SEED}-{tag}")
    sentences = [s for text in sources for s in _SENTENCE.split(text) if len(s.split()) > 4]
    rows: list[dict[str, str]] = []
    made = 0
    while made < count:
        size = min(rng.randint(MIN_PARAGRAPHS, MAX_PARAGRAPHS), count - made)
        index = len(rows)
        paragraphs = []
        for k in range(size):
            text = rng.choice(sources)
            if rng.random() < 0.3:
                text = f"{text} {rng.choice(sentences)}"
            paragraphs.append(f"{text} (Dispatch {tag}{index}.{k}.)")
        rows.append(
            {
                "doc_id": f"ray-{tag}{index:06d}",
                "source": f"Wire {rng.randrange(8)}",
                "title": f"Dispatch number {tag}{index}",
                "text": "\n\n".join(paragraphs),
            }
        )
        made += size
    return rows


def write_table(path: Path, rows: list[dict[str, str]]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


def run_local(table: Path, out: Path, arguments: argparse.Namespace, params) -> dict[str, Any]:
    """The local engine: load (timed apart), then score the table into a parquet folder."""
    from pipeline.encoders.base import available_cores
    from pipeline.score.formats import OutputFormat
    from pipeline.score.local_engine import score_paths
    from pipeline.score.model import StanceModel

    start = time.perf_counter()
    model = StanceModel.load(
        arguments.model,
        params=params,
        batch_size=arguments.batch_size,
        backend=arguments.backend,
        cache=False,
    )
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    done = score_paths(model, [table], output_format=OutputFormat.parquet, output=out)
    run_s = time.perf_counter() - start
    return {
        "engine": "local",
        "workers": None,
        "threads": model.encoding.threads or available_cores(),
        "load_s": round(load_s, 2),
        "run_s": round(run_s, 2),
        "paragraphs": done.totals.paragraphs,
        "articles": done.totals.documents,
        "paragraphs_per_s": rate(done.totals.paragraphs, run_s),
        "with_load_paragraphs_per_s": rate(done.totals.paragraphs, load_s + run_s),
    }


def run_ray(
    table: Path, out: Path, workers: int, arguments: argparse.Namespace, params
) -> tuple[int, float]:
    """One `stance score --engine ray` run on the Ray instance already started: the
    paragraphs scored and the seconds it took (actors started and models loaded inside)."""
    from pipeline.score.ray_engine import score_on_ray
    from pipeline.score.request import ScoreRequest

    start = time.perf_counter()
    request = ScoreRequest(
        [table],
        arguments.model,
        params,
        output=out,
        batch_size=arguments.batch_size,
        backend=arguments.backend,
        cache=False,
        workers=workers,
    )
    done = score_on_ray(request)
    return done.totals.paragraphs, time.perf_counter() - start


def agreement(local: Path, ray: Path) -> dict[str, Any]:
    """How far a Ray run's rows are from the local engine's."""
    from pipeline.score.folder import read_score_folder

    local_paragraphs, local_documents = read_score_folder(local)
    ray_paragraphs, ray_documents = read_score_folder(ray)
    same_rows = list(local_paragraphs["paragraph_id"]) == list(ray_paragraphs["paragraph_id"])
    if not same_rows:
        return {"same_paragraph_ids": False}
    columns = [c for c in local_paragraphs if c.startswith("prob_")]
    difference = (local_paragraphs[columns] - ray_paragraphs[columns]).abs().to_numpy().max()
    index = (local_documents["stance_index"] - ray_documents["stance_index"]).abs().max()
    return {
        "same_paragraph_ids": True,
        "max_abs_prob_diff": round(float(difference), 6),
        "labels_equal_share": round(
            float((local_paragraphs["label"] == ray_paragraphs["label"]).mean()), 4
        ),
        "max_abs_index_diff": round(float(index), 6),
    }


def measure(arguments: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    import ray

    from pipeline.config import load_params
    from pipeline.encoders.base import available_cores, use_offline_hub
    from pipeline.score.ray_cluster import import_ray

    use_offline_hub()
    params = load_params(REPO / "params.yaml")
    sources = source_paragraphs()
    table, tiny = scratch / "articles.parquet", scratch / "tiny.parquet"
    rows = varied_articles(sources, arguments.paragraphs, "r")
    write_table(table, rows)
    write_table(tiny, varied_articles(sources, 2 * MIN_PARAGRAPHS, "t"))

    local = run_local(table, scratch / "local", arguments, params)
    gc.collect()  # the local model's memory back before the actors load theirs

    import_ray()  # the engine's quiet settings, before Ray starts
    start = time.perf_counter()
    ray.init(
        num_cpus=available_cores(),
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    startup_s = time.perf_counter() - start
    runs = [local]
    try:
        for workers in arguments.workers:
            tiny_paragraphs, tiny_s = run_ray(
                tiny, scratch / f"tiny-{workers}", workers, arguments, params
            )
            paragraphs, run_s = run_ray(
                table, scratch / f"ray-{workers}", workers, arguments, params
            )
            steady = rate(paragraphs - tiny_paragraphs, run_s - tiny_s)
            runs.append(
                {
                    "engine": "ray",
                    "workers": workers,
                    "threads_per_actor": max(1, available_cores() // workers),
                    "fixed_cost_s": round(tiny_s, 2),
                    "run_s": round(run_s, 2),
                    "paragraphs": paragraphs,
                    "articles": len(rows),
                    "paragraphs_per_s": rate(paragraphs, run_s),
                    "steady_paragraphs_per_s": steady,
                    "steady_speedup_vs_local": (
                        round(steady / local["paragraphs_per_s"], 2)
                        if steady and local["paragraphs_per_s"]
                        else None
                    ),
                    "vs_local": agreement(scratch / "local", scratch / f"ray-{workers}"),
                }
            )
    finally:
        ray.shutdown()
    return {
        "settings": {
            "paragraphs_requested": arguments.paragraphs,
            "model": relative(arguments.model),
            "backend": arguments.backend,
            "batch_size": arguments.batch_size,
            "workers": arguments.workers,
            "cache": False,
            "quick": arguments.quick,
        },
        "corpus": {
            "input": "one parquet table, one row per article",
            "articles": len(rows),
            "paragraphs_per_article": f"{MIN_PARAGRAPHS}-{MAX_PARAGRAPHS}",
            "sources": len(sources),
        },
        "ray_startup_s": round(startup_s, 2),
        "runs": runs,
        "skipped": [],
        "notes": [
            "local: model load apart (load_s); paragraphs_per_s is the scoring alone "
            "(read, segment, score, bootstrap, parquet write)",
            "ray: ray_startup_s is starting the local Ray instance, once; each run then "
            "starts its actors and loads one model per actor: fixed_cost_s is a run of two "
            "articles, and the steady rate takes it out of the full run",
            "vs_local: onnx-int8 quantises activations per batch, so probabilities move a "
            "little with the batch a paragraph lands in (the engines batch differently)",
            *(
                ["--quick: runs this short are mostly fixed cost; the steady rates are noise"]
                if arguments.quick
                else []
            ),
        ],
    }


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--paragraphs", type=int, help="paragraphs in the table (default 20000; --quick 300)"
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PARAGRAPHS} paragraphs")
    parser.add_argument("--model", type=Path, help="model folder (default: models/<train.model>)")
    parser.add_argument("--backend", choices=BACKENDS, default="onnx-int8", help="encoder path")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="Ray actor counts (1 2)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"paragraphs per model call (default {DEFAULT_BATCH_SIZE}, as stance score)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    arguments = parser.parse_args()
    if arguments.paragraphs is None:
        arguments.paragraphs = QUICK_PARAGRAPHS if arguments.quick else 20_000
    arguments.model = (arguments.model or default_model_folder()).resolve()
    return arguments


def main() -> None:
    arguments = parse_arguments()
    isolate_stance_cache()
    load_before = load_average()
    try:
        import ray  # noqa: F401
    except ImportError:
        result: dict[str, Any] = {
            "settings": {"paragraphs_requested": arguments.paragraphs},
            "runs": [],
            "skipped": ["Ray is not installed; pip install '.[ray]'"],
        }
    else:
        with tempfile.TemporaryDirectory(prefix="stance-bench-ray-") as scratch:
            result = measure(arguments, Path(scratch))
    result["machine"] = {
        **machine_facts(),
        "ray": _ray_version(),
        "load_average_before": load_before,
    }
    write_result(arguments.results_dir, "ray_scaling", result)


def _ray_version() -> str | None:
    try:
        import ray
    except ImportError:
        return None
    return ray.__version__


if __name__ == "__main__":
    main()
