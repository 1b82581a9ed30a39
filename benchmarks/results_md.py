"""Write benchmarks/RESULTS.md from the result JSON files, and nothing else.

Reads what the benchmarks wrote in the results folder (score_throughput,
zero_shot, memory_scaling, repro_timing, profile_score, ray_scaling, static_tier, and
run_all's log of the parts it ran) and renders: the machine first, then one section per part
with its measurements, its targets (measured value, met / NOT met / not
measured) and, for each missed target, a paragraph on what limits it, built
from the profile and the measurements. Every number comes from the JSON files;
a part with no file is marked as not measured. Needs only the standard library.
Run: `python benchmarks/results_md.py [--results-dir DIR] [--out FILE]`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
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

# The targets.
MAX_OVERHEAD = 0.15  # end-to-end default model over the raw encoder, same backend
MIN_FAST_RATE = 150.0  # default model's paragraphs/s on its fastest backend
MIN_ZERO_SHOT_RATIO = 100.0  # default model's paragraphs/s over zero-shot's
LARGE_CORPUS = 100_000  # paragraphs
MAX_PEAK_RSS_MB = 1536.0  # 1.5 GiB, in MiB
MAX_MARGINAL_DRIFT = 1.25  # time linear: last step's s/paragraph within x1.25 of the first's
MAX_MEMORY_GROWTH = 1.25  # memory flat: largest run's peak within x1.25 of the smallest's
MAX_CLEAN_REPRO_S = 900.0  # the default model's training included (15 minutes on 2 cores)
MAX_NOOP_REPRO_S = 5.0


@dataclass(frozen=True)
class Target:
    """One target: what was asked, what was measured, and whether it was met."""

    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured
    limits: str | None = None  # what limits it, for a missed target

    @property
    def status(self) -> str:
        return {True: "met", False: "**NOT met**", None: "not measured"}[self.met]


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


def machine_words(result: dict | None) -> str:
    """The machine a result was measured on, as its JSON recorded it: "2 cores (AMD EPYC)"."""
    machine = (result or {}).get("machine") or {}
    cpu, cores = machine.get("cpu_model"), machine.get("cpus_usable") or machine.get("cpu_count")
    if not cpu:
        return "the measuring machine"
    return f"{cores} cores ({cpu})" if cores else str(cpu)


def number(value: float | None, digits: int = 1) -> str:
    """A number for a table; a dash when missing."""
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def percent(share: float | None, digits: int = 0) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f}%"


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """A markdown table."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def targets_block(targets: list[Target]) -> list[str]:
    """The targets table of a part, then a paragraph per missed target."""
    lines = table(
        ("target", "goal", "measured", "status"),
        ((t.name, t.goal, t.measured, t.status) for t in targets),
    )
    for target in targets:
        if target.met is False:
            lines += [f"**What limits it ({target.name}).** {target.limits or 'No data.'}", ""]
    return lines


# --- throughput -------------------------------------------------------------------------


def measurements(throughput: dict, kind: str) -> list[dict]:
    return [m for m in throughput.get("measurements", []) if m["kind"] == kind]


def default_model_rates(throughput: dict) -> dict[str, float]:
    """The default model's end-to-end paragraphs/s, by backend."""
    return {
        m["backend"]: m["paragraphs_per_s"]
        for m in measurements(throughput, "stance_score")
        if m.get("default") and m.get("paragraphs_per_s")
    }


def overhead(raw_rate: float, model_rate: float) -> float:
    """Extra time per paragraph of the end-to-end model over the raw encoder (0.3 = 30%)."""
    return raw_rate / model_rate - 1.0


def profile_for(profiles: dict | None, backend: str) -> dict | None:
    """The profile of `backend` among profile_score's, else the first one, else None."""
    runs = (profiles or {}).get("profiles", [])
    return next((run for run in runs if run["backend"] == backend), runs[0] if runs else None)


def profile_summary(profile: dict | None) -> str:
    """One sentence giving the profile's shares of time, largest first."""
    if not profile:
        return "There is no profile in the results (run benchmarks/profile_score.py)."
    parts = ", ".join(
        f"{name} {percent(part['share'])}"
        for name, part in profile["parts"].items()
        if part.get("share")
    )
    return (
        f"A cProfile of scoring {profile['paragraphs']:,} paragraphs with {profile['model']} "
        f"on {profile['backend']} splits the time as: {parts}."
    )


def overhead_limits(throughput: dict, profile: dict | None, backend: str, raw_rate: float) -> str:
    """Why the end-to-end path is slower than the raw encoder, from the profile."""
    text = profile_summary(profile)
    if profile:
        outside = {
            name: part["share"]
            for name, part in profile["parts"].items()
            if name != "encoder forward pass" and part.get("share")
        }
        if outside:
            largest = max(outside, key=outside.get)
            text += (
                f" Everything but the forward pass takes {percent(sum(outside.values()))}; "
                f"the largest such part is {largest} ({percent(outside[largest])})."
            )
        forward = profile["parts"].get("encoder forward pass", {}).get("share")
        if profile["backend"] != backend:
            text += f" (That profile ran on {profile['backend']}, not {backend}.)"
        elif forward and profile.get("unprofiled_paragraphs_per_s"):
            per_paragraph = 1000 / profile["unprofiled_paragraphs_per_s"]
            text += (
                f" Unprofiled, a paragraph takes {number(per_paragraph)} ms end to end, about "
                f"{number(forward * per_paragraph)} ms of it in the forward pass, against "
                f"{number(1000 / raw_rate)} ms for the raw encoder's whole encode."
            )
    windows = throughput.get("windows_per_paragraph")
    if windows:
        text += (
            f" The models encode {windows:.2f} sentence windows per paragraph where the raw "
            f"encoder encodes one truncated text, so they also do {percent(windows - 1)} more "
            "encoder work."
        )
    return text


def throughput_targets(throughput: dict | None, profiles: dict | None) -> list[Target]:
    goal = f"≤ {percent(MAX_OVERHEAD)}"
    if not throughput:
        return [Target("overhead over the raw encoder", goal, "not run", None)]
    raw = {m["backend"]: m["paragraphs_per_s"] for m in measurements(throughput, "raw_encoder")}
    targets = []
    for backend, model_rate in default_model_rates(throughput).items():
        name = f"overhead over the raw encoder ({backend})"
        if not raw.get(backend):
            targets.append(Target(name, goal, "no raw encoder rate", None))
            continue
        extra = overhead(raw[backend], model_rate)
        measured = f"{percent(extra)} ({number(model_rate)} vs {number(raw[backend])} p/s)"
        met = extra <= MAX_OVERHEAD
        limits = (
            None
            if met
            else overhead_limits(throughput, profile_for(profiles, backend), backend, raw[backend])
        )
        targets.append(Target(name, goal, measured, met, limits))
    return [
        *(targets or [Target("overhead over the raw encoder", goal, "no default model", None)]),
        *fast_path_target(throughput, raw, profiles),
    ]


def fast_path_target(
    throughput: dict, raw: dict[str, float], profiles: dict | None
) -> list[Target]:
    """The default model's speed on its fastest backend against MIN_FAST_RATE."""
    name, goal = "default model, fastest path", f"≥ {MIN_FAST_RATE:.0f} p/s"
    rates = default_model_rates(throughput)
    if not rates:
        return [Target(name, goal, "no default model", None)]
    backend = max(rates, key=rates.__getitem__)
    met = rates[backend] >= MIN_FAST_RATE
    limits = None
    if not met:
        limits = (
            f"The raw encoder alone reaches {number(raw.get(backend))} p/s on {backend}, so "
            "the encoder's forward pass bounds the model: MiniLM-L6 over about 90 word pieces "
            f"per paragraph on {machine_words(throughput)}. "
            f"{profile_summary(profile_for(profiles, backend))} A cheaper encoder (a static "
            "embedding tier) is the way past it, not a faster runtime."
        )
    return [Target(name, goal, f"{number(rates[backend])} p/s ({backend})", met, limits)]


def throughput_section(throughput: dict | None, profiles: dict | None) -> list[str]:
    lines = ["## 1. Scoring throughput", ""]
    if throughput:
        settings = throughput["settings"]
        lines += [
            f"`stance score` in-process on the generated corpus, cache off, in "
            f"{settings['rounds']} rounds of alternating order; {settings['paragraphs']:,} "
            f"paragraphs per model and backend ({settings['slow_paragraphs']:,} for the "
            f"fine-tuned models), batch size {settings['batch_size']}. The default model is "
            f"{throughput['default_model']}. Load time is apart from the rate.",
            "",
        ]
        rows = [
            (
                m["subject"] + (" (default)" if m.get("default") else ""),
                m["backend"],
                f"{m['paragraphs']:,}",
                number(m["paragraphs_per_s"]),
                number(m.get("load_s"), 2),
            )
            for m in throughput["measurements"]
        ]
        lines += table(("model", "backend", "paragraphs", "paragraphs/s", "load s"), rows)
        warm = throughput.get("warm_cache")
        if warm:
            lines += [
                f"Warm cache ({warm['model']}, {warm['backend']}, {warm['paragraphs']:,} "
                f"paragraphs scored twice, each in a new process): first run "
                f"{number(warm['first_run_paragraphs_per_s'])} p/s, second run "
                f"{number(warm['second_run_paragraphs_per_s'])} p/s.",
                "",
            ]
        lines += [f"- skipped: {note}" for note in throughput.get("skipped", [])]
        lines += [f"- note: {note}" for note in throughput.get("notes", [])]
        lines.append("")
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(throughput_targets(throughput, profiles))


# --- zero-shot --------------------------------------------------------------------------


def zero_shot_targets(
    zero_shot: dict | None, throughput: dict | None, profiles: dict | None
) -> list[Target]:
    name, goal = "default model vs zero-shot speed", f"≥ {MIN_ZERO_SHOT_RATIO:.0f}×"
    if not zero_shot or not zero_shot.get("paragraphs_per_s"):
        return [Target(name, goal, "zero-shot not run", None)]
    rates = default_model_rates(throughput or {})
    if not rates:
        return [Target(name, goal, "no default model rate (run score_throughput.py)", None)]
    targets = []
    for backend, rate in rates.items():
        ratio = rate / zero_shot["paragraphs_per_s"]
        measured = (
            f"{number(ratio, 0)}× ({number(rate)} p/s on {backend} vs "
            f"{number(zero_shot['paragraphs_per_s'], 3)} p/s)"
        )
        met = ratio >= MIN_ZERO_SHOT_RATIO
        limits = None
        if not met:
            limits = (
                f"Zero-shot costs {number(zero_shot['seconds_per_paragraph'], 2)} s per "
                f"paragraph: {len(zero_shot['hypotheses'])} passes of a "
                f"{number(zero_shot['parameters_millions'], 0)}M-parameter model over "
                f"{number(zero_shot['mean_tokens_per_pair'])} tokens each. The default model "
                f"takes {number(1 / rate, 3)} s per paragraph on {backend}, so the ratio is "
                "bounded by the default model's own speed on that path. "
                f"{profile_summary(profile_for(profiles, backend))}"
            )
        targets.append(Target(f"{name} ({backend})", goal, measured, met, limits))
    return targets


def zero_shot_section(
    zero_shot: dict | None, throughput: dict | None, profiles: dict | None
) -> list[str]:
    lines = ["## 2. Zero-shot baseline", ""]
    if zero_shot:
        lines += [
            f"transformers' zero-shot-classification pipeline with {zero_shot['model']} "
            f"({number(zero_shot['parameters_millions'])}M parameters); tokenizer: "
            f"{zero_shot['tokenizer']}. {len(zero_shot['hypotheses'])} hypotheses, "
            f"multi_label={zero_shot['multi_label']}, {zero_shot['paragraphs']} paragraphs "
            f"of the generated corpus, {zero_shot['machine'].get('torch_threads')} torch threads.",
            "",
        ]
        lines += table(
            ("paragraphs", "mean tokens per pair", "paragraphs/s", "s per paragraph"),
            [
                (
                    zero_shot["paragraphs"],
                    number(zero_shot["mean_tokens_per_pair"]),
                    number(zero_shot["paragraphs_per_s"], 3),
                    number(zero_shot["seconds_per_paragraph"], 2),
                )
            ],
        )
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(zero_shot_targets(zero_shot, throughput, profiles))


# --- memory and time scaling ------------------------------------------------------------


def peak_rss(run: dict) -> float | None:
    """The larger of the two peak RSS readings of a run, in MiB."""
    readings = [run.get("peak_rss_mb_polled"), run.get("peak_rss_mb_rusage")]
    readings = [value for value in readings if value]
    return max(readings) if readings else None


def done_runs(memory: dict) -> list[dict]:
    return sorted(
        (run for run in memory.get("runs", []) if run.get("done")),
        key=lambda run: run["paragraphs_requested"],
    )


def marginal_costs(runs: list[dict]) -> list[float]:
    """Seconds per extra paragraph between consecutive runs (start-up cancels out)."""
    return [
        (later["wall_s"] - earlier["wall_s"]) / (later["paragraphs"] - earlier["paragraphs"])
        for earlier, later in pairwise(runs)
        if later["paragraphs"] > earlier["paragraphs"]
    ]


def memory_growth_text(runs: list[dict]) -> str:
    """How peak memory grows with the corpus, and within the largest run."""
    first, last = runs[0], runs[-1]
    grown = (peak_rss(last) or 0) - (peak_rss(first) or 0)
    per_10k = grown / max(last["paragraphs"] - first["paragraphs"], 1) * 10_000
    text = (
        f"Peak RSS goes from {number(peak_rss(first), 0)} MiB at {first['paragraphs']:,} "
        f"paragraphs to {number(peak_rss(last), 0)} MiB at {last['paragraphs']:,}: "
        f"{number(per_10k, 0)} MiB more per 10,000 paragraphs. The smallest run's peak is "
        "roughly the fixed cost (interpreter, libraries, model)."
    )
    timeline = last.get("rss_timeline") or []
    if len(timeline) >= 4:
        picks = [timeline[len(timeline) // 4], timeline[len(timeline) // 2], timeline[-1]]
        text += (
            " During the largest run the process tree held "
            + ", ".join(f"{number(mib, 0)} MiB at {number(seconds, 0)} s" for seconds, mib in picks)
            + (
                f" (of {number(last['wall_s'], 0)} s): memory that keeps rising through the run "
                "grows with what has been read; memory that levels off is a fixed cost."
            )
        )
    return text


def memory_targets(memory: dict | None) -> list[Target]:
    rss_name = f"peak RSS at {LARGE_CORPUS:,} paragraphs"
    rss_goal = f"≤ {MAX_PEAK_RSS_MB:,.0f} MiB"
    linear_goal = f"last/first marginal s per paragraph ≤ {MAX_MARGINAL_DRIFT}×"
    flat_goal = f"largest/smallest peak RSS ≤ {MAX_MEMORY_GROWTH}×"
    if not memory:
        return [
            Target(rss_name, rss_goal, "not run", None),
            Target("time linear", linear_goal, "not run", None),
            Target("memory flat", flat_goal, "not run", None),
        ]
    runs = done_runs(memory)
    large = next((r for r in runs if r["paragraphs_requested"] == LARGE_CORPUS), None)
    targets = []
    if large is None:
        missing = next(
            (r for r in memory["runs"] if r["paragraphs_requested"] == LARGE_CORPUS), None
        )
        why = missing.get("reason", "failed") if missing else "size not asked for"
        targets.append(Target(rss_name, rss_goal, f"not done ({why})", None))
    else:
        met = peak_rss(large) <= MAX_PEAK_RSS_MB
        limits = None if met else memory_growth_text(runs)
        targets.append(Target(rss_name, rss_goal, f"{number(peak_rss(large), 0)} MiB", met, limits))
    costs = marginal_costs(runs)
    if len(costs) < 2:
        targets.append(Target("time linear", linear_goal, "needs 3 completed sizes", None))
    else:
        drift = costs[-1] / costs[0]
        met = 1 / MAX_MARGINAL_DRIFT <= drift <= MAX_MARGINAL_DRIFT
        measured = (
            f"{number(costs[0] * 1000)} → {number(costs[-1] * 1000)} ms per paragraph "
            f"({number(drift, 2)}×)"
        )
        limits = None
        if not met:
            limits = (
                "Paragraphs/s by size: "
                + ", ".join(f"{r['paragraphs']:,}: {number(r['paragraphs_per_s'])}" for r in runs)
                + ". Load average before each: "
                + ", ".join(str(r.get("load_average_before", ["–"])[0]) for r in runs)
                + ". Per-paragraph cost that changes with corpus size points at work that grows "
                "with what was already read (or at other load on the machine)."
            )
        targets.append(Target("time linear", linear_goal, measured, met, limits))
    if len(runs) < 2 or not all(peak_rss(r) for r in (runs[0], runs[-1])):
        targets.append(Target("memory flat", flat_goal, "needs 2 completed sizes", None))
    else:
        growth = peak_rss(runs[-1]) / peak_rss(runs[0])
        met = growth <= MAX_MEMORY_GROWTH
        measured = (
            f"{number(growth, 2)}× ({runs[0]['paragraphs']:,} → {runs[-1]['paragraphs']:,} "
            "paragraphs)"
        )
        limits = None if met else memory_growth_text(runs)
        targets.append(Target("memory flat", flat_goal, measured, met, limits))
    return targets


def memory_section(memory: dict | None) -> list[str]:
    lines = ["## 3. Memory and time scaling", ""]
    if memory:
        lines += [
            f"`stance score` as a fresh process per size on an {memory['input']}, model "
            f"{memory['model']}, backend {memory['backend']}, persistent cache off. Wall time "
            "includes process start and model load; peak RSS is the larger of the polled sum "
            "over the process tree and the kernel's maximum for the run.",
            "",
        ]
        rows = []
        for run in memory["runs"]:
            if run.get("done"):
                rows.append(
                    (
                        f"{run['paragraphs_requested']:,}",
                        "yes",
                        number(run["wall_s"]),
                        number(run["paragraphs_per_s"]),
                        number(run.get("peak_rss_mb_polled"), 0),
                        number(run.get("peak_rss_mb_rusage"), 0),
                    )
                )
            else:
                reason = run.get("reason") or f"exit code {run.get('returncode')}"
                rows.append((f"{run['paragraphs_requested']:,}", f"no: {reason}", *["–"] * 4))
        lines += table(
            (
                "paragraphs",
                "done",
                "wall s",
                "paragraphs/s",
                "peak RSS MiB (polled)",
                "peak RSS MiB (rusage)",
            ),
            rows,
        )
        lines += [f"- note: {note}" for note in memory.get("notes", [])]
        lines.append("")
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(memory_targets(memory))


# --- dvc repro --------------------------------------------------------------------------


def stage_text(step: dict) -> str:
    timed = {name: s for name, s in step.get("stages", {}).items() if isinstance(s, (int, float))}
    if not timed:
        return "No per-stage times could be read from the output."
    total = step["seconds"]
    ordered = sorted(timed.items(), key=lambda item: -item[1])
    return (
        "Stages, slowest first: "
        + ", ".join(
            f"{name} {number(seconds)} s ({percent(seconds / total)})" for name, seconds in ordered
        )
        + "."
    )


def repro_targets(repro: dict | None) -> list[Target]:
    clean_name, clean_goal = "`dvc repro` from clean", f"≤ {MAX_CLEAN_REPRO_S:.0f} s"
    noop_name, noop_goal = "second `dvc repro` (no-op)", f"≤ {MAX_NOOP_REPRO_S:.0f} s"
    if not repro:
        return [
            Target(clean_name, clean_goal, "not run", None),
            Target(noop_name, noop_goal, "not run", None),
        ]
    if repro.get("target") != "all stages":
        why = f"only `{repro.get('target')}` was reproduced"
        return [Target(clean_name, clean_goal, why, None), Target(noop_name, noop_goal, why, None)]
    targets = []
    clean = repro["clean"]
    if clean["returncode"] != 0:
        targets.append(Target(clean_name, clean_goal, f"failed (exit {clean['returncode']})", None))
    else:
        met = clean["seconds"] <= MAX_CLEAN_REPRO_S
        targets.append(
            Target(
                clean_name,
                clean_goal,
                f"{number(clean['seconds'])} s",
                met,
                None if met else stage_text(clean),
            )
        )
    noop = repro.get("no_op")
    if not noop or noop["returncode"] != 0:
        targets.append(Target(noop_name, noop_goal, "not run", None))
    else:
        met = noop["seconds"] <= MAX_NOOP_REPRO_S and noop["up_to_date"]
        limits = None
        if not met:
            limits = (
                "The second run still had work to do: " + " / ".join(noop["output_tail"][-5:])
                if not noop["up_to_date"]
                else "Nothing ran; the time is DVC itself: start-up, reading dvc.yaml and "
                "dvc.lock, and hashing every dependency and output to compare with the lock."
            )
        measured = f"{number(noop['seconds'], 2)} s" + (
            "" if noop["up_to_date"] else ", not up to date"
        )
        targets.append(Target(noop_name, noop_goal, measured, met, limits))
    return targets


def repro_section(repro: dict | None) -> list[str]:
    lines = ["## 4. `dvc repro` timing", ""]
    if repro:
        lines += [
            f"A fresh clone of commit {repro['commit']} ({repro['target']}), private empty DVC "
            "cache, fresh STANCE_CACHE_DIR, this virtual environment.",
            "",
        ]
        steps = [("from clean", repro["clean"]), ("no-op", repro.get("no_op"))]
        rows = [
            (label, number(step["seconds"], 2), step["returncode"], step["up_to_date"])
            for label, step in steps
            if step
        ]
        lines += table(("run", "seconds", "exit code", "up to date"), rows)
        stages = repro["clean"].get("stages", {})
        if stages:
            lines += table(
                ("stage", "seconds (clean run)"),
                (
                    (name, number(s) if isinstance(s, (int, float)) else s)
                    for name, s in stages.items()
                ),
            )
    else:
        lines += ["Not run.", ""]
    return lines + targets_block(repro_targets(repro))


# --- accuracy of the ONNX paths ---------------------------------------------------------

MAX_F1_CHANGE_POINTS = 1.0


def accuracy_targets(accuracy: dict | None) -> list[Target]:
    goal = f"macro-F1 within {MAX_F1_CHANGE_POINTS:g} point of torch"
    if not accuracy:
        return [Target("ONNX accuracy", goal, "not run", None)]
    targets = []
    for backend, row in accuracy["leave_one_source_out"].items():
        if backend == "torch":
            continue
        change = row["macro_f1_change_points"]
        met = abs(change) <= MAX_F1_CHANGE_POINTS
        limits = (
            None
            if met
            else (
                f"{row['label_changes']} gold paragraphs change label; the largest probability "
                f"difference is {row['max_abs_prob_diff']}: the quantised encoder moves them."
            )
        )
        targets.append(Target(f"`{backend}` accuracy", goal, f"{change:+.2f} points", met, limits))
    return targets


def accuracy_section(accuracy: dict | None) -> list[str]:
    lines = ["## 1b. Accuracy of the ONNX Runtime paths", ""]
    if not accuracy:
        return [*lines, "Not run.", "", *targets_block(accuracy_targets(accuracy))]
    lines += [
        f"`{accuracy['model']}` on the {accuracy['gold_paragraphs']} gold paragraphs of "
        f"{accuracy['sources']} sources, leave one source out: each fold trains on PyTorch "
        "embeddings (as `dvc repro` does) and predicts the held-out source through the path "
        "named. The saved model is also run on all "
        f"{accuracy['corpus_paragraphs']} corpus paragraphs on each path "
        "(`benchmarks/backend_accuracy.py`).",
        "",
    ]
    corpus = accuracy["trained_model_on_corpus"]
    rows = [
        (
            f"`{backend}`",
            f"{row['macro_f1']:.4f}",
            f"{row['macro_f1_change_points']:+.2f}",
            row["max_abs_prob_diff"],
            row["label_changes"],
            corpus[backend]["max_abs_prob_diff"],
            corpus[backend]["label_changes"],
        )
        for backend, row in accuracy["leave_one_source_out"].items()
    ]
    lines += table(
        (
            "path",
            "macro-F1 (LOSO)",
            "change, points",
            "largest prob. difference",
            "labels changed",
            "corpus: largest prob. difference",
            "corpus: labels changed",
        ),
        rows,
    )
    return lines + targets_block(accuracy_targets(accuracy))


# --- profile and machine ----------------------------------------------------------------


def function_row(row: dict) -> tuple:
    own, cumulative = number(row["own_s"], 2), number(row["cumulative_s"], 2)
    return f"`{row['function']}`", own, cumulative, row["calls"]


def profile_section(profiles: dict | None) -> list[str]:
    lines = ["## 5. Where scoring time goes (profile)", ""]
    if not profiles:
        return [*lines, "Not run.", ""]
    for profile in profiles["profiles"]:
        lines += [
            f"### {profile['model']} on {profile['backend']}",
            "",
            f"{profile['paragraphs']:,} paragraphs: {number(profile['profiled_s'])} s under "
            f"cProfile, {number(profile['unprofiled_s'])} s "
            f"({number(profile['unprofiled_paragraphs_per_s'])} p/s) without.",
            "",
        ]
        lines += table(
            ("part", "seconds", "share"),
            (
                (name, number(part["seconds"], 2), percent(part["share"], 1))
                for name, part in profile["parts"].items()
            ),
        )
        lines += table(
            ("function (most own time)", "own s", "cumulative s", "calls"),
            map(function_row, profile["top_functions"][:8]),
        )
    return lines + [f"- note: {note}" for note in profiles.get("notes", [])] + [""]


# --- Ray -------------------------------------------------------------------------------


def ray_row(run: dict, local_rate: float | None) -> tuple:
    """One run of ray_scaling as a table row."""
    agreement = run.get("vs_local") or {}
    if run["engine"] == "local":
        fixed = f"{number(run['load_s'], 2)} (model load)"
        steady, equal, difference = run["paragraphs_per_s"], "", ""
    else:
        fixed = number(run.get("fixed_cost_s"), 2)
        steady = run.get("steady_paragraphs_per_s")
        share = agreement.get("labels_equal_share")
        equal = percent(share, 1) if share is not None else "–"
        difference = agreement.get("max_abs_prob_diff", "–")
    speedup = f"{steady / local_rate:.2f}×" if steady and local_rate else "–"
    return (
        run["engine"],
        run["workers"] or "–",
        run.get("threads_per_actor") or run.get("threads") or "–",
        fixed,
        number(run["run_s"], 2),
        f"{run['paragraphs']:,}",
        number(run["paragraphs_per_s"]),
        number(steady),
        speedup,
        difference,
        equal,
    )


def ray_section(result: dict | None) -> list[str]:
    lines = ["## 6. Scaling out on Ray", ""]
    if not result or not result.get("runs"):
        reasons = "; ".join((result or {}).get("skipped", [])) or "no results"
        return [*lines, f"Not run ({reasons}).", ""]
    settings, corpus = result["settings"], result.get("corpus", {})
    lines += [
        f"`stance score --engine ray` against the local engine on {machine_words(result)}: "
        f"{corpus.get('articles', '–')} articles of {corpus.get('paragraphs_per_article')} "
        f"paragraphs in one parquet table, model {settings['model']} on "
        f"{settings['backend']}, encoder cache off. Starting the local Ray instance took "
        f"{number(result.get('ray_startup_s'), 2)} s (once, not in any run below).",
        "",
    ]
    local_rate = next(
        (r["paragraphs_per_s"] for r in result["runs"] if r["engine"] == "local"), None
    )
    lines += table(
        (
            "engine",
            "workers",
            "threads each",
            "load / fixed cost s",
            "run s",
            "paragraphs",
            "paragraphs/s",
            "steady paragraphs/s",
            "steady vs local",
            "vs local: largest prob. difference",
            "vs local: labels equal",
        ),
        (ray_row(run, local_rate) for run in result["runs"]),
    )
    lines += [f"- skipped: {note}" for note in result.get("skipped", [])]
    lines += [f"- note: {note}" for note in result.get("notes", [])]
    return [*lines, ""]


# --- The static tier -------------------------------------------------------------------


def static_tier_targets(result: dict | None) -> list[Target]:
    """Speed of the static tier over raw MiniLM, and its accuracy gap to the default."""
    if not result:
        return [
            Target("static tier speed", "≥ 20× raw MiniLM (torch)", "–", None),
            Target("static tier accuracy", "within 3 points of the default", "–", None),
        ]
    speedup, goal = result.get("static_speedup"), result["target_speedup"]
    profile = result.get("static_profile") or {}
    parts = profile.get("parts") or {}
    limits = None
    if speedup is not None and speedup < goal and parts:
        shares = ", ".join(
            f"{name} {percent(part['share'])}" for name, part in list(parts.items())[:5]
        )
        limits = (
            "End to end, the static tier's time (cProfile, "
            f"{profile.get('paragraphs', 0):,} paragraphs): {shares}. The distilled encoder "
            "itself is a small share; the rule votes, actor matching and segmentation that "
            "every model pays dominate once MiniLM is gone."
        )
    accuracy = result.get("accuracy", {})
    gap, gap_goal = accuracy.get("static_gap_points"), result.get("target_f1_gap_points", 3.0)
    gap_limits = None
    if gap is not None and gap > gap_goal:
        gap_limits = (
            "A static vector is a bag of tokens: it keeps the topic and loses the "
            "composition (negation, hedges, who does what to whom) that the contextual "
            "MiniLM vector adds to the n-grams. The cascade recovers the default's score "
            "(the threshold table above)."
        )
    return [
        Target(
            "static tier speed (`stance score` end to end, × raw MiniLM on torch)",
            f"≥ {goal:g}×",
            f"{number(speedup)}×" if speedup is not None else "–",
            None if speedup is None else speedup >= goal,
            limits,
        ),
        Target(
            "static tier accuracy (LOSO macro-F1 below the default)",
            f"≤ {gap_goal:g} points",
            f"{number(gap)} points" if gap is not None else "–",
            None if gap is None else gap <= gap_goal,
            gap_limits,
        ),
    ]


def static_tier_section(result: dict | None) -> list[str]:
    lines = ["## 7. The static tier and the cascade", ""]
    if not result:
        return [*lines, "Not run (no results/static_tier.json).", ""]
    settings = result["settings"]
    lines += [
        f"Measured side by side in one run ({settings['rounds']} rounds of alternating "
        f"order): MiniLM subjects on {settings['paragraphs']:,} paragraphs each, the static "
        f"ones on {settings['fast_paragraphs']:,}; `stance score` end to end, cache off.",
        "",
    ]
    lines += table(
        ("subject", "kind", "backend", "paragraphs", "paragraphs/s", "× raw MiniLM (torch)"),
        (
            (
                m["subject"],
                m["kind"],
                m["backend"],
                f"{m['paragraphs']:,}",
                number(m["paragraphs_per_s"]),
                number(m.get("x_raw_minilm")),
            )
            for m in result["measurements"]
        ),
    )
    for share in result.get("cascade_escalation", []):
        lines.append(
            f"- {share['subject']}: {share['escalated']:,} of {share['scored']:,} paragraphs "
            f"({percent(share['share'], 1)}) went to the slow model on this corpus."
        )
    profile = result.get("static_profile") or {}
    if profile.get("parts"):
        shares = ", ".join(
            f"{name} {percent(part['share'])}" for name, part in profile["parts"].items()
        )
        lines.append(
            f"- Where the static tier's time goes (cProfile, {profile['paragraphs']:,} "
            f"paragraphs, {number(profile.get('unprofiled_paragraphs_per_s'))} paragraphs/s "
            f"unprofiled): {shares}."
        )
    accuracy = result.get("accuracy", {})
    found = accuracy.get("metrics", {})
    lines += ["", "Leave-one-source-out on the gold paragraphs (from the stages' metrics):", ""]
    lines += table(
        ("model", "model id", "macro-F1", "accuracy", "Brier", "ECE"),
        (
            (name, m["model_id"], m["macro_f1"], m["accuracy"], m["brier"], m["ece"])
            for name, m in found.items()
            if m
        ),
    )
    sweep = accuracy.get("cascade_sweep")
    if sweep:
        threshold = accuracy.get("cascade_threshold")
        lines += [
            "The cascade at other thresholds (exact: the two parts' out-of-fold labels "
            f"recombined; the trained cascade uses {threshold}):",
            "",
        ]
        lines += table(
            ("threshold", "escalated (gold paragraphs)", "macro-F1"),
            ((row["threshold"], percent(row["escalated_share"]), row["macro_f1"]) for row in sweep),
        )
    lines += targets_block(static_tier_targets(result))
    lines += [f"- skipped: {note}" for note in result.get("skipped", [])]
    lines += [f"- note: {note}" for note in result.get("notes", [])]
    return [*lines, ""]


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


def cpu_text(machine: dict) -> str:
    """A CPU's name with the speed-deciding flags it recorded (avx512f, avx512_vnni, amx)."""
    name = machine.get("cpu_model", "–")
    flags = machine.get("cpu_flags")
    if flags is None:
        return f"{name} (flags not recorded)"
    listed = [flag for flag in ("avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if flags[flag]]
    base = "avx2" if flags.get("avx2") else "no avx2"
    return f"{name} ({', '.join([base, *listed])})"


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


def long_text_section(result: dict | None) -> list[str]:
    """Windows of a long text without sentence breaks (the cutter's worst case)."""
    lines = ["## Long text: one pass per paragraph", ""]
    if not result:
        return [*lines, "Not run (no results/long_text.json).", ""]
    lines += [
        "A text of seed words with no sentence break, cut into MiniLM windows by "
        "`sentence_windows` with the bundled tokenizer (every word checked to survive); "
        f"CPU: {cpu_text(result['machine'])}.",
        "",
    ]
    rows = [
        (
            run["megabytes"],
            run["words"],
            run["windows"],
            run["seconds"],
            run["megabytes_per_second"],
        )
        for run in result["runs"]
    ]
    return [*lines, *table(["MB", "words", "windows", "seconds", "MB/s"], rows), ""]


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
