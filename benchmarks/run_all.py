"""Run the benchmark suite, then write RESULTS.md from what it measured (`make bench`).

Parts, in this order, each a script of this folder run as its own process:
  throughput  score_throughput.py  paragraphs/s per model and backend, raw encoder, warm cache
  profile     profile_score.py     where the default model's scoring time goes, per backend
  zero-shot   zero_shot.py         a bart-large-mnli-sized zero-shot pipeline, for comparison
  memory      memory_scaling.py    time and peak RSS of `stance score` on 1k/10k/100k paragraphs
  ray         ray_scaling.py       `--engine ray` at 1 and 2 workers against the local engine
  static      static_tier.py       the static tier and the cascade beside MiniLM, one run
  repro       repro_timing.py      `dvc repro` in a fresh clone, then a no-op one
  long-text   long_text.py         windows of a 20 MB text without sentence breaks
A part that fails is recorded with its exit code and the others still run. The
load average before each part, its wall time and exit code go to run_all.json;
then results_md.py renders RESULTS.md from the JSON files. `--quick` is a fast
pass to check the suite works (small sizes, no repro unless asked for); it
writes to benchmarks/results/quick/ so the full results stay as they are.
Full suite on 2 cores: about 45 minutes, most of it the 100k-paragraph run. The ray
part needs the `ray` extra (`make test` installs it); without it, its file says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import BACKENDS, RESULTS_DIR, load_average
from results_md import RESULTS_MD, write_results_md

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "throughput": "score_throughput",
    "accuracy": "backend_accuracy",
    "profile": "profile_score",
    "zero-shot": "zero_shot",
    "memory": "memory_scaling",
    "ray": "ray_scaling",
    "static": "static_tier",
    "repro": "repro_timing",
    "long-text": "long_text",
}
QUICK_DIR = RESULTS_DIR / "quick"


def part_arguments(part: str, arguments: argparse.Namespace) -> list[str]:
    """Command-line arguments of one part's script, from the suite's options."""
    quick = arguments.quick
    if part == "throughput":
        extra = ["--backends", *arguments.backends]
        if quick:
            extra += ["--rounds", "2", "--warm-paragraphs", "100"]
        return [
            "--paragraphs",
            str(arguments.paragraphs or (200 if quick else 2000)),
            "--slow-paragraphs",
            str(arguments.slow_paragraphs or (100 if quick else 500)),
            *extra,
        ]
    if part == "profile":
        count = arguments.profile_paragraphs or (200 if quick else 500)
        return ["--paragraphs", str(count), "--backends", *arguments.backends]
    if part == "zero-shot":
        return ["--paragraphs", str(arguments.zero_shot_paragraphs or (4 if quick else 24))]
    if part == "memory":
        sizes = arguments.memory_sizes or ([200, 600, 2000] if quick else [1000, 10_000, 100_000])
        extra = ["--backend", arguments.memory_backend] if arguments.memory_backend else []
        extra += ["--max-minutes", str(arguments.max_minutes)]
        return ["--sizes", *map(str, sizes), *extra]
    if part == "static":
        if not quick:
            return []
        return ["--paragraphs", "60", "--fast-paragraphs", "400", "--profile-paragraphs", "200"]
    if part == "long-text":
        return ["--megabytes", "1"] if quick else []
    if part == "ray":
        count = arguments.ray_paragraphs or (300 if quick else 20_000)
        return ["--paragraphs", str(count), *(["--quick"] if quick else [])]
    return []


def run_part(part: str, arguments: argparse.Namespace, results_dir: Path) -> dict:
    """Run one part's script as a process; its exit code, wall time and prior load."""
    script = HERE / f"{SCRIPTS[part]}.py"
    command = [sys.executable, str(script), *part_arguments(part, arguments)]
    command += ["--results-dir", str(results_dir)]
    print(f"== {part}: {' '.join(command[1:])}", flush=True)
    record = {"load_average_before": load_average(), "arguments": command[2:]}
    start = time.perf_counter()
    code = subprocess.call(command, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    record.update(exit_code=code, wall_s=round(time.perf_counter() - start, 1))
    print(f"== {part}: exit code {code} after {record['wall_s']} s", flush=True)
    return record


def update_log(results_dir: Path, records: dict[str, dict]) -> None:
    """Merge this run's part records into run_all.json (parts not run keep theirs)."""
    path = results_dir / "run_all.json"
    log = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"parts": {}}
    log["parts"].update(records)
    path.write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=list(SCRIPTS),
        help="parts to run (default: all; with --quick, all but repro)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a fast check")
    parser.add_argument(
        "--report-only", action="store_true", help="run nothing; rewrite RESULTS.md"
    )
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="encoder backends"
    )
    parser.add_argument("--paragraphs", type=int, help="throughput: per model (default 2000)")
    parser.add_argument("--slow-paragraphs", type=int, help="throughput: fine-tuned (500)")
    parser.add_argument("--profile-paragraphs", type=int, help="profile: paragraphs (500)")
    parser.add_argument("--zero-shot-paragraphs", type=int, help="zero-shot: paragraphs (24)")
    parser.add_argument(
        "--memory-sizes", type=int, nargs="+", help="memory: sizes (1000 10000 100000)"
    )
    parser.add_argument(
        "--memory-backend",
        choices=BACKENDS,
        default="onnx-int8",
        help="memory: encoder backend (default onnx-int8, the fast path; torch takes ~40 min "
        "at 100k paragraphs on 2 cores)",
    )
    parser.add_argument(
        "--max-minutes", type=float, default=60.0, help="memory: longest size to attempt (60)"
    )
    parser.add_argument("--ray-paragraphs", type=int, help="ray: paragraphs (20000)")
    parser.add_argument("--results-dir", type=Path, help="JSON folder (default: results/)")
    parser.add_argument("--out", type=Path, help="markdown to write (default: RESULTS.md)")
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments()
    quick_dir = QUICK_DIR if arguments.quick else RESULTS_DIR
    results_dir = arguments.results_dir or quick_dir
    out = arguments.out or (results_dir / "RESULTS.md" if arguments.quick else RESULTS_MD)
    results_dir.mkdir(parents=True, exist_ok=True)
    default_parts = [p for p in SCRIPTS if not (arguments.quick and p == "repro")]
    parts = [] if arguments.report_only else (arguments.parts or default_parts)
    records = {SCRIPTS[part]: run_part(part, arguments, results_dir) for part in parts}
    if records:
        update_log(results_dir, records)
    print(f"wrote {write_results_md(results_dir, out)}")
    return 1 if any(record["exit_code"] for record in records.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
