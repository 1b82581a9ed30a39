"""How long `dvc repro` takes from a clean checkout, and how long a second, no-op one takes.

Clones the repository's committed HEAD (uncommitted changes are not part of
it) into a temporary folder, runs it with this virtual environment's
`stance` and `dvc` (the clone's own `pipeline/` first on PYTHONPATH), a private
empty DVC cache (`dvc cache dir --local`) and a fresh `STANCE_CACHE_DIR`, then
times `dvc repro` (every stage runs: nothing is cached anywhere) and a second
`dvc repro` (which should find everything up to date). Each stage's duration
is read from the output, from its "Running stage" line to the lock-file update
that ends it. The clone is deleted afterwards unless `--keep`.
Writes <results-dir>/repro_timing.json and prints it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import REPO, RESULTS_DIR, load_average, machine_facts, write_result

UP_TO_DATE = "Data and pipelines are up to date."
_STAGE_START = re.compile(r"^Running stage '([^']+)'")
_STAGE_END = re.compile(r"^(Updating|Generating) lock file")
_STAGE_SKIPPED = re.compile(r"^Stage '([^']+)' didn't change, skipping")


def clone_environment(clone: Path, temp: Path) -> dict[str, str]:
    """This venv's tools first on PATH, the clone's package first on PYTHONPATH, caches fresh."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(clone),
        "PYTHONUNBUFFERED": "1",
        "STANCE_CACHE_DIR": str(temp / "stance-cache"),
        "DVC_NO_ANALYTICS": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }


def timed_lines(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, list]:
    """Run `command`, reading its output as it comes: exit code, seconds, (time, line) pairs."""
    start = time.perf_counter()
    lines = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))
    return process.returncode, time.perf_counter() - start, lines


def stage_durations(lines: list[tuple[float, str]], total: float) -> dict[str, Any]:
    """Seconds per stage, from its "Running stage" line to the lock update that ends it."""
    stages: dict[str, Any] = {}
    current: tuple[str, float] | None = None
    for moment, line in lines:
        text = line.strip()
        started = _STAGE_START.match(text)
        skipped = _STAGE_SKIPPED.match(text)
        if (started or _STAGE_END.match(text)) and current is not None:
            stages[current[0]] = round(moment - current[1], 2)
            current = None
        if started:
            current = (started.group(1), moment)
        elif skipped:
            stages[skipped.group(1)] = "unchanged"
    if current is not None:
        stages[current[0]] = round(total - current[1], 2)
    return stages


def run_step(command: list[str], clone: Path, env: dict[str, str]) -> dict[str, Any]:
    code, seconds, lines = timed_lines(command, clone, env)
    output = [line for _, line in lines]
    return {
        "command": " ".join(command),
        "returncode": code,
        "seconds": round(seconds, 2),
        "stages": stage_durations(lines, seconds),
        "up_to_date": any(UP_TO_DATE in line for line in output),
        "output_tail": output[-15:],
    }


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--target",
        help="reproduce only this stage and what it needs (a quick check; default: all)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    temp = Path(tempfile.mkdtemp(prefix="stance-repro-"))
    clone = temp / "repo"
    try:
        subprocess.run(
            ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True
        )
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=clone,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env = clone_environment(clone, temp)
        subprocess.run(
            ["dvc", "cache", "dir", "--local", str(temp / "dvc-cache")],
            cwd=clone,
            env=env,
            check=True,
        )
        repro = ["dvc", "repro", *([arguments.target] if arguments.target else [])]
        load_before = load_average()
        first = run_step(repro, clone, env)
        second = run_step(repro, clone, env) if first["returncode"] == 0 else None
    finally:
        if arguments.keep:
            print(f"clone kept in {temp}", file=sys.stderr)
        else:
            shutil.rmtree(temp, ignore_errors=True)
    result = {
        "commit": commit,
        "target": arguments.target or "all stages",
        "clean": first,
        "no_op": second,
        "notes": [
            "the committed HEAD in a fresh clone, with a private empty DVC cache and a fresh "
            "STANCE_CACHE_DIR; this virtual environment's packages",
            "stages: seconds from each 'Running stage' line to the lock-file update after it",
        ],
        "machine": {**machine_facts(), "load_average_before": load_before},
    }
    write_result(arguments.results_dir, "repro_timing", result)


if __name__ == "__main__":
    main()
