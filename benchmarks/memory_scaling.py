"""Time and peak memory of `stance score` as the corpus grows: 1k, 10k and 100k paragraphs.

For each size, writes an article table of the generated corpus (see harness.py;
.jsonl with columns doc_id, source, title, text, 20 paragraphs an article) and
runs, as a fresh process,
    stance score TABLE --model DIR --output out.jsonl --no-cache [--backend B]
recording its wall time (process start and model load included), paragraphs
per second and peak resident memory, two ways: the sum of the RSS of the
command and its children, polled every `--poll` seconds with psutil, and
getrusage(RUSAGE_CHILDREN).ru_maxrss read by a small wrapper process started
afresh for each size (so the maximum belongs to that run). The persistent cache
is off and points at a fresh folder. Before a size runs, its time is estimated
from the previous size (linear); if that exceeds `--max-minutes` it and the
larger sizes are recorded as not done. If this version of `stance score` cannot
read tables (or lacks --no-cache or --backend), the run falls back (a folder of
.txt articles; no flag) and says so. Writes <results-dir>/memory_scaling.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    BACKENDS,
    RESULTS_DIR,
    default_model_folder,
    generated_articles,
    isolate_stance_cache,
    load_average,
    machine_facts,
    rate,
    relative,
    seed_paragraphs,
    write_article_table,
    write_result,
)

# Run in a fresh interpreter per size: runs the command, then writes what the kernel
# says about its largest child (kilobytes on Linux) and the wall time.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
record = {"returncode": code, "wall_s": wall, "max_rss_kb": usage.ru_maxrss,
          "user_s": usage.ru_utime, "system_s": usage.ru_stime}
with open(sys.argv[1], "w") as stream:
    json.dump(record, stream)
"""
_TIMELINE_POINTS = 40


def tree_rss(wrapper) -> int:
    """Bytes resident in the wrapper's children and their children (not the wrapper)."""
    import psutil

    total = 0
    try:
        children = wrapper.children(recursive=True)
    except psutil.Error:
        return 0
    for child in children:
        try:
            total += child.memory_info().rss
        except psutil.Error:  # ended between listing and reading
            continue
    return total


def run_measured(command: list[str], scratch: Path, poll: float) -> dict[str, Any]:
    """Run `command` under a fresh wrapper, polling the RSS of its process tree."""
    import psutil

    usage_file = scratch / "usage.json"
    log_file = scratch / "stderr.txt"
    wrapper_command = [sys.executable, "-c", _WRAPPER, str(usage_file), *command]
    samples: list[tuple[float, int]] = []
    start = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(wrapper_command, stdout=subprocess.DEVNULL, stderr=log)
        wrapper = psutil.Process(process.pid)
        while process.poll() is None:
            samples.append((time.perf_counter() - start, tree_rss(wrapper)))
            time.sleep(poll)
    usage = json.loads(usage_file.read_text(encoding="utf-8")) if usage_file.is_file() else {}
    step = max(1, len(samples) // _TIMELINE_POINTS)
    return {
        "returncode": usage.get("returncode", process.returncode),
        "wall_s": round(usage.get("wall_s", time.perf_counter() - start), 2),
        "cpu_s": round(usage.get("user_s", 0.0) + usage.get("system_s", 0.0), 2),
        "peak_rss_mb_polled": round(max((rss for _, rss in samples), default=0) / 2**20, 1),
        "peak_rss_mb_rusage": round(usage["max_rss_kb"] / 1024, 1) if usage else None,
        "rss_samples": len(samples),
        # (seconds, MB) every few polls: memory over the run, to see it stay flat.
        "rss_timeline": [[round(t, 1), round(rss / 2**20, 1)] for t, rss in samples[::step] if rss],
        "stderr_tail": log_file.read_text(encoding="utf-8", errors="replace")[-600:],
    }


def count_output(path: Path) -> tuple[int, int]:
    """Documents and paragraphs in a jsonl output of `stance score`."""
    documents = paragraphs = 0
    if not path.is_file():
        return 0, 0
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            kind = json.loads(line).get("type")
            documents += kind == "document"
            paragraphs += kind == "paragraph"
    return documents, paragraphs


def score_command(articles: Path, model: Path, output: Path, backend: str | None) -> list[str]:
    """The `stance score` command line: the table in, jsonl out, the cache off."""
    command = [sys.executable, "-m", "pipeline", "--quiet", "score", str(articles)]
    command += ["--model", str(model), "--output", str(output), "--no-cache"]
    return command + (["--backend", backend] if backend is not None else [])


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10_000, 100_000],
        help="paragraphs per run, smallest first (default 1000 10000 100000)",
    )
    parser.add_argument("--model", type=Path, help="model folder (default: the default model)")
    parser.add_argument(
        "--backend", choices=BACKENDS, help="encoder backend (default: the command's own)"
    )
    parser.add_argument(
        "--format", choices=("jsonl", "parquet"), default="jsonl", help="article table format"
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=60.0,
        help="skip a size whose time, estimated from the previous one, is longer (default 60)",
    )
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between RSS polls")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    isolate_stance_cache()  # inherited by every `stance score` run
    model = arguments.model or default_model_folder()
    notes: list[str] = []
    sources = seed_paragraphs()
    runs: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for size in sorted(arguments.sizes):
        record: dict[str, Any] = {"paragraphs_requested": size}
        if previous is not None:
            estimate = previous["wall_s"] * size / previous["paragraphs_requested"]
            record["estimated_s"] = round(estimate, 1)
            if estimate > arguments.max_minutes * 60:
                record.update(done=False, reason=f"estimated over {arguments.max_minutes:g} min")
                runs.append(record)
                continue
        with tempfile.TemporaryDirectory(prefix="stance-memory-") as temp:
            scratch = Path(temp)
            articles = generated_articles(sources, size, f"m{size}-")
            source = scratch / f"articles.{arguments.format}"
            write_article_table(source, articles, f"m{size}-")
            output = scratch / "scores.jsonl"
            command = score_command(source, model, output, arguments.backend)
            record["load_average_before"] = load_average()
            record.update(run_measured(command, scratch, arguments.poll))
            documents, paragraphs = count_output(output)
        record.update(
            done=record["returncode"] == 0 and paragraphs > 0,
            documents=documents,
            articles_in_input=len(articles),
            paragraphs=paragraphs,
            paragraphs_per_s=rate(paragraphs, record["wall_s"]),
        )
        if documents != len(articles):
            notes.append(f"{size} paragraphs: {documents} articles scored of {len(articles)}")
        if record["done"]:
            record.pop("stderr_tail")
            previous = record
        runs.append(record)
        print(json.dumps({key: record.get(key) for key in ("paragraphs", "wall_s", "done")}))
    import psutil

    result = {
        "model": relative(model),
        "backend": arguments.backend or "the command's default",
        "input": f"article table (.{arguments.format})",
        "max_minutes": arguments.max_minutes,
        "runs": runs,
        "notes": [
            *notes,
            "wall_s: the whole command, process start and model load included",
            "peak_rss_mb_polled: largest sum of RSS over the command's process tree, polled; "
            "peak_rss_mb_rusage: the kernel's maximum RSS of the largest process",
        ],
        "machine": {**machine_facts(), "psutil": psutil.__version__},
    }
    write_result(arguments.results_dir, "memory_scaling", result)


if __name__ == "__main__":
    main()
