"""Write benchmarks/RESULTS.md from the result JSON files, and nothing else.

Reads what the benchmarks wrote in the results folder (score_throughput,
zero_shot, memory_scaling, repro_timing, profile_score, ray_scaling, static_tier, and
run_all's log of the parts it ran) and renders: the machine first, then one section per part
with its measurements, its targets (measured value, met / NOT met / not
measured) and, for each missed target, a paragraph on what limits it, built
from the profile and the measurements. Every number comes from the JSON files;
a part with no file is marked as not measured. Needs only the standard library.
Its siblings build the sections: results_sections_machine.py, results_sections_throughput.py
(sections 1, 2 and 5), results_sections_tiers.py (1b and 7) and results_sections_scaling.py
(3, 4, 6 and the long text); the targets are in results_targets.py, and the numbers and
tables in results_text.py.
Run: `python benchmarks/results_md.py [--results-dir DIR] [--out FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from results_sections_machine import machine_section
from results_sections_scaling import (
    long_text_section,
    memory_section,
    memory_targets,
    ray_section,
    repro_section,
    repro_targets,
)
from results_sections_throughput import (
    profile_section,
    throughput_section,
    throughput_targets,
    zero_shot_section,
    zero_shot_targets,
)
from results_sections_tiers import (
    accuracy_section,
    accuracy_targets,
    static_tier_section,
    static_tier_targets,
)
from results_targets import Target

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"


# Keys a part's file must have; a file without them is from an older version of the
# script and is left out (the part shows as not run) rather than misread.
REQUIRED_KEYS = {
    "score_throughput": ("settings", "measurements"),
    "zero_shot": ("paragraphs_per_s", "hypotheses"),
    "backend_accuracy": ("leave_one_source_out", "trained_model_on_corpus"),
    "memory_scaling": ("runs",),
    "repro_timing": ("target", "clean"),
    "profile_score": ("profiles",),
    "ray_scaling": ("settings", "runs"),
    "static_tier": ("measurements", "accuracy", "target_speedup"),
    "long_text": ("runs",),
    "run_all": ("parts",),
}


def load_results(results_dir: Path) -> dict[str, dict]:
    """The result files present and in the current format, by part name (and `run_all`)."""
    results = {}
    for name, keys in REQUIRED_KEYS.items():
        path = results_dir / f"{name}.json"
        if not path.is_file():
            continue
        content = json.loads(path.read_text(encoding="utf-8"))
        if all(key in content for key in keys):
            results[name] = content
        else:
            print(f"results_md: {path.name} is in an older format; rerun that part")
    return results


def render(results: dict[str, dict], source: str = "benchmarks/results/") -> str:
    """The whole RESULTS.md, from the results read from `source` (named in its header)."""
    throughput, profiles = results.get("score_throughput"), results.get("profile_score")
    sections: list[list[str]] = [
        [
            "# Benchmark results",
            "",
            f"Written by `benchmarks/results_md.py` from the JSON files in `{source}` "
            "(`make bench` runs every part, then this). Do not edit by hand: every number "
            "below is measured.",
            "",
        ],
        machine_section(results),
        throughput_section(throughput, profiles),
        accuracy_section(results.get("backend_accuracy")),
        zero_shot_section(results.get("zero_shot"), throughput, profiles),
        memory_section(results.get("memory_scaling")),
        repro_section(results.get("repro_timing")),
        profile_section(profiles),
        ray_section(results.get("ray_scaling")),
        static_tier_section(results.get("static_tier")),
        long_text_section(results.get("long_text")),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


def all_targets(results: dict[str, dict]) -> list[Target]:
    """Every target, in the order RESULTS.md lists them."""
    throughput = results.get("score_throughput")
    return [
        *throughput_targets(throughput, results.get("profile_score")),
        *accuracy_targets(results.get("backend_accuracy")),
        *zero_shot_targets(results.get("zero_shot"), throughput, results.get("profile_score")),
        *memory_targets(results.get("memory_scaling")),
        *repro_targets(results.get("repro_timing")),
        *static_tier_targets(results.get("static_tier")),
    ]


def write_results_md(results_dir: Path = RESULTS_DIR, out: Path = RESULTS_MD) -> Path:
    """Render RESULTS.md from `results_dir` and write it atomically."""
    try:
        source = f"{results_dir.resolve().relative_to(HERE.parent)}/"
    except ValueError:  # outside the repository
        source = f"{results_dir}/"
    text = render(load_results(results_dir), source)
    handle, staging = tempfile.mkstemp(prefix=".RESULTS.", suffix=".tmp", dir=out.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(staging).replace(out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="the JSON files")
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="the markdown to write")
    arguments = parser.parse_args(argv)
    print(f"wrote {write_results_md(arguments.results_dir, arguments.out)}")


if __name__ == "__main__":
    main()
