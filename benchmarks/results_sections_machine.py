"""RESULTS.md's machine section: the CPU, cores, libraries, and each part's run."""

from __future__ import annotations

from results_text import cpu_text, number, table

PARTS = (
    "score_throughput",
    "zero_shot",
    "memory_scaling",
    "repro_timing",
    "profile_score",
    "ray_scaling",
    "static_tier",
    "long_text",
)


def load_before(result: dict | None, record: dict) -> str:
    """The load average before a part: run_all's reading, else the part's own."""
    loads = record.get("load_average_before") or (result or {}).get("machine", {}).get(
        "load_average_before"
    )
    if loads:
        return " / ".join(str(value) for value in loads)
    runs = (result or {}).get("runs", [])  # memory scaling: a reading per size
    readings = [run["load_average_before"][0] for run in runs if "load_average_before" in run]
    return ", ".join(map(str, readings)) + " (1 min, per size)" if readings else "–"


def machine_section(results: dict[str, dict]) -> list[str]:
    lines = ["## Machine", ""]
    machine = next((results[p]["machine"] for p in PARTS if p in results), None)
    if machine is None:
        return [*lines, "No results yet: run `make bench`.", ""]
    facts = [
        ("CPU", cpu_text(machine)),
        ("cores (os.cpu_count)", machine.get("cpu_count")),
        ("cores usable (sched_getaffinity)", machine.get("cpus_usable")),
        ("RAM", f"{machine.get('ram_gb')} GB"),
        ("OS", machine.get("os")),
        ("Python", machine.get("python")),
        *(
            (package, machine.get(package))
            for package in (
                "torch",
                "onnxruntime",
                "transformers",
                "sentence-transformers",
                "scikit-learn",
            )
        ),
    ]
    threads = results.get("score_throughput", {}).get("machine", {}).get("torch_threads")
    if threads:
        facts.append(("torch threads (scoring)", threads))
    share = results.get("score_throughput", {}).get("machine", {}).get("cpu_share_while_measuring")
    if share is not None:
        facts.append(("CPU share the throughput run got (1 = all usable cores)", share))
    lines += table(("", "value"), facts)
    runs = results.get("run_all", {}).get("parts", {})
    rows = []
    for part in PARTS:
        if part in results or part in runs:
            run = runs.get(part, {})
            rows.append(
                (
                    part,
                    cpu_text((results.get(part) or {}).get("machine", {})),
                    load_before(results.get(part), run),
                    number(run.get("wall_s")),
                    run.get("exit_code", "–"),
                )
            )
    lines += [
        "Parts are re-run one at a time as the code changes, not always on the same kind of",
        "machine: compare rates across sections only where the CPU column agrees (each",
        "section's speed-up is measured against a reference timed in the same run).",
        "",
    ]
    header = ("part", "CPU", "load average before (1/5/15 min)", "wall s", "exit code")
    lines += table(header, rows)
    return lines
